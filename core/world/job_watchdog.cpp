#include "world/job_watchdog.h"

namespace dpb {

JobWatchdog::JobWatchdog() : thread_([this] { loop(); }) {}

JobWatchdog::~JobWatchdog() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void JobWatchdog::arm(double seconds, std::function<void()> expire) {
  {
    std::lock_guard lock(mutex_);
    armed_ = true;
    fired_ = false;
    deadline_ = std::chrono::steady_clock::now() +
                std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(seconds));
    expire_ = std::move(expire);
  }
  cv_.notify_all();
}

bool JobWatchdog::disarm() {
  std::lock_guard lock(mutex_);
  if (fired_) return false;
  armed_ = false;
  expire_ = nullptr;
  return true;
}

void JobWatchdog::loop() {
  std::unique_lock lock(mutex_);
  for (;;) {
    if (stopping_) return;
    if (!armed_) {
      cv_.wait(lock);
      continue;
    }
    if (cv_.wait_until(lock, deadline_) == std::cv_status::timeout && armed_ && !stopping_ &&
        std::chrono::steady_clock::now() >= deadline_) {
      fired_ = true;
      armed_ = false;
      std::function<void()> expire = std::move(expire_);
      lock.unlock();
      if (expire) expire();
      lock.lock();
    }
  }
}

}  // namespace dpb
