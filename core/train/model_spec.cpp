#include "train/model_spec.h"

#include <algorithm>
#include <charconv>
#include <stdexcept>

#include "device/error.h"

namespace dpb {
namespace {

struct Preset {
  std::string_view name;
  std::vector<int> widths;
};

const std::vector<Preset>& presets() {
  static const std::vector<Preset> p = {
      {"small", {512, 1024, 512, 10}},
      {"medium", {1024, 4096, 4096, 768, 1000}},
      {"large", {1024, 8192, 8192, 8192, 8192, 8192, 8192, 1000}},
  };
  return p;
}

SettingError bad_model(std::string_view text, std::string_view why) {
  return SettingError("model", "invalid value '" + std::string(text) + "': " + std::string(why) +
         " (expected small, medium, large, resnet50, gpt2-small[:SEQ], bert-base[:SEQ] or layer widths like "
         "512,1024,1024,10)");
}

// "gpt2-small" or "gpt2-small:128": the sequence length after the colon.
bool transformer_preset(std::string_view text, std::string_view base, int max_seq, int& seq) {
  if (text.substr(0, base.size()) != base) return false;
  const std::string_view rest = text.substr(base.size());
  if (rest.empty()) {
    seq = max_seq;
    return true;
  }
  if (rest.front() != ':') return false;
  const std::string_view num = rest.substr(1);
  const auto [end, ec] = std::from_chars(num.data(), num.data() + num.size(), seq);
  if (num.empty() || ec != std::errc() || end != num.data() + num.size() || seq < 1 || seq > max_seq) {
    throw bad_model(text, "the sequence length must be in [1, " + std::to_string(max_seq) + "]");
  }
  return true;
}

}  // namespace

double LayerSpec::forward_macs_per_sample() const {
  const double r = static_cast<double>(rows_num) / rows_den;
  switch (kind) {
    case LayerKind::linear: return r * in * out;
    case LayerKind::identity: return 0;
    case LayerKind::attention: return 2.0 * r * seq * in;  // QK^T and PV: per token seq x head_dim x heads each
  }
  return 0;
}

int ModelSpec::max_width() const {
  int w = input;
  for (const auto& l : chain) w = std::max({w, l.in, l.out});
  return w;
}

std::size_t ModelSpec::param_count() const {
  std::size_t n = 0;
  for (const auto& p : tensors) n += p.count();
  return n;
}

double ModelSpec::flops_per_sample() const {
  double macs = 0;
  for (const auto& l : chain) macs += l.forward_macs_per_sample();
  return 3.0 * 2.0 * macs;
}

ModelSpec make_mlp(std::string name, std::vector<int> widths, Activation activation) {
  ModelSpec m;
  m.name = std::move(name);
  m.widths = std::move(widths);
  m.activation = activation;
  m.input = m.widths.front();
  m.n_classes = m.widths.back();
  const int layers = static_cast<int>(m.widths.size()) - 1;
  for (int l = 0; l < layers; ++l) {
    const auto in = static_cast<std::size_t>(m.widths[static_cast<std::size_t>(l)]);
    const auto out = static_cast<std::size_t>(m.widths[static_cast<std::size_t>(l) + 1]);
    const std::string prefix = "fc" + std::to_string(l);
    m.tensors.push_back({prefix + ".weight", l, false, out, in, {out, in}, in});
    m.tensors.push_back({prefix + ".bias", l, true, out, 1, {out}, in});
    LayerSpec layer;
    layer.name = prefix;
    layer.in = static_cast<int>(in);
    layer.out = static_cast<int>(out);
    layer.weight = 2 * l;
    layer.bias = 2 * l + 1;
    layer.activation = l + 1 < layers;
    m.chain.push_back(std::move(layer));
  }
  m.what = "MLP " + std::to_string(layers) + " linear layers";
  return m;
}

ModelSpec parse_model(std::string_view text) {
  for (const auto& p : presets()) {
    if (text == p.name) return make_mlp(std::string(p.name), p.widths);
  }
  if (text == "resnet50") return make_resnet50();
  int seq = 0;
  if (transformer_preset(text, "gpt2-small", 1024, seq)) return make_gpt2_small(seq);
  if (transformer_preset(text, "bert-base", 512, seq)) return make_bert_base(seq);
  std::vector<int> widths;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const std::size_t comma = std::min(text.find(',', pos), text.size());
    const std::string_view item = text.substr(pos, comma - pos);
    int v = 0;
    const auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
    if (item.empty() || ec != std::errc() || end != item.data() + item.size()) {
      throw bad_model(text, "'" + std::string(item) + "' is not a preset or a width");
    }
    if (v < 1 || v > 65536) throw bad_model(text, "widths must be in [1, 65536]");
    widths.push_back(v);
    pos = comma + 1;
  }
  if (widths.size() < 2) throw bad_model(text, "need at least an input and an output width");
  if (widths.back() < 2) throw bad_model(text, "the last width (classes) must be at least 2");
  return make_mlp(std::string(text), std::move(widths));
}

std::string_view activation_name(Activation a) { return a == Activation::relu ? "relu" : "gelu"; }

Activation parse_activation(std::string_view text) {
  if (text == "relu") return Activation::relu;
  if (text == "gelu") return Activation::gelu;
  throw SettingError("activation", "invalid value '" + std::string(text) + "' (expected relu or gelu)");
}

}  // namespace dpb
