// The adaptive stopping loop: each rule fires when it should, with samples supplied by the caller.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "measure/stopping.h"

namespace dpb {
namespace {

TEST(Stopping, FixedItersTakesExactlyK) {
  StoppingOptions o;
  o.warmup_iters = 2;
  o.fixed_iters = 7;
  int warm = 0, timed = 0;
  const Measurement m = measure(o, [&](const IterationInfo& it) {
    (it.warmup ? warm : timed)++;
    return 1.0 + timed;  // noisy on purpose: fixed mode ignores noise
  });
  EXPECT_EQ(warm, 2);
  EXPECT_EQ(timed, 7);
  EXPECT_EQ(m.samples.size(), 7u);
  EXPECT_EQ(m.rule, StopRule::fixed_iters);
  EXPECT_EQ(stopping_to_json(o, m)["rule"], "fixed_iters");
}

TEST(Stopping, QuietSamplesStopOnNoiseAtMinIters) {
  StoppingOptions o;
  o.warmup_iters = 0;
  o.min_iters = 6;
  o.max_noise = 0.01;
  const Measurement m = measure(o, [](const IterationInfo& it) { return 100.0 + (it.index % 2); });
  EXPECT_EQ(m.rule, StopRule::noise);
  EXPECT_EQ(m.samples.size(), 6u);
  ASSERT_TRUE(m.achieved_noise);
  EXPECT_LE(*m.achieved_noise, 0.01);
}

TEST(Stopping, NoisySamplesRunUntilTheErrorIsSmallEnough) {
  StoppingOptions o;
  o.warmup_iters = 0;
  o.min_iters = 2;
  o.max_noise = 0.05;
  o.max_time_s = 60;
  // Alternating 50/150: stddev ~ 50, rel stderr = 0.5/sqrt(n) -> needs n >= 100.
  const Measurement m = measure(o, [](const IterationInfo& it) { return it.index % 2 ? 150.0 : 50.0; });
  EXPECT_EQ(m.rule, StopRule::noise);
  EXPECT_GE(m.samples.size(), 99u);
  EXPECT_LE(m.samples.size(), 102u);
}

TEST(Stopping, MaxItersCapsANoisyPoint) {
  StoppingOptions o;
  o.warmup_iters = 1;
  o.min_iters = 3;
  o.max_iters = 20;
  o.max_noise = 1e-9;
  o.max_time_s = 60;
  const Measurement m = measure(o, [](const IterationInfo& it) { return 1.0 + it.index; });
  EXPECT_EQ(m.rule, StopRule::max_iters);
  EXPECT_EQ(m.samples.size(), 20u);
}

TEST(Stopping, TimeCapStopsAfterMinIters) {
  StoppingOptions o;
  o.warmup_iters = 0;
  o.min_iters = 3;
  o.max_noise = 1e-9;
  o.max_time_s = 0.02;
  const Measurement m = measure(o, [](const IterationInfo& it) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return 1.0 + it.index;
  });
  EXPECT_EQ(m.rule, StopRule::time_cap);
  EXPECT_GE(m.samples.size(), 3u);
  EXPECT_GE(m.wall_s, 0.02);
}

TEST(Stopping, SlowIterationsDoNotMultiplyTheCap) {
  StoppingOptions o;
  o.warmup_iters = 0;
  o.min_iters = 50;
  o.max_noise = 1e-9;
  o.max_time_s = 0.01;
  int calls = 0;
  const Measurement m = measure(o, [&](const IterationInfo&) {
    ++calls;
    std::this_thread::sleep_for(std::chrono::milliseconds(8));  // > cap / 2
    return 8.0 + calls;
  });
  EXPECT_EQ(m.rule, StopRule::time_cap);
  // 2 samples, or 1 when a loaded machine stretched the first sleep past the whole cap; never 50.
  EXPECT_GE(m.samples.size(), 1u);
  EXPECT_LE(m.samples.size(), 2u);
}

TEST(Stopping, ExceptionsPropagate) {
  StoppingOptions o;
  EXPECT_THROW(measure(o, [](const IterationInfo&) -> double { throw std::runtime_error("boom"); }),
               std::runtime_error);
}

TEST(Stopping, ValidateNamesTheSetting) {
  auto message = [](StoppingOptions o) {
    try {
      o.validate();
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  StoppingOptions o;
  o.warmup_iters = -1;
  EXPECT_EQ(message(o).rfind("stopping.warmup: ", 0), 0u);
  o = {};
  o.min_iters = 0;
  EXPECT_EQ(message(o).rfind("stopping.min_iters: ", 0), 0u);
  o = {};
  o.max_iters = 2;
  o.min_iters = 3;
  EXPECT_EQ(message(o).rfind("stopping.max_iters: ", 0), 0u);
  o = {};
  o.max_noise = 0;
  EXPECT_EQ(message(o).rfind("stopping.max_noise_pct: ", 0), 0u);
  o = {};
  o.max_time_s = -1;
  EXPECT_EQ(message(o).rfind("stopping.max_time_s: ", 0), 0u);
  o = {};
  o.fixed_iters = 0;
  EXPECT_EQ(message(o).rfind("stopping.iters: ", 0), 0u);
}

TEST(Stopping, JsonCarriesTheSchemaFields) {
  StoppingOptions o;
  o.warmup_iters = 0;
  o.min_iters = 2;
  const Measurement m = measure(o, [](const IterationInfo&) { return 5.0; });
  const auto j = stopping_to_json(o, m);
  EXPECT_EQ(j["rule"], "noise");
  EXPECT_EQ(j["warmup_iters"], 0);
  EXPECT_DOUBLE_EQ(j["max_noise"].get<double>(), 0.01);
  EXPECT_DOUBLE_EQ(j["achieved_noise"].get<double>(), 0.0);
  EXPECT_TRUE(j.contains("time_cap_s"));
}

}  // namespace
}  // namespace dpb
