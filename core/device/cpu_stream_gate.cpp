// The cpu stream gate: a task on the held stream's worker waiting on a condition.
#include <condition_variable>
#include <mutex>
#include <stdexcept>

#include "device/cpu_backend.h"
#include "device/stream_gate.h"

namespace dpb {
namespace {

// Shared with the queued tasks so a task that outlives the gate never touches freed state.
struct CpuGateState {
  std::mutex mutex;
  std::condition_variable cv;
  std::uint32_t released = 0;
  std::uint32_t timeouts = 0;
};

class CpuStreamGate final : public StreamGate {
 public:
  explicit CpuStreamGate(std::chrono::milliseconds timeout)
      : timeout_(timeout), state_(std::make_shared<CpuGateState>()) {}
  ~CpuStreamGate() override { release(); }

  void hold(Stream& stream) override {
    auto* cpu = dynamic_cast<CpuStream*>(&stream);
    if (!cpu) throw std::invalid_argument("cpu stream gate: not a cpu stream");
    const std::uint32_t generation = ++generation_;
    cpu->enqueue([state = state_, generation, timeout = timeout_] {
      std::unique_lock lock(state->mutex);
      if (!state->cv.wait_for(lock, timeout, [&] { return state->released >= generation; })) ++state->timeouts;
    });
  }

  void release() override {
    {
      std::lock_guard lock(state_->mutex);
      state_->released = generation_;
    }
    state_->cv.notify_all();
  }

  std::uint32_t timeouts() const override {
    std::lock_guard lock(state_->mutex);
    return state_->timeouts;
  }

 private:
  std::chrono::milliseconds timeout_;
  std::shared_ptr<CpuGateState> state_;
  std::uint32_t generation_ = 0;  // touched only by the host thread that owns the gate
};

}  // namespace

std::unique_ptr<StreamGate> CpuBackend::new_stream_gate(std::chrono::milliseconds timeout) {
  return std::make_unique<CpuStreamGate>(timeout);
}

}  // namespace dpb
