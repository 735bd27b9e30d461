// Initial weights and weight fingerprints, both defined on the parameters in registration order
// so they do not depend on the bucket layout: runs with different bucket sizes, precisions or rank
// counts start from the same weights and can compare where they ended.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "train/bucket.h"
#include "train/model_spec.h"

namespace dpb {

// nn.Linear's default initialization, U(-1/sqrt(in), 1/sqrt(in)) for weights and biases, drawn
// from a counter-based hash of (seed, tensor, element). Writes the fp32 flat layout of `plan`
// (`flat` has plan.total_elements entries; padding becomes 0).
void init_master_weights(const ModelSpec& spec, const BucketPlan& plan, std::uint64_t seed, std::span<float> flat);

// The parameters of a flat layout, gathered into registration order (fc0.weight, fc0.bias, ...).
std::vector<float> gather_params(const ModelSpec& spec, const BucketPlan& plan, std::span<const float> flat);

// Sum (in double, registration order) and FNV-1a 64 hash of the fp32 bits of every parameter.
// Equal hashes mean bit-identical weights; the sum tells how far apart two unequal runs are.
struct WeightsFingerprint {
  double sum = 0;
  std::uint64_t hash = 0;
  std::size_t count = 0;
  std::string hash_hex() const;  // 16 hex digits
};
WeightsFingerprint fingerprint(std::span<const float> registration_order);

}  // namespace dpb
