#include "train/model_spec.h"

#include <algorithm>
#include <charconv>
#include <stdexcept>

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

std::string bad_model(std::string_view text, std::string_view why) {
  return "--model: invalid value '" + std::string(text) + "': " + std::string(why) +
         " (expected small, medium, large or layer widths like 512,1024,1024,10)";
}

}  // namespace

int ModelSpec::max_width() const { return *std::max_element(widths.begin(), widths.end()); }

std::vector<ParamTensor> ModelSpec::params() const {
  std::vector<ParamTensor> out;
  for (int l = 0; l < layers(); ++l) {
    const auto in = static_cast<std::size_t>(widths[static_cast<std::size_t>(l)]);
    const auto outw = static_cast<std::size_t>(widths[static_cast<std::size_t>(l) + 1]);
    const std::string prefix = "fc" + std::to_string(l);
    out.push_back({prefix + ".weight", l, false, outw, in});
    out.push_back({prefix + ".bias", l, true, outw, 1});
  }
  return out;
}

std::size_t ModelSpec::param_count() const {
  std::size_t n = 0;
  for (const auto& p : params()) n += p.count();
  return n;
}

ModelSpec parse_model(std::string_view text) {
  for (const auto& p : presets()) {
    if (text == p.name) return ModelSpec{std::string(p.name), p.widths, Activation::relu};
  }
  ModelSpec spec;
  spec.name = std::string(text);
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const std::size_t comma = std::min(text.find(',', pos), text.size());
    const std::string_view item = text.substr(pos, comma - pos);
    int v = 0;
    const auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
    if (item.empty() || ec != std::errc() || end != item.data() + item.size()) {
      throw std::invalid_argument(bad_model(text, "'" + std::string(item) + "' is not a preset or a width"));
    }
    if (v < 1 || v > 65536) throw std::invalid_argument(bad_model(text, "widths must be in [1, 65536]"));
    spec.widths.push_back(v);
    pos = comma + 1;
  }
  if (spec.widths.size() < 2) throw std::invalid_argument(bad_model(text, "need at least an input and an output width"));
  if (spec.widths.back() < 2) throw std::invalid_argument(bad_model(text, "the last width (classes) must be at least 2"));
  return spec;
}

std::string_view activation_name(Activation a) { return a == Activation::relu ? "relu" : "gelu"; }

Activation parse_activation(std::string_view text) {
  if (text == "relu") return Activation::relu;
  if (text == "gelu") return Activation::gelu;
  throw std::invalid_argument("--activation: invalid value '" + std::string(text) + "' (expected relu or gelu)");
}

}  // namespace dpb
