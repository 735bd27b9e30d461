// Communication/computation overlap, read from the recorded timeline of a step: with overlap on,
// the first bucket's all-reduce starts before backward ends; with --no-overlap none does.
//
// Why this is an ordering fact and not a timing race: the first bucket holds only the last
// layer's gradients (a 1 KiB first-bucket cap), so its all-reduce is released by an event
// recorded right after that layer's gradient GEMM, while the compute stream still has the
// backward GEMMs of three 768x768 layers ahead of it (tens of milliseconds of work even on a fast
// core; far more under sanitizers). The comm stream's worker only has to wake up. Without overlap
// the comm stream waits on the event recorded after backward's end, so every all-reduce start is
// ordered after it by construction.
#include <gtest/gtest.h>

#include "collectives/communicator.h"
#include "device/cpu_backend.h"
#include "train/step_timing.h"
#include "train/trainer.h"

namespace dpb {
namespace {

StepTiming run_step(bool overlap, int* buckets, std::vector<TimelineSpan>* spans = nullptr) {
  TrainConfig c;
  c.model = parse_model("768,768,768,768,10");
  c.optimizer = default_optimizer(OptimizerKind::sgd);
  c.local_batch = 64;
  c.bucket_bytes = std::size_t{1} << 20;
  c.first_bucket_bytes = 1024;
  c.overlap = overlap;
  CpuBackend backend;
  auto comm = make_communicator(backend, parse_algorithm("p2p-ring"), {0, 1});
  Trainer trainer(backend, *comm, c);
  StepResult r = trainer.step();
  *buckets = static_cast<int>(trainer.plan().buckets.size());
  if (spans) *spans = r.spans;
  return step_timing(r.spans, 2, *buckets);
}

TEST(TrainOverlap, FirstBucketAllReduceStartsDuringBackward) {
  int buckets = 0;
  std::vector<TimelineSpan> spans;
  const StepTiming t = run_step(true, &buckets, &spans);
  ASSERT_GE(buckets, 3);
  EXPECT_GE(t.buckets_started_during_backward, 1);
  EXPECT_GT(t.allreduce_hidden_ms, 0.0);
  // The first bucket is the last layer's: on every rank it starts before that rank's backward ends.
  for (int r = 0; r < 2; ++r) {
    const TimelineSpan* bwd = nullptr;
    const TimelineSpan* first = nullptr;
    for (const auto& s : spans) {
      if (s.rank != r) continue;
      if (s.name == "backward") bwd = &s;
      if (s.name == bucket_span_name(0)) first = &s;
    }
    ASSERT_TRUE(bwd && first);
    EXPECT_LT(first->start_ms, bwd->end_ms) << "rank " << r;
    EXPECT_GT(first->start_ms, bwd->start_ms) << "rank " << r;
  }
}

TEST(TrainOverlap, NoOverlapStartsEveryAllReduceAfterBackward) {
  int buckets = 0;
  const StepTiming t = run_step(false, &buckets);
  ASSERT_GE(buckets, 3);
  EXPECT_EQ(t.buckets_started_during_backward, 0);
  EXPECT_EQ(t.allreduce_hidden_ms, 0.0);
  EXPECT_GT(t.exposed_comm_ms, 0.0);  // the step waits for every all-reduce after backward
}

}  // namespace
}  // namespace dpb
