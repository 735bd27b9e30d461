// Data-parallel equivalence: in fp32 with the same global batch, N = 2, 3, 4 ranks end with the
// same weights as one rank training on the whole batch, for every custom all-reduce algorithm and
// for one bucket per tensor, a few small buckets and one bucket for everything.
//
// Why the tolerance is what it is (fp32 rounding, nothing else):
// - Each rank's shard is part of the same global batch, and the loss gradient is pre-scaled by
//   1/G on every rank, so an N-rank run adds exactly the per-sample terms the 1-rank run adds;
//   only the association of the sum differs (per-rank GEMM partial sums, then the all-reduce's
//   schedule order). Reassociating a sum of G terms changes it by at most 2(G-1)u * sum|terms|
//   (Higham, gamma_{G-1}; u = 2^-24). Per-sample terms of this model are below 1 and are divided
//   by G = 12, so sum|terms| < 1 and one gradient element moves by < 22u ~ 1.3e-6.
// - OpenBLAS may also block a GEMM differently for 12 rows than for 3, a reassociation of the
//   K-sum of the same size order (K <= 32 here): < 2*31*u*|terms| ~ 4e-6 relative, same scale.
// - SGD with lr 0.1 and momentum 0.9 turns a gradient error d into a weight error of at most
//   lr * d / (1 - 0.9) per step: 5 steps give < 5 * 0.1 * 10 * ~5e-6 = 2.5e-5, with feedback
//   through the weights negligible at this size (a Lipschitz factor of about 1 + lr*||H||).
// So 5e-5 is a bound from rounding; a real bug (a missing 1/N, a bucket not reduced, a wrong
// shard) moves weights by lr * |g| ~ 1e-2, three orders above it. The measured differences are
// ~2e-8.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "collectives/communicator.h"
#include "device/cpu_backend.h"
#include "thread_world.h"
#include "train/trainer.h"

