// A small emulation of CUDA's execution model, for tests only: it runs the kernel bodies of
// kernels/*_body.h (the same source nvcc compiles) on the CPU, so CPU tests exercise the kernels'
// indexing, barriers, shuffles and shared memory, not just their element math.
//
// What it models (and what makes a kernel wrong on a GPU makes it wrong here):
// - launch(grid, block, body): blockDim real threads; thread t runs as thread t of block 0, then of
//   block 1, ..., so blocks overlap as they may on a GPU (each has its own barriers and shared
//   memory). Each thread's context carries its own threadIdx/blockIdx/blockDim/gridDim.
// - sync_threads is a block barrier; sync_threads_or a barrier that ORs the threads' predicates.
// - Warps are 32 consecutive threads. shfl_down is a full-mask warp shuffle: the 32 lanes meet at a
//   per-warp barrier, exchange through an array, meet again. A source lane past the warp returns
//   the caller's own value, as CUDA does. Shuffling in a partial warp (blockDim not a multiple of
//   32) is undefined in CUDA and aborts here.
// - Shared memory: one 48 KiB region per block (CUDA's static limit), filled with 0xff bytes (NaN
//   as float) to start with, so a read of something no thread wrote shows up.
// - Atomics and host-visible flags are std::atomic_ref; timers are the steady clock.
// As on a GPU, a barrier not reached by every thread of the block hangs. Every block's state is made
// when the launch starts, so grids are meant to be test-sized (thousands of blocks, not millions).
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <type_traits>

namespace dpb::emu {

inline constexpr std::size_t kSharedBytes = 48 * 1024;
inline constexpr unsigned kMaxBlock = 1024;

class BlockState;

// The thread context of kernels/thread_context.h, for one emulated thread.
class Thread {
 public:
  unsigned thread_idx() const { return thread_; }
  unsigned block_idx() const { return block_; }
  unsigned block_dim() const { return block_dim_; }
  unsigned grid_dim() const { return grid_dim_; }

  void sync_threads() const;
  bool sync_threads_or(bool pred) const;
  float shfl_down(float v, unsigned delta) const;

  std::uint64_t global_timer_ns() const;
  void nanosleep(unsigned ns) const;
  std::uint32_t load_volatile(const volatile std::uint32_t* p) const;
  void atomic_add_system(volatile std::uint32_t* p, std::uint32_t v) const;

  // The block's shared memory viewed as one T (what a kernel's __shared__ declaration would be).
  template <class T>
  T& shared() const {
    static_assert(sizeof(T) <= kSharedBytes && alignof(T) <= 16, "more than CUDA's static shared memory");
    static_assert(std::is_trivially_default_constructible_v<T>, "__shared__ variables have no constructor");
    return *static_cast<T*>(shared_bytes());
  }

 private:
  friend void launch(unsigned, unsigned, const std::function<void(const Thread&)>&);
  Thread(BlockState* state, unsigned thread, unsigned block_dim, unsigned grid_dim)
      : state_(state), thread_(thread), block_dim_(block_dim), grid_dim_(grid_dim) {}
  void* shared_bytes() const;

  BlockState* state_;
  unsigned thread_;
  unsigned block_ = 0;
  unsigned block_dim_;
  unsigned grid_dim_;
};

// Runs `body` as a kernel launched <<<grid, block>>> and returns when every block has finished.
// Throws std::invalid_argument for an empty grid or a block outside 1..1024 threads.
void launch(unsigned grid, unsigned block, const std::function<void(const Thread&)>& body);

}  // namespace dpb::emu
