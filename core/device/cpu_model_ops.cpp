#include "device/cpu_model_ops.h"

#include <stdexcept>

namespace dpb {

CpuModelOps::CpuModelOps(CpuStream& stream) : stream_(&stream), scratch_(std::make_shared<cpu::GemmScratch>()) {
  cpu::use_single_threaded_blas();
}

void CpuModelOps::gemm(DType type, const GemmShape& shape, const void* a, const void* b, void* c) {
  stream_->enqueue([type, shape, a, b, c, scratch = scratch_] { cpu::gemm(type, shape, a, b, c, *scratch); });
}

void CpuModelOps::bias_activation(DType type, Activation act, void* z, const void* bias, void* a, int rows, int cols) {
  stream_->enqueue([=] { cpu::bias_activation(type, act, z, bias, a, rows, cols); });
}

void CpuModelOps::activation_backward(DType type, Activation act, void* grad, const void* z, std::size_t count) {
  stream_->enqueue([=] { cpu::activation_backward(type, act, grad, z, count); });
}

void CpuModelOps::bias_grad(DType type, const void* dz, void* db, int rows, int cols) {
  stream_->enqueue([=] { cpu::bias_grad(type, dz, db, rows, cols); });
}

void CpuModelOps::softmax_xent(DType type, const void* logits, const std::int32_t* labels, int rows, int classes,
                               float grad_scale, void* dlogits, float* row_loss) {
  stream_->enqueue([=] { cpu::softmax_xent(type, logits, labels, rows, classes, grad_scale, dlogits, row_loss); });
}

void CpuModelOps::check_nonfinite(DType type, const void* data, std::size_t count, float* flag) {
  stream_->enqueue([=] { cpu::check_nonfinite(type, data, count, flag); });
}

void CpuModelOps::optimizer_step(const OptimizerArgs& args) {
  stream_->enqueue([args] { cpu::optimizer_step(args); });
}

std::unique_ptr<ModelOps> CpuBackend::make_model_ops(Stream& compute) {
  auto* stream = dynamic_cast<CpuStream*>(&compute);
  if (!stream) throw std::invalid_argument("cpu backend: model kernels need a stream of the cpu backend");
  return std::make_unique<CpuModelOps>(*stream);
}

}  // namespace dpb
