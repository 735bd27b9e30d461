// A stream gate holds a stream while the host queues the work to be timed, as the stream-blocking
// kernel of p2pBandwidthLatencyTest and nvbench does: without it the start event is recorded (and
// the first copies start) while the host is still enqueueing, and small-copy timings measure the
// host's launch rate instead of the device.
//
//   auto gate = backend.make_stream_gate();
//   gate->hold(stream);   // stream now waits
//   stream.record(start); ...queue copies...; stream.record(stop);
//   gate->release();      // everything runs back to back
//   stream.synchronize(); if (gate->timeouts()) -> the hold ended early; the timing is not valid
//
// The backend makes its gate (Backend::make_stream_gate). cuda: a one-thread kernel spinning on
// host-mapped memory (kernels/stream_block_launch.h, device/cuda_stream_gate.cpp); cpu: a task on
// the stream's worker waiting on a condition (device/cpu_stream_gate.cpp). Both give up after
// `timeout`, so a missing release cannot hang a run.
#pragma once
#include <chrono>
#include <cstdint>
#include <memory>

namespace dpb {

class Stream;  // device/backend.h

class StreamGate {
 public:
  virtual ~StreamGate() = default;  // implementations release every hold first
  // Enqueues a hold on `stream` (a stream of the backend that made the gate). Several streams may
  // be held at once; release() frees them all.
  virtual void hold(Stream& stream) = 0;
  // Lets every hold enqueued so far go.
  virtual void release() = 0;
  // Holds that ended by timeout instead of release (read after synchronizing the held streams).
  virtual std::uint32_t timeouts() const = 0;
};

inline constexpr std::chrono::milliseconds kDefaultGateTimeout{10000};

}  // namespace dpb
