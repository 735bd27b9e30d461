// Symbolic execution of the all-reduce schedules, no backend: every element carries the count of
// each rank's contribution it holds, and every stream a vector clock. Checks, for ring/tree/direct
// over ranks 1..8, odd counts, tiny and large chunks, 1..4 slots, in place and out of place:
// - every rank's output holds each rank's contribution exactly once;
// - no step reads memory that was not written in this call (scratch slots included);
// - every pair of conflicting accesses from different streams is ordered by the schedule's
//   signals (a race would let a slot be overwritten before it is consumed, or a result be read
//   before it arrived), across two back-to-back calls with the caller's own work around them;
// - the input buffer is never written out of place; every access stays inside its region.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "collectives/schedule.h"
#include "collectives/schedule_order.h"

namespace dpb {
namespace {

using Clock = std::vector<std::uint32_t>;

struct Cell {
  std::vector<std::uint8_t> contrib;  // per rank
  bool defined = false;
  bool written_by_schedule = false;
  int writer = -1;  // stream of the last write
  std::uint32_t write_clock = 0;
  Clock reads;  // per stream: clock of its latest read since the last write
};

class Simulator {
 public:
  explicit Simulator(const Schedule& s) : s_(s), n_(s.ranks()) {
    const auto un = static_cast<std::size_t>(n_);
    clocks_.assign(un, Clock(un, 0));
    mem_.resize(un);
    for (std::size_t r = 0; r < un; ++r) {
      mem_[r][0].resize(s.shape.count, blank());
      mem_[r][1].resize(s.shape.count, blank());
      mem_[r][2].resize(s.scratch_elems[r], blank());
    }
    signal_clocks_.resize(static_cast<std::size_t>(s.signals()));
  }

  // Runs one call: the caller writes inputs, the schedule runs in enqueue order, the caller reads
  // outputs. Returns the first problem found, or "".
  std::string call(const std::vector<StepRef>& order) {
    for (int r = 0; r < n_; ++r) {
      tick(r);
      for (std::size_t i = 0; i < s_.shape.count; ++i) {
        Cell& c = cell(r, Region::input, i);
        if (!write(r, c)) return fail("caller's input write on rank " + std::to_string(r) + " races");
        c.contrib.assign(static_cast<std::size_t>(n_), 0);
        c.contrib[static_cast<std::size_t>(r)] = 1;
        c.defined = true;
        c.written_by_schedule = false;
      }
      for (Cell& c : mem_[static_cast<std::size_t>(r)][2]) c.defined = false;  // stale scratch is garbage
      if (!s_.shape.in_place) {
        for (Cell& c : mem_[static_cast<std::size_t>(r)][1]) c.defined = false;
      }
    }
    for (const StepRef& ref : order) {
      std::string err = step(ref.rank, s_.steps[static_cast<std::size_t>(ref.rank)][ref.index]);
      if (!err.empty()) {
        return fail("rank " + std::to_string(ref.rank) + " step " + std::to_string(ref.index) + ": " + err);
      }
    }
    for (int r = 0; r < n_; ++r) {
      tick(r);
      for (std::size_t i = 0; i < s_.shape.count; ++i) {
        Cell& out = cell(r, Region::output, i);
        if (!read(r, out)) return fail("rank " + std::to_string(r) + " output[" + std::to_string(i) + "] races with the caller's read");
        if (!out.defined) return fail("rank " + std::to_string(r) + " output[" + std::to_string(i) + "] never written");
        for (int q = 0; q < n_; ++q) {
          if (out.contrib[static_cast<std::size_t>(q)] != 1) {
            return fail("rank " + std::to_string(r) + " output[" + std::to_string(i) + "] holds rank " + std::to_string(q) +
                        "'s contribution " + std::to_string(out.contrib[static_cast<std::size_t>(q)]) + " times");
          }
        }
        if (!s_.shape.in_place && cell(r, Region::input, i).written_by_schedule) {
          return fail("rank " + std::to_string(r) + " input[" + std::to_string(i) + "] written out of place");
        }
      }
    }
    return "";
  }

