// Native CUDA handles behind the backend-agnostic Stream/Event (core/device/backend.h), for code
// that calls CUDA libraries directly (NCCL collectives, cuBLAS GEMMs, CUDA-graph capture).
// Only include this from files compiled with CUDA (DPBENCH_HAVE_CUDA).
#pragma once
#include <cuda_runtime_api.h>

#include <new>

#include "device/backend.h"

namespace dpb {

// The cudaStream_t of a stream made by the cuda backend. Throws std::invalid_argument when `stream`
// belongs to another backend. The stream remains owned by `stream`.
cudaStream_t cuda_stream_handle(Stream& stream);

// The cudaEvent_t of an event made by the cuda backend. Throws std::invalid_argument when `event`
// belongs to another backend. The event remains owned by `event`.
cudaEvent_t cuda_event_handle(Event& event);

// Sets the current device for the lifetime of the guard and restores the previous one on exit,
// so backend calls never leak a cudaSetDevice into the caller's thread state.
class CudaDeviceGuard {
 public:
  // Throws DeviceError when the device cannot be made current.
  explicit CudaDeviceGuard(int device);
  // For destructors and cleanup paths: logs failures to stderr instead of throwing.
  CudaDeviceGuard(int device, const std::nothrow_t&) noexcept;
  ~CudaDeviceGuard();
  CudaDeviceGuard(const CudaDeviceGuard&) = delete;
  CudaDeviceGuard& operator=(const CudaDeviceGuard&) = delete;

 private:
  int previous_ = -1;
  bool changed_ = false;
};

}  // namespace dpb
