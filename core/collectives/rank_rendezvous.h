// Where the host threads of a communicator's ranks meet once per call (thread per rank).
//
// What must be agreed per call is host state, not device order: which prepared schedule runs,
// scratch that is large enough, and every rank's buffer addresses (a copy writes into a peer's
// buffers, as NCCL's registered buffers or vLLM's exchanged IPC handles allow). The last rank to
// arrive does that work once, with every rank's part posted; then each rank enqueues its own
// steps independently, and the device-side signals order them.
//
// Abortable: a rank that never arrives (hung or dead thread) must not hang the others past a
// timeout, so abort() makes every blocked and later arrive() throw.
#pragma once
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>

namespace dpb {

class RankRendezvous {
 public:
  explicit RankRendezvous(int ranks);

  // Blocks until all ranks have arrived for the current call. `last` runs once, on the thread of
  // the last rank to arrive, before any rank is released; an exception from it is rethrown by
  // every rank's arrive(). Each rank must arrive once per call.
  void arrive(const std::function<void()>& last);

  // Makes every blocked and later arrive() throw std::runtime_error.
  void abort();

 private:
  int ranks_;
  std::mutex mutex_;
  std::condition_variable cv_;
  int arrived_ = 0;
  std::uint64_t generation_ = 0;
  std::exception_ptr error_;  // of the last completed generation
  bool aborted_ = false;
};

}  // namespace dpb
