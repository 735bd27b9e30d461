// CUDA kernels of the training step's tail: the fp16 overflow check and the fused optimizer
// (SGD-momentum / AdamW on fp32 master weights, writing the low-precision copy), both over a
// replica's whole flat parameter layout. Element math: kernels/train_math.h.
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

unsigned grid_for(std::size_t count) {
  const std::size_t blocks = (count + kBlock - 1) / kBlock;
  return static_cast<unsigned>(std::min<std::size_t>(std::max<std::size_t>(blocks, 1), 65535));
}

template <class T>
__global__ void check_nonfinite_kernel(const T* data, std::size_t count, float* flag) {
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  bool bad = false;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < count; i += stride) {
    bad |= is_nonfinite(to_float(data[i]));
  }
  if (__syncthreads_or(bad) && threadIdx.x == 0) *flag = 1.0f;  // racing writers all write 1
}

template <class T>
__global__ void optimizer_kernel(float* master, T* weights, const T* grads, float* s1, float* s2, std::size_t count,
                                 const float* skip_flag, OptimizerHyper hyper) {
  if (skip_flag && *skip_flag != 0.0f) return;
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < count; i += stride) {
    optimizer_elem<T>(i, master, weights, grads, s1, s2, hyper);
  }
}

}  // namespace

void launch_check_nonfinite(DType type, const void* data, std::size_t count, float* flag, CUstream_st* stream) {
  if (count == 0) return;
  dispatch_dtype(type, [&](auto tag) {
    using T = decltype(tag);
    check_nonfinite_kernel<T><<<grid_for(count), kBlock, 0, stream>>>(static_cast<const T*>(data), count, flag);
  });
  DPB_CUDA_CHECK(cudaGetLastError());
}

void launch_optimizer(const OptimizerArgs& args, CUstream_st* stream) {
  if (args.count == 0) return;
  dispatch_dtype(args.type, [&](auto tag) {
    using T = decltype(tag);
    optimizer_kernel<T><<<grid_for(args.count), kBlock, 0, stream>>>(
        args.master, static_cast<T*>(args.weights), static_cast<const T*>(args.grads), args.state1, args.state2,
        args.count, args.skip_flag, args.hyper);
  });
  DPB_CUDA_CHECK(cudaGetLastError());
}

}  // namespace dpb::train_kernels
