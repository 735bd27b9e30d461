// Checking macros for NCCL calls. DPB_NCCL_CHECK throws dpb::DeviceError naming the call, file,
// line, ncclGetErrorString and ncclGetLastError; DPB_NCCL_WARN logs to stderr and never throws
// (destructors, cleanup). Only include this from the CUDA-only files (core/CMakeLists.txt, DPBENCH_CORE_CUDA).
#pragma once
#include <nccl.h>

#include "device/error.h"

namespace dpb::detail {

[[noreturn]] void throw_nccl_error(ncclResult_t status, const char* call, const char* file, int line);
bool warn_nccl_error(ncclResult_t status, const char* call, const char* file, int line) noexcept;

}  // namespace dpb::detail

#define DPB_NCCL_CHECK(call)                                                        \
  do {                                                                              \
    const ncclResult_t dpb_nccl_status_ = (call);                                   \
    if (dpb_nccl_status_ != ncclSuccess) {                                          \
      ::dpb::detail::throw_nccl_error(dpb_nccl_status_, #call, __FILE__, __LINE__); \
    }                                                                               \
  } while (0)

#define DPB_NCCL_WARN(call) ::dpb::detail::warn_nccl_error((call), #call, __FILE__, __LINE__)
