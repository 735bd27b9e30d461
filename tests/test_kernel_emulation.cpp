// The CUDA-semantics emulation the kernel tests run on (tests/cuda_emulation.h): every (block,
// thread) runs once with its own indices, barriers order shared-memory writes before reads,
// sync_threads_or ORs across warps, shuffles read the lane delta lanes up (own value past the
// warp), shared memory is per block and starts poisoned, and bad launches are refused.
#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <vector>

#include "cuda_emulation.h"

namespace dpb {
namespace {

TEST(KernelEmulation, EveryThreadOfEveryBlockRunsOnceWithItsIndices) {
  const unsigned grid = 3, block = 70;  // a partial third warp
  std::vector<int> runs(grid * block, 0);
  emu::launch(grid, block, [&](const emu::Thread& t) {
    ASSERT_EQ(t.grid_dim(), grid);
    ASSERT_EQ(t.block_dim(), block);
    ++runs[t.block_idx() * block + t.thread_idx()];  // one writer per slot
  });
  for (int r : runs) EXPECT_EQ(r, 1);
}

TEST(KernelEmulation, SyncThreadsOrdersSharedMemoryAcrossWarps) {
  const unsigned block = 128;
  std::vector<float> seen(block);
  emu::launch(2, block, [&](const emu::Thread& t) {
    struct Shared {
      float v[128];
    };
    auto& s = t.shared<Shared>();
    s.v[t.thread_idx()] = static_cast<float>(t.thread_idx() + 1000 * t.block_idx());
    t.sync_threads();
    // Read the slot of a thread in another warp.
    if (t.block_idx() == 1) seen[t.thread_idx()] = s.v[(t.thread_idx() + 64) % block];
  });
  for (unsigned i = 0; i < block; ++i) EXPECT_EQ(seen[i], static_cast<float>((i + 64) % block + 1000));
}

TEST(KernelEmulation, SharedMemoryStartsPoisonedInEveryBlock) {
  std::vector<float> first(2);
  emu::launch(2, 32, [&](const emu::Thread& t) {
    auto& s = t.shared<float>();
    if (t.thread_idx() == 0) first[t.block_idx()] = s;  // unwritten: NaN, also after block 0 wrote it
    t.sync_threads();
    if (t.thread_idx() == 1) s = 1.0f;
  });
  EXPECT_TRUE(std::isnan(first[0]));
  EXPECT_TRUE(std::isnan(first[1]));
}

TEST(KernelEmulation, SyncThreadsOrSeesAnyThreadOfTheBlock) {
  const unsigned block = 96;
  std::vector<int> results(block * 3);
  emu::launch(1, block, [&](const emu::Thread& t) {
    const unsigned i = t.thread_idx();
    results[i] = t.sync_threads_or(i == block - 1);  // only the last thread of the last warp
    results[block + i] = t.sync_threads_or(false);   // the previous phase's true must not linger
    results[2 * block + i] = t.sync_threads_or(i == 0);
  });
  for (unsigned i = 0; i < block; ++i) {
    EXPECT_EQ(results[i], 1) << i;
    EXPECT_EQ(results[block + i], 0) << i;
    EXPECT_EQ(results[2 * block + i], 1) << i;
  }
}

TEST(KernelEmulation, ShuffleDownReadsTheLaneDeltaUpOrKeepsItsOwn) {
  const unsigned block = 64;
  for (unsigned delta : {1u, 5u, 16u, 31u}) {
    std::vector<float> got(block);
    emu::launch(1, block, [&](const emu::Thread& t) {
      got[t.thread_idx()] = t.shfl_down(static_cast<float>(t.thread_idx()), delta);
    });
    for (unsigned i = 0; i < block; ++i) {
      const unsigned lane = i % 32;
      const float expected = static_cast<float>(lane + delta < 32 ? i + delta : i);  // never crosses into the next warp
      EXPECT_EQ(got[i], expected) << "thread " << i << " delta " << delta;
    }
  }
}

TEST(KernelEmulation, RefusesLaunchesOutsideTheLimits) {
  const auto nothing = [](const emu::Thread&) {};
  EXPECT_THROW(emu::launch(0, 32, nothing), std::invalid_argument);
  EXPECT_THROW(emu::launch(1, 0, nothing), std::invalid_argument);
  EXPECT_THROW(emu::launch(1, 1025, nothing), std::invalid_argument);
}

}  // namespace
}  // namespace dpb
