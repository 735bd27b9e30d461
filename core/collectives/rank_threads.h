// How a run drives its ranks from the host (every point records it as `launch`):
// - thread-per-rank (the default): each rank has its own host thread that enqueues that rank's
//   compute and communication, as each process of a PyTorch DDP job does for its GPU, so adding
//   ranks adds host threads rather than serialising every rank's launches on one;
// - single-thread: one host thread enqueues all ranks' work in turn (the harness's first mode,
//   kept for comparison: on GPUs its host cost grows with the rank count);
// - process-per-rank: each rank is its own process under MPI (mpirun/srun; world/world.h), as
//   torchrun/mpirun jobs run. Chosen by the launcher's environment, not by --launch.
// RankThreads is the pool behind thread-per-rank: one long-lived thread per rank, so a step costs
// a hand-off, not a thread start.
#pragma once
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>

namespace dpb {

enum class Launch { thread_per_rank, single_thread, process_per_rank };

std::string_view launch_name(Launch launch);  // "thread-per-rank", "single-thread", "process-per-rank"
// Throws std::invalid_argument listing the names.
Launch parse_launch(std::string_view name);

class RankThreads {
 public:
  explicit RankThreads(int ranks);
  ~RankThreads();
  RankThreads(const RankThreads&) = delete;
  RankThreads& operator=(const RankThreads&) = delete;

  int ranks() const { return static_cast<int>(threads_.size()); }

  // Runs work(rank) on every rank's thread at once and waits for all of them; rethrows the first
  // exception (by rank order) after every rank has finished. `on_error` runs on the thread of a
  // rank whose work threw, before the rank finishes: the place to abort a communicator so ranks
  // blocked waiting for the failed one are released.
  void run(const std::function<void(int rank)>& work, const std::function<void()>& on_error = {});

 private:
  void loop(int rank);

  std::mutex mutex_;
  std::condition_variable cv_;
  const std::function<void(int)>* work_ = nullptr;
  const std::function<void()>* on_error_ = nullptr;
  std::uint64_t round_ = 0;
  int pending_ = 0;
  bool stopping_ = false;
  std::vector<std::exception_ptr> errors_;
  std::vector<std::thread> threads_;
};

}  // namespace dpb
