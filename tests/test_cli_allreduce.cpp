// `dpbench allreduce` end to end through the built binary on the cpu backend: every bad input is
// one error line naming the flag, a non-zero exit and no results file; a small real run prints its
// table and writes a complete, correct results file; --resume adds only the missing points.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli_test_support.h"

namespace {

namespace fs = std::filesystem;

using namespace dpb::testing;

class CliAllreduce : public CliTest {
 protected:
  CliAllreduce() : CliTest("allreduce") {}

  // Asserts a rejected invocation: non-zero exit, exactly one stderr line naming `flag`, nothing
  // measured (no table rows), and no results file.
  void expect_rejected(std::vector<std::string> args, const std::string& flag, bool add_out = true) {
    const fs::path out = add_results_path(args, add_out);
    const RunResult r = run(args);
    const std::string joined = CliTest::joined(args);
    EXPECT_NE(r.rc, 0) << joined;
    const auto err = lines(r.err);
    ASSERT_EQ(err.size(), 1u) << joined << "\nstderr:\n" << r.err;
    EXPECT_NE(err[0].find(flag), std::string::npos) << joined << "\nstderr: " << err[0];
    EXPECT_NE(err[0].find("error"), std::string::npos) << err[0];
    EXPECT_EQ(r.out.find("p2p-"), std::string::npos) << "measured despite a bad flag:\n" << r.out;
    EXPECT_FALSE(fs::exists(out)) << joined;
    std::size_t entries = 0;
    for (const auto& e : fs::directory_iterator(dir_)) (void)e, ++entries;
    EXPECT_EQ(entries, 0u) << "left files behind: " << joined;
  }
};

TEST_F(CliAllreduce, BadInputsAreOneErrorLineNamingTheFlag) {
  const std::vector<std::string> base = {"--backend", "cpu", "--gpus", "2", "--iters", "1", "--warmup", "0"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> a = base;
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  expect_rejected(with({"--algo", "p2p-bogus"}), "--algo");
  expect_rejected(with({"--algo", "nccl-ring"}), "--algo");  // NCCL names on the cpu backend
  expect_rejected(with({"--algo", "nccl-auto,p2p-ring"}), "--algo");
  expect_rejected(with({"--algo", "p2p-ring,,p2p-tree"}), "--algo");
  expect_rejected(with({"-b", "0"}), "-b/--minbytes");
  expect_rejected(with({"-b", "-8"}), "-b/--minbytes");
  expect_rejected(with({"--minbytes=-1K"}), "-b/--minbytes");
  expect_rejected(with({"-b", "12Q"}), "-b/--minbytes");
  expect_rejected(with({"-b", "1.5K"}), "-b/--minbytes");
  expect_rejected(with({"-e", "lots"}), "-e/--maxbytes");
  expect_rejected(with({"-e", "0"}), "-e/--maxbytes");
  expect_rejected(with({"-b", "1M", "-e", "1K"}), "-e/--maxbytes");
  expect_rejected(with({"-f", "1"}), "-f/--stepfactor");
  expect_rejected(with({"--stepfactor", "x"}), "-f/--stepfactor");
  expect_rejected({"--backend", "cpu", "--gpus", "16"}, "--gpus");  // 8 simulated devices
  expect_rejected({"--backend", "cpu", "--cpu-devices", "2", "--gpus", "1,4"}, "--gpus");
  expect_rejected({"--backend", "cpu", "--devices", "0,1", "--gpus", "3"}, "--gpus");
  expect_rejected({"--backend", "cpu", "--gpus", "0"}, "--gpus");
  expect_rejected({"--backend", "cpu", "--gpus", "two"}, "--gpus");
  expect_rejected({"--backend", "cpu", "--devices", "0,8"}, "--devices");
  expect_rejected({"--backend", "cpu", "--cpu-devices", "0"}, "--cpu-devices");
  expect_rejected({"--backend", "tpu"}, "--backend");
  expect_rejected(with({"--dtype", "fp64"}), "--dtype");
  expect_rejected(with({"--max-noise", "0"}), "--max-noise");
  expect_rejected(with({"--max-time", "-1"}), "--max-time");
  expect_rejected(with({"--min-iters", "0"}), "--min-iters");
  // Core names settings; the CLI puts the flags in, also where a message refers to another setting.
  expect_rejected(with({"--min-iters", "5", "--max-iters", "2"}), "--max-iters: 2 is below --min-iters 5");
  expect_rejected(with({"--iters", "zero"}), "--iters");
  expect_rejected(with({"--inplace", "--out-of-place"}), "--inplace");
  expect_rejected(with({"--graph", "4"}), "--graph");
  expect_rejected(with({"--check-pattern", "random"}), "--check-pattern");
  expect_rejected(with({"--out", (dir_ / "missing" / "r.json").string()}), "--out");
  expect_rejected(with({"--out", "/proc/dpbench.json"}), "--out");
  expect_rejected(with({"--resume"}), "--resume", /*add_out=*/false);  // --resume needs --out
}

TEST_F(CliAllreduce, SmallRunPrintsTheTableAndWritesTheResultsFile) {
  const fs::path out = dir_ / "r.json";
  const RunResult r = run({"--backend", "cpu", "--gpus", "1,3", "--algo", "p2p-ring,p2p-direct", "--dtype",
                           "fp32,bf16", "-b", "1K", "-e", "8K", "-f", "2", "--warmup", "1", "--max-time", "0.02",
                           "--out", out.string()});
  ASSERT_EQ(r.rc, 0) << r.out << r.err;
  // The table: a header naming the backend and stopping rule, then one row per point.
  EXPECT_NE(r.out.find("backend: cpu"), std::string::npos);
  EXPECT_NE(r.out.find("stopping:"), std::string::npos);
  EXPECT_NE(r.out.find("busbw(GB/s)"), std::string::npos);
  EXPECT_NE(r.out.find("host(us)"), std::string::npos);
  std::size_t rows = 0;
  for (const auto& l : lines(r.out)) {
    if (l.empty() || l[0] == '#') continue;
    std::istringstream cols(l);
    std::vector<std::string> c;
    for (std::string w; cols >> w;) c.push_back(w);
    // 13 columns, then "host-bound" where the host's enqueue time reached the device time.
    if (c.size() == 14u) {
      EXPECT_EQ(c[13], "host-bound") << l;
    }
    ASSERT_TRUE(c.size() == 13u || c.size() == 14u) << l;
    EXPECT_EQ(c[10], "0") << "wrong elements: " << l;  // #wrong
    ++rows;
  }
  const std::size_t expected = 2 /*ranks*/ * 2 /*algos*/ * 2 /*dtypes*/ * 4 /*sizes*/ * 2 /*placements*/;
  EXPECT_EQ(rows, expected);

  std::ifstream in(out);
  const auto doc = nlohmann::json::parse(in);
  EXPECT_EQ(doc["format"], "dpbench-results");
  EXPECT_EQ(doc["command"], "allreduce");
  EXPECT_TRUE(doc["invocation"]["complete"].get<bool>());
  EXPECT_EQ(doc["system"]["backend"], "cpu");
  ASSERT_EQ(doc["points"].size(), expected);
  std::set<std::string> ids;
  for (const auto& p : doc["points"]) {
    ids.insert(p["id"].get<std::string>());
    EXPECT_EQ(p["status"], "ok") << p.dump();
    EXPECT_EQ(p["kind"], "allreduce");
    EXPECT_EQ(p["check"]["wrong_elements"], 0);
    const int n = p["axes"]["ranks"];
    const auto bytes = p["axes"]["bytes"].get<double>();
    EXPECT_EQ(p["check"]["checked_elements"].get<std::size_t>(), p["axes"]["count"].get<std::size_t>() * n);
    const auto& t = p["stats"]["time"];
    EXPECT_EQ(t["unit"], "us");
    EXPECT_EQ(t["count"].get<std::size_t>(), t["samples"].size());
    EXPECT_GT(t["median"].get<double>(), 0.0);
    // algbw = bytes / time (GB = 1e9), busbw = algbw x 2(n-1)/n: exactly the nccl-tests definitions.
    const double algbw = p["metrics"]["algbw"]["value"];
    EXPECT_NEAR(algbw, bytes / (t["median"].get<double>() * 1e-6) / 1e9, algbw * 1e-6);
    if (n == 1) {
      EXPECT_TRUE(p["metrics"]["busbw"]["value"].is_null()) << "a 1-rank all-reduce moves nothing between ranks";
    } else {
      EXPECT_NEAR(p["metrics"]["busbw"]["value"].get<double>(), algbw * 2.0 * (n - 1) / n, algbw * 1e-6);
    }
    EXPECT_EQ(p["metrics"]["busbw"]["unit"], "GB/s");
    EXPECT_TRUE(p["stopping"].contains("rule"));
  }
  EXPECT_EQ(ids.size(), expected);
}

TEST_F(CliAllreduce, ResumeRunsOnlyMissingPoints) {
  const fs::path out = dir_ / "r.json";
  const std::vector<std::string> base = {"--backend", "cpu", "--gpus", "2", "--algo", "p2p-ring", "--iters", "2",
                                         "--warmup", "0", "-f", "2", "--out", out.string()};
  auto args = base;
  args.insert(args.end(), {"-b", "1K", "-e", "8K"});
  ASSERT_EQ(run(args).rc, 0);
  {  // as if the run had been killed after its first 4 points
    std::ifstream in(out);
    auto partial = nlohmann::json::parse(in);
    partial["points"].erase(partial["points"].begin() + 4, partial["points"].end());
    partial["invocation"]["complete"] = false;
    std::ofstream(out) << partial.dump();
  }
  args.push_back("--resume");
  const RunResult r = run(args);
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("4 points already in"), std::string::npos) << r.out;
  std::ifstream in(out);
  const auto doc = nlohmann::json::parse(in);
  ASSERT_EQ(doc["points"].size(), 8u);  // 4 sizes x 2 placements, each once
  std::set<std::string> ids;
  for (const auto& p : doc["points"]) ids.insert(p["id"].get<std::string>());
  EXPECT_EQ(ids.size(), 8u);
  EXPECT_EQ(doc["invocation"]["resumed"].size(), 1u);

  // Resuming a file of another command is one clear error.
  auto bad = base;
  bad.insert(bad.end(), {"--resume"});
  auto doc2 = doc;
  doc2["command"] = "train";
  std::ofstream(out) << doc2.dump();
  const RunResult r2 = run(bad);
  EXPECT_NE(r2.rc, 0);
  ASSERT_EQ(lines(r2.err).size(), 1u) << r2.err;
  EXPECT_NE(r2.err.find("--resume"), std::string::npos);
}

TEST_F(CliAllreduce, AutoBackendSaysWhatItPicked) {
  const RunResult r = run({"--gpus", "1", "--algo", "p2p-ring", "-b", "1K", "-e", "1K", "--iters", "1", "--warmup", "0",
                           "--cpu-devices", "2"});
  if (r.err.find("auto picked cuda") != std::string::npos) GTEST_SKIP() << "a CUDA device is visible";
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.err.find("backend: auto picked cpu"), std::string::npos) << r.err;
}

TEST_F(CliAllreduce, RepeatedDevicesAndOnePlacement) {
  const RunResult r = run({"--backend", "cpu", "--devices", "1,1,0", "--algo", "p2p-tree", "--dtype", "fp16", "-b",
                           "4K", "-e", "4K", "--inplace", "--iters", "2", "--warmup", "0"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("ranks 3 on devices 1,1,0"), std::string::npos) << r.out;
  std::size_t rows = 0;
  for (const auto& l : lines(r.out)) rows += (!l.empty() && l[0] != '#');
  EXPECT_EQ(rows, 1u) << r.out;
}

}  // namespace
