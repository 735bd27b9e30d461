// The stream-blocking kernel (as in cuda-samples p2pBandwidthLatencyTest and nvbench): one thread
// spins on a flag in host-mapped pinned memory, holding its stream while the host queues the work
// to be timed, so the start event is recorded when the queue is full rather than while the host is
// still enqueueing. A timeout ends the spin so a lost release can never hang the device.
#pragma once
#include <cstdint>

struct CUstream_st;

namespace dpb::cuda_kernels {

// Host-mapped shared state. Holds are numbered 1, 2, ...: the kernel of hold g spins until the host
// has written `released` >= g, so a release can never be lost to a later re-arm. A kernel that
// gives up adds one to `timeouts` atomically (system scope: holds on several devices may give up at
// once). The body is kernels/stream_block_body.h.
struct StreamBlockFlags {
  volatile std::uint32_t released;
  volatile std::uint32_t timeouts;
};

// Enqueues the spin kernel for hold `generation` on `stream`. `device_flags` is the device pointer
// of host-mapped memory (cudaHostGetDevicePointer). Throws dpb::DeviceError when the launch fails.
void launch_stream_block(StreamBlockFlags* device_flags, std::uint32_t generation, std::uint64_t timeout_ns,
                         CUstream_st* stream);

}  // namespace dpb::cuda_kernels
