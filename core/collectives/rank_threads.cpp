#include "collectives/rank_threads.h"

#include <stdexcept>
#include <string>

#include "device/error.h"

namespace dpb {

std::string_view launch_name(Launch launch) {
  switch (launch) {
    case Launch::thread_per_rank: return "thread-per-rank";
    case Launch::single_thread: return "single-thread";
    case Launch::process_per_rank: return "process-per-rank";
  }
  return "?";
}

Launch parse_launch(std::string_view name) {
  if (name == "thread-per-rank") return Launch::thread_per_rank;
  if (name == "single-thread") return Launch::single_thread;
  if (name == "process-per-rank") {
    throw SettingError("launch", "process-per-rank is chosen by starting dpbench under mpirun or srun, not here");
  }
  throw SettingError("launch", "unknown mode '" + std::string(name) + "' (expected thread-per-rank or single-thread)");
}

RankThreads::RankThreads(int ranks) : errors_(static_cast<std::size_t>(ranks)) {
  if (ranks < 1) throw std::invalid_argument("rank threads: needs at least one rank");
  threads_.reserve(static_cast<std::size_t>(ranks));
  for (int r = 0; r < ranks; ++r) threads_.emplace_back([this, r] { loop(r); });
}

RankThreads::~RankThreads() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void RankThreads::run(const std::function<void(int)>& work, const std::function<void()>& on_error) {
  std::unique_lock lock(mutex_);
  work_ = &work;
  on_error_ = on_error ? &on_error : nullptr;
  for (auto& e : errors_) e = nullptr;
  pending_ = ranks();
  ++round_;
  cv_.notify_all();
  cv_.wait(lock, [&] { return pending_ == 0; });
  work_ = nullptr;
  on_error_ = nullptr;
  for (auto& e : errors_) {
    if (e) std::rethrow_exception(e);
  }
}

void RankThreads::loop(int rank) {
  std::uint64_t seen = 0;
  for (;;) {
    const std::function<void(int)>* work = nullptr;
    const std::function<void()>* on_error = nullptr;
    {
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [&] { return stopping_ || round_ != seen; });
      if (stopping_) return;
      seen = round_;
      work = work_;
      on_error = on_error_;
    }
    std::exception_ptr error;
    try {
      (*work)(rank);
    } catch (...) {
      error = std::current_exception();
      if (on_error) {
        try {
          (*on_error)();
        } catch (...) {
        }
      }
    }
    {
      std::lock_guard lock(mutex_);
      errors_[static_cast<std::size_t>(rank)] = error;
      --pending_;
    }
    cv_.notify_all();
  }
}

}  // namespace dpb
