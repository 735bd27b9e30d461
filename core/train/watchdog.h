// Waiting for device work with a deadline. A blocking synchronize can hang forever on a stuck peer
// (an all-reduce whose partner never arrives), so the trainer polls the streams instead and, once
// the deadline has passed, calls the abort action (communicator abort, cpu backend abort) and
// throws TimeoutError; the sweep records the point as "timeout".
#pragma once
#include <chrono>
#include <functional>
#include <optional>
#include <span>
#include <string>

#include "device/backend.h"

namespace dpb {

class Watchdog {
 public:
  using Clock = std::chrono::steady_clock;

  // No deadline: waits as long as it takes (still by polling, so errors surface the same way).
  Watchdog() = default;
  Watchdog(std::optional<Clock::time_point> deadline, std::function<void()> abort)
      : deadline_(deadline), abort_(std::move(abort)) {}

  // Returns once every stream's work is complete, rethrowing the first stream error. On the
  // deadline: runs the abort action once and throws TimeoutError naming `what`.
  void wait(std::span<Stream* const> streams, const std::string& what);

  bool expired() const { return deadline_ && Clock::now() >= *deadline_; }
  std::optional<Clock::time_point> deadline() const { return deadline_; }

 private:
  std::optional<Clock::time_point> deadline_;
  std::function<void()> abort_;
  bool aborted_ = false;
};

}  // namespace dpb
