// Nothing lost, nothing silently wrong, end to end through the built binary: refusals before the
// first point leave an existing results file byte-identical; one run writes a results file at a
// time; --resume is strict; nccl-tests' short flags work; --repeats interleaves rounds.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "cli_test_support.h"

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace dpb::testing;

class CliSafety : public CliTest {
 protected:
  CliSafety() : CliTest("allreduce") {}

  // A small good results file at `path`; returns its bytes.
  std::string make_good(const fs::path& path) {
    const RunResult r = run({"--backend", "cpu", "--gpus", "2", "-b", "1K", "-e", "2K", "-n", "2", "-w", "0",
                             "--out", path.string()});
    EXPECT_EQ(r.rc, 0) << r.err;
    return slurp(path);
  }

  // Starts `dpbench <sub> args...` in the background, output to files in dir_; returns its pid.
  pid_t spawn(const std::string& sub, const std::vector<std::string>& args) {
    std::vector<std::string> full = {DPBENCH_BINARY, sub};
    full.insert(full.end(), args.begin(), args.end());
    const std::string out = (dir_ / "bg.out").string();
    const pid_t pid = ::fork();
    if (pid == 0) {
      std::vector<char*> c;
      for (const auto& a : full) c.push_back(const_cast<char*>(a.c_str()));
      c.push_back(nullptr);
      const int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      ::execv(c[0], c.data());
      ::_exit(127);
    }
    return pid;
  }
};

TEST_F(CliSafety, ImpossibleSizesAreRefusedUpFrontLeavingTheFileByteIdentical) {
  const fs::path good = dir_ / "good.json";
  const std::string before = make_good(good);
  const auto t0 = std::chrono::steady_clock::now();
  const RunResult r = run({"--backend", "cpu", "--gpus", "2", "-b", "8", "-e", "99999999G", "--iters", "1", "--out",
                           good.string()});
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(r.rc, 2);
  ASSERT_EQ(lines(r.err).size(), 1u) << r.err;
  EXPECT_NE(r.err.find("-e/--maxbytes"), std::string::npos) << r.err;
  EXPECT_LT(seconds, 5.0) << "refused only after measuring";
  EXPECT_EQ(slurp(good), before);
  EXPECT_FALSE(fs::exists(dir_ / "good.failed.json"));

  // A simulated device holds what it was given; the largest point must fit before the sweep starts.
  const RunResult big = run({"--backend", "cpu", "--cpu-device-memory", "64M", "--gpus", "2", "-b", "1M", "-e", "64M",
                             "--out", good.string()});
  EXPECT_EQ(big.rc, 2);
  EXPECT_NE(big.err.find("-e/--maxbytes"), std::string::npos) << big.err;
  EXPECT_NE(big.err.find("64 MiB"), std::string::npos) << big.err;
  EXPECT_EQ(slurp(good), before);

  // Sizes below one element move nothing: refused, naming -b.
  const RunResult tiny = run({"--backend", "cpu", "--gpus", "2", "-b", "3", "-e", "8", "--out", good.string()});
  EXPECT_EQ(tiny.rc, 2);
  EXPECT_NE(tiny.err.find("-b/--minbytes"), std::string::npos) << tiny.err;
  EXPECT_EQ(slurp(good), before);
}

TEST_F(CliSafety, TrainModelsThatCannotFitAreRefusedUpFront) {
  const fs::path good = dir_ / "good.json";
  const std::string before = make_good(good);
  const std::vector<std::string> a = {DPBENCH_BINARY, "train", "--backend", "cpu", "--model", "65536,65536,65536,10",
                                      "--out", good.string()};
  std::string cmd;
  for (const auto& s : a) cmd += "'" + s + "' ";
  cmd += "> /dev/null 2>'" + (dir_ / "err.txt").string() + "'";
  const int status = std::system(cmd.c_str());
  EXPECT_EQ(WEXITSTATUS(status), 2);
  EXPECT_NE(slurp(dir_ / "err.txt").find("--model"), std::string::npos) << slurp(dir_ / "err.txt");
  EXPECT_EQ(slurp(good), before);
}

