// Summary statistics: known samples against numpy/scipy figures, and the JSON the schema expects.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "measure/stats.h"

namespace dpb {
namespace {

TEST(Stats, KnownSamples) {
  // numpy: median 5, mean 5, std(ddof=1) 2.5819888975, percentile(10) 1.9, percentile(90) 8.1
  const std::vector<double> x = {9, 1, 8, 2, 7, 3, 6, 4, 5, 5};
  const Stats s = summarize(x, "us");
  EXPECT_EQ(s.unit, "us");
  EXPECT_EQ(s.count, 10u);
  EXPECT_DOUBLE_EQ(s.median, 5.0);
  EXPECT_DOUBLE_EQ(s.mean, 5.0);
  EXPECT_DOUBLE_EQ(s.min, 1.0);
  EXPECT_DOUBLE_EQ(s.max, 9.0);
  EXPECT_NEAR(s.stddev, 2.5819888975, 1e-9);  // sqrt(60/9)
  EXPECT_NEAR(s.p10, 1.9, 1e-12);
  EXPECT_NEAR(s.p90, 8.1, 1e-12);
  // scipy.stats.t.interval(0.95, 9, loc=5, scale=sem) = (3.15296, 6.84704)
  ASSERT_TRUE(s.ci95_low && s.ci95_high);
  EXPECT_NEAR(*s.ci95_low, 5.0 - 2.2621571628 * s.stddev / std::sqrt(10.0), 1e-9);
  EXPECT_NEAR(*s.ci95_low, 3.15296, 1e-5);
  EXPECT_NEAR(*s.ci95_high, 6.84704, 1e-5);
  ASSERT_TRUE(s.rel_stderr);
  EXPECT_NEAR(*s.rel_stderr, s.stddev / std::sqrt(10.0) / 5.0, 1e-12);
  // Samples are kept in measurement order.
  EXPECT_EQ(s.samples, x);
}

TEST(Stats, MedianOfEvenAndOddCounts) {
  EXPECT_DOUBLE_EQ(summarize(std::vector<double>{3, 1, 2}, "ms").median, 2.0);
  EXPECT_DOUBLE_EQ(summarize(std::vector<double>{4, 1, 3, 2}, "ms").median, 2.5);
}

TEST(Stats, SingleSampleHasNoConfidenceInterval) {
  const Stats s = summarize(std::vector<double>{7.5}, "ms");
  EXPECT_EQ(s.count, 1u);
  EXPECT_DOUBLE_EQ(s.median, 7.5);
  EXPECT_DOUBLE_EQ(s.p10, 7.5);
  EXPECT_DOUBLE_EQ(s.stddev, 0.0);
  EXPECT_FALSE(s.ci95_low);
  EXPECT_FALSE(s.rel_stderr);
  const auto j = to_json(s);
  EXPECT_FALSE(j.contains("ci95_low"));
  EXPECT_FALSE(j.contains("rel_stderr"));
}

TEST(Stats, EmptySamplesSerializeWithCountZero) {
  const Stats s = summarize(std::vector<double>{}, "ms");
  EXPECT_EQ(s.count, 0u);
  const auto j = to_json(s);
  EXPECT_EQ(j["count"], 0);
  EXPECT_TRUE(j["samples"].empty());
}

TEST(Stats, NonFiniteSampleIsRejected) {
  EXPECT_THROW(summarize(std::vector<double>{1.0, NAN}, "ms"), std::invalid_argument);
}

TEST(Stats, StudentTMatchesTables) {
  EXPECT_NEAR(student_t95(1), 12.7062, 1e-4);
  EXPECT_NEAR(student_t95(10), 2.2281, 1e-4);
  EXPECT_NEAR(student_t95(30), 2.0423, 1e-4);
  EXPECT_NEAR(student_t95(40), 2.0211, 1e-4);   // scipy: 2.021075
  EXPECT_NEAR(student_t95(100), 1.9840, 1e-4);  // scipy: 1.983972
  EXPECT_NEAR(student_t95(100000), 1.95998, 1e-4);
  EXPECT_THROW(student_t95(0), std::invalid_argument);
}

// The 95% interval should cover the true mean in about 95% of repeated experiments.
TEST(Stats, ConfidenceIntervalCoversTheMean) {
  std::mt19937_64 rng(12345);
  std::normal_distribution<double> dist(100.0, 15.0);
  int covered = 0;
  const int trials = 2000;
  for (int t = 0; t < trials; ++t) {
    std::vector<double> x(8);
    for (double& v : x) v = dist(rng);
    const Stats s = summarize(x, "us");
    if (*s.ci95_low <= 100.0 && 100.0 <= *s.ci95_high) ++covered;
  }
  const double rate = covered / double(trials);
  // Binomial sd at 2000 trials is ~0.5%; a normal-z interval (no t) would cover only ~92%.
  EXPECT_GT(rate, 0.935);
  EXPECT_LT(rate, 0.965);
}

TEST(Stats, JsonRoundTrip) {
  const Stats s = summarize(std::vector<double>{1.25, 2.5, 3.75, 5.0}, "us");
  const auto j = to_json(s, 0);
  for (const char* key : {"unit", "count", "median", "mean", "min", "max", "stddev", "p10", "p90", "ci95_low",
                          "ci95_high", "rel_stderr", "samples"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  const Stats back = stats_from_json(j);
  EXPECT_EQ(back.count, s.count);
  EXPECT_DOUBLE_EQ(back.mean, s.mean);
  EXPECT_EQ(back.samples, s.samples);
  EXPECT_THROW(stats_from_json(nlohmann::json{{"unit", "us"}}), std::invalid_argument);
}

TEST(Stats, JsonRoundsToSignificantDigits) {
  const Stats s = summarize(std::vector<double>{1.0 / 3.0, 2.0 / 3.0}, "ms");
  const auto j = to_json(s, 4);
  EXPECT_DOUBLE_EQ(j["samples"][0].get<double>(), 0.3333);
  EXPECT_DOUBLE_EQ(j["mean"].get<double>(), 0.5);
}

TEST(Stats, PercentileValidatesItsInput) {
  const std::vector<double> sorted = {1, 2, 3};
  EXPECT_DOUBLE_EQ(percentile_sorted(sorted, 0), 1);
  EXPECT_DOUBLE_EQ(percentile_sorted(sorted, 100), 3);
  EXPECT_DOUBLE_EQ(percentile_sorted(sorted, 25), 1.5);
  EXPECT_THROW(percentile_sorted(sorted, 101), std::invalid_argument);
  EXPECT_THROW(percentile_sorted(std::vector<double>{}, 50), std::invalid_argument);
}

}  // namespace
}  // namespace dpb
