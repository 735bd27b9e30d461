// End-to-end gradient check of the data-parallel trainer: one SGD step (first step, so the
// momentum buffer equals the gradient and w1 = w0 - lr * g) must move every weight by the
// gradient of the mean loss over the global batch, computed here independently in double
// precision from the same samples and initial weights. Exercises forward, loss, backward through
// every layer, bucketed all-reduce, the 1/global-batch averaging and the optimizer together.
#include <gtest/gtest.h>

#include <cmath>

#include "collectives/communicator.h"
#include "device/cpu_backend.h"
#include "train/trainer.h"

namespace dpb {
namespace {

double act(Activation a, double x) {
  return a == Activation::relu ? std::max(x, 0.0) : 0.5 * x * (1 + std::tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)));
}
double act_grad(Activation a, double x) {
  if (a == Activation::relu) return x > 0 ? 1.0 : 0.0;
  const double k = 0.7978845608028654, t = std::tanh(k * (x + 0.044715 * x * x * x));
  return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * k * (1 + 3 * 0.044715 * x * x);
}

// Gradient of the mean cross-entropy over `samples`, parameters in registration order.
std::vector<double> reference_gradient(const ModelSpec& m, const std::vector<float>& w, const SyntheticData& data,
                                       std::uint64_t first, int samples) {
  const auto params = m.params();
  std::vector<std::size_t> off(params.size());
  std::size_t total = 0;
  for (std::size_t k = 0; k < params.size(); ++k) {
    off[k] = total;
    total += params[k].count();
  }
  std::vector<double> g(total, 0.0);
  const int L = m.layers();
  std::vector<float> x(static_cast<std::size_t>(m.input_dim()));
  for (int s = 0; s < samples; ++s) {
    const int label = data.sample(first + static_cast<std::uint64_t>(s), x.data());
    std::vector<std::vector<double>> a(static_cast<std::size_t>(L) + 1), z(static_cast<std::size_t>(L));
    a[0].assign(x.begin(), x.end());
    for (int l = 0; l < L; ++l) {
      const auto in = static_cast<std::size_t>(m.widths[static_cast<std::size_t>(l)]);
      const auto out = static_cast<std::size_t>(m.widths[static_cast<std::size_t>(l) + 1]);
      const float* W = &w[off[static_cast<std::size_t>(2 * l)]];
      const float* b = &w[off[static_cast<std::size_t>(2 * l + 1)]];
      auto& zl = z[static_cast<std::size_t>(l)];
      zl.assign(out, 0.0);
      for (std::size_t o = 0; o < out; ++o) {
        double acc = b[o];
        for (std::size_t i = 0; i < in; ++i) acc += static_cast<double>(W[o * in + i]) * a[static_cast<std::size_t>(l)][i];
        zl[o] = acc;
      }
      auto& al = a[static_cast<std::size_t>(l) + 1];
      al = zl;
      if (l + 1 < L) {
        for (auto& v : al) v = act(m.activation, v);
      }
    }
    const auto& logits = z.back();
    double mx = logits[0];
    for (double v : logits) mx = std::max(mx, v);
    double sum = 0;
    for (double v : logits) sum += std::exp(v - mx);
    std::vector<double> dz(logits.size());
    for (std::size_t j = 0; j < logits.size(); ++j) {
      dz[j] = (std::exp(logits[j] - mx) / sum - (static_cast<int>(j) == label ? 1.0 : 0.0)) / samples;
    }
    for (int l = L - 1; l >= 0; --l) {
      const auto in = static_cast<std::size_t>(m.widths[static_cast<std::size_t>(l)]);
      const auto out = static_cast<std::size_t>(m.widths[static_cast<std::size_t>(l) + 1]);
      const auto& prev = a[static_cast<std::size_t>(l)];
      for (std::size_t o = 0; o < out; ++o) {
        for (std::size_t i = 0; i < in; ++i) g[off[static_cast<std::size_t>(2 * l)] + o * in + i] += dz[o] * prev[i];
        g[off[static_cast<std::size_t>(2 * l + 1)] + o] += dz[o];
      }
      if (l == 0) break;
      const float* W = &w[off[static_cast<std::size_t>(2 * l)]];
      std::vector<double> da(in, 0.0);
      for (std::size_t o = 0; o < out; ++o) {
        for (std::size_t i = 0; i < in; ++i) da[i] += static_cast<double>(W[o * in + i]) * dz[o];
      }
      for (std::size_t i = 0; i < in; ++i) da[i] *= act_grad(m.activation, z[static_cast<std::size_t>(l) - 1][i]);
      dz = std::move(da);
    }
  }
  return g;
}

struct Case {
  int ranks;
  Activation activation;
  const char* algo;
};

class TrainerGradient : public ::testing::TestWithParam<Case> {};

TEST_P(TrainerGradient, FirstSgdStepFollowsTheGlobalBatchGradient) {
  const Case c = GetParam();
  TrainConfig config;
  config.model = parse_model("6,5,4,3");
  config.model.activation = c.activation;
  config.optimizer = default_optimizer(OptimizerKind::sgd, 1.0f);  // w1 = w0 - g: g is recovered best
  config.local_batch = 12 / c.ranks;
  config.bucket_bytes = 64;  // several buckets
  config.first_bucket_bytes = 16;
  config.seed = 11;
  CpuBackend backend;
  std::vector<int> devices;
  for (int r = 0; r < c.ranks; ++r) devices.push_back(r);
  auto comm = make_communicator(backend, parse_algorithm(c.algo), devices);
  Trainer trainer(backend, *comm, config);
  const std::vector<float> w0 = trainer.master_weights(0);
  trainer.step();
  const std::vector<float> w1 = trainer.master_weights(c.ranks - 1);

  const SyntheticData data(config.seed, config.model.input_dim(), config.model.classes());
  const std::vector<double> g = reference_gradient(config.model, w0, data, 0, 12);
  ASSERT_EQ(g.size(), w0.size());
  double max_g = 0;
  for (std::size_t i = 0; i < g.size(); ++i) {
    max_g = std::max(max_g, std::abs(g[i]));
    // fp32 forward/backward against a double reference, and w1 = fl(w0 - g): a few fp32 ulps of
    // |w| (< 1) and of the gradient's terms; a wrong factor or a lost bucket is off by |g|.
    EXPECT_NEAR(static_cast<double>(w0[i]) - w1[i], g[i], 2e-6 + 1e-4 * std::abs(g[i])) << "parameter element " << i;
  }
  EXPECT_GT(max_g, 1e-2);  // the check is not vacuous
}

INSTANTIATE_TEST_SUITE_P(RanksAndActivations, TrainerGradient,
                         ::testing::Values(Case{1, Activation::relu, "p2p-ring"}, Case{3, Activation::relu, "p2p-ring"},
                                           Case{4, Activation::gelu, "p2p-tree"}, Case{2, Activation::gelu, "p2p-direct"}),
                         [](const ::testing::TestParamInfo<Case>& p) {
                           return std::string(activation_name(p.param.activation)) + "_" + std::to_string(p.param.ranks) +
                                  "ranks";
                         });

}  // namespace
}  // namespace dpb
