// SGD-momentum and AdamW updates (kernels/train_math.h) against the torch.optim formulas written
// out by hand, their host configuration, and the fused optimizer's skip flag.
#include <gtest/gtest.h>

#include <cmath>

#include "device/cpu_train_kernels.h"
#include "train/optimizer.h"

namespace dpb {
namespace {

TEST(Optimizer, SgdMomentumMatchesTorch) {
  OptimizerConfig c = default_optimizer(OptimizerKind::sgd, 0.1f);
  c.weight_decay = 0.01f;
  float w = 1.0f, buf = 0.0f;
  const float grads[] = {0.5f, -0.25f, 0.125f};
  double rw = 1.0, rbuf = 0.0;
  for (int t = 1; t <= 3; ++t) {
    sgd_update(w, buf, grads[t - 1], optimizer_hyper(c, t, 1.0f));
    const double g = grads[t - 1] + 0.01 * rw;
    rbuf = (t == 1 ? 0.0 : 0.9 * rbuf) + g;  // torch: buf = g on the first step; 0.9*0 + g is the same
    rw -= 0.1 * rbuf;
    EXPECT_NEAR(w, rw, 1e-6);
    EXPECT_NEAR(buf, rbuf, 1e-6);
  }
}

TEST(Optimizer, AdamWMatchesTorch) {
  const OptimizerConfig c = default_optimizer(OptimizerKind::adamw, 0.01f);  // wd 0.01
  float w = 0.5f, m = 0.0f, v = 0.0f;
  double rw = 0.5, rm = 0, rv = 0;
  const float grads[] = {0.1f, -0.3f, 0.2f, 0.0f};
  for (int t = 1; t <= 4; ++t) {
    adamw_update(w, m, v, grads[t - 1], optimizer_hyper(c, t, 1.0f));
    const double g = grads[t - 1];
    rw *= 1 - 0.01 * 0.01;
    rm = 0.9 * rm + 0.1 * g;
    rv = 0.999 * rv + 0.001 * g * g;
    const double bc1 = 1 - std::pow(0.9, t), bc2 = 1 - std::pow(0.999, t);
    rw -= 0.01 / bc1 * rm / (std::sqrt(rv) / std::sqrt(bc2) + 1e-8);
    EXPECT_NEAR(w, rw, 1e-6) << "step " << t;
  }
}

TEST(Optimizer, LossScaleIsUndoneBeforeTheUpdate) {
  const OptimizerConfig c = default_optimizer(OptimizerKind::sgd, 0.1f);
  float w1 = 1.0f, b1 = 0.0f, w2 = 1.0f, b2 = 0.0f;
  sgd_update(w1, b1, 0.5f, optimizer_hyper(c, 1, 1.0f));
  sgd_update(w2, b2, 0.5f * 1024.0f, optimizer_hyper(c, 1, 1.0f / 1024.0f));
  EXPECT_EQ(w1, w2);
}

TEST(Optimizer, FusedStepWritesMasterAndLowPrecisionCopyUnlessSkipped) {
  std::vector<float> master = {1.0f, 2.0f, -3.0f}, s1(3, 0.0f), s2(3, 0.0f);
  std::vector<bf16> weights(3, bf16{0});
  std::vector<bf16> grads = {bf16_from_float(0.5f), bf16_from_float(-1.0f), bf16_from_float(2.0f)};
  float skip = 1.0f;
  OptimizerArgs a;
  a.type = DType::bf16;
  a.count = 3;
  a.master = master.data();
  a.weights = weights.data();
  a.grads = grads.data();
  a.state1 = s1.data();
  a.state2 = s2.data();
  a.skip_flag = &skip;
  a.hyper = optimizer_hyper(default_optimizer(OptimizerKind::sgd, 0.5f), 1, 1.0f);
  cpu::optimizer_step(a);
  EXPECT_EQ(master, (std::vector<float>{1.0f, 2.0f, -3.0f}));
  skip = 0.0f;
  cpu::optimizer_step(a);
  EXPECT_EQ(master, (std::vector<float>{0.75f, 2.5f, -4.0f}));
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(to_float(weights[i]), master[i]);
}

TEST(Optimizer, NamesDefaultsAndValidation) {
  EXPECT_EQ(parse_optimizer("sgd"), OptimizerKind::sgd);
  EXPECT_EQ(optimizer_name(parse_optimizer("adamw")), "adamw");
  EXPECT_THROW(parse_optimizer("adam"), std::invalid_argument);
  EXPECT_FLOAT_EQ(default_optimizer(OptimizerKind::sgd).lr, 0.05f);
  EXPECT_FLOAT_EQ(default_optimizer(OptimizerKind::adamw).lr, 1e-3f);
  EXPECT_FLOAT_EQ(default_optimizer(OptimizerKind::adamw, 0.5f).lr, 0.5f);
  OptimizerConfig bad = default_optimizer(OptimizerKind::sgd, 0.0f);
  EXPECT_THROW(bad.validate(), std::invalid_argument);
  const OptimizerHyper h = optimizer_hyper(default_optimizer(OptimizerKind::adamw), 2, 1.0f);
  const double b1 = 0.9f, b2 = 0.999f;  // the betas as the float config holds them
  EXPECT_NEAR(h.bias_correction1, 1 - b1 * b1, 1e-7);
  EXPECT_NEAR(h.bias_correction2_sqrt, std::sqrt(1 - b2 * b2), 1e-7);
}

TEST(Optimizer, FloatSettingsAreWrittenAsTheirShortDecimal) {
  EXPECT_EQ(float_as_decimal(1e-3f), 0.001);
  EXPECT_EQ(float_as_decimal(0.05f), 0.05);
  EXPECT_EQ(float_as_decimal(65536.0f), 65536.0);
}

}  // namespace
}  // namespace dpb
