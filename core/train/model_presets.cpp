// The real-layout presets. What each models, exactly:
//
// resnet50 (torchvision.models.resnet50, v1.5: stride in the 3x3 conv): the 161 parameter tensors
//   in registration order (conv1, bn1, layer1.0.conv1, layer1.0.bn1, ..., downsample.0/1, fc),
//   25,557,032 parameters. Every convolution runs as its im2col GEMM at 224x224 input
//   (rows = H_out*W_out per image, in = C_in*k*k, out = C_out); batch norm is modelled as its two
//   per-channel affine terms added to the conv output (no batch statistics); ReLU where the real
//   block has one. The downsample branch runs after conv3 instead of beside it, the residual adds
//   and the max/avg pools are not computed (their im2col / pooling stand-in is the resample of
//   LayerSpec). Input: 3x224x224 features per image; fc 2048 -> 1000 gives the logits.
//
// gpt2-small[:SEQ] (Hugging Face GPT2LMHeadModel, tied embeddings): the 148 tensors (wte, wpe,
//   12 x {ln_1, attn.c_attn, attn.c_proj, ln_2, mlp.c_fc, mlp.c_proj} weights and biases, ln_f),
//   124,439,808 parameters; Conv1D weights are [in, out] as in the checkpoint. A sample is a
//   token (--batch is tokens per rank, whole sequences of SEQ, default 1024). Per block: the
//   c_attn GEMM (768 -> 2304), attention's QK^T and PV GEMMs per head (12 heads of 64, on the
//   first third of c_attn's output), c_proj, c_fc (GELU), mlp.c_proj; layer norms are modelled as
//   their affine terms (added); wpe is added per position; the LM head is the real 768 -> 50257
//   GEMM with wte as its weight (tied: wte's gradient is that GEMM's; the lookup's sparse
//   gradient is not added). The input is a token's 768 features (the looked-up embedding's
//   stand-in); labels are the next-token stand-in from the teacher over 50257 classes.
//
// bert-base[:SEQ] (Hugging Face BertModel, bert-base-uncased): the 199 tensors (embeddings word,
//   position, token_type, LayerNorm; 12 x {query, key, value, attention.output.dense,
//   attention.output.LayerNorm, intermediate.dense, output.dense, output.LayerNorm}; pooler),
//   109,482,240 parameters. Per layer: q, k, v GEMMs (run one after the other), attention's score
//   GEMMs, the output dense, intermediate (GELU) and output GEMMs; layer norms as affine terms.
//   Embedding lookups are modelled as token id = position, so each table's gradient is the
//   column sum over sequences of the first SEQ rows (token_type: row 0). The pooler GEMM runs on
//   one row per sequence and gives 768 logits (the loss head stand-in).
//
// Reference figures: parameter and tensor counts from torchvision / Hugging Face (FACTS.md).
// FLOPs per sample (training = 3 x forward): ResNet-50 4.09 GMAC forward at 224x224
// (torchvision's model card: "GFLOPS 4.09", counted as multiply-adds); transformers per token:
// 6N + 12 n_layer n_ctx d (Kaplan et al. 2020, arXiv 2001.08361, Table 1, with the PV GEMM counted
// as Hoffmann et al. 2022 do), N the non-embedding parameters (plus GPT-2's tied LM head).
#include <stdexcept>
#include <string>

#include "train/model_spec.h"

namespace dpb {
namespace {

class Builder {
 public:
  explicit Builder(ModelSpec& m) : m_(m) {}

  int tensor(const std::string& name, std::vector<std::size_t> shape, std::size_t rows, std::size_t cols,
             std::size_t fan_in, bool is_bias) {
    m_.tensors.push_back({name, layer_index(), is_bias, rows, cols, std::move(shape), fan_in});
    return static_cast<int>(m_.tensors.size()) - 1;
  }
  // A weight [out, in_total] and optional bias, registered in that order.
  LayerSpec& linear(const std::string& name, const std::string& param_prefix, int rows_num, int rows_den, int in,
                    int out, bool bias, std::vector<std::size_t> shape, bool weight_in_out = false) {
    LayerSpec l;
    l.name = name;
    l.rows_num = rows_num;
    l.rows_den = rows_den;
    l.in = in;
    l.out = out;
    l.weight_in_out = weight_in_out;
    const auto uin = static_cast<std::size_t>(in), uout = static_cast<std::size_t>(out);
    l.weight = weight_in_out ? tensor(param_prefix + ".weight", std::move(shape), uin, uout, uin, false)
                             : tensor(param_prefix + ".weight", std::move(shape), uout, uin, uin, false);
    if (bias) l.bias = tensor(param_prefix + ".bias", {uout}, uout, 1, uin, true);
    return push(std::move(l));
  }
  LayerSpec& push(LayerSpec l) {
    m_.chain.push_back(std::move(l));
    return m_.chain.back();
  }
  // A 1-d affine term of `cols` elements (norm weight/bias) added to layer `layer`'s output.
  void shift(LayerSpec& layer, const std::string& name, int cols) {
    const auto c = static_cast<std::size_t>(cols);
    layer.shifts.push_back({tensor(name, {c}, c, 1, c, true), cols});
  }
  // A table [rows, cols] of which the first `used` elements are added per sequence / row.
  void table(LayerSpec& layer, const std::string& name, std::size_t rows, std::size_t cols, int used) {
    layer.shifts.push_back({tensor(name, {rows, cols}, rows, cols, cols, false), used});
  }
  int layer_index() const { return static_cast<int>(m_.chain.size()); }

