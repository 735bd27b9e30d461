// Body of the stream-blocking kernel (kernels/stream_block.cu), written against the thread context
// of thread_context.h so the CPU tests run it under the emulation. Launched as one thread.
#pragma once
#include <cstdint>

#include "stream_block_launch.h"
#include "thread_context.h"

namespace dpb::kernels {

// Spins until the host has released hold `generation`, or until `timeout_ns` have passed; then it
// counts the abandoned hold. The count is an atomic add: kernels of several holds (on several
// devices) can time out at once against the same flags.
template <class Ctx>
DPB_DEVICE void stream_block_body(const Ctx& ctx, cuda_kernels::StreamBlockFlags* flags, std::uint32_t generation,
                                  std::uint64_t timeout_ns) {
  const std::uint64_t start = ctx.global_timer_ns();
  while (ctx.load_volatile(&flags->released) < generation) {
    if (ctx.global_timer_ns() - start > timeout_ns) {
      ctx.atomic_add_system(&flags->timeouts, 1u);
      return;
    }
    ctx.nanosleep(1000);
  }
}

}  // namespace dpb::kernels
