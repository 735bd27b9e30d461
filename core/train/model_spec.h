// The trained model, as the trainer executes it: a list of parameter tensors (names, shapes,
// registration order: what DDP buckets) and a chain of layers (what forward and backward run).
//
// MLP presets and explicit widths: widths = {input, hidden..., classes}; layer l maps widths[l] ->
// widths[l+1] with a weight [out, in] (nn.Linear's layout) and a bias [out]; every layer but the
// last is followed by the activation. Parameters: fc0.weight, fc0.bias, fc1.weight, ...
//   small   512,1024,512,10                        ~1.05M  (CI)
//   medium  1024,4096,4096,768,1000                ~24.9M  (ResNet-50's gradient volume)
//   large   1024,8192,8192,8192,8192,8192,8192,1000 ~352M  (BERT-large's)
//
// Real-layout presets (resnet50, gpt2-small, bert-base; core/train/model_presets.cpp says exactly
// what each models): the real model's parameter tensors, and per layer the GEMMs of the real
// shapes (a convolution as its im2col GEMM, attention as its projection and score GEMMs), so
// bucket boundaries and FLOPs per sample match the real model. The chain between the GEMMs is a
// stand-in (see LayerSpec), so the math is real GEMMs on real buffers with exact gradients of the
// function computed, but not literally the real network.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "train_math.h"

namespace dpb {

struct ParamTensor {
  std::string name;     // "fc0.weight", "layer1.0.conv2.weight", ...
  int layer = 0;        // the layer whose backward produces its gradient
  bool is_bias = false; // a 1-d tensor (bias, norm scale/shift)
  std::size_t rows = 0, cols = 0;  // as the GEMM / shift sees it (a conv weight: out x in*kh*kw)
  std::vector<std::size_t> shape;  // the real model's shape ([64,3,7,7]); empty: {rows, cols}
  std::size_t fan_in = 1;          // for the initialisation bound 1/sqrt(fan_in)
  std::size_t count() const { return rows * cols; }
};

// A per-channel (or per-position) additive term on a layer's output z, z viewed as
// [rows*out/cols, cols]: z[r, c] += p[c] for c < cols. Its gradient is the column sum of dz
// (bias_grad), written into the first `cols` elements of the tensor (the rest stays zero: the
// rows of an embedding table a step does not look up).
struct ShiftSpec {
  int param = -1;
  int cols = 0;
};

enum class LayerKind { linear, identity, attention };

// One layer of the chain. Input X is [rows, in] with rows = batch * rows_num / rows_den. It is the
// previous layer's output a (or the data) when that has exactly rows*in elements; otherwise it is
// the previous output resampled: X[j] = a[j mod |a|] (the stand-in for im2col, pooling and the
// q/k/v split; its backward sums the wrapped positions).
//   linear     z = X W^T (+ bias) [rows, out]; W is [out, in], or [in, out] when weight_in_out
//              (GPT-2's Conv1D)
//   identity   z = X (in == out)
//   attention  heads independent blocks of [seq, head_dim] per sequence (contiguous; the real
//              layout interleaves heads, same GEMM shapes): S = c X X^T (the QK^T GEMM,
//              c = 1/(seq*sqrt(head_dim))), z = S X (the PV GEMM); no parameters
// then z += every shift, then a = act(z) when `activation` (otherwise a is z).
struct LayerSpec {
  std::string name;
  LayerKind kind = LayerKind::linear;
  int rows_num = 1, rows_den = 1;
  int in = 0, out = 0;
  int weight = -1, bias = -1;  // parameter indices; -1: none
  bool weight_in_out = false;
  std::vector<ShiftSpec> shifts;
  bool activation = false;
  int heads = 0, seq = 0;  // attention

  long long rows(long long batch) const { return batch * rows_num / rows_den; }
  // Multiply-adds of the forward pass per sample (GEMMs only).
  double forward_macs_per_sample() const;
};

struct ModelSpec {
  std::string name;         // the preset name, or the widths as given ("512,1024,10")
  std::vector<int> widths;  // MLP only: input, hidden..., classes (empty for real-layout presets)
  Activation activation = Activation::relu;
  std::vector<ParamTensor> tensors;  // registration order
  std::vector<LayerSpec> chain;
  int input = 0;     // features per sample of the synthetic data
  int n_classes = 0; // classes of the synthetic data = the last layer's out
  int seq = 1;       // transformer presets: tokens per sequence (a sample is a token); 1 otherwise
  int batch_multiple = 1;  // --batch must be a multiple (a whole number of sequences)
  std::string what;  // one line: what is modelled
  // Reference figures of the real model, and where they come from (FACTS.md).
  std::size_t reference_params = 0, reference_tensors = 0;
  double reference_flops_per_sample = 0;  // training (forward + backward)
  std::string reference_source;

  bool is_mlp() const { return !widths.empty(); }
  int layers() const { return static_cast<int>(chain.size()); }
  int input_dim() const { return input; }
  int classes() const { return n_classes; }
  int max_width() const;
  const std::vector<ParamTensor>& params() const { return tensors; }
  std::size_t param_count() const;
  // Training FLOPs per sample as executed: 3 x 2 x forward multiply-adds (backward is two GEMMs
  // per forward GEMM), GEMMs only.
  double flops_per_sample() const;
};

// Parses --model: a preset name (small, medium, large, resnet50, gpt2-small, bert-base) or
// explicit widths "512,1024,1024,10" (at least two entries, each in [1, 65536]; at least 2
// classes). Throws std::invalid_argument naming --model and the value.
ModelSpec parse_model(std::string_view text);

// The MLP of `widths` (validated by parse_model).
ModelSpec make_mlp(std::string name, std::vector<int> widths, Activation activation = Activation::relu);

// Real-layout presets (core/train/model_presets.cpp). `seq` is the transformers' sequence length.
ModelSpec make_resnet50();
ModelSpec make_gpt2_small(int seq = 1024);
ModelSpec make_bert_base(int seq = 512);

// "relu" | "gelu"; parse throws std::invalid_argument naming --activation.
std::string_view activation_name(Activation a);
Activation parse_activation(std::string_view text);

}  // namespace dpb
