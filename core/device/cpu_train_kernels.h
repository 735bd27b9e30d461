// Host implementations of the model's kernels: plain loops over kernels/train_math.h and CBLAS
// sgemm. They run synchronously on the calling thread; CpuModelOps enqueues them on a CpuStream.
// Separate from the stream plumbing so tests can call them directly.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "device/model_ops.h"

namespace dpb::cpu {

// Scratch for fp16/bf16 GEMMs (operands widened to fp32, sgemm, output rounded once): the same
// numerics as cuBLAS with 16-bit inputs and CUBLAS_COMPUTE_32F. One per stream (not shared).
struct GemmScratch {
  std::vector<float> a, b, c;
};

// Sets OpenBLAS to one thread (once per process): every rank is its own worker thread already,
// so BLAS threads would oversubscribe the cores.
void use_single_threaded_blas();

void gemm(DType type, const GemmShape& s, const void* a, const void* b, void* c, GemmScratch& scratch);
void bias_activation(DType type, Activation act, void* z, const void* bias, void* a, int rows, int cols);
void activation_backward(DType type, Activation act, void* grad, const void* z, std::size_t count);
void bias_grad(DType type, const void* dz, void* db, int rows, int cols);
void softmax_xent(DType type, const void* logits, const std::int32_t* labels, int rows, int classes, float grad_scale,
                  void* dlogits, float* row_loss);
void check_nonfinite(DType type, const void* data, std::size_t count, float* flag);
void optimizer_step(const OptimizerArgs& args);

}  // namespace dpb::cpu
