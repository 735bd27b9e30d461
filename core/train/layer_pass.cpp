#include "train/layer_pass.h"

#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>

#include "device/error.h"

namespace dpb {

LayerPass::LayerPass(const TrainConfig& config, const BucketPlan& plan)
    : config_(&config), plan_(&plan), es_(dtype_size(config.precision)) {
  const ModelSpec& m = config.model;
  if (m.chain.empty()) throw SettingError("model", "the model has no layers");
  if (config.local_batch % m.batch_multiple != 0) {
    throw SettingError("local_batch", m.name + " needs a per-rank batch (tokens) that is a multiple of its " +
                                "sequence length " + std::to_string(m.batch_multiple) + ", got " +
                                std::to_string(config.local_batch));
  }
  for (std::size_t l = 0; l < m.chain.size(); ++l) {
    const LayerSpec& L = m.chain[l];
    const long long out = rows(static_cast<int>(l)) * L.out;
    if (rows(static_cast<int>(l)) < 1) throw SettingError("local_batch", "too small for layer " + L.name);
    for (const ShiftSpec& s : L.shifts) {
      if (out % s.cols != 0) {
        throw SettingError("local_batch", std::to_string(config.local_batch) + " does not fit layer " + L.name +
                                    " (its output is not a whole number of " + std::to_string(s.cols) + "-wide rows)");
      }
    }
    if (L.activation && L.bias < 0 && L.shifts.empty()) throw std::logic_error("layer " + L.name + ": activation without an add");
  }
  if (m.chain.back().activation) throw std::logic_error("the last layer gives the logits: no activation");
}

long long LayerPass::rows(int layer) const {
  return config_->model.chain[static_cast<std::size_t>(layer)].rows(config_->local_batch);
}

std::size_t LayerPass::output_count(int layer) const {
  if (layer < 0) return static_cast<std::size_t>(config_->local_batch) * static_cast<std::size_t>(config_->model.input_dim());
  return static_cast<std::size_t>(rows(layer)) * static_cast<std::size_t>(config_->model.chain[static_cast<std::size_t>(layer)].out);
}

char* LayerPass::param(void* base, int p) const {
  return static_cast<char*>(base) + plan_->param_offset[static_cast<std::size_t>(p)] * es_;
}

// dst[j] = src[j mod n], j < m: whole copies of src, then a partial one.
void LayerPass::resample(Replica& r, const void* src, std::size_t n, void* dst, std::size_t m) const {
  for (std::size_t done = 0; done < m; done += n) {
    r.compute->copy(static_cast<char*>(dst) + done * es_, src, std::min(n, m - done) * es_);
  }
}

// The adjoint of resample: dst[i] = sum over j = i mod n of src[j]; zero where nothing maps.
void LayerPass::fold(Replica& r, const void* src, std::size_t m, void* dst, std::size_t n) const {
  r.compute->copy(dst, src, std::min(n, m) * es_);
  if (m < n) r.compute->fill(config_->precision, static_cast<char*>(dst) + m * es_, n - m, 0.0);
  for (std::size_t done = n; done < m; done += n) {
    r.compute->reduce_add(config_->precision, dst, static_cast<const char*>(src) + done * es_, std::min(n, m - done));
  }
}

void LayerPass::forward(Replica& r, int micro, float grad_scale) const {
  const DType t = config_->precision;
  const ModelSpec& m = config_->model;
  void* w = r.weights_ptr();
  for (int l = 0; l < m.layers(); ++l) {
    const LayerSpec& L = m.chain[static_cast<std::size_t>(l)];
    const int rows_l = static_cast<int>(rows(l));
    const auto k = static_cast<std::size_t>(l);
    if (r.x[k]) {
      const void* src = l == 0 ? r.input.data() : r.layer_output(l - 1);
      resample(r, src, output_count(l - 1), r.x[k].data(), static_cast<std::size_t>(rows_l) * static_cast<std::size_t>(L.in));
    }
    const void* x = r.layer_input(l);
    void* z = r.z[k].data();
    switch (L.kind) {
      case LayerKind::linear:
        r.ops->gemm(t,
                    L.weight_in_out ? GemmShape{false, false, rows_l, L.out, L.in, L.in, L.out, L.out}
                                    : GemmShape{false, true, rows_l, L.out, L.in, L.in, L.in, L.out},
                    x, param(w, L.weight), z);
        break;
      case LayerKind::identity:
        r.compute->copy(z, x, static_cast<std::size_t>(rows_l) * static_cast<std::size_t>(L.out) * es_);
        break;
      case LayerKind::attention: attention_forward(r, l); break;
    }
    // The adds in order: bias, then the shifts; the activation rides on the last one.
    std::vector<ShiftSpec> adds;
    if (L.bias >= 0) adds.push_back({L.bias, L.out});
    adds.insert(adds.end(), L.shifts.begin(), L.shifts.end());
    const long long total = static_cast<long long>(rows_l) * L.out;
    for (std::size_t i = 0; i < adds.size(); ++i) {
      void* a = (i + 1 == adds.size() && L.activation) ? r.a[k].data() : nullptr;
      r.ops->bias_activation(t, m.activation, z, param(w, adds[i].param), a, static_cast<int>(total / adds[i].cols),
                             adds[i].cols);
    }
  }
  const auto b = static_cast<std::size_t>(config_->local_batch) * static_cast<std::size_t>(micro);
  r.ops->softmax_xent(t, r.z.back().data(), r.labels.as<std::int32_t>() + b, static_cast<int>(last_rows()),
                      m.classes(), grad_scale, r.grad_ping.data(), r.row_loss.as<float>() + b);
}

void LayerPass::backward(Replica& r, int l, void* grads, void*& cur, void*& other,
                         const std::function<void(int)>& ready) const {
  const DType t = config_->precision;
  const ModelSpec& m = config_->model;
  const LayerSpec& L = m.chain[static_cast<std::size_t>(l)];
  const auto k = static_cast<std::size_t>(l);
  const int rows_l = static_cast<int>(rows(l));
  const std::size_t out_count = static_cast<std::size_t>(rows_l) * static_cast<std::size_t>(L.out);
  if (L.activation) r.ops->activation_backward(t, m.activation, cur, r.z[k].data(), out_count);
  for (auto it = L.shifts.rbegin(); it != L.shifts.rend(); ++it) {
    r.ops->bias_grad(t, cur, param(grads, it->param), static_cast<int>(out_count / static_cast<std::size_t>(it->cols)),
                     it->cols);
    ready(it->param);
  }
  if (L.bias >= 0) {
    r.ops->bias_grad(t, cur, param(grads, L.bias), rows_l, L.out);
    ready(L.bias);
  }
  const void* x = r.layer_input(l);
  if (L.kind == LayerKind::linear) {
    if (L.weight_in_out) {
      r.ops->gemm(t, GemmShape{true, false, L.in, L.out, rows_l, L.in, L.out, L.out}, x, cur, param(grads, L.weight));
    } else {
      r.ops->gemm(t, GemmShape{true, false, L.out, L.in, rows_l, L.out, L.in, L.in}, cur, x, param(grads, L.weight));
    }
    ready(L.weight);
  }
  if (l == 0) return;
  void* dx = cur;
  if (L.kind == LayerKind::linear) {
    const void* w = param(r.weights_ptr(), L.weight);
    r.ops->gemm(t,
                L.weight_in_out ? GemmShape{false, true, rows_l, L.in, L.out, L.out, L.out, L.in}
                                : GemmShape{false, false, rows_l, L.in, L.out, L.out, L.in, L.in},
                cur, w, other);
    dx = other;
  } else if (L.kind == LayerKind::attention) {
    attention_backward(r, l, cur, other);
    dx = other;
  }
  if (r.x[k]) {
    void* target = dx == cur ? other : cur;
    fold(r, dx, static_cast<std::size_t>(rows_l) * static_cast<std::size_t>(L.in), target, output_count(l - 1));
    if (target != cur) std::swap(cur, other);
  } else if (dx != cur) {
    std::swap(cur, other);
  }
}

namespace {
struct AttentionDims {
  int seq, hd, groups;
  float c;
};
AttentionDims attention_dims(const LayerSpec& L, long long rows) {
  const int hd = L.in / L.heads;
  return {L.seq, hd, static_cast<int>(rows / L.seq) * L.heads,
          1.0f / (static_cast<float>(L.seq) * std::sqrt(static_cast<float>(hd)))};
}
}  // namespace

// Per group g (a sequence's head, a contiguous [seq, hd] block): S = c X X^T, Y = S X.
void LayerPass::attention_forward(Replica& r, int l) const {
  const DType t = config_->precision;
  const auto k = static_cast<std::size_t>(l);
  const AttentionDims d = attention_dims(config_->model.chain[k], rows(l));
  const auto* x = static_cast<const char*>(r.layer_input(l));
  auto* s = static_cast<char*>(r.s[k].data());
  auto* z = static_cast<char*>(r.z[k].data());
  const std::size_t xs = static_cast<std::size_t>(d.seq) * static_cast<std::size_t>(d.hd) * es_;
  const std::size_t ss = static_cast<std::size_t>(d.seq) * static_cast<std::size_t>(d.seq) * es_;
  for (int g = 0; g < d.groups; ++g) {
    const auto gi = static_cast<std::size_t>(g);
    r.ops->gemm(t, GemmShape{false, true, d.seq, d.seq, d.hd, d.hd, d.hd, d.seq}, x + gi * xs, x + gi * xs, s + gi * ss);
  }
  r.compute->scale(t, s, static_cast<std::size_t>(d.groups) * ss / es_, d.c);
  for (int g = 0; g < d.groups; ++g) {
    const auto gi = static_cast<std::size_t>(g);
    r.ops->gemm(t, GemmShape{false, false, d.seq, d.hd, d.seq, d.seq, d.hd, d.hd}, s + gi * ss, x + gi * xs, z + gi * xs);
  }
}

// dS = dY X^T, dX = S^T dY + c (dS X + dS^T X).
void LayerPass::attention_backward(Replica& r, int l, const void* dy_, void* dx_) const {
  const DType t = config_->precision;
  const auto k = static_cast<std::size_t>(l);
  const AttentionDims d = attention_dims(config_->model.chain[k], rows(l));
  const auto* x = static_cast<const char*>(r.layer_input(l));
  const auto* s = static_cast<const char*>(r.s[k].data());
  const auto* dy = static_cast<const char*>(dy_);
  auto* dx = static_cast<char*>(dx_);
  void* ds = r.att_ds.data();
  void* tmp = r.att_g.data();
  const std::size_t xe = static_cast<std::size_t>(d.seq) * static_cast<std::size_t>(d.hd);
  const std::size_t xs = xe * es_;
  const std::size_t ss = static_cast<std::size_t>(d.seq) * static_cast<std::size_t>(d.seq) * es_;
  for (int g = 0; g < d.groups; ++g) {
    const auto gi = static_cast<std::size_t>(g);
    r.ops->gemm(t, GemmShape{false, true, d.seq, d.seq, d.hd, d.hd, d.hd, d.seq}, dy + gi * xs, x + gi * xs, ds);
    r.compute->scale(t, ds, ss / es_, d.c);
    r.ops->gemm(t, GemmShape{true, false, d.seq, d.hd, d.seq, d.seq, d.hd, d.hd}, s + gi * ss, dy + gi * xs, dx + gi * xs);
    r.ops->gemm(t, GemmShape{false, false, d.seq, d.hd, d.seq, d.seq, d.hd, d.hd}, ds, x + gi * xs, tmp);
    r.compute->reduce_add(t, dx + gi * xs, tmp, xe);
    r.ops->gemm(t, GemmShape{true, false, d.seq, d.hd, d.seq, d.seq, d.hd, d.hd}, ds, x + gi * xs, tmp);
    r.compute->reduce_add(t, dx + gi * xs, tmp, xe);
  }
}

}  // namespace dpb
