// `dpbench train` end to end through the built binary on the cpu backend: every bad flag value is
// one error line naming the flag, exit 2 and no results file; a real sweep writes a complete
// results file (its schema check is tests/python/test_results_schema.py's, the one place) and prints
// its summary with efficiencies; a run killed after its first point and re-run with --resume ends
// with every point exactly once; --timeout records a timeout and exits non-zero; strong-scaling
// runs over different rank counts end with the same weights up to rounding.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli_test_support.h"

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

using namespace dpb::testing;

// Fast settings for a real run: a tiny model and a fixed number of steps.
const std::vector<std::string> kQuick = {"--backend", "cpu", "--model", "64,64,10", "--warmup", "1", "--iters", "3"};

class CliTrain : public CliTest {
 protected:
  CliTrain() : CliTest("train") {}

  void expect_rejected(std::vector<std::string> args, const std::string& flag, bool add_out = true) {
    args.insert(args.begin(), {"--backend", "cpu"});
    const fs::path out = add_results_path(args, add_out);
    const RunResult r = run(args);
    const std::string joined = CliTest::joined(args);
    EXPECT_EQ(r.rc, 2) << joined;
    const auto err = lines(r.err);
    ASSERT_EQ(err.size(), 1u) << joined << "\n" << r.err;
    EXPECT_NE(err[0].find(flag), std::string::npos) << joined << ": " << err[0];
    EXPECT_EQ(r.out.find("summary"), std::string::npos) << joined;
    EXPECT_FALSE(fs::exists(out)) << joined;
  }
};

TEST_F(CliTrain, EveryBadValueIsOneErrorLineNamingTheFlag) {
  expect_rejected({"--model", "huge"}, "--model");
  expect_rejected({"--model", "512"}, "--model");
  expect_rejected({"--model", "512,0,10"}, "--model");
  expect_rejected({"--precision", "fp8"}, "--dtype");  // --precision is an alias of --dtype
  expect_rejected({"--dtype", "fp32,"}, "--dtype");
  expect_rejected({"--bucket-mb", "-1"}, "--bucket-mb");
  expect_rejected({"--bucket-mb", "lots"}, "--bucket-mb");
  expect_rejected({"--first-bucket-mb", "x"}, "--first-bucket-mb");
  expect_rejected({"--batch", "0"}, "--batch");
  expect_rejected({"--batch", "2.5"}, "--batch");
  expect_rejected({"--batch", "100000000"}, "--batch");
  expect_rejected({"--global-batch", "7", "--gpus", "2"}, "--global-batch");
  expect_rejected({"--global-batch", "8", "--batch", "4"}, "--global-batch");
  expect_rejected({"--optimizer", "adam"}, "--optimizer");
  expect_rejected({"--lr", "0"}, "--lr");
  expect_rejected({"--lr", "fast"}, "--lr");
  expect_rejected({"--seed", "-3"}, "--seed");
  expect_rejected({"--activation", "tanh"}, "--activation");
  expect_rejected({"--timeout", "0"}, "--timeout");
  expect_rejected({"--timeout", "soon"}, "--timeout");
  expect_rejected({"--loss-scale-init", "0"}, "--loss-scale-init");
  expect_rejected({"--loss-scale-interval", "0"}, "--loss-scale-interval");
  expect_rejected({"--algo", "p2p-star"}, "--algo");
  expect_rejected({"--algo", "nccl-ring"}, "--algo");  // no NCCL on the cpu backend
  expect_rejected({"--gpus", "0"}, "--gpus");
  expect_rejected({"--gpus", "99"}, "--gpus");
  expect_rejected({"--devices", "0,42"}, "--devices");
  expect_rejected({"--warmup", "-1"}, "--warmup");
  expect_rejected({"--iters", "0"}, "--iters");
  expect_rejected({"--max-noise", "0"}, "--max-noise");
  expect_rejected({"--max-time", "0"}, "--max-time");
  expect_rejected({"--backend", "tpu"}, "--backend");
  expect_rejected({"--cpu-devices", "0"}, "--cpu-devices");
  expect_rejected({"--resume"}, "--resume", false);
  expect_rejected({"--out", "/nonexistent-dir/t.json"}, "--out");
  expect_rejected({"--no-such-flag"}, "--no-such-flag");
}

