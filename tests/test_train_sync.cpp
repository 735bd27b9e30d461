// Sync frequency and compression keep data-parallel training equivalent to one rank:
// - --accum K: N ranks accumulating K micro-batches and all-reducing once end where one rank
//   training on all N*K*b samples at once ends (fp32 rounding: the tolerance argument of
//   test_train_equivalence.cpp, with 12 samples per update as there), in both launch modes, and
//   they issue one all-reduce per bucket per step, so K times fewer per sample.
// - --comm-dtype bf16: the buckets are rounded to bf16 for the all-reduce. Each all-reduced
//   gradient element then carries a relative error of at most ~(N+1) 2^-8 (one rounding per rank's
//   contribution, one per partial sum, one back). SGD(lr 0.1, momentum 0.9) over 5 steps turns a
//   gradient error d into < 5 * 0.1 * 10 * d of weight error; with |g| < 0.1 here that is
//   < 0.5 * 5 * 2^-8 * 0.1 ~ 1e-3. We check 2e-3, and that the result does differ from fp32
//   communication (the cast really happened).
#include <gtest/gtest.h>

#include <cmath>

#include "collectives/communicator.h"
#include "device/cpu_backend.h"
#include "train/convergence.h"
#include "train/trainer.h"

namespace dpb {
namespace {

constexpr int kSamplesPerUpdate = 12;
constexpr int kSteps = 5;

TrainConfig config(int ranks, int accum) {
  TrainConfig c;
  c.model = parse_model("16,32,32,4");
  c.optimizer = default_optimizer(OptimizerKind::sgd, 0.1f);
  c.local_batch = kSamplesPerUpdate / ranks / accum;
  c.accum = accum;
  c.bucket_bytes = 1024;
  c.first_bucket_bytes = 256;
  c.seed = 3;
  return c;
}

struct SyncRun {
  std::vector<float> weights;
  std::int64_t calls = 0;
  long long samples = 0;
};

SyncRun train(int ranks, TrainConfig cfg, Launch launch = Launch::thread_per_rank) {
  CpuBackend backend;
  std::vector<int> devices;
  for (int r = 0; r < ranks; ++r) devices.push_back(r);
  auto comm = make_communicator(backend, parse_algorithm("p2p-ring"), devices);
  cfg.launch = launch;
  Trainer trainer(backend, *comm, cfg);
  for (int s = 0; s < kSteps; ++s) trainer.step();
  const ReplicaCheck check = trainer.check_replicas();
  EXPECT_TRUE(check.identical) << check.describe();
  return {trainer.master_weights(0), trainer.allreduce_calls(), trainer.samples_per_step() * kSteps};
}

double max_diff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  double d = 0;
  for (std::size_t i = 0; i < a.size(); ++i) d = std::max(d, std::abs(static_cast<double>(a[i]) - b[i]));
  return d;
}

TEST(GradientAccumulation, NRanksWithAccumulationMatchOneRankOnTheWholeBatch) {
  const SyncRun reference = train(1, config(1, 1));
  for (const auto& [ranks, accum] : {std::pair{1, 4}, std::pair{2, 3}, std::pair{2, 2}, std::pair{4, 3}}) {
    for (Launch launch : {Launch::thread_per_rank, Launch::single_thread}) {
      const SyncRun run = train(ranks, config(ranks, accum), launch);
      EXPECT_LE(max_diff(run.weights, reference.weights), 5e-5)
          << ranks << " ranks, accum " << accum << ", " << launch_name(launch);
    }
  }
}

TEST(GradientAccumulation, OneAllReducePerBucketPerStepSoKTimesFewerPerSample) {
  const SyncRun one = train(2, config(2, 1));
  TrainConfig c4 = config(2, 1);
  c4.accum = 4;  // same per-rank micro-batch, 4 of them per step
  const SyncRun four = train(2, c4);
  EXPECT_EQ(one.calls, four.calls);
  EXPECT_EQ(four.samples, 4 * one.samples);
  EXPECT_EQ(one.calls * four.samples, 4 * four.calls * one.samples);  // calls/sample 4x lower
}

TEST(CommDtype, Bf16AllReduceStaysWithinBf16ToleranceOfOneRank) {
  const SyncRun reference = train(1, config(1, 1));
  for (int ranks : {2, 4}) {
    for (Launch launch : {Launch::thread_per_rank, Launch::single_thread}) {
      for (int accum : {1, 3}) {
        TrainConfig c = config(ranks, accum);
        c.comm_dtype = DType::bf16;
        const SyncRun run = train(ranks, c, launch);
        const double d = max_diff(run.weights, reference.weights);
        EXPECT_LE(d, 2e-3) << ranks << " ranks, accum " << accum << ", " << launch_name(launch);
        EXPECT_GT(d, 1e-7) << "bf16 communication left no trace: was the bucket cast?";
      }
    }
  }
}

TEST(CommDtype, CompressionOfLowPrecisionTrainingIsRefused) {
  CpuBackend backend;
  auto comm = make_communicator(backend, parse_algorithm("p2p-ring"), {0, 1});
  TrainConfig c = config(2, 1);
  c.precision = DType::bf16;
  c.comm_dtype = DType::f16;
  EXPECT_THROW(Trainer(backend, *comm, c), std::invalid_argument);
}

TEST(LrSchedule, ScalesWithSamplesPerUpdateAndWarmsUp) {
  LrSchedule s;
  s.base_batch = 32;
  EXPECT_FLOAT_EQ(s.factor(1, 128), 1.0f);
  s.scaling = LrScaling::linear;
  EXPECT_FLOAT_EQ(s.factor(1, 128), 4.0f);
  s.scaling = LrScaling::sqrt;
  EXPECT_FLOAT_EQ(s.factor(1, 128), 2.0f);
  s.warmup_steps = 4;
  EXPECT_FLOAT_EQ(s.factor(1, 128), 0.5f);
  EXPECT_FLOAT_EQ(s.factor(4, 128), 2.0f);
  EXPECT_FLOAT_EQ(s.factor(100, 128), 2.0f);
  EXPECT_THROW(parse_lr_scaling("cubic"), std::invalid_argument);
}

// E|G_B|^2 = |G|^2 + tr(Sigma)/B: the two-batch estimator recovers both exactly.
TEST(NoiseScale, TwoBatchEstimatorRecoversTraceAndNorm) {
  const double g2 = 0.5, trace = 40.0;
  GradientProbe p{g2 + trace / 8, g2 + trace / 32, 8, 32};
  const NoiseScale n = estimate_noise_scale({p, p});
  ASSERT_TRUE(n.b_noise);
  EXPECT_NEAR(*n.grad_sq, g2, 1e-12);
  EXPECT_NEAR(*n.trace, trace, 1e-9);
  EXPECT_NEAR(*n.b_noise, 80.0, 1e-9);
  EXPECT_DOUBLE_EQ(statistical_efficiency(80, 32, 32), 1.0);
  EXPECT_NEAR(statistical_efficiency(80, 32, 1024), 112.0 / 1104.0, 1e-12);
  EXPECT_FALSE(estimate_noise_scale({}).b_noise);
}

// A real run: the probe's per-replica norm exceeds the averaged one (noise), giving a positive
// noise scale; time-to-target is reached on the teacher-student data.
TEST(Convergence, ReachesTheTargetAndEstimatesTheNoiseScale) {
  CpuBackend backend;
  auto comm = make_communicator(backend, parse_algorithm("p2p-ring"), {0, 1, 2, 3});
  TrainConfig c;
  c.model = parse_model("16,32,4");
  c.optimizer = default_optimizer(OptimizerKind::sgd, 0.1f);
  c.local_batch = 32;
  Trainer trainer(backend, *comm, c);
  ConvergenceOptions o;
  o.target_loss = 1.2;
  o.max_steps = 300;
  o.eval_samples = 64;
  o.probe_every = 1;
  const ConvergenceResult r = run_to_target(trainer, o);
  ASSERT_TRUE(r.steps_to_target) << "final held-out loss " << r.final_loss;
  EXPECT_GT(*r.steps_to_target, 0);
  EXPECT_LE(r.final_loss, 1.2);
  EXPECT_GT(r.noise.probes, 0);
  EXPECT_GT(r.noise.small_sq, r.noise.big_sq);
  ASSERT_TRUE(r.noise.b_noise) << "steps " << r.steps_run << " probes " << r.noise.probes << " |G_small|^2 "
                               << r.noise.small_sq << " |G_big|^2 " << r.noise.big_sq;
  EXPECT_GT(*r.noise.b_noise, 0);
}

}  // namespace
}  // namespace dpb
