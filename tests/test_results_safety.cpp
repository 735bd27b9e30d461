// What keeps a results file safe: a failing run never replaces a good file, one writer at a time
// (lock, stale locks and temporaries of dead writers), strict --resume (options, system, well-formed
// points), --resume-force recorded, --retry-failed replacing failed records.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "cli_test_support.h"
#include "results/results_file.h"
#include "results/results_lock.h"
#include "results/results_resume.h"

namespace dpb {
namespace {

namespace fs = std::filesystem;
using dpb::testing::slurp;

class ResultsSafety : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("dpbench-results-safety-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = dir_ / "r.json";
  }
  void TearDown() override { fs::remove_all(dir_); }

  static ResultsHeader header(nlohmann::json options = {{"gpus", {2}}}) {
    return {"allreduce", {"dpbench", "allreduce"}, std::move(options),
            {{"backend", "cpu"},
             {"host", {{"hostname", "here"}, {"cpu_model", "x"}}},
             {"devices", nlohmann::json::array()}}};
  }
  static PointRecord record(const std::string& id, PointStatus status = PointStatus::ok) {
    PointRecord r;
    r.id = id;
    r.kind = "allreduce";
    r.stats["time"] = summarize(std::vector<double>{1, 2, 3}, "us");
    if (status != PointStatus::ok) r.set_status(status, "it broke");
    return r;
  }
  static nlohmann::json read(const fs::path& p) {
    std::ifstream in(p);
    return nlohmann::json::parse(in);
  }
  std::string resume_error(const ResultsHeader& h, ResultsFile::ResumeOptions o = {}) {
    try {
      ResultsFile::resume(path_, h, o);
    } catch (const std::exception& e) {
      return e.what();
    }
    return "";
  }
  fs::path dir_, path_;
};

TEST_F(ResultsSafety, AFailingRunNeverReplacesAGoodFile) {
  {
    ResultsFile good = ResultsFile::create(path_, header());
    good.append(record("a"));
    good.finish();
  }
  const std::string before = slurp(path_);
  {
    ResultsFile bad = ResultsFile::create(path_, header());
    bad.append(record("x", PointStatus::failed));
    EXPECT_EQ(slurp(path_), before) << "replaced before any point was ok";
    bad.finish();
    EXPECT_EQ(slurp(path_), before);
    ASSERT_TRUE(bad.written_beside());
    EXPECT_EQ(*bad.written_beside(), dir_ / "r.failed.json");
    EXPECT_EQ(read(*bad.written_beside())["points"][0]["id"], "x");
  }
  {  // the first ok point replaces it, failed points before it included
    ResultsFile next = ResultsFile::create(path_, header());
    next.append(record("y", PointStatus::failed));
    EXPECT_EQ(slurp(path_), before);
    next.append(record("z"));
    const auto doc = read(path_);
    ASSERT_EQ(doc["points"].size(), 2u);
    EXPECT_EQ(doc["points"][0]["id"], "y");
    next.finish();
    EXPECT_FALSE(next.written_beside());
  }
}

TEST_F(ResultsSafety, OneWriterAtATimeAndDeadWritersDoNotBlock) {
  {
    ResultsLock held(path_);
    EXPECT_TRUE(fs::exists(lock_path_for(path_)));
    // A second process is refused at once, told our pid.
    const pid_t child = ::fork();
    if (child == 0) {
      try {
        ResultsLock second(path_);
        ::_exit(1);
      } catch (const ResultsLockedError& e) {
        const bool names_pid = e.holder() && *e.holder() == ::getppid() &&
                               std::string(e.what()).find(std::to_string(::getppid())) != std::string::npos;
        ::_exit(names_pid ? 0 : 2);
      } catch (...) {
        ::_exit(3);
      }
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
  }
  EXPECT_FALSE(fs::exists(lock_path_for(path_))) << "the lock file is removed on release";

  // A writer killed with its lock held (the file stays, the flock dies with it) does not block.
  const pid_t dead = ::fork();
  if (dead == 0) {
    ResultsLock mine(path_);
    ::_exit(0);  // no destructor: the lock file stays behind
  }
  int status = 0;
  ::waitpid(dead, &status, 0);
  EXPECT_TRUE(fs::exists(lock_path_for(path_)));
  EXPECT_NO_THROW(ResultsLock again(path_));
}

TEST_F(ResultsSafety, StaleTemporariesOfDeadWritersAreRemoved) {
  const pid_t gone = ::fork();
  if (gone == 0) ::_exit(0);
  ::waitpid(gone, nullptr, 0);
  const fs::path stale = dir_ / (".r.json.tmp." + std::to_string(gone));
  const fs::path live = dir_ / (".r.json.tmp." + std::to_string(::getppid()));  // a running process
  const fs::path other = dir_ / (".other.json.tmp." + std::to_string(gone));
  for (const auto& p : {stale, live, other}) std::ofstream(p) << "{";
  ResultsLock lock(path_);
  EXPECT_EQ(lock.removed_temporaries(), 1);
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_TRUE(fs::exists(live));
  EXPECT_TRUE(fs::exists(other));
}

TEST_F(ResultsSafety, ResumeIsStrictAboutOptionsAndSystem) {
  {
    ResultsFile f = ResultsFile::create(path_, header());
    f.append(record("a"));
  }
  const std::string before = slurp(path_);
  try {
    ResultsFile::resume(path_, header({{"gpus", {4}}}));
    FAIL() << "resumed with other gpus";
  } catch (const ResumeMismatch& e) {
    EXPECT_EQ(e.setting(), "gpus");
    EXPECT_EQ(e.difference().in_file, nlohmann::json({2}));
    EXPECT_EQ(e.difference().in_run, nlohmann::json({4}));
  }
  EXPECT_EQ(slurp(path_), before);

  ResultsHeader other_host = header();
  other_host.system["host"]["hostname"] = "elsewhere";
  EXPECT_NE(resume_error(other_host).find("system.host.hostname"), std::string::npos);
  EXPECT_EQ(slurp(path_), before);

  // --resume-force continues and records what differed.
  {
    ResultsFile f = ResultsFile::resume(path_, header({{"gpus", {4}}}), {.force = true, .retry_failed = false});
    EXPECT_TRUE(f.is_done("a"));
  }
  const auto doc = read(path_);
  const auto& entry = doc["invocation"]["resumed"][0];
  EXPECT_TRUE(entry["forced"].get<bool>());
  EXPECT_EQ(entry["differences"][0]["setting"], "gpus");
}

TEST_F(ResultsSafety, MalformedFilesAreRefusedNotExtended) {
  { ResultsFile::create(path_, header()).append(record("a")); }
  auto doc = read(path_);
  auto with_points = [&](nlohmann::json points) {
    auto d = doc;
    d["points"] = std::move(points);
    std::ofstream(path_) << d.dump();
    return resume_error(header());
  };
  EXPECT_NE(with_points({{{"status", "ok"}}}).find("point 0 has no id"), std::string::npos);
  EXPECT_NE(with_points({{{"id", 123}, {"status", "ok"}}}).find("has id 123"), std::string::npos);
  EXPECT_NE(with_points({{{"id", "a"}, {"status", "fine"}}}).find("no valid status"), std::string::npos);
  EXPECT_NE(with_points({{{"id", "a"}, {"status", "ok"}}, {{"id", "a"}, {"status", "ok"}}}).find("repeats id"),
            std::string::npos);
  doc["system"] = nullptr;  // once a json type_error
  std::ofstream(path_) << doc.dump();
  const std::string msg = resume_error(header());
  EXPECT_NE(msg.find("system"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("type_error"), std::string::npos) << msg;
}

TEST_F(ResultsSafety, RetryFailedMeasuresFailedAndTimedOutPointsAgain) {
  {
    ResultsFile f = ResultsFile::create(path_, header());
    f.append(record("a"));
    f.append(record("b", PointStatus::failed));
    f.append(record("c", PointStatus::timeout));
  }
  {
    ResultsFile plain = ResultsFile::resume(path_, header());
    EXPECT_TRUE(plain.is_done("b"));
  }
  ResultsFile f = ResultsFile::resume(path_, header(), {.force = false, .retry_failed = true});
  EXPECT_TRUE(f.is_done("a"));
  EXPECT_FALSE(f.is_done("b"));
  EXPECT_FALSE(f.is_done("c"));
  EXPECT_EQ(f.retrying_points(), 2u);
  f.append(record("b"));
  const auto doc = read(path_);
  ASSERT_EQ(doc["points"].size(), 3u) << "replaced in place, not added";
  EXPECT_EQ(doc["points"][1]["id"], "b");
  EXPECT_EQ(doc["points"][1]["status"], "ok");
  EXPECT_EQ(doc["points"][2]["status"], "timeout");  // not re-measured yet: its old record stays
}

}  // namespace
}  // namespace dpb
