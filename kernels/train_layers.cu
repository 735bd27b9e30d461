// CUDA kernels of the model's layers: bias + activation epilogue, activation backward, bias
// gradient, softmax cross-entropy. The arithmetic is kernels/train_math.h's, shared with the cpu
// backend (core/train/cpu_train_kernels.cpp).
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>

#include "device/dtype_dispatch.h"
#include "device/cuda_check.h"
#include "train/train_launch.h"
#include "train_math.h"

namespace dpb::train_kernels {
namespace {

constexpr int kBlock = 256;
constexpr int kRowBlock = 128;


unsigned grid_for(std::size_t count) {
  const std::size_t blocks = (count + kBlock - 1) / kBlock;
  return static_cast<unsigned>(std::min<std::size_t>(std::max<std::size_t>(blocks, 1), 65535));
}

__device__ __forceinline__ std::size_t thread_index() {
  return static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}
__device__ __forceinline__ std::size_t thread_stride() { return static_cast<std::size_t>(gridDim.x) * blockDim.x; }

template <class T>
__global__ void bias_activation_kernel(T* z, const T* bias, T* a, std::size_t rows, std::size_t cols, Activation act) {
  const std::size_t n = rows * cols;
  for (std::size_t i = thread_index(); i < n; i += thread_stride()) {
    bias_activation_elem<T>(z[i], bias[i % cols], a ? &a[i] : nullptr, act);
  }
}

template <class T>
__global__ void activation_backward_kernel(T* grad, const T* z, std::size_t count, Activation act) {
  for (std::size_t i = thread_index(); i < count; i += thread_stride()) {
    grad[i] = activation_backward_elem<T>(grad[i], z[i], act);
  }
}

template <class T>
__global__ void bias_grad_kernel(const T* dz, T* db, std::size_t rows, std::size_t cols) {
  for (std::size_t j = thread_index(); j < cols; j += thread_stride()) {
    float acc = 0.0f;
    for (std::size_t r = 0; r < rows; ++r) acc += to_float(dz[r * cols + j]);
    db[j] = from_float<T>(acc);
  }
}

// Block-wide reduction with shared memory; every thread gets the result.
template <class Op>
__device__ float block_reduce(float v, Op op, float* shared) {
  const int lane = threadIdx.x % 32;
  const int warp = threadIdx.x / 32;
  for (int off = 16; off > 0; off /= 2) v = op(v, __shfl_down_sync(0xffffffffu, v, off));
  if (lane == 0) shared[warp] = v;
  __syncthreads();
  const int warps = blockDim.x / 32;
  if (warp == 0) {
    v = lane < warps ? shared[lane] : shared[0];
    for (int off = 16; off > 0; off /= 2) v = op(v, __shfl_down_sync(0xffffffffu, v, off));
    if (lane == 0) shared[0] = v;
  }
  __syncthreads();
  const float result = shared[0];
  __syncthreads();  // shared[] is reused by the next reduction
  return result;
}

struct MaxOp {
  __device__ float operator()(float a, float b) const { return fmaxf(a, b); }
};
struct SumOp {
  __device__ float operator()(float a, float b) const { return a + b; }
};

template <class T>
__global__ void softmax_xent_kernel(const T* logits, const std::int32_t* labels, int classes, float grad_scale,
                                    T* dlogits, float* row_loss) {
  __shared__ float shared[32];
  const std::size_t row = blockIdx.x;
  const T* z = logits + row * static_cast<std::size_t>(classes);
  T* dz = dlogits + row * static_cast<std::size_t>(classes);
  const int label = labels[row];
  float m = -INFINITY;
  for (int j = threadIdx.x; j < classes; j += blockDim.x) m = fmaxf(m, to_float(z[j]));
  m = block_reduce(m, MaxOp{}, shared);
  float s = 0.0f;
  for (int j = threadIdx.x; j < classes; j += blockDim.x) s += xent_exp(to_float(z[j]), m);
  s = block_reduce(s, SumOp{}, shared);
  const float inv = 1.0f / s;
  for (int j = threadIdx.x; j < classes; j += blockDim.x) {
    dz[j] = from_float<T>(xent_grad(to_float(z[j]), m, inv, j == label, grad_scale));
  }
  if (threadIdx.x == 0) {
    // An out-of-range label has no loss; NaN makes the host see it instead of reading out of bounds.
    row_loss[row] = (label >= 0 && label < classes) ? xent_loss(to_float(z[label]), m, s) : NAN;
  }
}

}  // namespace

void launch_bias_activation(DType type, Activation act, void* z, const void* bias, void* a, int rows, int cols,
                            CUstream_st* stream) {
  const auto r = static_cast<std::size_t>(rows), c = static_cast<std::size_t>(cols);
  if (r * c == 0) return;
  dispatch_dtype(type, [&](auto tag) {
    using T = decltype(tag);
    bias_activation_kernel<T><<<grid_for(r * c), kBlock, 0, stream>>>(static_cast<T*>(z), static_cast<const T*>(bias),
                                                                        static_cast<T*>(a), r, c, act);
  });
  DPB_CUDA_CHECK(cudaGetLastError());
}

void launch_activation_backward(DType type, Activation act, void* grad, const void* z, std::size_t count,
                                CUstream_st* stream) {
  if (count == 0) return;
  dispatch_dtype(type, [&](auto tag) {
    using T = decltype(tag);
    activation_backward_kernel<T><<<grid_for(count), kBlock, 0, stream>>>(static_cast<T*>(grad),
                                                                            static_cast<const T*>(z), count, act);
  });
  DPB_CUDA_CHECK(cudaGetLastError());
}

void launch_bias_grad(DType type, const void* dz, void* db, int rows, int cols, CUstream_st* stream) {
  if (cols <= 0) return;
  const auto c = static_cast<std::size_t>(cols);
  dispatch_dtype(type, [&](auto tag) {
    using T = decltype(tag);
    bias_grad_kernel<T><<<grid_for(c), kBlock, 0, stream>>>(static_cast<const T*>(dz), static_cast<T*>(db),
                                                              static_cast<std::size_t>(rows), c);
  });
  DPB_CUDA_CHECK(cudaGetLastError());
}

void launch_softmax_xent(DType type, const void* logits, const std::int32_t* labels, int rows, int classes,
                         float grad_scale, void* dlogits, float* row_loss, CUstream_st* stream) {
  if (rows <= 0) return;
  dispatch_dtype(type, [&](auto tag) {
    using T = decltype(tag);
    softmax_xent_kernel<T><<<static_cast<unsigned>(rows), kRowBlock, 0, stream>>>(
        static_cast<const T*>(logits), labels, classes, grad_scale, static_cast<T*>(dlogits), row_loss);
  });
  DPB_CUDA_CHECK(cudaGetLastError());
}

}  // namespace dpb::train_kernels