TEST_F(CliSafety, ASecondWriterOfTheSameFileIsRefusedAtOnce) {
  const fs::path out = dir_ / "r.json";
  // A run of a few seconds: 6 points of 0.5 s each.
  const pid_t first = spawn("allreduce", {"--backend", "cpu", "--gpus", "2", "-b", "1K", "-e", "4K", "--max-time",
                                          "0.5", "--max-iters", "100000000", "--max-noise",
                                          "0.0001", "--out", out.string()});
  ASSERT_GT(first, 0);
  for (int i = 0; i < 2000 && !fs::exists(dir_ / ".r.json.lock"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_TRUE(fs::exists(dir_ / ".r.json.lock"));
  const auto t0 = std::chrono::steady_clock::now();
  const RunResult second = run({"--backend", "cpu", "--gpus", "2", "-b", "1K", "-e", "1K", "--out", out.string()});
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_NE(second.rc, 0);
  ASSERT_EQ(lines(second.err).size(), 1u) << second.err;
  EXPECT_NE(second.err.find("pid " + std::to_string(first)), std::string::npos) << second.err;
  EXPECT_LT(seconds, 5.0);
  int status = 0;
  ::waitpid(first, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << slurp(dir_ / "bg.out");
  const json doc = json::parse(slurp(out));
  EXPECT_EQ(doc["points"].size(), 6u) << "the first run's points are all there";
  EXPECT_TRUE(doc["invocation"]["complete"].get<bool>());
  EXPECT_FALSE(fs::exists(dir_ / ".r.json.lock"));
}

TEST_F(CliSafety, ResumeWithOtherOptionsNamesTheFlagAndLeavesTheFile) {
  const fs::path out = dir_ / "r.json";
  const std::string before = make_good(out);
  const RunResult r = run({"--backend", "cpu", "--gpus", "1", "-b", "1K", "-e", "2K", "-n", "2", "-w", "0", "--out",
                           out.string(), "--resume"});
  EXPECT_EQ(r.rc, 2);
  ASSERT_EQ(lines(r.err).size(), 1u) << r.err;
  EXPECT_NE(r.err.find("--gpus"), std::string::npos) << r.err;
  EXPECT_EQ(slurp(out), before);
  const RunResult iters = run({"--backend", "cpu", "--gpus", "2", "-b", "1K", "-e", "2K", "-n", "3", "-w", "0",
                               "--out", out.string(), "--resume"});
  EXPECT_EQ(iters.rc, 2);
  EXPECT_NE(iters.err.find("--iters"), std::string::npos) << iters.err;
  EXPECT_EQ(slurp(out), before);
  // --resume-force continues, and says so in the file.
  const RunResult forced = run({"--backend", "cpu", "--gpus", "1", "-b", "1K", "-e", "2K", "-n", "2", "-w", "0",
                                "--out", out.string(), "--resume-force"});
  EXPECT_EQ(forced.rc, 0) << forced.err;
  const json doc = json::parse(slurp(out));
  EXPECT_TRUE(doc["invocation"]["resumed"][0]["forced"].get<bool>());
  EXPECT_EQ(doc["invocation"]["resumed"][0]["differences"][0]["setting"], "gpus");
}

TEST_F(CliSafety, RetryFailedMeasuresFailedPointsAgainAndStaleTemporariesGo) {
  const fs::path out = dir_ / "r.json";
  make_good(out);
  json doc = json::parse(slurp(out));
  doc["points"][1]["status"] = "failed";
  doc["points"][1]["reason"] = "injected";
  doc["points"][2]["status"] = "timeout";
  doc["points"][2]["reason"] = "injected";
  doc["invocation"]["complete"] = false;
  std::ofstream(out) << doc.dump();
  const pid_t gone = ::fork();
  if (gone == 0) ::_exit(0);
  ::waitpid(gone, nullptr, 0);
  const fs::path stale = dir_ / (".r.json.tmp." + std::to_string(gone));  // as a kill -9 mid-write leaves
  std::ofstream(stale) << "{";
  const std::vector<std::string> args = {"--backend", "cpu", "--gpus", "2", "-b", "1K", "-e", "2K", "-n", "2",
                                         "-w", "0", "--out", out.string()};
  auto plain = args;
  plain.push_back("--resume");
  EXPECT_EQ(run(plain).rc, 0);
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_EQ(json::parse(slurp(out))["points"][1]["status"], "failed") << "--resume alone keeps failed points";
  auto retry = args;
  retry.push_back("--retry-failed");
  const RunResult r = run(retry);
  ASSERT_EQ(r.rc, 0) << r.err;
  const json after = json::parse(slurp(out));
  ASSERT_EQ(after["points"].size(), 4u);
  for (const auto& p : after["points"]) EXPECT_EQ(p["status"], "ok") << p["id"];
  EXPECT_EQ(after["points"][0], doc["points"][0]) << "ok points are kept as they were";
  EXPECT_EQ(after["invocation"]["resumed"][1]["points_retried"], 2);
}

TEST_F(CliSafety, TimeoutWorksOnEveryCommandThatMeasures) {
  const fs::path out = dir_ / "r.json";
  const std::string before = make_good(out);
  // allreduce: the point past its limit is recorded as timeout and the sweep stops (exit 1).
  const RunResult ar = run({"--backend", "cpu", "--gpus", "2", "-b", "1K", "-e", "1K", "--min-iters", "1000000",
                            "--max-iters", "1000000", "--max-time", "100", "--timeout", "0.2", "--out", out.string()});
  EXPECT_EQ(ar.rc, 1) << ar.err;
  EXPECT_NE(ar.out.find("timed out"), std::string::npos) << ar.out;
  EXPECT_EQ(slurp(out), before) << "a run without an ok point keeps the old file";
  const json failed = json::parse(slurp(dir_ / "r.failed.json"));
  EXPECT_EQ(failed["points"][0]["status"], "timeout");
  // p2p: entries not started by the limit stay empty; the point is recorded as timeout.
  const fs::path p = dir_ / "p.json";
  const std::string cmd = std::string("'") + DPBENCH_BINARY + "' p2p --backend cpu --cpu-devices 3 --size 16M " +
                          "--timeout 0.001 --out '" + p.string() + "' >/dev/null 2>&1";
  const int status = std::system(cmd.c_str());
  EXPECT_EQ(WEXITSTATUS(status), 1);
  EXPECT_EQ(json::parse(slurp(p))["points"][0]["status"], "timeout");
}

TEST_F(CliSafety, NcclTestsShortFlagsWork) {
  const fs::path out = dir_ / "r.json";
  const RunResult r = run({"--backend", "cpu", "--gpus", "2", "-b", "1K", "-e", "1K", "-n", "5", "-w", "1", "-c", "1",
                           "-d", "fp32", "-o", out.string()});
  ASSERT_EQ(r.rc, 0) << r.err;
  const json doc = json::parse(slurp(out));
  for (const auto& p : doc["points"]) {
    EXPECT_EQ(p["stats"]["time"]["count"], 5);
    EXPECT_EQ(p["stopping"]["warmup_iters"], 1);
    EXPECT_TRUE(p.contains("check"));
  }
  const RunResult unchecked = run({"--backend", "cpu", "--gpus", "2", "-b", "1K", "-e", "1K", "-n", "1", "-c", "0"});
  ASSERT_EQ(unchecked.rc, 0) << unchecked.err;
  EXPECT_EQ(run({"--backend", "cpu", "--precision", "fp16", "--gpus", "2", "-b", "1K", "-e", "1K", "-n", "1"}).rc, 0);
}

TEST_F(CliSafety, FlagMistakesAreSaidInWords) {
  const RunResult twice = run({"--backend", "cpu", "--gpus", "2", "--gpus", "4"});
  EXPECT_EQ(twice.rc, 2);
  EXPECT_NE(twice.err.find("--gpus: given 2 times"), std::string::npos) << twice.err;
  EXPECT_EQ(twice.err.find("At Most"), std::string::npos) << twice.err;
  const RunResult empty = run({"--backend", "cpu", "--gpus", "2", "--out", ""});
  EXPECT_EQ(empty.rc, 2);
  EXPECT_NE(empty.err.find("--out"), std::string::npos) << empty.err;
  for (const char* sub : {"p2p", "info", "train"}) {
    const std::string cmd = std::string("'") + DPBENCH_BINARY + "' " + sub + " --backend cpu --out '' >/dev/null 2>&1";
    const int status = std::system(cmd.c_str());
    EXPECT_EQ(WEXITSTATUS(status), 2) << sub << " --out ''";
  }
}

TEST_F(CliSafety, RepeatsAreInterleavedRoundsSummarisedPerRound) {
  const fs::path out = dir_ / "r.json";
  const RunResult r = run({"--backend", "cpu", "--gpus", "2", "-b", "1K", "-e", "2K", "--inplace", "-n", "4", "-w",
                           "0", "--repeats", "3", "--out", out.string()});
  ASSERT_EQ(r.rc, 0) << r.err;
  // Round-robin: every point's round 1 before any point's round 2.
  const std::size_t last_round1 = r.err.rfind("[round 1/3]"), first_round2 = r.err.find("[round 2/3]");
  ASSERT_NE(first_round2, std::string::npos) << r.err;
  EXPECT_LT(last_round1, first_round2) << r.err;
  const json doc = json::parse(slurp(out));
  ASSERT_EQ(doc["points"].size(), 2u);
  for (const auto& p : doc["points"]) {
    const auto& t = p["stats"]["time"];
    EXPECT_EQ(t["count"], 12);
    ASSERT_EQ(t["repeats"].size(), 3u);
    for (int i = 0; i < 3; ++i) {
      EXPECT_EQ(t["repeats"][i]["round"], i + 1);
      EXPECT_EQ(t["repeats"][i]["count"], 4);
      EXPECT_TRUE(t["repeats"][i]["median"].is_number());
      EXPECT_TRUE(t["repeats"][i]["mean"].is_number());
    }
  }
  EXPECT_EQ(doc["invocation"]["options"]["repeats"], 3);
}

TEST_F(CliSafety, TrainRepeatsMergeRoundsAndRederiveEfficiency) {
  const fs::path out = dir_ / "t.json";
  const std::string cmd = std::string("'") + DPBENCH_BINARY + "' train --backend cpu --gpus 1,2 --model 64,64,10 " +
                          "-n 3 -w 0 --repeats 2 --out '" + out.string() + "' >/dev/null 2>&1";
  const int status = std::system(cmd.c_str());
  ASSERT_EQ(WEXITSTATUS(status), 0);
  const json doc = json::parse(slurp(out));
  ASSERT_EQ(doc["points"].size(), 2u);
  const double t1 = doc["points"][0]["stats"]["step"]["median"];
  for (const auto& p : doc["points"]) {
    const auto& step = p["stats"]["step"];
    EXPECT_EQ(step["count"], 6);
    ASSERT_EQ(step["repeats"].size(), 2u);
    EXPECT_EQ(p["stopping"]["rounds"], 2);
    EXPECT_EQ(p["stats"]["forward"]["count"], 6);
    const double tn = step["median"];
    // Efficiency against the merged 1-rank median (weak scaling: t1 / tN).
    EXPECT_NEAR(p["metrics"]["scaling_efficiency"]["value"].get<double>(), t1 / tn, 1e-6 * t1 / tn);
  }
}

}  // namespace
