// Counting schedules without a backend: textbook traffic per rank and link, reduction work,
// bounded scratch, the trivial cases, and the enqueue order's refusal of a deadlocking schedule.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "collectives/schedule.h"
#include "collectives/schedule_counts.h"
#include "collectives/schedule_order.h"

namespace dpb {
namespace {

constexpr std::size_t kElem = 4;  // counted as fp32

std::size_t shard_bytes(std::size_t count, int n, int shard) {
  return shard_size(count, n, ((shard % n) + n) % n) * kElem;
}

class ScheduleCountsTest : public ::testing::TestWithParam<int> {};

// Ring: rank q sends every shard but q+1 in reduce-scatter and every shard but q+2 in all-gather,
// i.e. 2(n-1)/n * S up to shard rounding, and only to q+1.
TEST_P(ScheduleCountsTest, RingSendsTwoNMinusOneOverNOfTheMessage) {
  const int n = GetParam();
  for (std::size_t count : {std::size_t{0}, std::size_t{1}, std::size_t{1000}, std::size_t{1000003}, std::size_t{840}}) {
    SCOPED_TRACE("count=" + std::to_string(count));
    const ScheduleCounts c = count_schedule(build_ring_schedule({n, count, 4096, 4, false}), kElem);
    const std::size_t bytes = count * kElem;
    for (int q = 0; q < n; ++q) {
      if (n == 1) {
        EXPECT_EQ(c.sent(q), 0u);
        continue;
      }
      const std::size_t expect_sent = (bytes - shard_bytes(count, n, q + 1)) + (bytes - shard_bytes(count, n, q + 2));
      const std::size_t expect_recv = (bytes - shard_bytes(count, n, q)) + (bytes - shard_bytes(count, n, q + 1));
      EXPECT_EQ(c.sent(q), expect_sent) << "rank " << q;
      EXPECT_EQ(c.received(q), expect_recv) << "rank " << q;
      EXPECT_EQ(c.link(q, (q + 1) % n), c.sent(q)) << "ring sends only to its successor";
      const double textbook = 2.0 * (n - 1) / n * static_cast<double>(bytes);
      EXPECT_LE(std::fabs(static_cast<double>(c.sent(q)) - textbook), 2.0 * kElem) << "rank " << q;
      if (count % static_cast<std::size_t>(n) == 0) {
        EXPECT_EQ(static_cast<double>(c.sent(q)), textbook);
      }
    }
    if (n > 1 && count >= static_cast<std::size_t>(n)) {
      EXPECT_EQ(c.links_used(), n);
    }
  }
}

// Tree: each non-root rank sends S up and receives S down; each parent sends S to each child.
TEST_P(ScheduleCountsTest, TreeSendsTheMessageOncePerEdgeEachWay) {
  const int n = GetParam();
  for (std::size_t count : {std::size_t{1}, std::size_t{1000}, std::size_t{1000003}}) {
    SCOPED_TRACE("count=" + std::to_string(count));
    const ScheduleCounts c = count_schedule(build_tree_schedule({n, count, 4096, 4, false}), kElem);
    const std::size_t s = count * kElem;
    for (int r = 0; r < n; ++r) {
      const std::size_t kids = static_cast<std::size_t>((2 * r + 1 < n) + (2 * r + 2 < n));
      const std::size_t parent = r > 0 ? 1 : 0;
      EXPECT_EQ(c.sent(r), (parent + kids) * s) << "rank " << r;
      EXPECT_EQ(c.received(r), (parent + kids) * s) << "rank " << r;
      if (r > 0) {
        EXPECT_EQ(c.link(r, (r - 1) / 2), s);
        EXPECT_EQ(c.link((r - 1) / 2, r), s);
      }
    }
    EXPECT_EQ(c.total_bytes(), 2 * static_cast<std::size_t>(n - 1) * s);
  }
}

// Direct: rank r sends its part of every other shard to that shard's owner, then its own reduced
// shard to every peer: 2(n-1)/n * S per rank, spread over n-1 links.
TEST_P(ScheduleCountsTest, DirectSendsEachShardToItsOwnerAndBack) {
  const int n = GetParam();
  for (std::size_t count : {std::size_t{1}, std::size_t{1000}, std::size_t{1000003}}) {
    SCOPED_TRACE("count=" + std::to_string(count));
    const ScheduleCounts c = count_schedule(build_direct_schedule({n, count, 4096, 4, false}), kElem);
    const std::size_t bytes = count * kElem;
    for (int r = 0; r < n; ++r) {
      const std::size_t own = shard_bytes(count, n, r);
      EXPECT_EQ(c.sent(r), (bytes - own) + static_cast<std::size_t>(n - 1) * own) << "rank " << r;
      EXPECT_EQ(c.received(r), static_cast<std::size_t>(n - 1) * own + (bytes - own)) << "rank " << r;
      for (int p = 0; p < n; ++p) {
        if (p != r) {
          EXPECT_EQ(c.link(r, p), shard_bytes(count, n, p) + own);
        }
      }
    }
    if (count >= static_cast<std::size_t>(n)) {
      EXPECT_EQ(c.links_used(), n * (n - 1));
    }
  }
}

// Every element of the result takes exactly n-1 additions, whichever algorithm; and a rank copies
// its input to its output only where it reduces (out of place) - never in place.
TEST_P(ScheduleCountsTest, EveryAlgorithmAddsNMinusOneTimesPerElement) {
  const int n = GetParam();
  for (const std::string& algo : schedule_algorithms()) {
    for (bool in_place : {false, true}) {
      SCOPED_TRACE(algo + (in_place ? " in-place" : " out-of-place"));
      const std::size_t count = 10007;
      const ScheduleCounts c = count_schedule(build_schedule(algo, {n, count, 512, 2, in_place}), kElem);
      std::size_t adds = 0, copies = 0;
      for (int r = 0; r < n; ++r) {
        adds += c.reduce_elems[static_cast<std::size_t>(r)];
        copies += c.local_copy_bytes[static_cast<std::size_t>(r)];
      }
      EXPECT_EQ(adds, static_cast<std::size_t>(n - 1) * count);
      if (in_place) {
        EXPECT_EQ(copies, 0u);
      }
      if (n == 1 && !in_place) {
        EXPECT_EQ(copies, count * kElem);
      }
    }
  }
}

// Scratch is a fixed number of chunk-sized slots: the same for 10^6 and 10^8 elements.
TEST_P(ScheduleCountsTest, ScratchDoesNotGrowWithTheMessage) {
  const int n = GetParam();
  for (const std::string& algo : schedule_algorithms()) {
    const std::size_t chunk = 1 << 14;
    const auto a = count_schedule(build_schedule(algo, {n, std::size_t{1} << 20, chunk, 3, false}), kElem);
    const auto b = count_schedule(build_schedule(algo, {n, std::size_t{1} << 24, chunk, 3, false}), kElem);
    for (int r = 0; r < n; ++r) {
      const auto ur = static_cast<std::size_t>(r);
      EXPECT_EQ(a.scratch_bytes[ur], b.scratch_bytes[ur]) << algo << " rank " << r;
      EXPECT_LE(b.scratch_bytes[ur], static_cast<std::size_t>(n - 1) * 3 * chunk * kElem) << algo << " rank " << r;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Ranks, ScheduleCountsTest, ::testing::Range(1, 9),
                         [](const auto& tp) { return std::to_string(tp.param) + "ranks"; });

TEST(ScheduleCounts, NothingToDoForZeroElementsAndOneRankInPlace) {
  for (const std::string& algo : schedule_algorithms()) {
    EXPECT_EQ(build_schedule(algo, {4, 0, 64, 2, false}).total_steps(), 0u) << algo;
    EXPECT_EQ(build_schedule(algo, {1, 100, 64, 2, true}).total_steps(), 0u) << algo;
    const Schedule copy = build_schedule(algo, {1, 100, 64, 2, false});
    ASSERT_EQ(copy.total_steps(), 1u) << algo;
    EXPECT_EQ(copy.steps[0][0].kind, StepKind::local_copy);
  }
}

TEST(ScheduleCounts, RejectsBadShapesAndNames) {
  EXPECT_THROW(build_schedule("ring", {0, 10, 4, 2, false}), std::invalid_argument);
  EXPECT_THROW(build_schedule("ring", {2, 10, 0, 2, false}), std::invalid_argument);
  EXPECT_THROW(build_schedule("tree", {2, 10, 4, 0, false}), std::invalid_argument);
  EXPECT_THROW(build_schedule("butterfly", {2, 10, 4, 2, false}), std::invalid_argument);
}

TEST(ScheduleOrder, RefusesADeadlockingSchedule) {
  // Two ranks, each waiting for the other's signal before recording its own.
  Schedule s;
  s.algorithm = "handmade";
  s.shape = {2, 0, 1, 1, false};
  s.signal_owner = {0, 1};
  s.scratch_elems = {0, 0};
  s.steps.resize(2);
  s.steps[0] = {Step{StepKind::wait, -1, {}, {}, 0, 1, 1}, Step{StepKind::record, -1, {}, {}, 0, 0, 1}};
  s.steps[1] = {Step{StepKind::wait, -1, {}, {}, 0, 0, 1}, Step{StepKind::record, -1, {}, {}, 0, 1, 1}};
  try {
    enqueue_order(s);
    FAIL() << "expected ScheduleError";
  } catch (const ScheduleError& e) {
    EXPECT_NE(std::string(e.what()).find("deadlock"), std::string::npos) << e.what();
  }
}

TEST(ScheduleOrder, PutsEveryWaitAfterTheRecordOfItsGeneration) {
  // Rank 1 waits for generation 2 first, then 1; rank 0 records signal 0 twice. Waits name their
  // generation (a wait for g is satisfied by any later record too), so no wait has to come before
  // a record: the order is valid once each wait follows the record it names.
  Schedule s;
  s.algorithm = "handmade";
  s.shape = {2, 0, 1, 1, false};
  s.signal_owner = {0};
  s.scratch_elems = {0, 0};
  s.steps.resize(2);
  s.steps[0] = {Step{StepKind::record, -1, {}, {}, 0, 0, 1}, Step{StepKind::record, -1, {}, {}, 0, 0, 2}};
  s.steps[1] = {Step{StepKind::wait, -1, {}, {}, 0, 0, 2}, Step{StepKind::wait, -1, {}, {}, 0, 0, 1}};
  const auto order = enqueue_order(s);
  ASSERT_EQ(order.size(), 4u);
  EXPECT_EQ(order[0].rank, 0);  // record 1
  EXPECT_EQ(order[1].rank, 0);  // record 2
  EXPECT_EQ(order[2].rank, 1);  // wait 2
  EXPECT_EQ(order[3].rank, 1);  // wait 1
}

}  // namespace
}  // namespace dpb