 private:
  ModelSpec& m_;
};

LayerSpec attention(const std::string& name, int width, int heads, int seq) {
  LayerSpec l;
  l.name = name;
  l.kind = LayerKind::attention;
  l.in = l.out = width;
  l.heads = heads;
  l.seq = seq;
  return l;
}

LayerSpec identity(const std::string& name, int width) {
  LayerSpec l;
  l.name = name;
  l.kind = LayerKind::identity;
  l.in = l.out = width;
  return l;
}

// Training FLOPs per token: Kaplan et al.'s 6N, plus the QK^T and PV GEMMs (2 n_ctx d
// multiply-adds each per token and layer, x 3 for training) as Hoffmann et al. 2022 (arXiv
// 2203.15556, Appendix F) count them: 6N + 12 n_layer n_ctx d.
double transformer_flops(double gemm_params, int layers, int seq, int d) {
  return 6.0 * gemm_params + 12.0 * layers * static_cast<double>(seq) * d;
}

}  // namespace

ModelSpec make_resnet50() {
  ModelSpec m;
  m.name = "resnet50";
  m.activation = Activation::relu;
  m.input = 3 * 224 * 224;
  m.n_classes = 1000;
  Builder b(m);
  const auto conv = [&](const std::string& prefix, const std::string& bn, int hw, int cin, int cout, int k, bool relu) {
    LayerSpec& l = b.linear(prefix, prefix, hw * hw, 1, cin * k * k, cout, false,
                            {static_cast<std::size_t>(cout), static_cast<std::size_t>(cin), static_cast<std::size_t>(k),
                             static_cast<std::size_t>(k)});
    b.shift(l, bn + ".weight", cout);
    b.shift(l, bn + ".bias", cout);
    l.activation = relu;
  };
  conv("conv1", "bn1", 112, 3, 64, 7, true);
  const int blocks[4] = {3, 4, 6, 3};
  int cin = 64, hw = 56;
  for (int s = 0; s < 4; ++s) {
    const int width = 64 << s, cout = width * 4;
    for (int i = 0; i < blocks[s]; ++i) {
      const std::string p = "layer" + std::to_string(s + 1) + "." + std::to_string(i);
      const int out_hw = (i == 0 && s > 0) ? hw / 2 : hw;
      conv(p + ".conv1", p + ".bn1", hw, cin, width, 1, true);
      conv(p + ".conv2", p + ".bn2", out_hw, width, width, 3, true);
      conv(p + ".conv3", p + ".bn3", out_hw, width, cout, 1, false);
      if (i == 0) conv(p + ".downsample.0", p + ".downsample.1", out_hw, cin, cout, 1, true);
      cin = cout;
      hw = out_hw;
    }
  }
  b.linear("fc", "fc", 1, 1, 2048, 1000, true, {1000, 2048});
  m.what = "ResNet-50 parameter layout; convolutions as im2col GEMMs at 224x224, BN as affine terms";
  m.reference_params = 25557032;
  m.reference_tensors = 161;
  m.reference_flops_per_sample = 3.0 * 2.0 * 4.09e9;
  m.reference_source = "torchvision resnet50 (IMAGENET1K_V1 card: 25,557,032 params, 4.09 GFLOPS as MACs); "
                       "training = 3 x forward";
  return m;
}

ModelSpec make_gpt2_small(int seq) {
  ModelSpec m;
  m.name = seq == 1024 ? "gpt2-small" : "gpt2-small:" + std::to_string(seq);
  m.activation = Activation::gelu;
  m.input = 768;
  m.n_classes = 50257;
  m.seq = seq;
  m.batch_multiple = seq;
  Builder b(m);
  LayerSpec& embed = b.push(identity("embed", 768));
  const int wte = b.tensor("transformer.wte.weight", {50257, 768}, 50257, 768, 768, false);
  b.table(embed, "transformer.wpe.weight", 1024, 768, seq * 768);
  for (int i = 0; i < 12; ++i) {
    const std::string p = "transformer.h." + std::to_string(i);
    LayerSpec& before = m.chain.back();
    b.shift(before, p + ".ln_1.weight", 768);
    b.shift(before, p + ".ln_1.bias", 768);
    b.linear(p + ".attn.c_attn", p + ".attn.c_attn", 1, 1, 768, 2304, true, {768, 2304}, true);
    b.push(attention(p + ".attn", 768, 12, seq));
    LayerSpec& proj = b.linear(p + ".attn.c_proj", p + ".attn.c_proj", 1, 1, 768, 768, true, {768, 768}, true);
    b.shift(proj, p + ".ln_2.weight", 768);
    b.shift(proj, p + ".ln_2.bias", 768);
    b.linear(p + ".mlp.c_fc", p + ".mlp.c_fc", 1, 1, 768, 3072, true, {768, 3072}, true).activation = true;
    b.linear(p + ".mlp.c_proj", p + ".mlp.c_proj", 1, 1, 3072, 768, true, {3072, 768}, true);
  }
  b.shift(m.chain.back(), "transformer.ln_f.weight", 768);
  b.shift(m.chain.back(), "transformer.ln_f.bias", 768);
  LayerSpec head;
  head.name = "lm_head";
  head.in = 768;
  head.out = 50257;
  head.weight = wte;  // tied
  b.push(std::move(head));
  m.what = "GPT-2 small parameter layout; per block c_attn, QK^T/PV per head, c_proj, c_fc, c_proj GEMMs; "
           "tied LM head GEMM; LN as affine terms";
  m.reference_params = 124439808;
  m.reference_tensors = 148;
  m.reference_flops_per_sample = transformer_flops(85054464.0 + 768.0 * 50257, 12, seq, 768);
  m.reference_source = "Hugging Face GPT2LMHeadModel (124,439,808 params, 148 tensors, tied); FLOPs per token: "
                       "6N + 12*n_layer*n_ctx*d (Kaplan et al. 2020; Hoffmann et al. 2022 App. F), N = non-embedding "
                       "params + the tied LM head";
  return m;
}

ModelSpec make_bert_base(int seq) {
  ModelSpec m;
  m.name = seq == 512 ? "bert-base" : "bert-base:" + std::to_string(seq);
  m.activation = Activation::gelu;
  m.input = 768;
  m.n_classes = 768;
  m.seq = seq;
  m.batch_multiple = seq;
  Builder b(m);
  LayerSpec& embed = b.push(identity("embeddings", 768));
  b.table(embed, "embeddings.word_embeddings.weight", 30522, 768, seq * 768);
  b.table(embed, "embeddings.position_embeddings.weight", 512, 768, seq * 768);
  b.table(embed, "embeddings.token_type_embeddings.weight", 2, 768, 768);
  b.shift(embed, "embeddings.LayerNorm.weight", 768);
  b.shift(embed, "embeddings.LayerNorm.bias", 768);
  for (int i = 0; i < 12; ++i) {
    const std::string p = "encoder.layer." + std::to_string(i);
    for (const char* qkv : {"query", "key", "value"}) {
      const std::string n = p + ".attention.self." + qkv;
      b.linear(n, n, 1, 1, 768, 768, true, {768, 768});
    }
    b.push(attention(p + ".attention.self", 768, 12, seq));
    LayerSpec& out = b.linear(p + ".attention.output.dense", p + ".attention.output.dense", 1, 1, 768, 768, true, {768, 768});
    b.shift(out, p + ".attention.output.LayerNorm.weight", 768);
    b.shift(out, p + ".attention.output.LayerNorm.bias", 768);
    b.linear(p + ".intermediate.dense", p + ".intermediate.dense", 1, 1, 768, 3072, true, {3072, 768}).activation = true;
    LayerSpec& o = b.linear(p + ".output.dense", p + ".output.dense", 1, 1, 3072, 768, true, {768, 3072});
    b.shift(o, p + ".output.LayerNorm.weight", 768);
    b.shift(o, p + ".output.LayerNorm.bias", 768);
  }
  b.linear("pooler.dense", "pooler.dense", 1, seq, 768, 768, true, {768, 768});
  m.what = "BERT-base parameter layout; per layer q/k/v, QK^T/PV per head, output, intermediate, output GEMMs; "
           "LN as affine terms; embedding lookups as token id = position";
  m.reference_params = 109482240;
  m.reference_tensors = 199;
  m.reference_flops_per_sample = transformer_flops(85054464.0, 12, seq, 768);
  m.reference_source = "Hugging Face BertModel bert-base-uncased (109,482,240 params, 199 tensors); FLOPs per "
                       "token: 6N + 12*n_layer*n_ctx*d (Kaplan et al. 2020; Hoffmann et al. 2022 App. F), N = encoder "
                       "params";
  return m;
}

}  // namespace dpb
