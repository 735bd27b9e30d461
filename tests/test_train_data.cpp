// The synthetic data set: deterministic samples, DistributedSampler-style shards whose union is
// the same global batch for every rank count, and labels that use the classes.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "train/synthetic_data.h"

namespace dpb {
namespace {

TEST(TrainData, SamplesAreAFunctionOfSeedAndIndex) {
  const SyntheticData a(1, 16, 10), b(1, 16, 10), c(2, 16, 10);
  std::vector<float> x(16), y(16), z(16);
  EXPECT_EQ(a.sample(123, x.data()), b.sample(123, y.data()));
  EXPECT_EQ(x, y);
  c.sample(123, z.data());
  EXPECT_NE(x, z);
  a.sample(124, y.data());
  EXPECT_NE(x, y);
}

TEST(TrainData, ShardsOfAnyRankCountFormTheSameGlobalBatch) {
  const SyntheticData d(9, 8, 4);
  const int global = 12;
  for (std::uint64_t step : {0ull, 5ull}) {
    std::vector<float> f;
    std::vector<std::int32_t> l;
    d.shard(step, 0, 1, global, f, l);
    std::multiset<std::vector<float>> whole;
    for (int k = 0; k < global; ++k) whole.insert(std::vector<float>(f.begin() + k * 8, f.begin() + (k + 1) * 8));
    for (int ranks : {2, 3, 4, 6}) {
      std::multiset<std::vector<float>> joined;
      for (int r = 0; r < ranks; ++r) {
        d.shard(step, r, ranks, global / ranks, f, l);
        ASSERT_EQ(l.size(), static_cast<std::size_t>(global / ranks));
        for (int k = 0; k < global / ranks; ++k) joined.insert(std::vector<float>(f.begin() + k * 8, f.begin() + (k + 1) * 8));
      }
      EXPECT_EQ(joined, whole) << ranks << " ranks, step " << step;
    }
  }
}

TEST(TrainData, RanksGetDisjointInterleavedSamples) {
  const SyntheticData d(9, 4, 3);
  std::vector<float> f0, f1, ref(4);
  std::vector<std::int32_t> l0, l1;
  d.shard(2, 0, 2, 3, f0, l0);
  d.shard(2, 1, 2, 3, f1, l1);
  // Rank r takes global indices step*G + k*N + r (torch DistributedSampler's interleave).
  const int label = d.sample(2 * 6 + 1 * 2 + 1, ref.data());
  EXPECT_EQ(std::vector<float>(f1.begin() + 4, f1.begin() + 8), ref);
  EXPECT_EQ(l1[1], label);
  EXPECT_NE(f0, f1);
}

TEST(TrainData, FeaturesHaveUnitScaleAndLabelsCoverTheClasses) {
  const SyntheticData d(3, 64, 10);
  std::vector<float> x(64);
  std::map<int, int> counts;
  double sum2 = 0;
  for (std::uint64_t i = 0; i < 2000; ++i) {
    const int label = d.sample(i, x.data());
    ASSERT_GE(label, 0);
    ASSERT_LT(label, 10);
    ++counts[label];
    for (float v : x) sum2 += static_cast<double>(v) * v;
  }
  EXPECT_NEAR(sum2 / (2000.0 * 64), 1.0, 0.05);
  EXPECT_GE(counts.size(), 6u);  // a random teacher is not balanced, but it uses most classes
  for (const auto& [label, n] : counts) EXPECT_LT(n, 1200) << "class " << label << " dominates";
}

TEST(TrainData, BadShardArgumentsThrow) {
  const SyntheticData d(1, 4, 2);
  std::vector<float> f;
  std::vector<std::int32_t> l;
  EXPECT_THROW(d.shard(0, 2, 2, 4, f, l), std::invalid_argument);
  EXPECT_THROW(d.shard(0, 0, 2, 0, f, l), std::invalid_argument);
  EXPECT_THROW(SyntheticData(1, 4, 1), std::invalid_argument);
}

}  // namespace
}  // namespace dpb
