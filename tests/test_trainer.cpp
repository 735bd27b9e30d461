// The data-parallel trainer on the cpu backend: the loss falls, replicas stay identical, every
// precision trains, and the fp16 loss scaler skips overflowing steps on every rank alike.
#include <gtest/gtest.h>

#include <cmath>

#include "collectives/communicator.h"
#include "device/cpu_backend.h"
#include "device/error.h"
#include "train/trainer.h"

namespace dpb {
namespace {

TrainConfig tiny_config(DType precision, OptimizerKind opt = OptimizerKind::adamw) {
  TrainConfig c;
  c.model = parse_model("32,64,64,8");
  c.precision = precision;
  c.optimizer = default_optimizer(opt, opt == OptimizerKind::adamw ? 3e-3f : 0.1f);
  c.local_batch = 16;
  c.bucket_bytes = 8 << 10;
  c.first_bucket_bytes = 1 << 10;
  c.seed = 7;
  return c;
}

struct TrainRun {
  double first_loss = 0, last_loss = 0;
  std::int64_t skipped = 0;
  ReplicaCheck check;
};

TrainRun train(const TrainConfig& config, int ranks, int steps, const char* algo = "p2p-ring") {
  CpuBackend backend;
  std::vector<int> devices;
  for (int r = 0; r < ranks; ++r) devices.push_back(r);
  auto comm = make_communicator(backend, parse_algorithm(algo), devices);
  Trainer trainer(backend, *comm, config);
  TrainRun run;
  for (int s = 0; s < steps; ++s) {
    const StepResult r = trainer.step();
    if (s == 0) run.first_loss = r.loss;
    run.last_loss = r.loss;
  }
  run.skipped = trainer.skipped_steps();
  run.check = trainer.check_replicas();
  return run;
}

class TrainerPrecision : public ::testing::TestWithParam<DType> {};

TEST_P(TrainerPrecision, LossFallsAndReplicasStayIdentical) {
  const TrainRun run = train(tiny_config(GetParam()), 2, 60);
  EXPECT_NEAR(run.first_loss, std::log(8.0), 0.5);  // untrained: about ln(classes)
  EXPECT_LT(run.last_loss, 0.75 * run.first_loss) << "first " << run.first_loss << " last " << run.last_loss;
  EXPECT_TRUE(run.check.identical) << run.check.describe();
}

INSTANTIATE_TEST_SUITE_P(AllPrecisions, TrainerPrecision, ::testing::Values(DType::f32, DType::f16, DType::bf16),
                         [](const ::testing::TestParamInfo<DType>& p) { return std::string(dtype_name(p.param)); });

// A communicator that gets the all-reduce wrong on one rank: the result there is scaled by
// `factor` after the real all-reduce, as a buggy schedule might leave it.
class SkewedCommunicator final : public Communicator {
 public:
  SkewedCommunicator(std::unique_ptr<Communicator> inner, int rank, float factor)
      : inner_(std::move(inner)), rank_(static_cast<std::size_t>(rank)), factor_(factor) {}
  AlgorithmName algorithm() const override { return inner_->algorithm(); }
  int ranks() const override { return inner_->ranks(); }
  const std::vector<int>& devices() const override { return inner_->devices(); }
  void allreduce(DType type, std::span<const void* const> send, std::span<void* const> recv, std::size_t count,
                 std::span<Stream* const> streams) override {
    inner_->allreduce(type, send, recv, count, streams);
    streams[rank_]->scale(type, recv[rank_], count, factor_);
  }
  void allreduce_rank(int rank, DType type, const void* send, void* recv, std::size_t count, Stream& stream) override {
    inner_->allreduce_rank(rank, type, send, recv, count, stream);
    if (static_cast<std::size_t>(rank) == rank_) stream.scale(type, recv, count, factor_);
  }
  void abort() override { inner_->abort(); }

 private:
  std::unique_ptr<Communicator> inner_;
  std::size_t rank_;
  float factor_;
};

TEST(Trainer, DivergedReplicasAreDetected) {
  CpuBackend backend;
  // The last rank's result off by (1 + 2^-10), as a schedule reducing in another order might leave it.
  SkewedCommunicator comm(make_communicator(backend, parse_algorithm("p2p-ring"), {0, 1, 2}), 2, 1.0f + 1.0f / 1024);
  TrainConfig c = tiny_config(DType::f32, OptimizerKind::sgd);
  c.local_batch = 4;
  Trainer trainer(backend, comm, c);
  EXPECT_TRUE(trainer.check_replicas().identical);  // verified at start as well
  trainer.step();
  const ReplicaCheck check = trainer.check_replicas();
  EXPECT_FALSE(check.identical);
  EXPECT_EQ(check.first_bad_rank, 2);
  EXPECT_GT(check.differing_elements, 0u);
  EXPECT_NE(check.describe().find("rank 2 differs from rank 0"), std::string::npos) << check.describe();
}

TEST(Trainer, RanksThatDisagreeOnOverflowFailTheStep) {
  // fp16: only the skewed rank's gradients overflow (scaled by 1e9 on that rank), so the ranks'
  // skip decisions differ, which can only mean the replicas' gradients differ.
  CpuBackend backend;
  SkewedCommunicator comm(make_communicator(backend, parse_algorithm("p2p-ring"), {0, 1}), 1, 1e9f);
  Trainer trainer(backend, comm, tiny_config(DType::f16, OptimizerKind::sgd));
  try {
    trainer.step();
    ADD_FAILURE() << "the step did not notice the ranks disagree";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("disagree on gradient overflow"), std::string::npos) << e.what();
  }
}

TEST(Trainer, GeluWithSgdAndOneBucketPerTensorTrains) {
  TrainConfig c = tiny_config(DType::bf16, OptimizerKind::sgd);
  c.model.activation = Activation::gelu;
  c.bucket_bytes = 0;  // one bucket per tensor
  const TrainRun run = train(c, 3, 40, "p2p-tree");
  EXPECT_LT(run.last_loss, run.first_loss);
  EXPECT_TRUE(run.check.identical) << run.check.describe();
}

TEST(Trainer, OutOfMemoryIsAClearDeviceError) {
  CpuBackendOptions small;
  small.memory_per_device = 1 << 20;  // 1 MiB devices cannot hold the 'small' model
  CpuBackend backend(small);
  auto comm = make_communicator(backend, parse_algorithm("p2p-ring"), {0, 1});
  TrainConfig c = tiny_config(DType::f32);
  c.model = parse_model("small");
  try {
    Trainer trainer(backend, *comm, c);
    ADD_FAILURE() << "allocation should have failed";
  } catch (const DeviceError& e) {
    EXPECT_NE(std::string(e.what()).find("out of memory"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace dpb
