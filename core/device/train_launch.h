// Host-visible launchers of the model's CUDA kernels (kernels/train_*.cu). Each kernel applies the
// element math of kernels/train_math.h, the functions the cpu backend's loops call. The stream is
// taken as CUstream_st* (what cudaStream_t is) so host code can include this without CUDA headers.
// The current device must own the pointers and the stream. Launch errors throw dpb::DeviceError.
// Only defined in CUDA builds (kernels/train_*.cu).
#pragma once
#include <cstddef>
#include <cstdint>

#include "device/model_ops.h"

struct CUstream_st;

namespace dpb::train_kernels {

void launch_bias_activation(DType type, Activation act, void* z, const void* bias, void* a, int rows, int cols,
                            CUstream_st* stream);
void launch_activation_backward(DType type, Activation act, void* grad, const void* z, std::size_t count,
                                CUstream_st* stream);
// A block per 32 columns, a warp per row group summing every 8th row, then the groups in order:
// kernels/train_math.h's bias_grad_column order, which the cpu loop runs serially (same bits).
void launch_bias_grad(DType type, const void* dz, void* db, int rows, int cols, CUstream_st* stream);
// One block per row (block reductions for the row max and the exp sum).
void launch_softmax_xent(DType type, const void* logits, const std::int32_t* labels, int rows, int classes,
                         float grad_scale, void* dlogits, float* row_loss, CUstream_st* stream);
void launch_check_nonfinite(DType type, const void* data, std::size_t count, float* flag, CUstream_st* stream);
void launch_optimizer(const OptimizerArgs& args, CUstream_st* stream);

}  // namespace dpb::train_kernels
