// The reference model: an MLP classifier, described by its layer widths.
//
// widths = {input, hidden..., classes}: layer l maps widths[l] -> widths[l+1] with a weight
// [out, in] (row-major, PyTorch's nn.Linear layout) and a bias [out]; every layer but the last is
// followed by the activation. Parameters are registered in PyTorch order: fc0.weight, fc0.bias,
// fc1.weight, ... (bucketing walks them in reverse).
//
// Presets are sized by parameter count to stand in for real models' gradient volume:
//   small   512,1024,512,10                        ~1.05M  (CI)
//   medium  1024,4096,4096,768,1000                ~24.9M  (ResNet-50: 25.6M)
//   large   1024,8192,8192,8192,8192,8192,8192,1000 ~352M  (BERT-large: 340M)
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "train_math.h"

namespace dpb {

struct ParamTensor {
  std::string name;     // "fc0.weight", "fc0.bias", ...
  int layer = 0;
  bool is_bias = false;
  std::size_t rows = 0, cols = 0;  // weight: out x in; bias: out x 1
  std::size_t count() const { return rows * cols; }
};

struct ModelSpec {
  std::string name;         // the preset name, or the widths as given ("512,1024,10")
  std::vector<int> widths;  // input, hidden..., classes
  Activation activation = Activation::relu;

  int layers() const { return static_cast<int>(widths.size()) - 1; }
  int input_dim() const { return widths.front(); }
  int classes() const { return widths.back(); }
  int max_width() const;
  // Parameters in registration order.
  std::vector<ParamTensor> params() const;
  std::size_t param_count() const;
};

// Parses --model: a preset name (small, medium, large) or explicit widths "512,1024,1024,10"
// (at least two entries, each in [1, 65536]; at least 2 classes). Throws std::invalid_argument
// naming --model and the value.
ModelSpec parse_model(std::string_view text);

// "relu" | "gelu"; parse throws std::invalid_argument naming --activation.
std::string_view activation_name(Activation a);
Activation parse_activation(std::string_view text);

}  // namespace dpb
