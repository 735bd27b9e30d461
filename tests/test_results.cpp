// The results file: point ids, records, atomic appends, interrupted writes, resume, bad paths.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "results/invocation.h"
#include "results/results_file.h"

namespace dpb {
namespace {

namespace fs = std::filesystem;

// A fresh directory per test, removed afterwards.
class ResultsFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("dpbench-results-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static ResultsHeader header(std::string command = "allreduce") {
    return {command, {"dpbench", command, "--out", "r.json"}, {{"algo", {"p2p-ring"}}},
            {{"backend", "cpu"}, {"host", nlohmann::json::object()}, {"devices", nlohmann::json::array()}}};
  }
  static PointRecord record(const std::string& id) {
    PointRecord r;
    r.id = id;
    r.kind = "allreduce";
    r.axes = {{"bytes", 1024}};
    r.stats["time"] = summarize(std::vector<double>{1, 2, 3}, "us");
    r.metrics["busbw"] = Metric{1.5, "GB/s", "algbw x 2(n-1)/n", "derived"};
    return r;
  }
  static nlohmann::json read(const fs::path& p) {
    std::ifstream in(p);
    return nlohmann::json::parse(in);
  }
  fs::path dir_;
};

TEST(PointId, StableFromAxisValues) {
  const std::string id = make_point_id("allreduce", {{"algo", id_value("p2p-ring")},
                                                     {"dtype", id_value("fp32")},
                                                     {"ranks", id_value(4)},
                                                     {"devices", id_value(std::vector<int>{0, 1, 2, 3})},
                                                     {"bytes", id_value(std::size_t{65536})},
                                                     {"in_place", id_value(false)}});
  EXPECT_EQ(id, "allreduce/algo=p2p-ring/dtype=fp32/ranks=4/devices=0,1,2,3/bytes=65536/in_place=0");
  EXPECT_EQ(id_value(0.5), "0.5");
  EXPECT_EQ(id_value(25.0), "25");
  EXPECT_THROW(make_point_id("allreduce", {{"algo", "a/b"}}), std::invalid_argument);
}

TEST(PointRecordJson, CarriesEveryField) {
  PointRecord r;
  r.id = "x";
  r.kind = "train";
  r.set_status(PointStatus::failed, "3 of 10 elements wrong");
  r.metrics["scaling_efficiency"] = Metric{std::nullopt, "ratio", "", "derived"};
  r.check = nlohmann::json{{"wrong_elements", 3}, {"checked_elements", 10}};
  r.more["timeline"] = nlohmann::json::array();
  const auto j = r.to_json();
  EXPECT_EQ(j["status"], "failed");
  EXPECT_EQ(j["reason"], "3 of 10 elements wrong");
  EXPECT_TRUE(j["metrics"]["scaling_efficiency"]["value"].is_null());
  EXPECT_EQ(j["check"]["wrong_elements"], 3);
  EXPECT_TRUE(j["timeline"].is_array());
  PointRecord ok;
  ok.id = "y";
  EXPECT_TRUE(ok.to_json()["reason"].is_null());
}

TEST(Invocation, ShellQuoting) {
  EXPECT_EQ(shell_quote("--algo"), "--algo");
  EXPECT_EQ(shell_quote("p2p-ring,p2p-tree"), "p2p-ring,p2p-tree");
  EXPECT_EQ(shell_quote("a b"), "'a b'");
  EXPECT_EQ(shell_quote("it's"), "'it'\\''s'");
  EXPECT_EQ(shell_quote(""), "''");
  EXPECT_EQ(shell_join({"dpbench", "allreduce", "--out", "my file.json"}), "dpbench allreduce --out 'my file.json'");
}

TEST(Invocation, Iso8601) {
  EXPECT_EQ(iso8601_utc(std::chrono::system_clock::time_point{}), "1970-01-01T00:00:00Z");
  const std::string now = iso8601_utc_now();
  EXPECT_EQ(now.size(), 20u);
  EXPECT_EQ(now.back(), 'Z');
}

TEST_F(ResultsFileTest, CreateWritesAValidEmptyDocument) {
  const fs::path p = dir_ / "r.json";
  ResultsFile f = ResultsFile::create(p, header());
  const auto doc = read(p);
  EXPECT_EQ(doc["format"], "dpbench-results");
  EXPECT_EQ(doc["format_version"], 1);
  EXPECT_EQ(doc["command"], "allreduce");
  EXPECT_EQ(doc["invocation"]["command_line"], "dpbench allreduce --out r.json");
  EXPECT_EQ(doc["invocation"]["complete"], false);
  EXPECT_TRUE(doc["points"].empty());
  EXPECT_TRUE(doc["dpbench"].contains("git_revision"));
}

TEST_F(ResultsFileTest, EveryAppendIsOnDiskAndFinishMarksComplete) {
  const fs::path p = dir_ / "r.json";
  ResultsFile f = ResultsFile::create(p, header());
  f.append(record("a"));
  EXPECT_EQ(read(p)["points"].size(), 1u);
  f.append(record("b"));
  const auto doc = read(p);
  ASSERT_EQ(doc["points"].size(), 2u);
  EXPECT_EQ(doc["points"][1]["id"], "b");
  EXPECT_EQ(doc["points"][1]["stats"]["time"]["unit"], "us");
  EXPECT_THROW(f.append(record("a")), std::invalid_argument);
  EXPECT_EQ(read(p)["points"].size(), 2u);
  f.finish();
  EXPECT_EQ(read(p)["invocation"]["complete"], true);
  // No temporaries are left behind.
  for (const auto& e : fs::directory_iterator(dir_)) EXPECT_EQ(e.path().filename(), "r.json");
}

TEST_F(ResultsFileTest, OnePointPerLineAndTheDocumentParsesBack) {
  const fs::path p = dir_ / "r.json";
  ResultsFile f = ResultsFile::create(p, header());
  f.append(record("a"));
  f.append(record("b"));
  std::ifstream in(p);
  std::vector<std::string> point_lines;
  for (std::string line; std::getline(in, line);) {
    if (line.find("\"id\":") != std::string::npos) point_lines.push_back(line);
  }
  ASSERT_EQ(point_lines.size(), 2u);
  std::string second = point_lines[1];
  while (!second.empty() && second.front() == ' ') second.erase(0, 1);
  EXPECT_EQ(nlohmann::json::parse(second)["id"], "b");
  EXPECT_EQ(read(p), f.document());
  EXPECT_EQ(nlohmann::json::parse(serialize_results(nlohmann::json{{"format", "x"}}, {})),
            (nlohmann::json{{"format", "x"}, {"points", nlohmann::json::array()}}));
}

// A kill between writing the temporary and renaming it leaves a stray temporary beside an intact
// file; the next run reads the intact file and carries on.
TEST_F(ResultsFileTest, InterruptedWriteKeepsEveryFinishedPoint) {
  const fs::path p = dir_ / "r.json";
  {
    ResultsFile f = ResultsFile::create(p, header());
    f.append(record("a"));
    f.append(record("b"));
  }
  const fs::path stray = dir_ / ".r.json.tmp.99999";
  {
    std::ofstream out(stray);
    out << "{\"format\": \"dpbench-results\", \"points\": [ {\"id\": \"a\"}, {\"id\": \"b\"}, {\"id\": \"c";  // torn
  }
  ResultsFile resumed = ResultsFile::resume(p, header());
  EXPECT_EQ(resumed.resumed_points(), 2u);
  EXPECT_TRUE(resumed.is_done("a"));
  EXPECT_TRUE(resumed.is_done("b"));
  EXPECT_FALSE(resumed.is_done("c"));
  resumed.append(record("c"));
  const auto doc = read(p);
  ASSERT_EQ(doc["points"].size(), 3u);
  EXPECT_EQ(doc["points"][2]["id"], "c");
  EXPECT_EQ(doc["invocation"]["resumed"].size(), 1u);
}

TEST_F(ResultsFileTest, ResumeKeepsStartTimeAndPoints) {
  const fs::path p = dir_ / "r.json";
  {
    ResultsFile f = ResultsFile::create(p, header());
    f.append(record("a"));
  }
  const std::string started = read(p)["invocation"]["started_at"];
  ResultsFile f = ResultsFile::resume(p, header());
  EXPECT_EQ(read(p)["invocation"]["started_at"], started);
  EXPECT_EQ(f.done_ids().size(), 1u);
  f.finish();
  EXPECT_EQ(read(p)["invocation"]["complete"], true);
}

// axis_order is written when the command states one; a file written before it gains it on resume
// (it orders display only: points and ids stay as they were).
TEST_F(ResultsFileTest, AxisOrderIsWrittenAndAddedOnResume) {
  const fs::path p = dir_ / "r.json";
  {
    ResultsFile f = ResultsFile::create(p, header());
    f.append(record("a"));
  }
  EXPECT_FALSE(read(p).contains("axis_order"));
  ResultsHeader with_order = header();
  with_order.axis_order = {"algo", "bytes"};
  ResultsFile f = ResultsFile::resume(p, with_order);
  f.finish();
  const nlohmann::json doc = read(p);
  EXPECT_EQ(doc["axis_order"], nlohmann::json({"algo", "bytes"}));
  EXPECT_EQ(doc["points"][0]["id"], "a");
  const fs::path q = dir_ / "q.json";
  ResultsFile::create(q, with_order, ResultsFile::Replace::at_once);
  EXPECT_EQ(read(q)["axis_order"], nlohmann::json({"algo", "bytes"}));
}

TEST_F(ResultsFileTest, ResumeOfMissingFileStartsANewOne) {
  const fs::path p = dir_ / "new.json";
  ResultsFile f = ResultsFile::resume(p, header());
  EXPECT_EQ(f.resumed_points(), 0u);
  EXPECT_TRUE(fs::exists(p));
}

TEST_F(ResultsFileTest, ResumeMismatchIsOneClearError) {
  const fs::path p = dir_ / "r.json";
  { ResultsFile::create(p, header("train")); }
  auto message = [&](const ResultsHeader& h) {
    try {
      ResultsFile::resume(p, h);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  std::string msg = message(header("allreduce"));
  EXPECT_EQ(msg.rfind("resume: ", 0), 0u) << msg;
  EXPECT_NE(msg.find("train"), std::string::npos);

  auto doc = read(p);
  doc["format_version"] = 2;
  write_json_atomically(p, doc);
  msg = message(header("train"));
  EXPECT_NE(msg.find("format_version 2"), std::string::npos) << msg;

  { std::ofstream(p) << "not json"; }
  EXPECT_NE(message(header("train")).find("not valid JSON"), std::string::npos);

  fs::remove(p);  // create over an existing file writes nothing until a point is ok
  { ResultsFile::create(p, header("train")); }
  ResultsHeader cuda = header("train");
  cuda.system["backend"] = "cuda";
  EXPECT_NE(message(cuda).find("system.backend"), std::string::npos) << message(cuda);
}

TEST_F(ResultsFileTest, UnwritablePathsFailBeforeMeasuringAndLeaveNothing) {
  auto message = [](const fs::path& p) {
    try {
      ResultsFile::check_writable(p);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_EQ(message(dir_ / "ok.json"), "");
  EXPECT_FALSE(fs::exists(dir_ / "ok.json"));
  EXPECT_EQ(message(dir_ / "missing" / "r.json").rfind("out: cannot write", 0), 0u);
  EXPECT_NE(message(dir_ / "missing" / "r.json").find("does not exist"), std::string::npos);
  EXPECT_EQ(message(dir_).rfind("out: ", 0), 0u);  // a directory
  EXPECT_EQ(message("/proc/dpbench-results.json").rfind("out: ", 0), 0u);
  EXPECT_EQ(message("").rfind("out: ", 0), 0u);
  std::size_t entries = 0;
  for (const auto& e : fs::directory_iterator(dir_)) (void)e, ++entries;
  EXPECT_EQ(entries, 0u);
}

}  // namespace
}  // namespace dpb
