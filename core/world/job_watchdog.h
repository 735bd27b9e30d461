// A deadline for one sweep point of a process-per-rank job. A rank whose peer hangs or dies may be
// blocked where no timeout reaches it (inside an MPI collective, or a stream waiting on a peer's
// signal), so the deadline runs on its own thread: when it passes, `expire` runs there (rank 0:
// record the point as timeout; every rank: World::abort_job, which ends the whole job).
#pragma once
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace dpb {

class JobWatchdog {
 public:
  JobWatchdog();
  ~JobWatchdog();
  JobWatchdog(const JobWatchdog&) = delete;
  JobWatchdog& operator=(const JobWatchdog&) = delete;

  // Starts a deadline `seconds` from now (replacing any armed one).
  void arm(double seconds, std::function<void()> expire);
  // Cancels the deadline. False when `expire` has already started: it owns the process's end, and
  // the caller must not touch what `expire` uses.
  bool disarm();

 private:
  void loop();

  std::mutex mutex_;
  std::condition_variable cv_;
  bool armed_ = false;
  bool fired_ = false;
  bool stopping_ = false;
  std::chrono::steady_clock::time_point deadline_{};
  std::function<void()> expire_;
  std::thread thread_;
};

}  // namespace dpb
