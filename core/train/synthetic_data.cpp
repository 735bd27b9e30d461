#include "train/synthetic_data.h"

#include <cmath>
#include <stdexcept>

namespace dpb {
namespace {
constexpr std::uint64_t kFeatureStream = 0x66656174ull;  // "feat"
constexpr std::uint64_t kTeacherStream = 0x74656163ull;  // "teac"
}  // namespace

std::uint64_t mix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

float hashed_uniform(std::uint64_t seed, std::uint64_t stream, std::uint64_t index) {
  const std::uint64_t h = mix64(mix64(mix64(seed) ^ stream) ^ index);
  // 24 random bits -> [0, 1) exactly representable, then [-1, 1).
  return static_cast<float>(h >> 40) * (1.0f / 16777216.0f) * 2.0f - 1.0f;
}

SyntheticData::SyntheticData(std::uint64_t seed, int input_dim, int classes)
    : seed_(seed), input_dim_(input_dim), classes_(classes) {
  if (input_dim < 1 || classes < 2) throw std::invalid_argument("synthetic data: bad input_dim or classes");
  const auto in = static_cast<std::size_t>(input_dim);
  w1_.resize(kTeacherHidden * in);
  w2_.resize(static_cast<std::size_t>(classes) * kTeacherHidden);
  // Bounds sqrt(3/fan_in) give unit-variance pre-activations for unit-variance inputs.
  const float b1 = std::sqrt(3.0f / static_cast<float>(input_dim));
  const float b2 = std::sqrt(3.0f / static_cast<float>(kTeacherHidden));
  for (std::size_t i = 0; i < w1_.size(); ++i) w1_[i] = b1 * hashed_uniform(seed_, kTeacherStream, i);
  for (std::size_t i = 0; i < w2_.size(); ++i) w2_[i] = b2 * hashed_uniform(seed_, kTeacherStream + 1, i);
}

int SyntheticData::sample(std::uint64_t index, float* out) const {
  const auto in = static_cast<std::size_t>(input_dim_);
  const float unit = std::sqrt(3.0f);  // U(-1,1) * sqrt(3) has variance 1
  for (std::size_t j = 0; j < in; ++j) out[j] = unit * hashed_uniform(seed_, kFeatureStream, index * in + j);
  float hidden[kTeacherHidden];
  for (std::size_t h = 0; h < kTeacherHidden; ++h) {
    float acc = 0.0f;
    const float* w = &w1_[h * in];
    for (std::size_t j = 0; j < in; ++j) acc += w[j] * out[j];
    hidden[h] = std::tanh(acc);
  }
  int best = 0;
  float best_logit = 0.0f;
  for (int c = 0; c < classes_; ++c) {
    float acc = 0.0f;
    const float* w = &w2_[static_cast<std::size_t>(c) * kTeacherHidden];
    for (std::size_t h = 0; h < kTeacherHidden; ++h) acc += w[h] * hidden[h];
    if (c == 0 || acc > best_logit) {
      best = c;
      best_logit = acc;
    }
  }
  return best;
}

void SyntheticData::shard(std::uint64_t step, int rank, int ranks, int local_batch, std::vector<float>& features,
                          std::vector<std::int32_t>& labels) const {
  if (ranks < 1 || rank < 0 || rank >= ranks || local_batch < 1) throw std::invalid_argument("synthetic data: bad shard");
  const auto b = static_cast<std::size_t>(local_batch);
  const auto in = static_cast<std::size_t>(input_dim_);
  features.resize(b * in);
  labels.resize(b);
  const std::uint64_t global = static_cast<std::uint64_t>(local_batch) * static_cast<std::uint64_t>(ranks);
  for (std::size_t k = 0; k < b; ++k) {
    const std::uint64_t index = step * global + k * static_cast<std::uint64_t>(ranks) + static_cast<std::uint64_t>(rank);
    labels[k] = sample(index, &features[k * in]);
  }
}

void SyntheticData::samples(std::uint64_t first, int count, std::vector<float>& features,
                            std::vector<std::int32_t>& labels) const {
  if (count < 1) throw std::invalid_argument("synthetic data: bad sample count");
  const auto in = static_cast<std::size_t>(input_dim_);
  features.resize(static_cast<std::size_t>(count) * in);
  labels.resize(static_cast<std::size_t>(count));
  for (std::size_t k = 0; k < labels.size(); ++k) labels[k] = sample(first + k, &features[k * in]);
}

}  // namespace dpb
