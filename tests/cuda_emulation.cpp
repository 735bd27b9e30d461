#include "cuda_emulation.h"

#include <atomic>
#include <barrier>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <latch>
#include <memory>
#include <mutex>
#include <semaphore>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace dpb::emu {

namespace {
constexpr unsigned kWarp = 32;

// A device fault ends the whole kernel; here it ends the test program with the reason, since the
// other threads of the block would wait at the next barrier forever.
[[noreturn]] void fault(const char* what) {
  std::fprintf(stderr, "cuda emulation: %s\n", what);
  std::abort();
}
}  // namespace

// Runs once per barrier phase, after every thread arrived and before any leaves: publishes the OR
// of the phase's predicates and clears the accumulator for the next phase.
struct PublishOr {
  BlockState* state;
  void operator()() noexcept;
};

struct Warp {
  explicit Warp(unsigned n) : lanes(n), meet(n) {}
  unsigned lanes;
  std::barrier<> meet;
  float exchange[kWarp] = {};
};

struct alignas(16) SharedMemory {
  std::byte bytes[kSharedBytes];
};

// One block's barriers, warps and shared memory. Each block has its own, so the threads need not
// meet between blocks: thread t runs block b + 1 as soon as it has finished block b, while other
// threads may still be in block b (blocks may run concurrently on a GPU too).
class BlockState {
 public:
  explicit BlockState(unsigned block_dim) : sync(block_dim, PublishOr{this}) {
    for (unsigned first = 0; first < block_dim; first += kWarp) {
      warps.push_back(std::make_unique<Warp>(block_dim - first < kWarp ? block_dim - first : kWarp));
    }
  }
  // Allocated on first use (most kernels have none), poisoned so unwritten reads show as NaN.
  void* shared_memory() {
    std::call_once(shared_once, [this] {
      shared = std::make_unique_for_overwrite<SharedMemory>();
      std::memset(shared->bytes, 0xff, sizeof shared->bytes);
    });
    return shared->bytes;
  }

  std::barrier<PublishOr> sync;
  std::atomic<bool> or_accum{false};
  bool or_result = false;
  std::vector<std::unique_ptr<Warp>> warps;

 private:
  std::once_flag shared_once;
  std::unique_ptr<SharedMemory> shared;
};

void PublishOr::operator()() noexcept { state->or_result = state->or_accum.exchange(false); }

void Thread::sync_threads() const { state_->sync.arrive_and_wait(); }

bool Thread::sync_threads_or(bool pred) const {
  if (pred) state_->or_accum.store(true, std::memory_order_relaxed);
  state_->sync.arrive_and_wait();
  // Stable until this thread arrives at the next barrier, which the next publish waits for.
  return state_->or_result;
}

float Thread::shfl_down(float v, unsigned delta) const {
  Warp& warp = *state_->warps[thread_ / kWarp];
  if (warp.lanes != kWarp) fault("full-mask shuffle in a partial warp (undefined in CUDA)");
  const unsigned lane = thread_ % kWarp;
  warp.exchange[lane] = v;
  warp.meet.arrive_and_wait();
  const unsigned src = lane + delta;
  const float result = src < kWarp ? warp.exchange[src] : v;
  warp.meet.arrive_and_wait();  // nobody overwrites exchange[] before every lane has read it
  return result;
}

std::uint64_t Thread::global_timer_ns() const {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
          .count());
}

void Thread::nanosleep(unsigned ns) const { std::this_thread::sleep_for(std::chrono::nanoseconds(ns)); }

// The flags are volatile for the GPU's sake; on the host another thread writes them, so the access
// is atomic (volatile alone would be a data race in C++).
std::uint32_t Thread::load_volatile(const volatile std::uint32_t* p) const {
  return std::atomic_ref<std::uint32_t>(*const_cast<std::uint32_t*>(p)).load();
}

void Thread::atomic_add_system(volatile std::uint32_t* p, std::uint32_t v) const {
  std::atomic_ref<std::uint32_t>(*const_cast<std::uint32_t*>(p)).fetch_add(v);
}

void* Thread::shared_bytes() const { return state_->shared_memory(); }

namespace {

// The threads a launch runs on, kept for the next launch: creating blockDim threads per launch
// cost more than the kernels the tests run. Workers are created on demand, up to the largest block
// launched so far, and joined at exit. One launch at a time.
class WorkerPool {
 public:
  ~WorkerPool() {
    stopping_ = true;
    for (auto& w : workers_) w->go.release();
  }

  // Runs job(i) for i in [0, n) on n workers at once; returns when all have returned.
  void run(unsigned n, const std::function<void(unsigned)>& job) {
    const std::lock_guard one_launch(launch_mutex_);
    while (workers_.size() < n)
      workers_.push_back(std::make_unique<Worker>(*this, static_cast<unsigned>(workers_.size())));
    std::latch done(n);
    job_ = &job;
    done_ = &done;
    for (unsigned i = 0; i < n; ++i) workers_[i]->go.release();
    done.wait();
  }

 private:
  struct Worker {
    Worker(WorkerPool& pool, unsigned index) : thread([&pool, index, this] { pool.serve(*this, index); }) {}
    std::binary_semaphore go{0};
    std::jthread thread;  // last: starts after `go` exists
  };

  void serve(Worker& self, unsigned index) {
    for (;;) {
      self.go.acquire();  // release/acquire: sees job_ and done_ as run() set them
      if (stopping_) return;
      (*job_)(index);
      done_->count_down();
    }
  }

  std::mutex launch_mutex_;
  std::vector<std::unique_ptr<Worker>> workers_;
  const std::function<void(unsigned)>* job_ = nullptr;
  std::latch* done_ = nullptr;
  bool stopping_ = false;  // written before the final releases, read after an acquire
};

WorkerPool& workers() {
  static WorkerPool pool;
  return pool;
}

}  // namespace

void launch(unsigned grid, unsigned block, const std::function<void(const Thread&)>& body) {
  if (grid == 0 || block == 0 || block > kMaxBlock) {
    throw std::invalid_argument("cuda emulation: launch <<<" + std::to_string(grid) + ", " + std::to_string(block) +
                                ">>> needs a grid of at least 1 block and 1..1024 threads per block");
  }
  std::vector<std::unique_ptr<BlockState>> blocks;
  blocks.reserve(grid);
  for (unsigned b = 0; b < grid; ++b) blocks.push_back(std::make_unique<BlockState>(block));
  workers().run(block, [&](unsigned t) {
    Thread ctx(nullptr, t, block, grid);
    for (unsigned b = 0; b < grid; ++b) {
      ctx.state_ = blocks[b].get();
      ctx.block_ = b;
      try {
        body(ctx);
      } catch (const std::exception& e) {
        fault(e.what());
      } catch (...) {
        fault("kernel body threw");
      }
    }
  });
}

}  // namespace dpb::emu
