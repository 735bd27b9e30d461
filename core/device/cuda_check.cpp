#include "device/cuda_check.h"

#include <cstdio>
#include <string>

#include "device/cuda_handles.h"

namespace dpb {
namespace detail {

void throw_cuda_error(cudaError_t status, const char* call, const char* file, int line) {
  // Clear the non-sticky last error so the next check reports its own failure, not this one.
  (void)cudaGetLastError();
  throw DeviceError(call, file, line,
                    std::string(cudaGetErrorName(status)) + ": " + cudaGetErrorString(status));
}

bool warn_cuda_error(cudaError_t status, const char* call, const char* file, int line) noexcept {
  if (status == cudaSuccess) return true;
  (void)cudaGetLastError();
  std::fprintf(stderr, "dpbench: warning: %s failed at %s:%d: %s: %s\n", call, file, line,
               cudaGetErrorName(status), cudaGetErrorString(status));
  return false;
}

}  // namespace detail

CudaDeviceGuard::CudaDeviceGuard(int device) {
  DPB_CUDA_CHECK(cudaGetDevice(&previous_));
  if (previous_ != device) {
    DPB_CUDA_CHECK(cudaSetDevice(device));
    changed_ = true;
  }
}

CudaDeviceGuard::CudaDeviceGuard(int device, const std::nothrow_t&) noexcept {
  if (!DPB_CUDA_WARN(cudaGetDevice(&previous_))) return;
  if (previous_ != device && DPB_CUDA_WARN(cudaSetDevice(device))) changed_ = true;
}

CudaDeviceGuard::~CudaDeviceGuard() {
  if (changed_) DPB_CUDA_WARN(cudaSetDevice(previous_));
}

}  // namespace dpb