namespace dpb {
namespace {

constexpr int kGlobalBatch = 12;  // divisible by 1, 2, 3 and 4
constexpr int kSteps = 5;
constexpr double kTolerance = 5e-5;

TrainConfig config(int ranks, std::size_t bucket_bytes) {
  TrainConfig c;
  c.model = parse_model("16,32,32,4");
  c.optimizer = default_optimizer(OptimizerKind::sgd, 0.1f);  // momentum 0.9
  c.local_batch = kGlobalBatch / ranks;
  c.bucket_bytes = bucket_bytes;
  c.first_bucket_bytes = std::min<std::size_t>(bucket_bytes, 256);
  c.seed = 3;
  return c;
}

std::vector<float> train(int ranks, const char* algo, std::size_t bucket_bytes, int* buckets = nullptr,
                         Launch launch = Launch::thread_per_rank) {
  CpuBackend backend;
  std::vector<int> devices;
  for (int r = 0; r < ranks; ++r) devices.push_back(r);
  auto comm = make_communicator(backend, parse_algorithm(algo), devices);
  TrainConfig cfg = config(ranks, bucket_bytes);
  cfg.launch = launch;
  Trainer trainer(backend, *comm, cfg);
  for (int s = 0; s < kSteps; ++s) trainer.step();
  const ReplicaCheck check = trainer.check_replicas();
  EXPECT_TRUE(check.identical) << check.describe();
  if (buckets) *buckets = static_cast<int>(trainer.plan().buckets.size());
  return trainer.master_weights(0);
}

struct Case {
  const char* algo;
  std::size_t bucket_bytes;
  const char* name;
};

class DataParallelEquivalence : public ::testing::TestWithParam<Case> {};

TEST_P(DataParallelEquivalence, NRanksMatchOneRankOnTheWholeBatch) {
  const Case c = GetParam();
  const std::vector<float> reference = train(1, "p2p-ring", std::size_t{1} << 30);
  const std::vector<float> start = [&] {
    CpuBackend backend;
    auto comm = make_communicator(backend, parse_algorithm("p2p-ring"), {0});
    Trainer t(backend, *comm, config(1, 1 << 30));
    return t.master_weights(0);
  }();
  double moved = 0;
  for (std::size_t i = 0; i < start.size(); ++i) moved = std::max(moved, std::abs(static_cast<double>(reference[i]) - start[i]));
  ASSERT_GT(moved, 100 * kTolerance) << "training did not move the weights: the comparison would be vacuous";

  for (int ranks : {2, 3, 4}) {
    for (Launch launch : {Launch::thread_per_rank, Launch::single_thread}) {
      int buckets = 0;
      const std::vector<float> w = train(ranks, c.algo, c.bucket_bytes, &buckets, launch);
      ASSERT_EQ(w.size(), reference.size());
      double max_diff = 0;
      for (std::size_t i = 0; i < w.size(); ++i) max_diff = std::max(max_diff, std::abs(static_cast<double>(w[i]) - reference[i]));
      EXPECT_LE(max_diff, kTolerance) << ranks << " ranks, " << c.algo << ", " << buckets << " buckets, "
                                      << launch_name(launch);
      if (c.bucket_bytes == 0) {
        EXPECT_EQ(buckets, 6);  // one per tensor
      }
      if (c.bucket_bytes >= (std::size_t{1} << 30)) {
        EXPECT_EQ(buckets, 2);  // the 256 B first bucket, then everything else
      }
    }
  }
}

// What a process-per-rank run of the same config ends with, as seen from rank 0.
struct WorldRun {
  std::vector<float> weights;
  std::vector<double> losses;
  GradientProbe probe;
  bool identical = false;
  std::string error;
};

// kSteps optimizer steps, the probe on the last: every step's loss, and the last probe.
void run_steps(Trainer& trainer, std::vector<double>& losses, GradientProbe& probe) {
  for (int s = 0; s < kSteps; ++s) {
    StepResult r = trainer.step(s == kSteps - 1);
    losses.push_back(r.loss);
    if (r.probe) probe = *r.probe;
  }
}

// A process per rank without mpirun: each rank a thread with its own cpu backend, world
// communicator and Trainer holding only its rank (test::ThreadWorld stands in for MPI).
WorldRun train_in_world(int ranks, const char* algo, std::size_t bucket_bytes) {
  test::ThreadWorld::Shared shared(ranks);
  WorldRun run;
  const auto errors = test::run_ranks(shared, [&](test::ThreadWorld& world, int rank) {
    return test::error_of_rank(world, [&] {
      CpuBackend backend(CpuBackendOptions{ranks});
      auto comm = make_world_communicator(backend, world, parse_algorithm(algo), rank, {});
      Trainer trainer(backend, *comm, config(ranks, bucket_bytes), {}, &world);
      std::vector<double> losses;
      GradientProbe probe;
      run_steps(trainer, losses, probe);
      const ReplicaCheck check = trainer.check_replicas();
      std::vector<float> w = trainer.master_weights(rank);
      if (rank == 0) run = WorldRun{std::move(w), losses, probe, check.identical, ""};
    });
  });
  for (const auto& e : errors) run.error += e;
  return run;
}

TEST(ProcessPerRankEquivalence, TrainsAsOneProcessDoes) {
  for (const char* algo : {"p2p-ring", "p2p-tree", "mpi"}) {
    for (int ranks : {2, 3}) {
      CpuBackend backend;
      std::vector<int> devices;
      for (int r = 0; r < ranks; ++r) devices.push_back(r);
      auto comm = make_communicator(backend, parse_algorithm(algo[0] == 'm' ? "p2p-ring" : algo), devices);
      Trainer here(backend, *comm, config(ranks, 1024));
      std::vector<double> losses;
      GradientProbe probe;
      run_steps(here, losses, probe);
      const std::vector<float> expected = here.master_weights(0);

      const WorldRun run = train_in_world(ranks, algo, 1024);
      ASSERT_EQ(run.error, "") << algo << ", " << ranks << " ranks";
      EXPECT_TRUE(run.identical) << algo;
      ASSERT_EQ(run.weights.size(), expected.size());
      double max_diff = 0;
      for (std::size_t i = 0; i < expected.size(); ++i) {
        max_diff = std::max(max_diff, std::abs(static_cast<double>(run.weights[i]) - expected[i]));
      }
      // The same schedule in processes as in threads: the same sums (mpi: the library's order).
      if (algo[0] == 'p') {
        EXPECT_EQ(max_diff, 0.0) << algo << ", " << ranks << " ranks";
        EXPECT_EQ(run.losses, losses) << algo;
      }
      EXPECT_LE(max_diff, kTolerance) << algo << ", " << ranks << " ranks";
      for (std::size_t s = 0; s < losses.size(); ++s) EXPECT_NEAR(run.losses[s], losses[s], 1e-6 * std::abs(losses[s]));
      EXPECT_GT(run.probe.small_sq, 0);
      EXPECT_NEAR(run.probe.small_sq, probe.small_sq, 1e-5 * probe.small_sq) << algo;
      EXPECT_NEAR(run.probe.big_sq, probe.big_sq, 1e-5 * probe.big_sq) << algo;
      EXPECT_EQ(run.probe.b_big, probe.b_big);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    AlgorithmsAndBuckets, DataParallelEquivalence,
    ::testing::Values(Case{"p2p-ring", 0, "ring_per_tensor"}, Case{"p2p-ring", 1024, "ring_1KiB"},
                      Case{"p2p-ring", std::size_t{1} << 30, "ring_one_bucket"}, Case{"p2p-tree", 0, "tree_per_tensor"},
                      Case{"p2p-tree", 1024, "tree_1KiB"}, Case{"p2p-tree", std::size_t{1} << 30, "tree_one_bucket"},
                      Case{"p2p-direct", 0, "direct_per_tensor"}, Case{"p2p-direct", 1024, "direct_1KiB"},
                      Case{"p2p-direct", std::size_t{1} << 30, "direct_one_bucket"}),
    [](const ::testing::TestParamInfo<Case>& p) { return std::string(p.param.name); });

}  // namespace
}  // namespace dpb
