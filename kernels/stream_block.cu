// The stream-blocking kernel: a __global__ wrapper around stream_block_body.h (which the CPU tests
// run under the CUDA emulation) and its launcher.
#include <cuda_runtime.h>

#include "device/cuda_check.h"
#include "stream_block_body.h"
#include "stream_block_launch.h"

namespace dpb::cuda_kernels {
namespace {

__global__ void stream_block_kernel(StreamBlockFlags* flags, std::uint32_t generation, std::uint64_t timeout_ns) {
  kernels::stream_block_body(kernels::CudaThread{}, flags, generation, timeout_ns);
}

}  // namespace

void launch_stream_block(StreamBlockFlags* device_flags, std::uint32_t generation, std::uint64_t timeout_ns,
                         CUstream_st* stream) {
  stream_block_kernel<<<1, 1, 0, stream>>>(device_flags, generation, timeout_ns);
  DPB_CUDA_CHECK(cudaGetLastError());
}

}  // namespace dpb::cuda_kernels
