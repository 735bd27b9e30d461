// Gradient bucket assignment (core/train/bucket.h), checked against PyTorch DDP's rule: reverse
// registration order, a bucket closes once it reaches its cap, a small first bucket, tensors are
// never split, and the flat layout is contiguous and aligned.
#include <gtest/gtest.h>

#include <numeric>

#include "train/bucket.h"

namespace dpb {
namespace {

// Layers 8 -> 16 -> 16 -> 4: weights 128, 256, 64 elements; biases 16, 16, 4.
std::vector<ParamTensor> params() { return parse_model("8,16,16,4").params(); }

std::vector<std::vector<int>> members(const BucketPlan& plan) {
  std::vector<std::vector<int>> out;
  for (const auto& b : plan.buckets) out.push_back(b.params);
  return out;
}

TEST(BucketAssignment, WalksParametersInReverseRegistrationOrder) {
  // Cap large enough for everything: one bucket, last layer's bias first.
  const BucketPlan plan = assign_buckets(params(), 4, std::size_t{1} << 30, std::size_t{1} << 30);
  ASSERT_EQ(plan.buckets.size(), 1u);
  EXPECT_EQ(plan.buckets[0].params, (std::vector<int>{5, 4, 3, 2, 1, 0}));
}

TEST(BucketAssignment, CapZeroGivesOneBucketPerTensor) {
  const BucketPlan plan = assign_buckets(params(), 4, 0, 0);
  EXPECT_EQ(members(plan), (std::vector<std::vector<int>>{{5}, {4}, {3}, {2}, {1}, {0}}));
}

TEST(BucketAssignment, BucketClosesWhenItReachesItsCap) {
  // fp32: fc2.bias 16 B, fc2.weight 256 B, fc1.bias 64 B, fc1.weight 1024 B, fc0.bias 64 B,
  // fc0.weight 512 B. First cap 16 B closes after fc2.bias; later caps 300 B: 256 (<300) + 64 closes;
  // fc1.weight alone exceeds the cap (never split); then fc0.bias + fc0.weight.
  const BucketPlan plan = assign_buckets(params(), 4, 300, 16);
  EXPECT_EQ(members(plan), (std::vector<std::vector<int>>{{5}, {4, 3}, {2}, {1, 0}}));
}

TEST(BucketAssignment, FirstBucketHasItsOwnCap) {
  // First cap 1 KiB takes fc2.bias, fc2.weight, fc1.bias, fc1.weight (16+256+64+1024 >= 1024);
  // the rest (576 B) stays under the 4 KiB cap and forms the last bucket.
  const BucketPlan plan = assign_buckets(params(), 4, 4096, 1024);
  EXPECT_EQ(members(plan), (std::vector<std::vector<int>>{{5, 4, 3, 2}, {1, 0}}));
}

TEST(BucketAssignment, TensorLargerThanTheCapIsNotSplit) {
  const BucketPlan plan = assign_buckets(params(), 4, 8, 8);
  for (const auto& b : plan.buckets) EXPECT_EQ(b.params.size(), 1u);
  EXPECT_EQ(plan.buckets.size(), 6u);
}

TEST(BucketAssignment, SixteenBitGradientsFitTwiceAsManyElements) {
  // Same caps as above in fp16: fc2.bias 8 B + fc2.weight 128 B close the first bucket;
  // fc1.bias 32 B + fc1.weight 512 B pass 300 B; fc0's 32 + 256 B stay below it.
  const BucketPlan fp16 = assign_buckets(params(), 2, 300, 16);
  EXPECT_EQ(members(fp16), (std::vector<std::vector<int>>{{5, 4}, {3, 2}, {1, 0}}));
  EXPECT_EQ(fp16.buckets[0].bytes, fp16.buckets[0].elements * 2);
}

TEST(BucketAssignment, LayoutIsContiguousAlignedAndCoversEveryParameter) {
  const auto ps = params();
  const BucketPlan plan = assign_buckets(ps, 4, 300, 16);
  std::size_t expected_offset = 0;
  std::vector<int> seen(ps.size(), 0);
  for (const auto& b : plan.buckets) {
    EXPECT_EQ(b.offset, expected_offset);
    std::size_t inside = b.offset;
    for (int k : b.params) {
      ++seen[static_cast<std::size_t>(k)];
      EXPECT_EQ(plan.param_offset[static_cast<std::size_t>(k)], inside);
      EXPECT_EQ(plan.param_offset[static_cast<std::size_t>(k)] % kParamAlignElems, 0u);
      EXPECT_EQ(plan.param_bucket[static_cast<std::size_t>(k)], b.index);
      inside += (ps[static_cast<std::size_t>(k)].count() + kParamAlignElems - 1) / kParamAlignElems * kParamAlignElems;
    }
    EXPECT_EQ(inside, b.offset + b.elements);
    expected_offset += b.elements;
  }
  EXPECT_EQ(plan.total_elements, expected_offset);
  EXPECT_EQ(seen, std::vector<int>(ps.size(), 1));
}

TEST(BucketAssignment, DefaultCapsOnThePresets) {
  // medium (~25M fp32 params = ~100 MB): the first bucket is small, later ones reach ~25 MiB.
  const ModelSpec medium = parse_model("medium");
  const BucketPlan plan = assign_buckets(medium.params(), 4, mib_to_bytes(25), mib_to_bytes(1));
  ASSERT_GE(plan.buckets.size(), 3u);
  EXPECT_LT(plan.buckets[0].bytes, plan.buckets[1].bytes);
  std::size_t total = 0;
  for (const auto& b : plan.buckets) total += b.bytes;
  EXPECT_EQ(total, plan.total_elements * 4);
  EXPECT_GE(total, medium.param_count() * 4);
}

TEST(BucketAssignment, MibToBytes) {
  EXPECT_EQ(mib_to_bytes(25), std::size_t{25} << 20);
  EXPECT_EQ(mib_to_bytes(0.5), std::size_t{1} << 19);
  EXPECT_EQ(mib_to_bytes(0), 0u);
  EXPECT_THROW(mib_to_bytes(-1), std::invalid_argument);
}

}  // namespace
}  // namespace dpb
