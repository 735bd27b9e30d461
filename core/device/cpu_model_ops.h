// ModelOps for the cpu backend: each call enqueues the host kernel (cpu_train_kernels.h) on the
// rank's CpuStream, so the model runs on that stream's worker thread in stream order and overlaps
// with the communication stream's thread exactly as kernels and copies overlap on a GPU.
#pragma once
#include <memory>

#include "device/cpu_backend.h"
#include "device/cpu_train_kernels.h"
#include "device/model_ops.h"

namespace dpb {

class CpuModelOps final : public ModelOps {
 public:
  explicit CpuModelOps(CpuStream& stream);
  Stream& stream() override { return *stream_; }
  void gemm(DType type, const GemmShape& shape, const void* a, const void* b, void* c) override;
  void bias_activation(DType type, Activation act, void* z, const void* bias, void* a, int rows, int cols) override;
  void activation_backward(DType type, Activation act, void* grad, const void* z, std::size_t count) override;
  void bias_grad(DType type, const void* dz, void* db, int rows, int cols) override;
  void softmax_xent(DType type, const void* logits, const std::int32_t* labels, int rows, int classes,
                    float grad_scale, void* dlogits, float* row_loss) override;
  void check_nonfinite(DType type, const void* data, std::size_t count, float* flag) override;
  void optimizer_step(const OptimizerArgs& args) override;

 private:
  CpuStream* stream_;
  // Touched only by the stream's worker (tasks run one at a time); shared_ptr keeps it alive for
  // tasks still queued if the ops object goes first.
  std::shared_ptr<cpu::GemmScratch> scratch_;
};

}  // namespace dpb
