// The layer chain's backward is the exact gradient of its forward, for every layer kind the
// real-layout presets use (identity with per-sequence and per-channel shifts, a Conv1D-oriented
// linear layer, attention's score GEMMs, resampled inputs, a per-sequence head), checked against
// central finite differences of the loss on a tiny model in fp32.
#include <gtest/gtest.h>

#include <cmath>

#include "device/cpu_backend.h"
#include "train/layer_pass.h"
#include "train/weights.h"

namespace dpb {
namespace {

ModelSpec tiny_transformer() {
  ModelSpec m;
  m.name = "tiny";
  m.activation = Activation::gelu;
  m.input = 4;
  m.n_classes = 5;
  m.seq = 2;
  m.batch_multiple = 2;
  auto tensor = [&](const std::string& name, std::size_t rows, std::size_t cols, std::size_t fan_in) {
    m.tensors.push_back({name, 0, cols == 1, rows, cols, {}, fan_in});
    return static_cast<int>(m.tensors.size()) - 1;
  };
  LayerSpec embed;
  embed.name = "embed";
  embed.kind = LayerKind::identity;
  embed.in = embed.out = 4;
  embed.shifts = {{tensor("table", 3, 4, 1), 8}, {tensor("ln.w", 4, 1, 1), 4}, {tensor("ln.b", 4, 1, 1), 4}};
  LayerSpec qkv;
  qkv.name = "qkv";
  qkv.in = 4;
  qkv.out = 12;
  qkv.weight_in_out = true;
  qkv.weight = tensor("qkv.weight", 4, 12, 4);
  qkv.bias = tensor("qkv.bias", 12, 1, 4);
  LayerSpec att;
  att.name = "att";
  att.kind = LayerKind::attention;
  att.in = att.out = 4;
  att.heads = 2;
  att.seq = 2;
  LayerSpec fc;
  fc.name = "fc";
  fc.in = 4;
  fc.out = 8;
  fc.weight = tensor("fc.weight", 8, 4, 4);
  fc.bias = tensor("fc.bias", 8, 1, 4);
  fc.activation = true;
  LayerSpec head;
  head.name = "head";
  head.in = 8;
  head.out = 5;
  head.rows_den = 2;
  head.weight = tensor("head.weight", 5, 8, 8);
  head.bias = tensor("head.bias", 5, 1, 8);
  m.chain = {embed, qkv, att, fc, head};
  return m;
}

TEST(LayerPass, BackwardIsTheGradientOfForward) {
  CpuBackend backend;
  TrainConfig c;
  c.model = tiny_transformer();
  c.local_batch = 4;
  c.optimizer = default_optimizer(OptimizerKind::sgd, 0.1f);
  const BucketPlan plan = assign_buckets(c.model.params(), 4, std::size_t{1} << 30, std::size_t{1} << 30);
  Replica r(backend, 0, 0, c, plan);
  const LayerPass pass(c, plan);
  std::vector<float> w(plan.total_elements);
  init_master_weights(c.model, plan, 5, w);
  for (float& v : w) v *= 3.0f;  // larger weights: the non-linearities matter
  std::vector<float> x(16);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::sin(1.7f * static_cast<float>(i) + 0.3f);
  const std::vector<std::int32_t> labels = {3, 1, 0, 0};
  r.compute->copy_from_host(r.input.data(), x.data(), x.size() * 4);
  r.compute->copy_from_host(r.labels.data(), labels.data(), labels.size() * 4);
  const auto rows = static_cast<std::size_t>(pass.last_rows());
  ASSERT_EQ(rows, 2u);

  std::vector<float> host_loss(rows);
  const auto loss = [&] {
    r.compute->copy_from_host(r.master.data(), w.data(), w.size() * 4);
    pass.forward(r, 0, 1.0f / static_cast<float>(rows));
    r.compute->copy_to_host(host_loss.data(), r.row_loss.data(), rows * 4);
    r.compute->synchronize();
    double s = 0;
    for (float v : host_loss) s += v;
    return s / static_cast<double>(rows);
  };
  loss();
  void* cur = r.grad_ping.data();
  void* other = r.grad_pong.data();
  int announced = 0;
  for (int l = c.model.layers() - 1; l >= 0; --l) pass.backward(r, l, r.grads.data(), cur, other, [&](int) { ++announced; });
  std::vector<float> g(plan.total_elements);
  r.compute->copy_to_host(g.data(), r.grads.data(), g.size() * 4);
  r.compute->synchronize();
  EXPECT_EQ(announced, static_cast<int>(c.model.params().size()));

  const float h = 1e-2f;
  int checked = 0;
  for (std::size_t p = 0; p < c.model.params().size(); ++p) {
    const auto& t = c.model.params()[p];
    for (std::size_t i = 0; i < t.count(); i += 3) {
      float& v = w[plan.param_offset[p] + i];
      const float keep = v;
      v = keep + h;
      const double up = loss();
      v = keep - h;
      const double down = loss();
      v = keep;
      const double fd = (up - down) / (2.0 * h);
      const double an = g[plan.param_offset[p] + i];
      EXPECT_NEAR(an, fd, 2e-3 + 0.03 * std::abs(fd)) << t.name << "[" << i << "]";
      ++checked;
    }
  }
  EXPECT_GT(checked, 40);
  // The table's rows past the first sequence's 8 elements are never looked up: zero gradient.
  EXPECT_EQ(g[plan.param_offset[0] + 8], 0.0f);
}

}  // namespace
}  // namespace dpb
