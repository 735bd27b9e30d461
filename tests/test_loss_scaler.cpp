// Dynamic loss scaling (core/train/loss_scaler.h) on its own, and inside fp16 training: an
// overflowing step is skipped on every rank (weights unchanged, replicas identical), the scale
// halves, and after the growth interval of clean steps it doubles again.
#include <gtest/gtest.h>

#include "collectives/communicator.h"
#include "device/cpu_backend.h"
#include "train/trainer.h"

namespace dpb {
namespace {

TEST(LossScaler, HalvesOnOverflowAndSkipsTheStep) {
  LossScalerConfig c;
  c.enabled = true;
  c.growth_interval = 3;
  LossScaler s(c);
  EXPECT_EQ(s.scale(), 65536.0f);
  EXPECT_TRUE(s.update(true));
  EXPECT_EQ(s.scale(), 32768.0f);
  EXPECT_EQ(s.skipped_steps(), 1);
}

TEST(LossScaler, GrowsAfterTheIntervalOfCleanStepsOnly) {
  LossScalerConfig c;
  c.enabled = true;
  c.growth_interval = 3;
  LossScaler s(c);
  EXPECT_FALSE(s.update(false));
  EXPECT_FALSE(s.update(false));
  EXPECT_EQ(s.scale(), 65536.0f);
  EXPECT_FALSE(s.update(false));
  EXPECT_EQ(s.scale(), 131072.0f);
  // An overflow resets the count of clean steps.
  s.update(false);
  s.update(true);
  EXPECT_EQ(s.scale(), 65536.0f);
  s.update(false);
  s.update(false);
  EXPECT_EQ(s.scale(), 65536.0f);
  s.update(false);
  EXPECT_EQ(s.scale(), 131072.0f);
  EXPECT_EQ(s.growths(), 2);
}

TEST(LossScaler, DisabledScalerIsOneAndNeverSkips) {
  LossScaler s(LossScalerConfig{});
  EXPECT_EQ(s.scale(), 1.0f);
  EXPECT_FALSE(s.update(true));
  EXPECT_EQ(s.skipped_steps(), 0);
}

TEST(LossScaler, ValidateNamesTheSettings) {
  LossScalerConfig c;
  c.init_scale = 0;
  EXPECT_THROW(c.validate(), std::invalid_argument);
  c = LossScalerConfig{};
  c.growth_interval = 0;
  try {
    c.validate();
    ADD_FAILURE();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("loss_scale_interval: "), std::string::npos);
  }
}

TEST(LossScaler, Fp16TrainingSkipsOverflowingStepsOnEveryRankAndRecovers) {
  TrainConfig c;
  c.model = parse_model("32,64,8");
  c.precision = DType::f16;
  c.optimizer = default_optimizer(OptimizerKind::sgd, 0.1f);
  c.local_batch = 8;
  c.seed = 5;
  // 2^24 / 16 samples puts the loss gradient at up to 2^20, beyond fp16's 65504: the first steps
  // overflow until the scale has halved to 2^20 or below.
  c.scaler.init_scale = 16777216.0f;
  c.scaler.growth_interval = 4;
  CpuBackend backend;
  auto comm = make_communicator(backend, parse_algorithm("p2p-ring"), {0, 1});
  Trainer trainer(backend, *comm, c);

  std::vector<float> before = trainer.master_weights(0);
  const StepResult first = trainer.step();
  EXPECT_TRUE(first.skipped);
  EXPECT_EQ(first.loss_scale, 16777216.0f);
  EXPECT_EQ(trainer.loss_scale(), 8388608.0f);
  EXPECT_EQ(trainer.master_weights(0), before) << "a skipped step must not change the weights";
  EXPECT_EQ(trainer.master_weights(1), before);

  int skipped = 1, grown = 0;
  float lowest = trainer.loss_scale();
  for (int s = 0; s < 30; ++s) {
    const float scale_before = trainer.loss_scale();
    const StepResult r = trainer.step();
    if (r.skipped) ++skipped;
    if (trainer.loss_scale() > scale_before) ++grown;
    lowest = std::min(lowest, trainer.loss_scale());
  }
  EXPECT_EQ(trainer.skipped_steps(), skipped);
  EXPECT_GE(skipped, 2);
  EXPECT_LE(lowest, 1048576.0f);
  EXPECT_GE(grown, 1) << "the scale never grew back after clean steps";
  EXPECT_NE(trainer.master_weights(0), before) << "no step was ever applied";
  EXPECT_TRUE(trainer.check_replicas().identical);
}

}  // namespace
}  // namespace dpb