TEST_F(CliTrain, SweepWritesAValidCompleteFileAndASummary) {
  const fs::path out = dir_ / "t.json";
  std::vector<std::string> args = kQuick;
  for (const char* a : {"--gpus", "1,2", "--bucket-mb", "0,25", "--first-bucket-mb", "0.001", "--precision", "fp32,bf16",
                        "--algo", "p2p-ring,p2p-tree", "--out"}) {
    args.push_back(a);
  }
  args.push_back(out.string());
  const RunResult r = run(args);
  ASSERT_EQ(r.rc, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("summary"), std::string::npos);
  const json doc = json::parse(slurp(out));
  EXPECT_EQ(doc["command"], "train");
  EXPECT_TRUE(doc["invocation"]["complete"].get<bool>());
  ASSERT_EQ(doc["points"].size(), 16u);
  for (const auto& p : doc["points"]) {
    ASSERT_EQ(p["status"], "ok") << p.dump();
    EXPECT_EQ(p["kind"], "train");
    for (const char* axis : {"model", "algo", "precision", "ranks", "devices", "bucket_mb", "first_bucket_mb", "batch",
                             "global_batch", "scaling", "overlap", "optimizer"}) {
      EXPECT_TRUE(p["axes"].contains(axis)) << axis;
    }
    for (const char* s : {"step", "forward", "backward", "exposed_comm", "optimizer"}) {
      EXPECT_EQ(p["stats"][s]["unit"], "ms") << s;
      EXPECT_EQ(p["stats"][s]["count"], 3) << s;
    }
    for (const char* m : {"samples_per_s", "scaling_efficiency", "overlap_fraction", "loss_first", "loss_last",
                          "skipped_steps", "weights_sum"}) {
      EXPECT_TRUE(p["metrics"].contains(m)) << m;
    }
    // The sweep ran the 1-rank points first, so every point has its efficiency.
    EXPECT_TRUE(p["metrics"]["scaling_efficiency"]["value"].is_number()) << p["id"];
    EXPECT_EQ(p["metrics"]["scaling_efficiency"]["unit"], "ratio");
    EXPECT_FALSE(p["buckets"].empty());
    for (const auto& b : p["buckets"]) EXPECT_EQ(b["allreduce"]["count"], 3);
    EXPECT_EQ(p["extra"]["weights_hash"].get<std::string>().size(), 16u);
    EXPECT_TRUE(p["extra"]["replicas_identical"].get<bool>());
    EXPECT_EQ(p["extra"]["launch_mode"], "eager");  // graph replay is allreduce --graph only
    std::set<int> ranks_in_timeline;
    for (const auto& s : p["timeline"]) ranks_in_timeline.insert(s["rank"].get<int>());
    EXPECT_EQ(static_cast<int>(ranks_in_timeline.size()), p["axes"]["ranks"].get<int>());
  }
  // Plan order: ranks, algo, precision, bucket. fc1 (2.6 KB) fills the ~1 KB first bucket; then
  // cap 0 gives fc0.bias and fc0.weight a bucket each, while 25 MiB takes both.
  EXPECT_EQ(doc["points"][0]["buckets"].size(), 3u);
  EXPECT_EQ(doc["points"][1]["buckets"].size(), 2u);
  EXPECT_NE(r.out.find("eff"), std::string::npos);
}

