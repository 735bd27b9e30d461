// Bodies of the training step's tail kernels: the non-finite (fp16 overflow) check and the fused
// optimizer (SGD-momentum / AdamW on fp32 master weights, writing the low-precision copy), written
// against the thread context of thread_context.h: kernels/train_optimizer.cu wraps them in
// __global__ functions, the CPU tests run them under the emulation. Element math: train_math.h.
#pragma once
#include <cstddef>

#include "thread_context.h"
#include "train_grid.h"
#include "train_math.h"

namespace dpb::kernels {

// Launch shape of both kernels: train_grid blocks of kTrainBlock threads (train_grid.h).

// Sets *flag to 1 when any element is inf or NaN; leaves it alone otherwise (the caller zeroes it).
template <class T, class Ctx>
DPB_DEVICE void check_nonfinite_body(const Ctx& ctx, const T* data, std::size_t count, float* flag) {
  bool bad = false;
  for (std::size_t i = grid_thread_index(ctx); i < count; i += grid_thread_count(ctx)) {
    bad |= is_nonfinite(to_float(data[i]));
  }
  // One write per block at most; racing blocks all write the same 1.
  if (ctx.sync_threads_or(bad) && ctx.thread_idx() == 0) *flag = 1.0f;
}

// The whole update is skipped when *skip_flag is nonzero (a non-finite gradient this step).
template <class T, class Ctx>
DPB_DEVICE void optimizer_body(const Ctx& ctx, float* master, T* weights, const T* grads, float* s1, float* s2,
                               std::size_t count, const float* skip_flag, const OptimizerHyper& hyper) {
  if (skip_flag && *skip_flag != 0.0f) return;
  for (std::size_t i = grid_thread_index(ctx); i < count; i += grid_thread_count(ctx)) {
    optimizer_elem<T>(i, master, weights, grads, s1, s2, hyper);
  }
}

}  // namespace dpb::kernels
