// Run-time CUDA and NCCL versions (CUDA builds only; no_cuda_system_info.cpp stands in without CUDA).
#include <cuda_runtime_api.h>
#include <nccl.h>

#include "system/system_info.h"

namespace dpb {

RuntimeVersions read_runtime_versions() {
  RuntimeVersions v;
  int driver = 0, runtime = 0, nccl = 0;
  // A machine without a driver reports 0 or an error here: "absent", never an exception.
  if (cudaDriverGetVersion(&driver) == cudaSuccess && driver > 0) v.cuda_driver = format_cuda_version(driver);
  if (cudaRuntimeGetVersion(&runtime) == cudaSuccess && runtime > 0) v.cuda_runtime = format_cuda_version(runtime);
  if (ncclGetVersion(&nccl) == ncclSuccess && nccl > 0) v.nccl = format_nccl_version(nccl);
  return v;
}

}  // namespace dpb