TEST_F(CliTrain, KilledRunResumesWithEveryPointOnce) {
  const fs::path out = dir_ / "k.json";
  // Points of tens of ms each (far more under sanitizers), so the kill lands mid-sweep.
  std::vector<std::string> args = {"--backend", "cpu", "--model", "256,512,512,10", "--warmup", "1", "--iters", "8",
                                   "--gpus", "1,2", "--precision", "fp32,bf16", "--out", out.string()};
  const std::vector<std::string> full = argv(args);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    std::vector<char*> c;
    for (const auto& a : full) c.push_back(const_cast<char*>(a.c_str()));
    c.push_back(nullptr);
    const int devnull = ::open("/dev/null", O_WRONLY);
    ::dup2(devnull, 1);
    ::dup2(devnull, 2);
    ::execv(c[0], c.data());
    ::_exit(127);
  }
  // Kill (SIGKILL: no chance to clean up) as soon as the first point is on disk.
  std::size_t seen = 0;
  for (int i = 0; i < 6000 && seen == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    try {
      if (fs::exists(out)) seen = json::parse(slurp(out))["points"].size();
    } catch (const json::exception&) {
      ADD_FAILURE() << "the results file was torn";
    }
  }
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_GE(seen, 1u);
  const json partial = json::parse(slurp(out));
  const std::size_t before = partial["points"].size();
  EXPECT_LT(before, 4u) << "the run finished before the kill; the test did not exercise resume";
  EXPECT_FALSE(partial["invocation"].value("complete", false));

  args.push_back("--resume");
  const RunResult r = run(args);
  ASSERT_EQ(r.rc, 0) << r.out << r.err;
  const json doc = json::parse(slurp(out));
  EXPECT_TRUE(doc["invocation"]["complete"].get<bool>());
  std::map<std::string, int> count;
  for (const auto& p : doc["points"]) ++count[p["id"].get<std::string>()];
  EXPECT_EQ(count.size(), 4u);
  for (const auto& [id, n] : count) EXPECT_EQ(n, 1) << id;
  // The points from before the kill are kept as they were.
  for (std::size_t i = 0; i < before; ++i) EXPECT_EQ(doc["points"][i], partial["points"][i]);
  EXPECT_NE(r.out.find("already in the results file"), std::string::npos) << r.out;
}

TEST_F(CliTrain, TimeoutIsRecordedAndExitsNonZero) {
  const fs::path out = dir_ / "to.json";
  const RunResult r = run({"--backend", "cpu", "--model", "small", "--gpus", "2,4", "--timeout", "0.001", "--out",
                           out.string()});
  EXPECT_EQ(r.rc, 1) << r.out << r.err;
  const json doc = json::parse(slurp(out));
  ASSERT_EQ(doc["points"].size(), 1u);  // the sweep stops at the timed-out point
  EXPECT_EQ(doc["points"][0]["status"], "timeout");
  EXPECT_NE(doc["points"][0]["reason"].get<std::string>().find("timeout of"), std::string::npos);
  EXPECT_FALSE(doc["invocation"].value("complete", false));
}

TEST_F(CliTrain, StrongScalingOverRankCountsEndsWithTheSameWeights) {
  const fs::path out = dir_ / "s.json";
  const RunResult r = run({"--backend", "cpu", "--model", "32,64,64,8", "--warmup", "2", "--iters", "4",
                           "--optimizer", "sgd", "--global-batch", "12", "--gpus", "1,2,3,4", "--out", out.string()});
  ASSERT_EQ(r.rc, 0) << r.out << r.err;
  const json doc = json::parse(slurp(out));
  ASSERT_EQ(doc["points"].size(), 4u);
  const double sum1 = doc["points"][0]["metrics"]["weights_sum"]["value"].get<double>();
  const double loss1 = doc["points"][0]["metrics"]["loss_last"]["value"].get<double>();
  for (const auto& p : doc["points"]) {
    EXPECT_EQ(p["axes"]["scaling"], "strong");
    EXPECT_EQ(p["axes"]["global_batch"], 12);
    EXPECT_EQ(p["axes"]["batch"].get<int>() * p["axes"]["ranks"].get<int>(), 12);
    // Same samples, same steps: the weights agree to fp32 rounding (see test_train_equivalence).
    EXPECT_NEAR(p["metrics"]["weights_sum"]["value"].get<double>(), sum1, 1e-3) << p["id"];
    EXPECT_NEAR(p["metrics"]["loss_last"]["value"].get<double>(), loss1, 1e-5) << p["id"];
  }
}

}  // namespace
