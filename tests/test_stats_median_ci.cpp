// Statistics say what they are: the median's own confidence interval (order statistics), the
// mean's under its own name, per-round summaries for --repeats, and nothing cut silently.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "measure/stats.h"
#include "measure/stopping.h"
#include "sweep/allreduce_metrics.h"
#include "sweep/repeats.h"

namespace dpb {
namespace {

TEST(MedianCi, OrderStatisticRanksMatchTheBinomialTable) {
  EXPECT_FALSE(median_ci95_ranks(5));  // [min, max] of 5 covers only 93.75%
  EXPECT_EQ(median_ci95_ranks(6), std::make_pair(std::size_t{1}, std::size_t{6}));
  EXPECT_EQ(median_ci95_ranks(10), std::make_pair(std::size_t{2}, std::size_t{9}));   // 97.9%
  EXPECT_EQ(median_ci95_ranks(20), std::make_pair(std::size_t{6}, std::size_t{15}));  // 95.9%
  EXPECT_EQ(median_ci95_ranks(100), std::make_pair(std::size_t{40}, std::size_t{61}));
}

TEST(MedianCi, ContainsTheMedianAndIsStoredUnderItsName) {
  std::mt19937 rng(7);
  std::lognormal_distribution<double> skewed(0, 1);
  for (std::size_t n : {6u, 7u, 31u, 1000u}) {
    std::vector<double> v(n);
    for (auto& x : v) x = skewed(rng);
    const Stats s = summarize(v, "us");
    ASSERT_TRUE(s.median_ci95_low && s.median_ci95_high) << n;
    EXPECT_LE(*s.median_ci95_low, s.median);
    EXPECT_GE(*s.median_ci95_high, s.median);
    const nlohmann::json j = to_json(s);
    EXPECT_TRUE(j.contains("median_ci95_low"));
    EXPECT_EQ(j["mean_ci95_low"], j["ci95_low"]);  // the mean's interval, under the mean's name
    EXPECT_LE(j["mean_ci95_low"].get<double>(), s.mean);
    const Stats back = stats_from_json(j);
    EXPECT_EQ(back.median_ci95_low.has_value(), true);
  }
  EXPECT_FALSE(summarize(std::vector<double>{1, 2, 3}, "us").median_ci95_low);
}

TEST(Repeats, RoundsAreSummarisedAndAllSamplesKept) {
  std::vector<PointRecord> rounds;
  for (int r = 0; r < 3; ++r) {
    PointRecord rec;
    rec.id = "allreduce/x";
    rec.axes = {{"bytes", 1000}, {"ranks", 2}};
    rec.stats["time"] = summarize(std::vector<double>{1.0 + r, 2.0 + r}, "us");
    rec.stopping = nlohmann::json{{"iters", 2}};
    rec.check = nlohmann::json{{"wrong_elements", 0}, {"checked_elements", 10}};
    rounds.push_back(rec);
  }
  const PointRecord m = merge_allreduce_rounds(rounds);
  const Stats& t = m.stats.at("time");
  EXPECT_EQ(t.count, 6u);
  ASSERT_EQ(t.repeats.size(), 3u);
  EXPECT_EQ(t.repeats[2].round, 3);
  EXPECT_DOUBLE_EQ(t.repeats[2].median, 3.5);
  EXPECT_EQ(t.repeats[1].count, 2u);
  EXPECT_EQ((*m.stopping)["iters"], 6);
  EXPECT_EQ((*m.check)["checked_elements"], 30);
  const nlohmann::json j = to_json(t);
  ASSERT_EQ(j["repeats"].size(), 3u);
  for (const char* key : {"round", "median", "mean", "count"}) EXPECT_TRUE(j["repeats"][0].contains(key)) << key;
  EXPECT_NEAR(*m.metrics.at("algbw").value, 1000 / (t.median * 1e-6) / 1e9, 1e-9);
}

TEST(AllreduceMetrics, OneRankHasNoBusBandwidth) {
  PointRecord rec;
  rec.stats["time"] = summarize(std::vector<double>{0.001}, "us");
  set_allreduce_bandwidth(rec, 8, 1);
  EXPECT_FALSE(rec.metrics.at("busbw").value);
  set_allreduce_bandwidth(rec, 8, 2);
  EXPECT_TRUE(rec.metrics.at("busbw").value);
}

TEST(Stopping, FewerIterationsThanAskedAreExplained) {
  StoppingOptions o;
  o.warmup_iters = 3;
  o.min_iters = 5;
  o.max_time_s = 0.02;
  // Each iteration takes longer than the cap: defaults give way, with the reason recorded.
  auto slow = [](const IterationInfo&) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(25);
    while (std::chrono::steady_clock::now() < until) {
    }
    return 1.0;
  };
  const Measurement cut = measure(o, slow);
  EXPECT_LT(cut.samples.size(), 5u);
  ASSERT_TRUE(cut.shortfall);
  EXPECT_NE(cut.shortfall->find("warm-up 1 of 3"), std::string::npos) << *cut.shortfall;
  EXPECT_NE(cut.shortfall->find("of min 5"), std::string::npos) << *cut.shortfall;
  EXPECT_EQ(stopping_to_json(o, cut)["shortfall"], *cut.shortfall);
  // Asked for explicitly: honoured.
  o.min_iters_exact = o.warmup_exact = true;
  const Measurement kept = measure(o, slow);
  EXPECT_EQ(kept.samples.size(), 5u);
  EXPECT_EQ(kept.warmup_iters, 3);
  EXPECT_FALSE(kept.shortfall);
}

}  // namespace
}  // namespace dpb
