#include <cuda_runtime.h>

#include "device/cuda_check.h"
#include "stream_block_launch.h"

namespace dpb::cuda_kernels {
namespace {

__device__ __forceinline__ std::uint64_t global_timer_ns() {
  std::uint64_t t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
  return t;
}

__global__ void stream_block_kernel(StreamBlockFlags* flags, std::uint32_t generation, std::uint64_t timeout_ns) {
  const std::uint64_t start = global_timer_ns();
  while (flags->released < generation) {
    if (global_timer_ns() - start > timeout_ns) {
      flags->timeouts = flags->timeouts + 1;  // one thread, one kernel at a time per hold
      __threadfence_system();
      return;
    }
    __nanosleep(1000);
  }
}

}  // namespace

void launch_stream_block(StreamBlockFlags* device_flags, std::uint32_t generation, std::uint64_t timeout_ns,
                         CUstream_st* stream) {
  stream_block_kernel<<<1, 1, 0, stream>>>(device_flags, generation, timeout_ns);
  DPB_CUDA_CHECK(cudaGetLastError());
}

}  // namespace dpb::cuda_kernels
