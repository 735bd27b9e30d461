// Element kernels of the cuda backend: __global__ wrappers around the bodies in elementwise_body.h
// (which the CPU tests run under the CUDA emulation) and their launchers.
#include <cuda_runtime.h>

#include <cstdint>

#include "device/cuda_check.h"
#include "device/dtype_dispatch.h"
#include "elementwise_body.h"
#include "elementwise_launch.h"

namespace dpb::cuda_kernels {
namespace {

using kernels::CudaThread;
using kernels::is_aligned;
using kernels::kElementBlock;
using kernels::kVecWidth;

template <class T>
__global__ void fill_kernel(T* dst, std::size_t count, T value, bool vectorized) {
  kernels::fill_body<T>(CudaThread{}, dst, count, value, vectorized);
}

template <class T>
__global__ void reduce_add_kernel(T* dst, const T* src, std::size_t count, bool vectorized) {
  kernels::reduce_add_body<T>(CudaThread{}, dst, src, count, vectorized);
}

template <class T>
__global__ void scale_kernel(T* data, std::size_t count, float factor, bool vectorized) {
  kernels::scale_body<T>(CudaThread{}, data, count, factor, vectorized);
}

template <class To, class From>
__global__ void cast_kernel(To* dst, const From* src, std::size_t count, bool vectorized) {
  kernels::cast_body<To, From>(CudaThread{}, dst, src, count, vectorized);
}

int resolve_sm_count(int sm_count) {
  if (sm_count > 0) return sm_count;
  int device = 0;
  DPB_CUDA_CHECK(cudaGetDevice(&device));
  DPB_CUDA_CHECK(cudaDeviceGetAttribute(&sm_count, cudaDevAttrMultiProcessorCount, device));
  return sm_count > 0 ? sm_count : 1;
}

unsigned grid_for(std::size_t count, int per_thread, int sm_count) {
  return kernels::elementwise_grid(count, per_thread, resolve_sm_count(sm_count));
}

}  // namespace

void launch_fill(DType type, void* dst, std::size_t count, double value, CUstream_st* stream, int sm_count) {
  if (count == 0) return;
  dispatch_dtype(type, [&](auto tag) {
    using T = decltype(tag);
    // The value is converted on the host by the same function the cpu backend uses.
    const T v = from_float<T>(static_cast<float>(value));
    const bool vec = is_aligned(dst, 16);
    fill_kernel<T><<<grid_for(count, vec ? kVecWidth<T> : 1, sm_count), kElementBlock, 0, stream>>>(
        static_cast<T*>(dst), count, v, vec);
  });
  DPB_CUDA_CHECK(cudaGetLastError());
}

void launch_reduce_add(DType type, void* dst, const void* src, std::size_t count, CUstream_st* stream,
                       int sm_count) {
  if (count == 0) return;
  dispatch_dtype(type, [&](auto tag) {
    using T = decltype(tag);
    const bool vec = is_aligned(dst, 16) && is_aligned(src, 16);
    reduce_add_kernel<T><<<grid_for(count, vec ? kVecWidth<T> : 1, sm_count), kElementBlock, 0, stream>>>(
        static_cast<T*>(dst), static_cast<const T*>(src), count, vec);
  });
  DPB_CUDA_CHECK(cudaGetLastError());
}

void launch_scale(DType type, void* data, std::size_t count, float factor, CUstream_st* stream, int sm_count) {
  if (count == 0) return;
  dispatch_dtype(type, [&](auto tag) {
    using T = decltype(tag);
    const bool vec = is_aligned(data, 16);
    scale_kernel<T><<<grid_for(count, vec ? kVecWidth<T> : 1, sm_count), kElementBlock, 0, stream>>>(
        static_cast<T*>(data), count, factor, vec);
  });
  DPB_CUDA_CHECK(cudaGetLastError());
}

void launch_cast(DType dst_type, void* dst, DType src_type, const void* src, std::size_t count,
                 CUstream_st* stream, int sm_count) {
  if (count == 0) return;
  dispatch_dtype(dst_type, [&](auto dst_tag) {
    using To = decltype(dst_tag);
    dispatch_dtype(src_type, [&](auto src_tag) {
      using From = decltype(src_tag);
      const bool vec = is_aligned(dst, sizeof(To) * kernels::kCastVecWidth) &&
                       is_aligned(src, sizeof(From) * kernels::kCastVecWidth);
      cast_kernel<To, From><<<grid_for(count, vec ? kernels::kCastVecWidth : 1, sm_count), kElementBlock, 0, stream>>>(
          static_cast<To*>(dst), static_cast<const From*>(src), count, vec);
    });
  });
  DPB_CUDA_CHECK(cudaGetLastError());
}

}  // namespace dpb::cuda_kernels
