// Host-visible launchers of the element kernels in kernels/elementwise.cu: the cuda backend's
// fill / reduce_add / scale / cast. Each element goes through kernels/reduce_math.h, the same
// functions the cpu backend loops over, so both backends produce identical bits.
//
// The stream is taken as CUstream_st* (what cudaStream_t is a typedef of) so this header can be
// included by host code without the CUDA headers. Launch errors throw dpb::DeviceError.
#pragma once
#include <cstddef>

#include "device/dtype.h"

struct CUstream_st;

namespace dpb::cuda_kernels {

// `sm_count` sizes the grid-stride grid (a few resident blocks per SM); 0 queries the current device.
// The current device must be the one that owns the pointers and the stream.
void launch_fill(DType type, void* dst, std::size_t count, double value, CUstream_st* stream, int sm_count = 0);
void launch_reduce_add(DType type, void* dst, const void* src, std::size_t count, CUstream_st* stream,
                       int sm_count = 0);
void launch_scale(DType type, void* data, std::size_t count, float factor, CUstream_st* stream, int sm_count = 0);
void launch_cast(DType dst_type, void* dst, DType src_type, const void* src, std::size_t count,
                 CUstream_st* stream, int sm_count = 0);

}  // namespace dpb::cuda_kernels
