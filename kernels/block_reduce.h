// Block-wide reduction of one float per thread (warp shuffles, then one warp over the per-warp
// partials), written against the thread context of thread_context.h. Every thread gets the result.
#pragma once
#include <math.h>

#include "host_device.h"
#include "thread_context.h"

namespace dpb::kernels {

inline constexpr unsigned kWarpSize = 32;

// Each op names its identity: the value lanes without a partial contribute in the second stage.
struct MaxOp {
  DPB_HD float operator()(float a, float b) const { return fmaxf(a, b); }
  DPB_HD static float identity() { return -INFINITY; }
};
struct SumOp {
  DPB_HD float operator()(float a, float b) const { return a + b; }
  DPB_HD static float identity() { return 0.0f; }
};

// Shared memory of one block_reduce: a partial per warp (at most 1024 threads = 32 warps).
struct BlockReduceShared {
  float partial[kWarpSize];
};

// blockDim.x must be a multiple of 32 (full-mask shuffles) and every thread of the block must call
// it (it synchronises the block). `shared` may be reused by the next call.
template <class Ctx, class Op>
DPB_DEVICE float block_reduce(const Ctx& ctx, float v, Op op, BlockReduceShared& shared) {
  const unsigned lane = ctx.thread_idx() % kWarpSize;
  const unsigned warp = ctx.thread_idx() / kWarpSize;
  for (unsigned off = kWarpSize / 2; off > 0; off /= 2) v = op(v, ctx.shfl_down(v, off));
  if (lane == 0) shared.partial[warp] = v;
  ctx.sync_threads();
  const unsigned warps = ctx.block_dim() / kWarpSize;
  if (warp == 0) {
    // Lanes past the last warp hold the identity: anything else would be counted again by the tree.
    v = lane < warps ? shared.partial[lane] : Op::identity();
    for (unsigned off = kWarpSize / 2; off > 0; off /= 2) v = op(v, ctx.shfl_down(v, off));
    if (lane == 0) shared.partial[0] = v;
  }
  ctx.sync_threads();
  const float result = shared.partial[0];
  ctx.sync_threads();  // partial[] is reused by the next reduction
  return result;
}

}  // namespace dpb::kernels
