// Checking macros for CUDA runtime calls, shared by every cuda_*.cpp / nccl_*.cpp / *.cu file.
// DPB_CUDA_CHECK throws dpb::DeviceError naming the call, file, line and cudaGetErrorString text;
// DPB_CUDA_WARN is for destructors and cleanup paths: it logs to stderr and never throws.
// Only include this from files compiled with CUDA (DPBENCH_HAVE_CUDA).
#pragma once
#include <cuda_runtime_api.h>

#include <string>

#include "device/error.h"

namespace dpb::detail {

// Throws DeviceError for a failed CUDA call; clears the sticky "last error" so later calls do not
// report a stale failure.
[[noreturn]] void throw_cuda_error(cudaError_t status, const char* call, const char* file, int line);
// Logs a failed CUDA call to stderr; returns false when it failed.
bool warn_cuda_error(cudaError_t status, const char* call, const char* file, int line) noexcept;

}  // namespace dpb::detail

#define DPB_CUDA_CHECK(call)                                                 \
  do {                                                                       \
    const cudaError_t dpb_cuda_status_ = (call);                             \
    if (dpb_cuda_status_ != cudaSuccess) {                                   \
      ::dpb::detail::throw_cuda_error(dpb_cuda_status_, #call, __FILE__, __LINE__); \
    }                                                                        \
  } while (0)

// Evaluates to true on success, false (after logging) on failure. Never throws.
#define DPB_CUDA_WARN(call) ::dpb::detail::warn_cuda_error((call), #call, __FILE__, __LINE__)
