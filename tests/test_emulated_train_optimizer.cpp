// The training step's tail kernels (kernels/train_optimizer_body.h: the non-finite check and the
// fused SGD / AdamW update) run under the CUDA emulation with the launch shape of
// kernels/train_optimizer.cu, against the cpu backend's loops (core/device/cpu_train_kernels.cpp),
// bit for bit, for every dtype, at sizes crossing the warp and block edges.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "emulated_kernels.h"
#include "kernel_test_support.h"
#include "device/cpu_train_kernels.h"

namespace dpb {
namespace {

using kernel_test::ElementBuffer;
using kernel_test::expect_same_elements;
using kernel_test::kEdgeSizes;
using kernel_test::random_values;

std::string describe(DType t, std::size_t n) { return std::string(dtype_name(t)) + " x" + std::to_string(n); }

class EmulatedTrainOptimizer : public ::testing::TestWithParam<DType> {};

TEST_P(EmulatedTrainOptimizer, NonfiniteCheckMatchesCpu) {
  const DType t = GetParam();
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  for (std::size_t n : kEdgeSizes) {
    // (position, value): none; inf first; NaN last (in the last, partial block); -inf in the middle;
    // and the largest finite value, which is not flagged.
    const std::vector<std::pair<std::size_t, float>> cases = {
        {n, 0.0f}, {0, inf}, {n - 1, nan}, {n / 2, -inf}, {n / 2, t == DType::f16 ? 65504.0f : 3.0e38f}};
    for (auto [pos, bad] : cases) {
      ElementBuffer data(t, random_values(n, 10, 100.0f));
      if (pos < n) data.set(pos, bad);
      float flag_cpu = 0.0f, flag_emu = 0.0f;
      cpu::check_nonfinite(t, data.data(), n, &flag_cpu);
      emulated::check_nonfinite(t, data.data(), n, &flag_emu);
      EXPECT_EQ(flag_emu, flag_cpu) << describe(t, n) << " value " << bad << " at " << pos;
      EXPECT_EQ(flag_emu, pos < n && !std::isfinite(bad) ? 1.0f : 0.0f) << describe(t, n) << " value " << bad;
    }
  }
}

// Inputs of one optimizer step; `weights` is the low-precision copy (none for fp32).
struct OptimizerState {
  std::vector<float> master, s1, s2;
  ElementBuffer grads, weights;
  float skip = 0.0f;
  OptimizerState(DType t, std::size_t n)
      : master(random_values(n, 11)),
        s1(random_values(n, 12, 0.1f)),
        s2(random_values(n, 13, 0.01f)),
        grads(t, random_values(n, 14, 50.0f)),
        weights(t, n) {
    for (float& v : s2) v = std::abs(v);  // a second moment is never negative
  }
  OptimizerArgs args(DType t, const OptimizerHyper& h, bool with_skip) {
    OptimizerArgs a;
    a.type = t;
    a.count = master.size();
    a.master = master.data();
    a.weights = t == DType::f32 ? nullptr : weights.data();
    a.grads = grads.data();
    a.state1 = s1.data();
    a.state2 = h.kind == OptimizerKind::adamw ? s2.data() : nullptr;
    a.skip_flag = with_skip ? &skip : nullptr;
    a.hyper = h;
    return a;
  }
};

OptimizerHyper hyper(OptimizerKind kind) {
  OptimizerHyper h;
  h.kind = kind;
  h.lr = 0.01f;
  h.momentum = 0.9f;
  h.weight_decay = 0.01f;
  const int step = 3;
  h.bias_correction1 = 1.0f - std::pow(h.beta1, static_cast<float>(step));
  h.bias_correction2_sqrt = std::sqrt(1.0f - std::pow(h.beta2, static_cast<float>(step)));
  h.inv_loss_scale = 1.0f / 1024.0f;
  return h;
}

TEST_P(EmulatedTrainOptimizer, UpdateMatchesCpuBitForBit) {
  const DType t = GetParam();
  for (std::size_t n : {std::size_t{1}, std::size_t{31}, std::size_t{33}, std::size_t{1023}, std::size_t{4097}}) {
    for (OptimizerKind kind : {OptimizerKind::sgd, OptimizerKind::adamw}) {
      for (float skip : {-1.0f, 0.0f, 1.0f}) {  // -1: no skip flag at all
        const std::string what =
            describe(t, n) + (kind == OptimizerKind::sgd ? " sgd" : " adamw") + " skip " + std::to_string(skip);
        OptimizerState cpu_state(t, n), emu_state(t, n);
        cpu_state.skip = emu_state.skip = skip;
        const std::vector<float> master_before = cpu_state.master;
        cpu::optimizer_step(cpu_state.args(t, hyper(kind), skip >= 0.0f));
        emulated::optimizer_step(emu_state.args(t, hyper(kind), skip >= 0.0f));
        EXPECT_EQ(emu_state.master, cpu_state.master) << what;
        EXPECT_EQ(emu_state.s1, cpu_state.s1) << what;
        EXPECT_EQ(emu_state.s2, cpu_state.s2) << what;
        if (t != DType::f32) expect_same_elements(cpu_state.weights, emu_state.weights, "weights " + what);
        if (skip > 0.0f) {
          EXPECT_EQ(emu_state.master, master_before) << "a set skip flag must leave the weights alone: " << what;
        } else {
          EXPECT_NE(emu_state.master, master_before) << what;
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllTypes, EmulatedTrainOptimizer, ::testing::ValuesIn(kAllDTypes),
                         [](const auto& param_info) { return std::string(dtype_name(param_info.param)); });

}  // namespace
}  // namespace dpb
