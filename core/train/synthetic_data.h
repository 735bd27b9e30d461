// Synthetic, deterministic classification data: features from a counter-based hash of
// (seed, sample index, feature), labels from a fixed random "teacher" network, so a sample is a
// pure function of its index and every rank can make its own shard without communication.
//
// Sharding is DistributedSampler's: the global batch of step s is samples [s*G, (s+1)*G) with
// G = local_batch * ranks, and rank r takes every ranks-th of them starting at r. The global
// batch of a step is therefore the same set of samples whatever the rank count, which is what
// makes N-rank and 1-rank training comparable.
//
// The teacher is input -> 32 (tanh) -> classes with weights from the seed; labels are the argmax of
// its logits. A student MLP can fit it, so the loss falls from ln(classes).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace dpb {

// splitmix64 finalizer: a good 64-bit mixer (Steele et al.), used as a counter-based generator.
std::uint64_t mix64(std::uint64_t x);
// A value in [-1, 1) from three counters (seed, stream, index).
float hashed_uniform(std::uint64_t seed, std::uint64_t stream, std::uint64_t index);

class SyntheticData {
 public:
  SyntheticData(std::uint64_t seed, int input_dim, int classes);

  int input_dim() const { return input_dim_; }
  int classes() const { return classes_; }

  // Features (unit variance) of one sample into out[0..input_dim) and its label.
  int sample(std::uint64_t index, float* out) const;

  // Rank `rank` of `ranks`' shard of step `step` with `local_batch` samples per rank:
  // features [local_batch, input_dim] row-major and labels [local_batch].
  void shard(std::uint64_t step, int rank, int ranks, int local_batch, std::vector<float>& features,
             std::vector<std::int32_t>& labels) const;

  // `count` consecutive samples from index `first` (a held-out set lives at indices no step uses).
  void samples(std::uint64_t first, int count, std::vector<float>& features, std::vector<std::int32_t>& labels) const;

  // The first index of the held-out set: far above any index a training run reaches.
  static constexpr std::uint64_t kHeldOutFirst = std::uint64_t{1} << 48;

 private:
  static constexpr int kTeacherHidden = 32;
  std::uint64_t seed_;
  int input_dim_, classes_;
  std::vector<float> w1_, w2_;  // [hidden, input], [classes, hidden]
};

}  // namespace dpb
