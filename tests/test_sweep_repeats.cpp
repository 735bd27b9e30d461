// --repeats in the sweep runner: rounds are round-robin over the points (never back to back), a
// point is recorded once with its rounds merged, a failing round settles its point at once, and a
// sweep stopped early keeps the rounds it measured.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "device/error.h"
#include "sweep/repeats.h"
#include "sweep/sweep.h"

namespace dpb {
namespace {

struct Recorder {
  std::vector<std::string> calls;
  SweepPoint point(const std::string& id, bool fail_in_round_2 = false, bool timeout_in_round_2 = false) {
    auto run = [this, id, fail_in_round_2, timeout_in_round_2, round = 0]() mutable {
      ++round;
      calls.push_back(id + std::to_string(round));
      if (round == 2 && fail_in_round_2) throw std::runtime_error("broke");
      if (round == 2 && timeout_in_round_2) throw TimeoutError("stuck");
      PointRecord r;
      r.stats["time"] = summarize(std::vector<double>{static_cast<double>(round)}, "us");
      return r;
    };
    return SweepPoint{id, "allreduce", id, nlohmann::json{{"bytes", 8}}, run,
                      [](std::vector<PointRecord> rounds) { return merge_rounds(std::move(rounds), "time"); }};
  }
};

TEST(SweepRepeats, RoundRobinOverPointsAndOneMergedRecordEach) {
  Recorder rec;
  std::vector<SweepPoint> plan = {rec.point("a"), rec.point("b", true), rec.point("c")};
  std::vector<PointRecord> records;
  SweepOptions o;
  o.repeats = 3;
  o.on_record = [&](const PointRecord& r) { records.push_back(r); };
  const SweepOutcome out = run_sweep(plan, o);
  EXPECT_EQ(rec.calls, (std::vector<std::string>{"a1", "b1", "c1", "a2", "b2", "c2", "a3", "c3"}));
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].id, "b");  // its failing round 2 settled it at once
  EXPECT_EQ(records[0].status, PointStatus::failed);
  EXPECT_EQ(*records[0].reason, "broke (in round 2)");
  EXPECT_EQ(records[1].id, "a");
  EXPECT_EQ(records[1].stats.at("time").count, 3u);
  EXPECT_EQ(records[1].stats.at("time").repeats.size(), 3u);
  EXPECT_EQ(out.ok, 2u);
  EXPECT_EQ(out.failed, 1u);
}

TEST(SweepRepeats, AStoppedSweepKeepsTheRoundsItMeasured) {
  Recorder rec;
  std::vector<SweepPoint> plan = {rec.point("a"), rec.point("b", false, true), rec.point("c")};
  std::vector<PointRecord> records;
  SweepOptions o;
  o.repeats = 3;
  o.on_record = [&](const PointRecord& r) { records.push_back(r); };
  o.stop_after = [](const PointRecord& r) { return r.status == PointStatus::timeout; };
  run_sweep(plan, o);
  EXPECT_EQ(rec.calls, (std::vector<std::string>{"a1", "b1", "c1", "a2", "b2"}));
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].status, PointStatus::timeout);
  EXPECT_EQ(records[1].id, "a");
  EXPECT_EQ(records[1].stats.at("time").count, 2u);  // a1 and a2, merged
  EXPECT_EQ(records[2].id, "c");
  EXPECT_EQ(records[2].stats.at("time").count, 1u);
}

}  // namespace
}  // namespace dpb
