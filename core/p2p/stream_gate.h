// A stream gate holds a stream while the host queues the work to be timed, as the stream-blocking
// kernel of p2pBandwidthLatencyTest and nvbench does: without it the start event is recorded (and
// the first copies start) while the host is still enqueueing, and small-copy timings measure the
// host's launch rate instead of the device.
//
//   auto gate = make_stream_gate(backend);
//   gate->hold(stream);   // stream now waits
//   stream.record(start); ...queue copies...; stream.record(stop);
//   gate->release();      // everything runs back to back
//   stream.synchronize(); if (gate->timeouts()) -> the hold ended early; the timing is not valid
//
// cuda: a one-thread kernel spinning on host-mapped memory (kernels/stream_block_launch.h);
// cpu: a task on the stream's worker waiting on a condition. Both give up after `timeout`, so a
// missing release cannot hang a run.
#pragma once
#include <chrono>
#include <cstdint>
#include <memory>

#include "device/backend.h"

namespace dpb {

class StreamGate {
 public:
  virtual ~StreamGate() = default;  // implementations release every hold first
  // Enqueues a hold on `stream`. Several streams may be held at once; release() frees them all.
  virtual void hold(Stream& stream) = 0;
  // Lets every hold enqueued so far go.
  virtual void release() = 0;
  // Holds that ended by timeout instead of release (read after synchronizing the held streams).
  virtual std::uint32_t timeouts() const = 0;
};

inline constexpr std::chrono::milliseconds kDefaultGateTimeout{10000};

// Throws std::invalid_argument for a backend without a gate implementation.
std::unique_ptr<StreamGate> make_stream_gate(Backend& backend,
                                             std::chrono::milliseconds timeout = kDefaultGateTimeout);

#if DPBENCH_HAVE_CUDA
// The cuda gate (core/p2p/cuda_stream_gate.cpp); make_stream_gate picks it for the cuda backend.
std::unique_ptr<StreamGate> make_cuda_stream_gate(std::chrono::milliseconds timeout);
#endif

}  // namespace dpb
