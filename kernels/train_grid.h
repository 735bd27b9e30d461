// Launch shape shared by the model's element kernels (train_layers.cu, train_optimizer.cu): plain
// host functions, so the launchers and the CPU tests that mimic them launch the same grid.
#pragma once
#include <cstddef>

namespace dpb::kernels {

inline constexpr unsigned kTrainBlock = 256;
inline constexpr std::size_t kMaxGrid = 65535;

// One thread per element up to kMaxGrid blocks; grid-stride loops cover the rest.
inline unsigned train_grid(std::size_t count) {
  const std::size_t blocks = (count + kTrainBlock - 1) / kTrainBlock;
  return static_cast<unsigned>(blocks < 1 ? 1 : blocks > kMaxGrid ? kMaxGrid : blocks);
}

}  // namespace dpb::kernels
