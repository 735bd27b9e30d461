// The model's kernels on one rank's compute stream, made by the backend (Backend::make_model_ops): GEMMs with low-precision inputs
// and fp32 accumulation, the layer epilogues, softmax cross-entropy, the overflow check and the
// fused optimizer. Implementations: cpu (host work enqueued on a CpuStream, CBLAS sgemm with one
// BLAS thread) and cuda (cuBLAS cublasGemmEx + kernels/train_*.cu). Both call the element math of
// kernels/train_math.h.
//
// Every call only enqueues work on the stream the ops were made for; pointers are device memory
// of that stream's device and must stay valid until the work has run. Matrices are row-major.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>

#include "device/backend.h"
#include "train_math.h"

namespace dpb {

// C[M,N] = op(A)[M,K] * op(B)[K,N], row-major, every matrix of `type` (fp32 accumulate, output
// rounded once to `type`). op(X) = X^T when trans_x: then X is stored [K,M] (A) or [N,K] (B).
// C is overwritten (beta = 0).
struct GemmShape {
  bool trans_a = false, trans_b = false;
  int m = 0, n = 0, k = 0;
  int lda = 0, ldb = 0, ldc = 0;
};

// Arguments of the fused optimizer over a replica's flat parameter layout (all `count` long).
struct OptimizerArgs {
  DType type = DType::f32;      // gradient / low-precision weight type
  std::size_t count = 0;
  float* master = nullptr;      // fp32 master weights, updated
  void* weights = nullptr;      // low-precision copy written after the update (null for fp32)
  const void* grads = nullptr;  // all-reduced gradients of `type`
  float* state1 = nullptr;      // momentum (sgd) or first moment (adamw)
  float* state2 = nullptr;      // second moment (adamw; may be null for sgd)
  const float* skip_flag = nullptr;  // device float: when nonzero the update is skipped
  OptimizerHyper hyper;
};

class ModelOps {
 public:
  virtual ~ModelOps() = default;
  virtual Stream& stream() = 0;

  virtual void gemm(DType type, const GemmShape& shape, const void* a, const void* b, void* c) = 0;

  // z[rows, cols] += bias (broadcast over rows), rounded; when `a` is non-null also a = act(z).
  virtual void bias_activation(DType type, Activation act, void* z, const void* bias, void* a, int rows,
                               int cols) = 0;
  // grad[i] = grad[i] * act'(z[i]) for i < count (grad holds dL/da on entry, dL/dz on exit).
  virtual void activation_backward(DType type, Activation act, void* grad, const void* z, std::size_t count) = 0;
  // db[c] = sum over rows of dz[r, c] (fp32 accumulation, rounded once).
  virtual void bias_grad(DType type, const void* dz, void* db, int rows, int cols) = 0;
  // Per row: loss[r] = -log softmax(logits[r])[labels[r]] (fp32) and
  // dlogits[r, :] = (softmax - onehot) * grad_scale (rounded to `type`).
  virtual void softmax_xent(DType type, const void* logits, const std::int32_t* labels, int rows, int classes,
                            float grad_scale, void* dlogits, float* row_loss) = 0;
  // Sets *flag = 1.0f when any of data[0..count) is inf or NaN; leaves it untouched otherwise.
  virtual void check_nonfinite(DType type, const void* data, std::size_t count, float* flag) = 0;
  virtual void optimizer_step(const OptimizerArgs& args) = 0;
};

}  // namespace dpb
