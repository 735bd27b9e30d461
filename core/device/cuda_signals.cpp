#include "device/cuda_signals.h"

#include <cuda.h>

#include <mutex>
#include <stdexcept>
#include <string>

#include "device/cuda_check.h"

namespace dpb {
namespace {

using WriteValue64 = CUresult (*)(CUstream, CUdeviceptr, cuuint64_t, unsigned int);
using WaitValue64 = CUresult (*)(CUstream, CUdeviceptr, cuuint64_t, unsigned int);

struct StreamMemOps {
  WriteValue64 write = nullptr;
  WaitValue64 wait = nullptr;
};

void* driver_entry(const char* symbol) {
  void* fn = nullptr;
  cudaDriverEntryPointQueryResult found{};
  DPB_CUDA_CHECK(cudaGetDriverEntryPointByVersion(symbol, &fn, 12000, cudaEnableDefault, &found));
  if (found != cudaDriverEntryPointSuccess || !fn) {
    throw DeviceError("cudaGetDriverEntryPointByVersion", __FILE__, __LINE__,
                      std::string("the driver has no ") + symbol + " (stream memory operations need CUDA >= 12)");
  }
  return fn;
}

// Looked up once per process: the entry points are properties of the loaded driver, not run state.
const StreamMemOps& stream_mem_ops() {
  static const StreamMemOps ops = [] {
    StreamMemOps o;
    o.write = reinterpret_cast<WriteValue64>(driver_entry("cuStreamWriteValue64"));
    o.wait = reinterpret_cast<WaitValue64>(driver_entry("cuStreamWaitValue64"));
    return o;
  }();
  return ops;
}

void check_driver(CUresult status, const char* call, const char* file, int line) {
  if (status == CUDA_SUCCESS) return;
  throw DeviceError(call, file, line, "CUresult " + std::to_string(static_cast<int>(status)));
}

}  // namespace

CudaSignalSet::CudaSignalSet(std::size_t count) : count_(count) {
  void* host = nullptr;
  const std::size_t bytes = (count == 0 ? 1 : count) * sizeof(std::uint64_t);
  DPB_CUDA_CHECK(cudaHostAlloc(&host, bytes, cudaHostAllocMapped | cudaHostAllocPortable));
  host_ = static_cast<volatile std::uint64_t*>(host);
  for (std::size_t i = 0; i < count_; ++i) host_[i] = 0;
  void* device = nullptr;
  DPB_CUDA_CHECK(cudaHostGetDevicePointer(&device, host, 0));
  device_base_ = reinterpret_cast<std::uint64_t>(device);
}

CudaSignalSet::~CudaSignalSet() {
  if (host_) DPB_CUDA_WARN(cudaFreeHost(const_cast<std::uint64_t*>(host_)));
}

std::uint64_t CudaSignalSet::load(std::size_t index) const {
  if (index >= count_) throw std::out_of_range("CudaSignalSet::load: slot out of range");
  return host_[index];
}

void CudaSignalSet::reset() {
  for (std::size_t i = 0; i < count_; ++i) host_[i] = 0;
}

void CudaSignalSet::release_all() {
  for (std::size_t i = 0; i < count_; ++i) host_[i] = std::uint64_t{1} << 62;
}

std::uint64_t CudaSignalSet::device_address(std::size_t index) const {
  if (index >= count_) throw std::out_of_range("CudaSignalSet: slot out of range");
  return device_base_ + index * sizeof(std::uint64_t);
}

void cuda_write_signal(cudaStream_t stream, const CudaSignalSet& set, std::size_t index, std::uint64_t value) {
  // The default flags order the write after all earlier work of the stream, with a memory fence,
  // so data written by earlier copies and kernels is visible to whoever sees the value.
  check_driver(stream_mem_ops().write(reinterpret_cast<CUstream>(stream), set.device_address(index), value,
                                      CU_STREAM_WRITE_VALUE_DEFAULT),
               "cuStreamWriteValue64", __FILE__, __LINE__);
}

void cuda_wait_signal(cudaStream_t stream, const CudaSignalSet& set, std::size_t index, std::uint64_t value) {
  // No CU_STREAM_WAIT_VALUE_FLUSH: not every device supports it, and the writer's fenced write
  // comes after its copies completed, so the data is in place before the value is.
  check_driver(stream_mem_ops().wait(reinterpret_cast<CUstream>(stream), set.device_address(index), value,
                                     CU_STREAM_WAIT_VALUE_GEQ),
               "cuStreamWaitValue64", __FILE__, __LINE__);
}

}  // namespace dpb
