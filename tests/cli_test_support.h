// What the end-to-end CLI tests share: a per-test scratch directory and a runner for the built
// dpbench binary that captures stdout and stderr.
#pragma once
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace dpb::testing {

namespace fs = std::filesystem;

struct RunResult {
  int rc = -1;
  std::string out, err;
};

inline std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

inline std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

// Fixture for `dpbench <subcommand> ...` tests: dir_ is empty at the start of each test and removed
// after it; run() leaves nothing behind in it.
class CliTest : public ::testing::Test {
 protected:
  explicit CliTest(std::string subcommand) : subcommand_(std::move(subcommand)) {}

  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("dpbench-cli-" + subcommand_ + "-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // The binary and subcommand followed by `args`.
  std::vector<std::string> argv(const std::vector<std::string>& args) const {
    std::vector<std::string> a = {DPBENCH_BINARY, subcommand_};
    a.insert(a.end(), args.begin(), args.end());
    return a;
  }

  // Runs the subcommand with `args` (each single-quoted), stdin closed, output captured.
  RunResult run(const std::vector<std::string>& args) {
    std::string cmd;
    for (const auto& a : argv(args)) cmd += "'" + a + "' ";
    const fs::path out = dir_ / "stdout.txt", err = dir_ / "stderr.txt";
    cmd += ">'" + out.string() + "' 2>'" + err.string() + "' </dev/null";
    const int status = std::system(cmd.c_str());
    RunResult r;
    r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
    r.out = slurp(out);
    r.err = slurp(err);
    fs::remove(out);
    fs::remove(err);
    return r;
  }

  // For rejection tests: appends `--out <dir_>/r.json` unless `args` has --out or `add_out` is
  // false, so a test can check that a rejected run leaves no results file. Returns that path.
  fs::path add_results_path(std::vector<std::string>& args, bool add_out) const {
    const fs::path out = dir_ / "r.json";
    bool has_out = !add_out;
    for (const auto& a : args) has_out = has_out || a == "--out";
    if (!has_out) {
      args.push_back("--out");
      args.push_back(out.string());
    }
    return out;
  }

  static std::string joined(const std::vector<std::string>& args) {
    std::string text;
    for (const auto& a : args) text += a + " ";
    return text;
  }

  std::string subcommand_;
  fs::path dir_;
};

}  // namespace dpb::testing
