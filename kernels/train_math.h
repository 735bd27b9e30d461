// Element math of the reference training model, written once for host and device (ARCHITECTURE.md,
// seam 3): activations and their derivatives, the softmax-cross-entropy gradient, the non-finite
// test of the loss scaler, and the SGD-momentum / AdamW updates on fp32 master weights. The cpu
// backend's model kernels (core/device/cpu_model_ops.cpp) and the CUDA kernels (kernels/train_*.cu)
// call these same functions, so both backends run the same formulas. Transcendental functions
// (expf, tanhf, logf) come from libm on the host and CUDA's math library on the device; they may
// differ by an ulp or two, everything else is bit-identical: the build turns off contraction of
// a*b+c into fused multiply-adds on both sides (--fmad=false for nvcc, -ffp-contract=off for the
// host compiler; kernels/CMakeLists.txt), division and sqrtf are IEEE-rounded on both, and no
// fast-math flag is used.
#pragma once
#include <math.h>

#include <cstddef>
#include <cstdint>

#include "float16.h"

namespace dpb {

enum class Activation : int { relu = 0, gelu = 1 };
enum class OptimizerKind : int { sgd = 0, adamw = 1 };

DPB_HD float relu_fwd(float x) { return x > 0.0f ? x : 0.0f; }
DPB_HD float relu_grad(float x) { return x > 0.0f ? 1.0f : 0.0f; }

// GELU, tanh approximation (PyTorch's approximate="tanh", as in BERT/GPT-2):
// 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
DPB_HD float gelu_fwd(float x) {
  const float k = 0.7978845608028654f;  // sqrt(2/pi)
  const float t = tanhf(k * (x + 0.044715f * x * x * x));
  return 0.5f * x * (1.0f + t);
}

DPB_HD float gelu_grad(float x) {
  const float k = 0.7978845608028654f;
  const float x2 = x * x;
  const float t = tanhf(k * (x + 0.044715f * x2 * x));
  const float dinner = k * (1.0f + 3.0f * 0.044715f * x2);
  return 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * dinner;
}

DPB_HD float activation_fwd(Activation act, float x) { return act == Activation::relu ? relu_fwd(x) : gelu_fwd(x); }
DPB_HD float activation_grad(Activation act, float x) {
  return act == Activation::relu ? relu_grad(x) : gelu_grad(x);
}

// Forward epilogue of one linear layer, per element: z = round(gemm_out + bias), a = round(act(z)).
// The GEMM output is already rounded to T (fp32 accumulate, one rounding), as cuBLAS does.
template <class T>
DPB_HD void bias_activation_elem(T& z, T bias, T* a, Activation act) {
  const float zf = to_float(z) + to_float(bias);
  const T zr = from_float<T>(zf);
  z = zr;
  if (a) *a = from_float<T>(activation_fwd(act, to_float(zr)));
}

// Backward through the activation, per element: dz = round(da * act'(z)).
template <class T>
DPB_HD T activation_backward_elem(T da, T z, Activation act) {
  return from_float<T>(to_float(da) * activation_grad(act, to_float(z)));
}

// Bias gradient of one column j of dz[rows, cols]: the rows are summed in kBiasGradRowGroups
// interleaved partial sums (group g takes rows g, g + G, g + 2G, ...), then the partials in group
// order. The CUDA kernel computes the partials in parallel (one warp per group) and the cpu backend
// serially, in this same order, so both give the same bits.
inline constexpr unsigned kBiasGradRowGroups = 8;

template <class T>
DPB_HD float bias_grad_partial(const T* dz, std::size_t rows, std::size_t cols, std::size_t j, unsigned group) {
  float acc = 0.0f;
  for (std::size_t r = group; r < rows; r += kBiasGradRowGroups) acc += to_float(dz[r * cols + j]);
  return acc;
}

DPB_HD float bias_grad_combine(const float* partials) {
  float sum = 0.0f;
  for (unsigned g = 0; g < kBiasGradRowGroups; ++g) sum += partials[g];
  return sum;
}

template <class T>
DPB_HD float bias_grad_column(const T* dz, std::size_t rows, std::size_t cols, std::size_t j) {
  float partials[kBiasGradRowGroups];
  for (unsigned g = 0; g < kBiasGradRowGroups; ++g) partials[g] = bias_grad_partial(dz, rows, cols, j, g);
  return bias_grad_combine(partials);
}

// Softmax cross-entropy of one row, in two passes the kernels parallelize differently:
// row max m and s = sum exp(z - m); then per element the gradient
//   dz_j = (exp(z_j - m) / s - [j == label]) * grad_scale
// and the row's loss log(s) - (z_label - m). grad_scale folds in the loss scale and 1/global batch.
DPB_HD float xent_exp(float z, float row_max) { return expf(z - row_max); }
DPB_HD float xent_grad(float z, float row_max, float inv_sum, bool is_label, float grad_scale) {
  const float p = expf(z - row_max) * inv_sum;
  return (p - (is_label ? 1.0f : 0.0f)) * grad_scale;
}
DPB_HD float xent_loss(float z_label, float row_max, float sum) { return logf(sum) - (z_label - row_max); }

// True for inf and NaN, by bits so fast-math flags cannot fold it away.
DPB_HD bool is_nonfinite(float x) { return (float_bits(x) & 0x7f800000u) == 0x7f800000u; }

// Hyper-parameters of one optimizer step, passed by value to the kernels. inv_loss_scale unscales
// the gradients (1 when no loss scaling); bias_correction1 = 1 - beta1^t and
// bias_correction2_sqrt = sqrt(1 - beta2^t) for the step t being applied (AdamW only; computed on
// the host once per step, as torch.optim.AdamW does).
struct OptimizerHyper {
  OptimizerKind kind = OptimizerKind::sgd;
  float lr = 0.0f;
  float momentum = 0.0f;  // sgd
  float beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f;  // adamw
  float weight_decay = 0.0f;
  float bias_correction1 = 1.0f, bias_correction2_sqrt = 1.0f;
  float inv_loss_scale = 1.0f;
};

// SGD with momentum (PyTorch's torch.optim.SGD, dampening 0, not Nesterov):
//   g += wd * w;  buf = momentum * buf + g;  w -= lr * buf.
DPB_HD void sgd_update(float& w, float& buf, float g, const OptimizerHyper& h) {
  g = g * h.inv_loss_scale + h.weight_decay * w;
  buf = h.momentum * buf + g;
  w = w - h.lr * buf;
}

// AdamW (torch.optim.AdamW): decoupled decay w *= 1 - lr*wd; m, v moments;
//   w -= (lr / bc1) * m / (sqrt(v) / sqrt(bc2) + eps).
DPB_HD void adamw_update(float& w, float& m, float& v, float g, const OptimizerHyper& h) {
  g = g * h.inv_loss_scale;
  w = w * (1.0f - h.lr * h.weight_decay);
  m = h.beta1 * m + (1.0f - h.beta1) * g;
  v = h.beta2 * v + (1.0f - h.beta2) * g * g;
  const float denom = sqrtf(v) / h.bias_correction2_sqrt + h.eps;
  w = w - (h.lr / h.bias_correction1) * m / denom;
}

// One element of the fused optimizer: reads the low-precision gradient, updates the fp32 master
// and optimizer state, and writes the low-precision weight copy (null when weights are fp32).
template <class T>
DPB_HD void optimizer_elem(std::uint64_t i, float* master, T* weight, const T* grad, float* s1, float* s2,
                           const OptimizerHyper& h) {
  const float g = to_float(grad[i]);
  float w = master[i];
  if (h.kind == OptimizerKind::sgd) {
    sgd_update(w, s1[i], g, h);
  } else {
    adamw_update(w, s1[i], s2[i], g, h);
  }
  master[i] = w;
  if (weight) weight[i] = from_float<T>(w);
}

}  // namespace dpb
