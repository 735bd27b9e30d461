// The CUDA launchers of kernels/*.cu, mirrored for the CUDA emulation (tests/cuda_emulation.h):
// the same dtype dispatch, alignment choice and launch shape (from the kernels' headers), the same
// kernel bodies, run on emulated threads over host memory. The signatures are the cpu backend's
// (core/device/cpu_elementwise.h, core/device/cpu_train_kernels.h), so a test runs both on the same
// inputs and compares.
#pragma once
#include <cstddef>
#include <cstdint>

#include "device/dtype.h"
#include "stream_block_launch.h"
#include "device/model_ops.h"

namespace dpb::emulated {

// The SM count the element kernels' grids are sized for: small, so the grid-stride loops go round.
inline constexpr int kSmCount = 2;

// kernels/elementwise.cu
void fill(DType type, void* dst, std::size_t count, double value);
void reduce_add(DType type, void* dst, const void* src, std::size_t count);
void scale(DType type, void* data, std::size_t count, float factor);
void cast(DType dst_type, void* dst, DType src_type, const void* src, std::size_t count);

// kernels/train_layers.cu
void bias_activation(DType type, Activation act, void* z, const void* bias, void* a, int rows, int cols);
void activation_backward(DType type, Activation act, void* grad, const void* z, std::size_t count);
void bias_grad(DType type, const void* dz, void* db, int rows, int cols);
void softmax_xent(DType type, const void* logits, const std::int32_t* labels, int rows, int classes, float grad_scale,
                  void* dlogits, float* row_loss);

// kernels/train_optimizer.cu
void check_nonfinite(DType type, const void* data, std::size_t count, float* flag);
void optimizer_step(const OptimizerArgs& args);

// kernels/stream_block.cu: `kernels` copies of the one-thread kernel at once (as when holds on
// several devices spin together); returns when all have been released or timed out.
void stream_block(cuda_kernels::StreamBlockFlags* flags, std::uint32_t generation, std::uint64_t timeout_ns,
                  unsigned kernels = 1);

}  // namespace dpb::emulated
