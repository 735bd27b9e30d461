// ModelOps for the cuda backend: cuBLAS GEMMs (cublasGemmEx: fp16/bf16 or fp32 operands, fp32
// accumulation via CUBLAS_COMPUTE_32F, output rounded once) on the rank's compute stream, and the
// kernels of kernels/train_*.cu. One cuBLAS handle per rank, bound to that stream. Host header
// without CUDA includes; defined only in CUDA builds (cuda_model_ops.cpp).
#pragma once
#include <memory>

#include "train/model_ops.h"

namespace dpb {

// `stream` must be a cuda-backend stream; throws std::invalid_argument otherwise.
std::unique_ptr<ModelOps> make_cuda_model_ops(Stream& stream);

}  // namespace dpb
