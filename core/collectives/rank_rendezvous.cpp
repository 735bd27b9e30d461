#include "collectives/rank_rendezvous.h"

#include <stdexcept>
#include <string>

namespace dpb {

RankRendezvous::RankRendezvous(int ranks) : ranks_(ranks) {
  if (ranks < 1) throw std::invalid_argument("rank rendezvous: needs at least one rank");
}

void RankRendezvous::arrive(const std::function<void()>& last) {
  std::unique_lock lock(mutex_);
  if (aborted_) throw std::runtime_error("communicator aborted: a rank did not reach the all-reduce in time");
  const std::uint64_t mine = generation_;
  if (++arrived_ == ranks_) {
    error_ = nullptr;
    try {
      last();
    } catch (...) {
      error_ = std::current_exception();
    }
    arrived_ = 0;
    ++generation_;
    cv_.notify_all();
  } else {
    cv_.wait(lock, [&] { return generation_ != mine || aborted_; });
    if (generation_ == mine) throw std::runtime_error("communicator aborted: a rank did not reach the all-reduce in time");
  }
  // A rank of the next call cannot complete it before this rank arrives again, so error_ still
  // belongs to this call.
  if (error_) std::rethrow_exception(error_);
}

void RankRendezvous::abort() {
  {
    std::lock_guard lock(mutex_);
    aborted_ = true;
  }
  cv_.notify_all();
}

}  // namespace dpb
