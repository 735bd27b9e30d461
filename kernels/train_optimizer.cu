// CUDA kernels of the training step's tail (non-finite check, fused optimizer): __global__ wrappers
// around the bodies in train_optimizer_body.h (which the CPU tests run under the CUDA emulation)
// and their launchers. Element math: kernels/train_math.h.
#include <cuda_runtime.h>

#include <cstdint>

#include "device/cuda_check.h"
#include "device/dtype_dispatch.h"
#include "device/train_launch.h"
#include "train_optimizer_body.h"

namespace dpb::train_kernels {
namespace {

using kernels::CudaThread;

template <class T>
__global__ void check_nonfinite_kernel(const T* data, std::size_t count, float* flag) {
  kernels::check_nonfinite_body<T>(CudaThread{}, data, count, flag);
}

template <class T>
__global__ void optimizer_kernel(float* master, T* weights, const T* grads, float* s1, float* s2, std::size_t count,
                                 const float* skip_flag, OptimizerHyper hyper) {
  kernels::optimizer_body<T>(CudaThread{}, master, weights, grads, s1, s2, count, skip_flag, hyper);
}

}  // namespace

void launch_check_nonfinite(DType type, const void* data, std::size_t count, float* flag, CUstream_st* stream) {
  if (count == 0) return;
  dispatch_dtype(type, [&](auto tag) {
    using T = decltype(tag);
    check_nonfinite_kernel<T><<<kernels::train_grid(count), kernels::kTrainBlock, 0, stream>>>(
        static_cast<const T*>(data), count, flag);
  });
  DPB_CUDA_CHECK(cudaGetLastError());
}

void launch_optimizer(const OptimizerArgs& args, CUstream_st* stream) {
  if (args.count == 0) return;
  dispatch_dtype(args.type, [&](auto tag) {
    using T = decltype(tag);
    optimizer_kernel<T><<<kernels::train_grid(args.count), kernels::kTrainBlock, 0, stream>>>(
        args.master, static_cast<T*>(args.weights), static_cast<const T*>(args.grads), args.state1, args.state2,
        args.count, args.skip_flag, args.hyper);
  });
  DPB_CUDA_CHECK(cudaGetLastError());
}

}  // namespace dpb::train_kernels
