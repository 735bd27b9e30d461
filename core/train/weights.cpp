#include "train/weights.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "train/synthetic_data.h"

namespace dpb {
namespace {
constexpr std::uint64_t kInitStream = 0x696e6974ull << 16;  // "init", one stream per tensor above it
}

void init_master_weights(const ModelSpec& spec, const BucketPlan& plan, std::uint64_t seed, std::span<float> flat) {
  if (flat.size() != plan.total_elements) throw std::invalid_argument("init_master_weights: layout size mismatch");
  std::fill(flat.begin(), flat.end(), 0.0f);
  const auto params = spec.params();
  for (std::size_t k = 0; k < params.size(); ++k) {
    const float bound = 1.0f / std::sqrt(static_cast<float>(params[k].fan_in));
    float* dst = flat.data() + plan.param_offset[k];
    for (std::size_t i = 0; i < params[k].count(); ++i) dst[i] = bound * hashed_uniform(seed, kInitStream + k, i);
  }
}

std::vector<float> gather_params(const ModelSpec& spec, const BucketPlan& plan, std::span<const float> flat) {
  if (flat.size() != plan.total_elements) throw std::invalid_argument("gather_params: layout size mismatch");
  const auto params = spec.params();
  std::vector<float> out;
  out.reserve(spec.param_count());
  for (std::size_t k = 0; k < params.size(); ++k) {
    const float* src = flat.data() + plan.param_offset[k];
    out.insert(out.end(), src, src + params[k].count());
  }
  return out;
}

std::string WeightsFingerprint::hash_hex() const {
  static const char* digits = "0123456789abcdef";
  std::string s(16, '0');
  for (int i = 0; i < 16; ++i) s[static_cast<std::size_t>(15 - i)] = digits[(hash >> (4 * i)) & 0xf];
  return s;
}

WeightsFingerprint fingerprint(std::span<const float> registration_order) {
  WeightsFingerprint f;
  f.hash = 0xcbf29ce484222325ull;  // FNV-1a 64 offset basis
  for (const float w : registration_order) {
    f.sum += static_cast<double>(w);
    std::uint32_t bits;
    std::memcpy(&bits, &w, sizeof bits);
    for (int b = 0; b < 4; ++b) {
      f.hash ^= (bits >> (8 * b)) & 0xffu;
      f.hash *= 0x100000001b3ull;  // FNV prime
    }
  }
  f.count = registration_order.size();
  return f;
}

}  // namespace dpb