 private:
  Cell blank() const {
    Cell c;
    c.contrib.assign(static_cast<std::size_t>(n_), 0);
    c.reads.assign(static_cast<std::size_t>(n_), 0);
    return c;
  }
  static std::size_t slot(Region r) { return static_cast<std::size_t>(r); }
  Cell& cell(int rank, Region region, std::size_t i) {
    if (s_.shape.in_place && region == Region::input) region = Region::output;  // the same memory
    return mem_[static_cast<std::size_t>(rank)][slot(region)][i];
  }
  bool in_bounds(int rank, Location loc, std::size_t count) const {
    Region region = loc.region;
    if (s_.shape.in_place && region == Region::input) region = Region::output;
    return loc.offset + count <= mem_[static_cast<std::size_t>(rank)][slot(region)].size();
  }
  void tick(int r) { ++clocks_[static_cast<std::size_t>(r)][static_cast<std::size_t>(r)]; }
  const Clock& clock(int r) const { return clocks_[static_cast<std::size_t>(r)]; }
  bool ordered(int r, int other, std::uint32_t when) const { return when <= clock(r)[static_cast<std::size_t>(other)]; }
  bool read(int r, Cell& c) {
    if (c.writer >= 0 && !ordered(r, c.writer, c.write_clock)) return false;
    c.reads[static_cast<std::size_t>(r)] = clock(r)[static_cast<std::size_t>(r)];
    return true;
  }
  bool write(int r, Cell& c) {
    if (c.writer >= 0 && !ordered(r, c.writer, c.write_clock)) return false;
    for (int q = 0; q < n_; ++q) {
      if (!ordered(r, q, c.reads[static_cast<std::size_t>(q)])) return false;
    }
    c.writer = r;
    c.write_clock = clock(r)[static_cast<std::size_t>(r)];
    c.reads.assign(static_cast<std::size_t>(n_), 0);
    return true;
  }

  std::string step(int r, const Step& st) {
    tick(r);
    switch (st.kind) {
      case StepKind::record: {
        auto& gens = signal_clocks_[static_cast<std::size_t>(st.signal)];
        if (gens.size() <= st.generation) gens.resize(st.generation + 1);
        gens[st.generation] = clock(r);
        return "";
      }
      case StepKind::wait: {
        const auto& gens = signal_clocks_[static_cast<std::size_t>(st.signal)];
        if (gens.size() <= st.generation || gens[st.generation].empty()) return "wait before its record";
        Clock& mine = clocks_[static_cast<std::size_t>(r)];
        for (std::size_t q = 0; q < mine.size(); ++q) mine[q] = std::max(mine[q], gens[st.generation][q]);
        return "";
      }
      default: break;
    }
    const int dst_rank = st.kind == StepKind::copy_peer ? st.peer : r;
    if (st.count == 0) return "empty data step";
    if (!in_bounds(r, st.src, st.count) || !in_bounds(dst_rank, st.dst, st.count)) return "access out of bounds";
    if (st.dst.region == Region::input && !s_.shape.in_place) return "writes the input region";
    for (std::size_t i = 0; i < st.count; ++i) {
      Cell& src = cell(r, st.src.region, st.src.offset + i);
      if (!src.defined) return std::string("reads undefined ") + std::string(region_name(st.src.region)) + "[" +
                               std::to_string(st.src.offset + i) + "]";
      if (!read(r, src)) return "read races with an unordered write";
      const std::vector<std::uint8_t> value = src.contrib;
      Cell& dst = cell(dst_rank, st.dst.region, st.dst.offset + i);
      if (st.kind == StepKind::reduce) {
        if (!dst.defined) return "reduces into undefined memory";
        if (!read(r, dst)) return "reduce races with an unordered write";
      }
      if (!write(r, dst)) return "write races with an unordered access";
      if (st.kind == StepKind::reduce) {
        for (std::size_t q = 0; q < value.size(); ++q) dst.contrib[q] = static_cast<std::uint8_t>(dst.contrib[q] + value[q]);
      } else {
        dst.contrib = value;
      }
      dst.defined = true;
      dst.written_by_schedule = true;
    }
    return "";
  }

  std::string fail(const std::string& what) const {
    std::ostringstream os;
    os << what << "\n" << (s_.total_steps() < 400 ? describe(s_) : std::string("(schedule too long to print)"));
    return os.str();
  }

