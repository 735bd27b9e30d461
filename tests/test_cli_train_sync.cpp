// `dpbench train` with the issue-13 axes through the built binary (cpu backend): --accum 4 records
// 4x fewer all-reduce calls per sample than --accum 1; --comm-dtype bf16 moves half the bytes;
// the real-layout presets record their parameter/tensor counts and reference figures (dry run:
// nothing trains at full size here); --target-loss records time-to-target and the noise scale;
// bad values are one error line naming the flag.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli_test_support.h"

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace dpb::testing;

class CliTrainSync : public CliTest {
 protected:
  CliTrainSync() : CliTest("train") {}

  json sweep(std::vector<std::string> extra) {
    const fs::path out = dir_ / "s.json";
    std::vector<std::string> args = {"--backend", "cpu", "--model", "64,64,10", "--warmup", "1", "--iters", "3",
                                     "--out", out.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    const RunResult r = run(args);
    EXPECT_EQ(r.rc, 0) << r.out << r.err;
    return json::parse(slurp(out));
  }
};

const json& metric(const json& p, const char* name) { return p["metrics"][name]; }

TEST_F(CliTrainSync, Accum4RecordsFourTimesFewerAllReducesPerSample) {
  const json doc = sweep({"--gpus", "2", "--accum", "1,4", "--batch", "8"});
  ASSERT_EQ(doc["points"].size(), 2u);
  const json& one = doc["points"][0];
  const json& four = doc["points"][1];
  EXPECT_EQ(one["axes"]["accum"], 1);
  EXPECT_EQ(four["axes"]["accum"], 4);
  EXPECT_NE(four["id"].get<std::string>().find("/accum=4"), std::string::npos);
  EXPECT_EQ(one["id"].get<std::string>().find("accum"), std::string::npos);  // default: ids as before
  EXPECT_EQ(metric(four, "allreduce_calls_per_sample")["source"], "measured");
  EXPECT_DOUBLE_EQ(metric(one, "allreduce_calls_per_sample")["value"].get<double>(),
                   4.0 * metric(four, "allreduce_calls_per_sample")["value"].get<double>());
}

TEST_F(CliTrainSync, Bf16CommunicationMovesHalfTheBytes) {
  const json doc = sweep({"--gpus", "2", "--comm-dtype", "fp32,bf16"});
  ASSERT_EQ(doc["points"].size(), 2u);
  for (const auto& p : doc["points"]) {
    const std::size_t es = p["axes"]["comm_dtype"] == "bf16" ? 2 : 4;
    for (const auto& b : p["buckets"]) EXPECT_EQ(b["comm_bytes"].get<std::size_t>() * 4, b["bytes"].get<std::size_t>() * es);
  }
}

TEST_F(CliTrainSync, TargetLossRecordsTimeToTargetAndTheNoiseScale) {
  const json doc = sweep({"--gpus", "2", "--optimizer", "sgd", "--lr", "0.1", "--target-loss", "2.0",
                          "--target-max-steps", "200", "--eval-samples", "64", "--probe-every", "1"});
  const json& p = doc["points"][0];
  EXPECT_TRUE(metric(p, "steps_to_target")["value"].is_number()) << p["convergence"].dump();
  EXPECT_TRUE(metric(p, "time_to_target_s")["value"].is_number());
  EXPECT_EQ(metric(p, "goodput")["source"], "model");
  EXPECT_EQ(metric(p, "statistical_efficiency")["source"], "model");
  EXPECT_GT(p["convergence"]["noise"]["probes"].get<int>(), 0);
  EXPECT_EQ(p["convergence"]["target_loss"], 2.0);
}

TEST_F(CliTrainSync, RealLayoutPresetsDryRun) {
  for (const char* model : {"resnet50", "gpt2-small", "bert-base"}) {
    const RunResult r = run({"--backend", "cpu", "--model", model, "--batch", "1024", "--gpus", "1", "--dry-run"});
    EXPECT_EQ(r.rc, 0) << model << r.err;
  }
  const RunResult bad = run({"--backend", "cpu", "--model", "gpt2-small", "--batch", "100", "--gpus", "1", "--dry-run"});
  EXPECT_EQ(bad.rc, 2);
  EXPECT_NE(bad.err.find("--batch"), std::string::npos) << bad.err;
  for (std::vector<std::string> args : {std::vector<std::string>{"--accum", "0"}, {"--comm-dtype", "fp8"},
                                        {"--lr-scaling", "cubic"}, {"--target-loss", "x"}}) {
    const std::string flag = args[0];
    args.insert(args.begin(), {"--backend", "cpu", "--dry-run"});
    const RunResult r = run(args);
    EXPECT_EQ(r.rc, 2) << flag;
    EXPECT_NE(r.err.find(flag), std::string::npos) << flag << ": " << r.err;
  }
}

}  // namespace
