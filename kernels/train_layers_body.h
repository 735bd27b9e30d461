// Bodies of the model layers' kernels (bias + activation, activation backward, bias gradient,
// softmax cross-entropy), written against the thread context of thread_context.h: kernels/
// train_layers.cu wraps them in __global__ functions, the CPU tests run them under the emulation.
// The element math is train_math.h's, shared with the cpu backend (core/device/cpu_train_kernels.cpp).
// The launch shapes are host functions here and in train_grid.h, so the launchers and the tests
// agree on them.
#pragma once
#include <math.h>

#include <cstddef>
#include <cstdint>

#include "block_reduce.h"
#include "thread_context.h"
#include "train_grid.h"
#include "train_math.h"

namespace dpb::kernels {

// bias_activation and activation_backward: train_grid blocks of kTrainBlock threads.

template <class T, class Ctx>
DPB_DEVICE void bias_activation_body(const Ctx& ctx, T* z, const T* bias, T* a, std::size_t rows, std::size_t cols,
                                     Activation act) {
  const std::size_t n = rows * cols;
  for (std::size_t i = grid_thread_index(ctx); i < n; i += grid_thread_count(ctx)) {
    bias_activation_elem<T>(z[i], bias[i % cols], a ? &a[i] : nullptr, act);
  }
}

template <class T, class Ctx>
DPB_DEVICE void activation_backward_body(const Ctx& ctx, T* grad, const T* z, std::size_t count, Activation act) {
  for (std::size_t i = grid_thread_index(ctx); i < count; i += grid_thread_count(ctx)) {
    grad[i] = activation_backward_elem<T>(grad[i], z[i], act);
  }
}

// Bias gradient, a 2-D tiling: a block covers kBiasGradCols consecutive columns (one warp wide, so
// each row's loads are coalesced) with one warp per row group of train_math.h's bias_grad order;
// the group partials meet in shared memory and are added in group order. Column tiles are
// grid-strided past kMaxGrid blocks.
inline constexpr unsigned kBiasGradCols = kWarpSize;
inline constexpr unsigned kBiasGradBlock = kBiasGradCols * kBiasGradRowGroups;

inline unsigned bias_grad_grid(std::size_t cols) {
  const std::size_t tiles = (cols + kBiasGradCols - 1) / kBiasGradCols;
  return static_cast<unsigned>(tiles < 1 ? 1 : tiles > kMaxGrid ? kMaxGrid : tiles);
}

struct BiasGradShared {
  float partial[kBiasGradCols][kBiasGradRowGroups];
};

// Launched with kBiasGradBlock threads.
template <class T, class Ctx>
DPB_DEVICE void bias_grad_body(const Ctx& ctx, const T* dz, T* db, std::size_t rows, std::size_t cols,
                               BiasGradShared& shared) {
  const unsigned lane = ctx.thread_idx() % kBiasGradCols;
  const unsigned group = ctx.thread_idx() / kBiasGradCols;
  // The loop bound depends on the block only, so every thread reaches the same barriers.
  for (std::size_t tile = ctx.block_idx(); tile * kBiasGradCols < cols; tile += ctx.grid_dim()) {
    const std::size_t j = tile * kBiasGradCols + lane;
    shared.partial[lane][group] = j < cols ? bias_grad_partial(dz, rows, cols, j, group) : 0.0f;
    ctx.sync_threads();
    if (group == 0 && j < cols) db[j] = from_float<T>(bias_grad_combine(shared.partial[lane]));
    ctx.sync_threads();  // partial[] is rewritten by the next tile
  }
}

// Softmax cross-entropy: one block of kSoftmaxBlock threads per row, block reductions for the row
// max and the exp sum.
inline constexpr unsigned kSoftmaxBlock = 128;

template <class T, class Ctx>
DPB_DEVICE void softmax_xent_body(const Ctx& ctx, const T* logits, const std::int32_t* labels, int classes,
                                  float grad_scale, T* dlogits, float* row_loss, BlockReduceShared& shared) {
  const std::size_t row = ctx.block_idx();
  const auto width = static_cast<std::size_t>(classes);
  const T* z = logits + row * width;
  T* dz = dlogits + row * width;
  const int label = labels[row];
  float m = MaxOp::identity();
  for (std::size_t j = ctx.thread_idx(); j < width; j += ctx.block_dim()) m = fmaxf(m, to_float(z[j]));
  m = block_reduce(ctx, m, MaxOp{}, shared);
  float s = SumOp::identity();
  for (std::size_t j = ctx.thread_idx(); j < width; j += ctx.block_dim()) s += xent_exp(to_float(z[j]), m);
  s = block_reduce(ctx, s, SumOp{}, shared);
  const float inv = 1.0f / s;
  for (std::size_t j = ctx.thread_idx(); j < width; j += ctx.block_dim()) {
    const bool is_label = label >= 0 && j == static_cast<std::size_t>(label);
    dz[j] = from_float<T>(xent_grad(to_float(z[j]), m, inv, is_label, grad_scale));
  }
  if (ctx.thread_idx() == 0) {
    // An out-of-range label has no loss; NaN makes the host see it instead of reading out of bounds.
    row_loss[row] = (label >= 0 && label < classes) ? xent_loss(to_float(z[label]), m, s) : NAN;
  }
}

}  // namespace dpb::kernels
