// The sweep runner: failures are recorded and the sweep goes on; --resume skips finished points.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "device/error.h"
#include "results/results_file.h"
#include "sweep/sweep.h"

namespace dpb {
namespace {

namespace fs = std::filesystem;

SweepPoint point(const std::string& id, std::function<PointRecord()> run) {
  return SweepPoint{id, "allreduce", id, nlohmann::json{{"bytes", 8}}, std::move(run), nullptr};
}

PointRecord ok_record() {
  PointRecord r;
  r.metrics["busbw"] = Metric{1.0, "GB/s", "", "derived"};
  return r;
}

TEST(Sweep, FailuresAreRecordedAndTheSweepGoesOn) {
  std::vector<std::string> seen;
  std::vector<SweepPoint> plan = {
      point("a", ok_record),
      point("b", []() -> PointRecord { throw std::runtime_error("out of memory on device 3"); }),
      point("c", []() -> PointRecord { throw TimeoutError("no progress for 10 s"); }),
      point("d", ok_record),
  };
  std::ostringstream progress;
  SweepOptions o;
  o.progress = &progress;
  o.on_record = [&](const PointRecord& r) { seen.push_back(r.id + ":" + std::string(point_status_name(r.status))); };
  const SweepOutcome out = run_sweep(plan, o);
  EXPECT_EQ(seen, (std::vector<std::string>{"a:ok", "b:failed", "c:timeout", "d:ok"}));
  EXPECT_EQ(out.ok, 2u);
  EXPECT_EQ(out.failed, 1u);
  EXPECT_EQ(out.timeout, 1u);
  EXPECT_FALSE(out.all_ok());
  EXPECT_NE(progress.str().find("out of memory on device 3"), std::string::npos);
}

TEST(Sweep, PlanValidation) {
  EXPECT_THROW(validate_plan({}), std::invalid_argument);
  EXPECT_THROW(validate_plan({point("a", ok_record), point("a", ok_record)}), std::invalid_argument);
  EXPECT_THROW(validate_plan({point("a", nullptr)}), std::invalid_argument);
}

TEST(Sweep, ResumeRunsOnlyTheMissingPoints) {
  const fs::path p = fs::temp_directory_path() / ("dpbench-sweep-test-" + std::to_string(::getpid()) + ".json");
  fs::remove(p);
  ResultsHeader h{"allreduce", {"dpbench", "allreduce"}, nlohmann::json::object(), {{"backend", "cpu"}}};
  int runs = 0;
  auto counted = [&] {
    ++runs;
    return ok_record();
  };
  std::vector<SweepPoint> plan = {point("a", counted), point("b", counted), point("c", counted)};
  {
    // First run "killed" after two points: stop_after ends it early, complete stays false.
    ResultsFile f = ResultsFile::create(p, h);
    SweepOptions o;
    o.results = &f;
    int finished = 0;
    o.stop_after = [&](const PointRecord&) { return ++finished == 2; };
    run_sweep(plan, o);
  }
  EXPECT_EQ(runs, 2);
  {
    ResultsFile f = ResultsFile::resume(p, h);
    SweepOptions o;
    o.results = &f;
    const SweepOutcome out = run_sweep(plan, o);
    EXPECT_EQ(out.already_done, 2u);
    EXPECT_EQ(out.ok, 1u);
  }
  EXPECT_EQ(runs, 3);
  std::ifstream in(p);
  const auto doc = nlohmann::json::parse(in);
  ASSERT_EQ(doc["points"].size(), 3u);
  EXPECT_EQ(doc["points"][0]["id"], "a");
  EXPECT_EQ(doc["points"][2]["id"], "c");
  EXPECT_EQ(doc["points"][2]["kind"], "allreduce");
  EXPECT_TRUE(doc["invocation"]["complete"].get<bool>());
  fs::remove(p);
}

}  // namespace
}  // namespace dpb
