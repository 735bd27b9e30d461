// The allreduce point runner (core/sweep/allreduce_point.h) on the cpu backend: a correct
// communicator gives an ok record with the nccl-tests figures; a broken one is reported as failed
// with the wrong-element count, never hidden.
#include <gtest/gtest.h>

#include <cstring>

#include "device/cpu_backend.h"
#include "sweep/allreduce_point.h"

namespace dpb {
namespace {

// A deliberately broken all-reduce: copies the send buffers to the receive buffers (no sum), and
// optionally scribbles on the send buffers.
class CopyOnlyCommunicator final : public Communicator {
 public:
  CopyOnlyCommunicator(std::vector<int> devices, bool scribble) : devices_(std::move(devices)), scribble_(scribble) {}
  AlgorithmName algorithm() const override { return {Transport::p2p, "ring"}; }
  int ranks() const override { return static_cast<int>(devices_.size()); }
  const std::vector<int>& devices() const override { return devices_; }
  void allreduce(DType type, std::span<const void* const> send, std::span<void* const> recv, std::size_t count,
                 std::span<Stream* const> streams) override {
    for (std::size_t r = 0; r < send.size(); ++r) {
      if (send[r] != recv[r]) streams[r]->copy(recv[r], send[r], count * dtype_size(type));
      if (scribble_ && send[r] != recv[r]) streams[r]->fill(type, const_cast<void*>(send[r]), count, 7.0);
    }
  }
  // The same wrong answer, one rank at a time (thread per rank).
  void allreduce_rank(int, DType type, const void* send, void* recv, std::size_t count, Stream& stream) override {
    const void* sends[] = {send};
    void* recvs[] = {recv};
    Stream* streams[] = {&stream};
    allreduce(type, sends, recvs, count, streams);
  }
  void abort() override {}

 private:
  std::vector<int> devices_;
  bool scribble_;
};

AllreduceConfig quick_config(std::size_t max_bytes) {
  AllreduceConfig c;
  c.stopping.warmup_iters = 1;
  c.stopping.fixed_iters = 3;
  c.max_bytes = max_bytes;
  return c;
}

TEST(AllreducePoint, IdsAxesAndBusbwFactor) {
  AllreducePointSpec s{{Transport::p2p, "ring"}, DType::bf16, {0, 1, 2, 3}, 1024, true, 0};
  EXPECT_EQ(allreduce_point_id(s), "allreduce/algo=p2p-ring/dtype=bf16/ranks=4/devices=0,1,2,3/bytes=2048/in_place=1/graph=0");
  const auto a = allreduce_axes(s);
  EXPECT_EQ(a["bytes"], 2048);
  EXPECT_EQ(a["count"], 1024);
  EXPECT_EQ(a["in_place"], true);
  EXPECT_DOUBLE_EQ(allreduce_busbw_factor(1), 0.0);
  EXPECT_DOUBLE_EQ(allreduce_busbw_factor(4), 1.5);
  EXPECT_DOUBLE_EQ(allreduce_busbw_factor(8), 1.75);
}

TEST(AllreducePoint, CorrectCommunicatorGivesAnOkRecord) {
  CpuBackend be;
  AllreduceBench bench(be, quick_config(64 << 10));
  for (bool in_place : {false, true}) {
    AllreducePointSpec s{{Transport::p2p, "ring"}, DType::f32, {0, 1, 2}, 10000, in_place, 0};
    const PointRecord rec = bench.run(s);
    EXPECT_EQ(rec.status, PointStatus::ok) << rec.reason.value_or("");
    EXPECT_EQ((*rec.check)["wrong_elements"], 0);
    EXPECT_EQ((*rec.check)["checked_elements"], 30000);
    EXPECT_EQ(rec.stats.at("time").count, 3u);
    const double median_us = rec.stats.at("time").median;
    EXPECT_NEAR(*rec.metrics.at("algbw").value, 40000 / (median_us * 1e-6) / 1e9, 1e-9);
    EXPECT_NEAR(*rec.metrics.at("busbw").value, *rec.metrics.at("algbw").value * 4.0 / 3.0, 1e-9);
    EXPECT_EQ((*rec.stopping)["rule"], "fixed_iters");
  }
  EXPECT_EQ(bench.communicators_created(), 1u);  // reused across placements
}

// The record carries the schedule's own counts (for the cost model), the same as the plan's.
TEST(AllreducePoint, P2pRecordsCarryTheSchedulesCounts) {
  CpuBackend be;
  AllreduceBench bench(be, quick_config(64 << 10));
  AllreducePointSpec s{{Transport::p2p, "ring"}, DType::f32, {0, 1, 2}, 10000, false, 0};
  const PointRecord rec = bench.run(s);
  ASSERT_EQ(rec.status, PointStatus::ok) << rec.reason.value_or("");
  const nlohmann::json& sched = rec.more.at("extra").at("schedule");
  const CallPlan plan = plan_allreduce_call(s.algo, 3, DType::f32, 10000, false, CommunicatorOptions{});
  EXPECT_EQ(sched, plan.schedule_json());
  EXPECT_GE(sched.at("messages_per_rank").get<std::size_t>(), 4u);  // a ring's 2(n-1) steps at least
  EXPECT_EQ(sched.at("source"), "count_schedule");
}

TEST(AllreducePoint, WrongResultsAreAFailedPointWithTheCount) {
  CpuBackend be;
  CopyOnlyCommunicator broken({0, 1}, false);
  AllreduceConfig c = quick_config(4096);
  c.communicator_for = [&](const AllreducePointSpec&) -> Communicator& { return broken; };
  AllreduceBench bench(be, c);
  AllreducePointSpec s{{Transport::p2p, "ring"}, DType::f32, {0, 1}, 1000, false, 0};
  const PointRecord rec = bench.run(s);
  EXPECT_EQ(rec.status, PointStatus::failed);
  ASSERT_TRUE(rec.reason);
  const std::size_t wrong = (*rec.check)["wrong_elements"];
  EXPECT_GT(wrong, 0u);
  EXPECT_NE(rec.reason->find(std::to_string(wrong) + " of 2000 elements wrong"), std::string::npos) << *rec.reason;
  EXPECT_EQ(rec.stats.at("time").count, 3u);  // still measured and stored
}

TEST(AllreducePoint, AnOutOfPlaceCallThatWritesItsInputFails) {
  CpuBackend be;
  CopyOnlyCommunicator broken({0}, true);  // 1 rank: the copy is the right answer, the scribble is not
  AllreduceConfig c = quick_config(4096);
  c.communicator_for = [&](const AllreducePointSpec&) -> Communicator& { return broken; };
  AllreduceBench bench(be, c);
  const PointRecord rec = bench.run({{Transport::p2p, "ring"}, DType::f32, {0}, 100, false, 0});
  EXPECT_EQ(rec.status, PointStatus::failed);
  EXPECT_NE(rec.reason.value_or("").find("modified a send buffer"), std::string::npos) << rec.reason.value_or("");
  EXPECT_EQ((*rec.check)["send_buffers_unchanged"], false);
}

TEST(AllreducePoint, OversizedPointIsRefused) {
  CpuBackend be;
  AllreduceBench bench(be, quick_config(1024));
  EXPECT_THROW(bench.run({{Transport::p2p, "ring"}, DType::f32, {0, 1}, 1024, false, 0}), std::invalid_argument);
}

}  // namespace
}  // namespace dpb
