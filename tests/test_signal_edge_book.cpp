// The bookkeeping that turns a fork-join capture's signal waits into graph edges
// (core/device/cuda_signal_edges.h, used by core/device/cuda_capture_edges.cpp): checked here
// with plain integers as nodes, and against the order in which Communicator::allreduce enqueues
// the real schedules (every captured wait must find its write).
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "collectives/p2p_communicator.h"
#include "collectives/schedule_order.h"
#include "device/cuda_signal_edges.h"

namespace dpb {
namespace {

using Book = SignalEdgeBook<int>;

TEST(SignalEdgeBook, AWaitGetsTheNodesOfItsWriteInTheSameCapture) {
  Book book;
  int set = 0;
  book.wrote({&set, 3, 7}, 42, {11});
  EXPECT_EQ(book.write_of({&set, 3, 7}, 42), std::vector<int>{11});
  book.wrote({&set, 3, 7}, 42, {12, 13});  // a later write of the same value replaces it
  EXPECT_EQ(book.write_of({&set, 3, 7}, 42), (std::vector<int>{12, 13}));
}

TEST(SignalEdgeBook, AWaitWithoutItsWriteInThisCaptureIsRefusedWithTheSlotAndValue) {
  Book book;
  int set = 0, other = 0;
  book.wrote({&set, 3, 7}, 42, {11});
  for (const Book::Key& key : {Book::Key{&set, 3, 8}, Book::Key{&set, 4, 7}, Book::Key{&other, 3, 7}}) {
    EXPECT_THROW((void)book.write_of(key, 42), std::logic_error);
  }
  try {
    (void)book.write_of({&set, 3, 7}, 43);  // written, but in another capture
    FAIL() << "expected a refusal";
  } catch (const std::logic_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("slot 3 >= 7"), std::string::npos) << what;
    EXPECT_NE(what.find("one thread"), std::string::npos) << what;
  }
}

// What a fork-join capture of `calls` allreduce calls sees: the steps of every rank in the
// schedule's sequential order, the values computed as PreparedSchedule does.
void capture_in_sequential_order(const Schedule& s, int calls) {
  const std::vector<StepRef> order = enqueue_order(s);
  const std::vector<std::uint32_t> per_call = s.records_per_call();
  Book book;
  int set = 0, node = 0, edges = 0;
  for (std::uint64_t call = 0; call < static_cast<std::uint64_t>(calls); ++call) {
    for (const StepRef& ref : order) {
      const Step& st = s.steps[static_cast<std::size_t>(ref.rank)][ref.index];
      if (st.kind != StepKind::record && st.kind != StepKind::wait) continue;
      const auto slot = static_cast<std::size_t>(st.signal);
      const Book::Key key{&set, slot, call * per_call[slot] + st.generation};
      if (st.kind == StepKind::record) {
        book.wrote(key, 1, {++node});
      } else {
        EXPECT_FALSE(book.write_of(key, 1).empty());
        ++edges;
      }
    }
  }
  EXPECT_GT(edges, 0);
}

TEST(SignalEdgeBook, EveryScheduleWaitFindsItsWriteWhenCapturedFromOneThread) {
  for (const std::string& algo : schedule_algorithms()) {
    for (int ranks : {2, 3, 4, 8}) {
      for (bool in_place : {true, false}) {
        SCOPED_TRACE(algo + " ranks " + std::to_string(ranks) + (in_place ? " in place" : " out of place"));
        CommunicatorOptions options;
        options.chunk_bytes = 4096;
        const Schedule s = build_p2p_schedule(algo, ranks, DType::f32, 10000, in_place, options);
        capture_in_sequential_order(s, 3);
      }
    }
  }
}

}  // namespace
}  // namespace dpb