  const Schedule& s_;
  int n_;
  std::vector<Clock> clocks_;
  std::vector<std::array<std::vector<Cell>, 3>> mem_;
  std::vector<std::vector<Clock>> signal_clocks_;
};

// Scratch per rank may not exceed (incoming links) x slots x chunk.
std::size_t scratch_bound(const Schedule& s, int rank) {
  const int n = s.ranks();
  int links = 0;
  if (s.algorithm == "ring") links = n > 1 ? 1 : 0;
  if (s.algorithm == "direct") links = n - 1;
  if (s.algorithm == "tree") {
    for (int c : {2 * rank + 1, 2 * rank + 2}) links += c < n ? 1 : 0;
  }
  const int slots = s.algorithm == "ring" ? std::max(2, s.shape.slots) : s.shape.slots;  // see schedule.h
  return static_cast<std::size_t>(links) * static_cast<std::size_t>(slots) * s.shape.chunk_elems;
}

class ScheduleSimulation : public ::testing::TestWithParam<std::tuple<std::string, int>> {};

TEST_P(ScheduleSimulation, ReducesEveryContributionOnceWithoutRaces) {
  const auto& [algorithm, ranks] = GetParam();
  const std::vector<std::size_t> counts{0, 1, static_cast<std::size_t>(ranks > 1 ? ranks - 1 : 2),
                                        static_cast<std::size_t>(2 * ranks + 1), 37, 401};
  for (std::size_t count : counts) {
    for (std::size_t chunk : {std::size_t{1}, std::size_t{7}, std::size_t{1} << 20}) {
      if (chunk == 1 && count > 40) continue;  // thousands of steps, nothing new to learn
      for (int slots : {1, 2, 4}) {
        for (bool in_place : {false, true}) {
          ScheduleShape shape{ranks, count, chunk, slots, in_place};
          SCOPED_TRACE(algorithm + " ranks=" + std::to_string(ranks) + " count=" + std::to_string(count) +
                       " chunk=" + std::to_string(chunk) + " slots=" + std::to_string(slots) +
                       (in_place ? " in-place" : " out-of-place"));
          const Schedule s = build_schedule(algorithm, shape);
          std::vector<StepRef> order;
          ASSERT_NO_THROW(order = enqueue_order(s)) << describe(s);
          ASSERT_EQ(order.size(), s.total_steps());
          Simulator sim(s);
          for (int call = 0; call < 2; ++call) {
            const std::string err = sim.call(order);
            ASSERT_TRUE(err.empty()) << "call " << call + 1 << ": " << err;
          }
          for (int r = 0; r < ranks; ++r) {
            EXPECT_LE(s.scratch_elems[static_cast<std::size_t>(r)], scratch_bound(s, r)) << "rank " << r;
          }
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllAlgorithms, ScheduleSimulation,
                         ::testing::Combine(::testing::Values("ring", "tree", "direct"), ::testing::Range(1, 9)),
                         [](const auto& tp) {
                           return std::get<0>(tp.param) + "_" + std::to_string(std::get<1>(tp.param)) + "ranks";
                         });

// The checker itself must be able to fail: a schedule that forgets to wait for a chunk before
// reducing it is a race, and one that reduces a chunk twice breaks exactly-once.
TEST(ScheduleSimulationChecks, CatchesAMissingWaitAndADoubleReduce) {
  const Schedule good = build_ring_schedule({3, 30, 4, 2, false});
  {
    Schedule bad = good;
    auto& steps = bad.steps[1];
    for (std::size_t i = 0; i < steps.size(); ++i) {
      if (steps[i].kind == StepKind::reduce) {
        // Drop the wait right before the first reduce (its chunk's "ready").
        for (std::size_t j = i; j-- > 0;) {
          if (steps[j].kind == StepKind::wait) {
            steps.erase(steps.begin() + static_cast<std::ptrdiff_t>(j));
            break;
          }
        }
        break;
      }
    }
    Simulator sim(bad);
    EXPECT_FALSE(sim.call(enqueue_order(bad)).empty());
  }
  {
    Schedule bad = good;
    auto& steps = bad.steps[2];
    for (std::size_t i = 0; i < steps.size(); ++i) {
      if (steps[i].kind == StepKind::reduce) {
        steps.insert(steps.begin() + static_cast<std::ptrdiff_t>(i), steps[i]);
        break;
      }
    }
    Simulator sim(bad);
    EXPECT_FALSE(sim.call(enqueue_order(bad)).empty());
  }
}

}  // namespace
}  // namespace dpb
