#include "device/cuda_objects.h"

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <cstdio>
#include <string>

#include "device/cuda_check.h"
#include "device/cuda_handles.h"
#include "device/error.h"
#include "device/train_launch.h"

#define DPB_CUBLAS_CHECK(call)                                                                       \
  do {                                                                                               \
    const cublasStatus_t dpb_cublas_status_ = (call);                                                \
    if (dpb_cublas_status_ != CUBLAS_STATUS_SUCCESS) {                                               \
      throw ::dpb::DeviceError(#call, __FILE__, __LINE__,                                            \
                               std::string(cublasGetStatusName(dpb_cublas_status_)) + ": " +        \
                                   cublasGetStatusString(dpb_cublas_status_));                       \
    }                                                                                                \
  } while (0)

namespace dpb {
namespace {

cudaDataType_t cuda_type(DType t) {
  switch (t) {
    case DType::f32: return CUDA_R_32F;
    case DType::f16: return CUDA_R_16F;
    case DType::bf16: return CUDA_R_16BF;
  }
  return CUDA_R_32F;
}

// A cuBLAS handle, move-only, destroyed without throwing.
class CublasHandle {
 public:
  explicit CublasHandle(int device) : device_(device) {
    CudaDeviceGuard guard(device);
    DPB_CUBLAS_CHECK(cublasCreate(&handle_));
  }
  ~CublasHandle() {
    if (!handle_) return;
    try {
      CudaDeviceGuard guard(device_);
      const cublasStatus_t s = cublasDestroy(handle_);
      if (s != CUBLAS_STATUS_SUCCESS) std::fprintf(stderr, "dpbench: warning: cublasDestroy: %s\n", cublasGetStatusString(s));
    } catch (...) {
      std::fprintf(stderr, "dpbench: warning: cublasDestroy: could not select device %d\n", device_);
    }
  }
  CublasHandle(CublasHandle&& o) noexcept : device_(o.device_), handle_(o.handle_) { o.handle_ = nullptr; }
  CublasHandle& operator=(CublasHandle&&) = delete;
  CublasHandle(const CublasHandle&) = delete;
  CublasHandle& operator=(const CublasHandle&) = delete;
  cublasHandle_t get() const { return handle_; }

 private:
  int device_;
  cublasHandle_t handle_ = nullptr;
};

class CudaModelOps final : public ModelOps {
 public:
  explicit CudaModelOps(Stream& stream)
      : stream_(&stream), device_(stream.device()), raw_(cuda_stream_handle(stream)), cublas_(device_) {
    CudaDeviceGuard guard(device_);
    DPB_CUBLAS_CHECK(cublasSetStream(cublas_.get(), raw_));
    // Pure fp32 for fp32 GEMMs (no TF32), so fp32 runs match the cpu backend's sgemm numerics.
    DPB_CUBLAS_CHECK(cublasSetMathMode(cublas_.get(), CUBLAS_DEFAULT_MATH));
  }

  Stream& stream() override { return *stream_; }

  void gemm(DType type, const GemmShape& s, const void* a, const void* b, void* c) override {
    CudaDeviceGuard guard(device_);
    const float alpha = 1.0f, beta = 0.0f;
    // Row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T: swap the operands and the
    // M/N roles; each row-major matrix is its own transpose in column-major view.
    DPB_CUBLAS_CHECK(cublasGemmEx(cublas_.get(), s.trans_b ? CUBLAS_OP_T : CUBLAS_OP_N,
                                  s.trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, s.n, s.m, s.k, &alpha, b, cuda_type(type),
                                  s.ldb, a, cuda_type(type), s.lda, &beta, c, cuda_type(type), s.ldc,
                                  CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
  }

  void bias_activation(DType type, Activation act, void* z, const void* bias, void* a, int rows, int cols) override {
    CudaDeviceGuard guard(device_);
    train_kernels::launch_bias_activation(type, act, z, bias, a, rows, cols, raw_);
  }
  void activation_backward(DType type, Activation act, void* grad, const void* z, std::size_t count) override {
    CudaDeviceGuard guard(device_);
    train_kernels::launch_activation_backward(type, act, grad, z, count, raw_);
  }
  void bias_grad(DType type, const void* dz, void* db, int rows, int cols) override {
    CudaDeviceGuard guard(device_);
    train_kernels::launch_bias_grad(type, dz, db, rows, cols, raw_);
  }
  void softmax_xent(DType type, const void* logits, const std::int32_t* labels, int rows, int classes,
                    float grad_scale, void* dlogits, float* row_loss) override {
    CudaDeviceGuard guard(device_);
    train_kernels::launch_softmax_xent(type, logits, labels, rows, classes, grad_scale, dlogits, row_loss, raw_);
  }
  void check_nonfinite(DType type, const void* data, std::size_t count, float* flag) override {
    CudaDeviceGuard guard(device_);
    train_kernels::launch_check_nonfinite(type, data, count, flag, raw_);
  }
  void optimizer_step(const OptimizerArgs& args) override {
    CudaDeviceGuard guard(device_);
    train_kernels::launch_optimizer(args, raw_);
  }

 private:
  Stream* stream_;
  int device_;
  cudaStream_t raw_;
  CublasHandle cublas_;
};

}  // namespace

std::unique_ptr<ModelOps> make_cuda_model_ops(Stream& stream) { return std::make_unique<CudaModelOps>(stream); }

}  // namespace dpb
