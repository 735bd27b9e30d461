// CUDA kernels of the model's layers: __global__ wrappers around the bodies in train_layers_body.h
// (which the CPU tests run under the CUDA emulation) and their launchers. The arithmetic is
// kernels/train_math.h's, shared with the cpu backend (core/device/cpu_train_kernels.cpp).
#include <cuda_runtime.h>

#include <cstdint>

#include "device/cuda_check.h"
#include "device/dtype_dispatch.h"
#include "device/train_launch.h"
#include "train_layers_body.h"

namespace dpb::train_kernels {
namespace {

using kernels::CudaThread;

template <class T>
__global__ void bias_activation_kernel(T* z, const T* bias, T* a, std::size_t rows, std::size_t cols, Activation act) {
  kernels::bias_activation_body<T>(CudaThread{}, z, bias, a, rows, cols, act);
}

template <class T>
__global__ void activation_backward_kernel(T* grad, const T* z, std::size_t count, Activation act) {
  kernels::activation_backward_body<T>(CudaThread{}, grad, z, count, act);
}

template <class T>
__global__ void bias_grad_kernel(const T* dz, T* db, std::size_t rows, std::size_t cols) {
  __shared__ kernels::BiasGradShared shared;
  kernels::bias_grad_body<T>(CudaThread{}, dz, db, rows, cols, shared);
}

template <class T>
__global__ void softmax_xent_kernel(const T* logits, const std::int32_t* labels, int classes, float grad_scale,
                                    T* dlogits, float* row_loss) {
  __shared__ kernels::BlockReduceShared shared;
  kernels::softmax_xent_body<T>(CudaThread{}, logits, labels, classes, grad_scale, dlogits, row_loss, shared);
}

}  // namespace

void launch_bias_activation(DType type, Activation act, void* z, const void* bias, void* a, int rows, int cols,
                            CUstream_st* stream) {
  const auto r = static_cast<std::size_t>(rows), c = static_cast<std::size_t>(cols);
  if (r * c == 0) return;
  dispatch_dtype(type, [&](auto tag) {
    using T = decltype(tag);
    bias_activation_kernel<T><<<kernels::train_grid(r * c), kernels::kTrainBlock, 0, stream>>>(
        static_cast<T*>(z), static_cast<const T*>(bias), static_cast<T*>(a), r, c, act);
  });
  DPB_CUDA_CHECK(cudaGetLastError());
}

void launch_activation_backward(DType type, Activation act, void* grad, const void* z, std::size_t count,
                                CUstream_st* stream) {
  if (count == 0) return;
  dispatch_dtype(type, [&](auto tag) {
    using T = decltype(tag);
    activation_backward_kernel<T><<<kernels::train_grid(count), kernels::kTrainBlock, 0, stream>>>(
        static_cast<T*>(grad), static_cast<const T*>(z), count, act);
  });
  DPB_CUDA_CHECK(cudaGetLastError());
}

void launch_bias_grad(DType type, const void* dz, void* db, int rows, int cols, CUstream_st* stream) {
  if (cols <= 0 || rows < 0) return;
  const auto c = static_cast<std::size_t>(cols);
  dispatch_dtype(type, [&](auto tag) {
    using T = decltype(tag);
    bias_grad_kernel<T><<<kernels::bias_grad_grid(c), kernels::kBiasGradBlock, 0, stream>>>(
        static_cast<const T*>(dz), static_cast<T*>(db), static_cast<std::size_t>(rows), c);
  });
  DPB_CUDA_CHECK(cudaGetLastError());
}

void launch_softmax_xent(DType type, const void* logits, const std::int32_t* labels, int rows, int classes,
                         float grad_scale, void* dlogits, float* row_loss, CUstream_st* stream) {
  if (rows <= 0) return;
  dispatch_dtype(type, [&](auto tag) {
    using T = decltype(tag);
    softmax_xent_kernel<T><<<static_cast<unsigned>(rows), kernels::kSoftmaxBlock, 0, stream>>>(
        static_cast<const T*>(logits), labels, classes, grad_scale, static_cast<T*>(dlogits), row_loss);
  });
  DPB_CUDA_CHECK(cudaGetLastError());
}

}  // namespace dpb::train_kernels
