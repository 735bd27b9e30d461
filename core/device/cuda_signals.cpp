#include "device/cuda_signals.h"

#include <cuda.h>

#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>

#include "device/cuda_check.h"
#include "device/cuda_handles.h"

namespace dpb {
namespace {

using WriteValue64 = CUresult (*)(CUstream, CUdeviceptr, cuuint64_t, unsigned int);
using WaitValue64 = CUresult (*)(CUstream, CUdeviceptr, cuuint64_t, unsigned int);
using DeviceGet = CUresult (*)(CUdevice*, int);
using DeviceGetAttribute = CUresult (*)(int*, CUdevice_attribute, CUdevice);

struct DriverCalls {
  WriteValue64 write = nullptr;
  WaitValue64 wait = nullptr;
  DeviceGet device_get = nullptr;
  DeviceGetAttribute attribute = nullptr;
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
const DriverCalls& driver() {
  static const DriverCalls calls = [] {
    DriverCalls c;
    c.write = reinterpret_cast<WriteValue64>(driver_entry("cuStreamWriteValue64"));
    c.wait = reinterpret_cast<WaitValue64>(driver_entry("cuStreamWaitValue64"));
    c.device_get = reinterpret_cast<DeviceGet>(driver_entry("cuDeviceGet"));
    c.attribute = reinterpret_cast<DeviceGetAttribute>(driver_entry("cuDeviceGetAttribute"));
    return c;
  }();
  return calls;
}

void check_driver(CUresult status, const char* call, const char* file, int line) {
  if (status == CUDA_SUCCESS) return;
  throw DeviceError(call, file, line, "CUresult " + std::to_string(static_cast<int>(status)));
}

std::string device_label(int device) {
  cudaDeviceProp prop{};
  std::string name;
  if (cudaGetDeviceProperties(&prop, device) == cudaSuccess) {
    name = std::string(" (") + prop.name + ")";
  } else {
    (void)cudaGetLastError();
  }
  return "cuda device " + std::to_string(device) + name;
}

int device_count() {
  int n = 0;
  DPB_CUDA_CHECK(cudaGetDeviceCount(&n));
  return n;
}

}  // namespace

std::optional<std::string> cuda_signals_unsupported(int device) {
  const char* lacking = nullptr;
  int mem_ops = 0;
  try {
    // The runtime has no name for attribute 122 (cudaDevAttrReserved122): ask the driver.
    CUdevice dev = 0;
    check_driver(driver().device_get(&dev, device), "cuDeviceGet", __FILE__, __LINE__);
    check_driver(driver().attribute(&mem_ops, CU_DEVICE_ATTRIBUTE_CAN_USE_64_BIT_STREAM_MEM_OPS, dev),
                 "cuDeviceGetAttribute", __FILE__, __LINE__);
  } catch (const DeviceError& e) {
    // An old driver: the rest of the backend still works, signals are refused with the reason.
    return device_label(device) + ": CU_DEVICE_ATTRIBUTE_CAN_USE_64_BIT_STREAM_MEM_OPS could not be read (" +
           e.what() + "); dpbench's stream signals (p2p-*) cannot run on it";
  }
  int map_host = 0;
  DPB_CUDA_CHECK(cudaDeviceGetAttribute(&map_host, cudaDevAttrCanMapHostMemory, device));
  if (mem_ops == 0) {
    lacking = "CU_DEVICE_ATTRIBUTE_CAN_USE_64_BIT_STREAM_MEM_OPS is 0 (no cuStreamWriteValue64/cuStreamWaitValue64)";
  } else if (map_host == 0) {
    lacking = "cudaDevAttrCanMapHostMemory is 0 (it cannot map the host memory the signal words live in)";
  }
  if (!lacking) return std::nullopt;
  return device_label(device) + ": " + lacking + "; dpbench's stream signals (the p2p-* schedules and the "
         "single-thread launch's common start) cannot run on it: use nccl-* with a thread per rank there";
}

CudaSignalSet::CudaSignalSet(std::size_t count) : count_(count), owned_(true) {
  void* host = nullptr;
  const std::size_t bytes = (count == 0 ? 1 : count) * sizeof(std::uint64_t);
  DPB_CUDA_CHECK(cudaHostAlloc(&host, bytes, cudaHostAllocMapped | cudaHostAllocPortable));
  host_ = static_cast<volatile std::uint64_t*>(host);
  for (std::size_t i = 0; i < count_; ++i) host_[i] = 0;
  try {
    map_devices();
  } catch (...) {
    DPB_CUDA_WARN(cudaFreeHost(host));
    throw;
  }
}

CudaSignalSet::CudaSignalSet(void* memory, std::size_t count) : count_(count), owned_(false) {
  if (reinterpret_cast<std::uintptr_t>(memory) % alignof(std::uint64_t) != 0) {
    throw std::invalid_argument("make_signals_in: memory is not 8-byte aligned");
  }
  host_ = static_cast<volatile std::uint64_t*>(memory);
  map_devices();
}

void CudaSignalSet::map_devices() {
  const int n = device_count();
  device_base_.assign(static_cast<std::size_t>(n), 0);
  for (int d = 0; d < n; ++d) {
    int map_host = 0;
    DPB_CUDA_CHECK(cudaDeviceGetAttribute(&map_host, cudaDevAttrCanMapHostMemory, d));
    if (map_host == 0) continue;  // refused when a stream of d uses the set (cuda_signals_unsupported)
    CudaDeviceGuard guard(d);
    void* device = nullptr;
    DPB_CUDA_CHECK(cudaHostGetDevicePointer(&device, const_cast<std::uint64_t*>(host_), 0));
    device_base_[static_cast<std::size_t>(d)] = reinterpret_cast<std::uint64_t>(device);
  }
}

CudaSignalSet::~CudaSignalSet() {
  if (owned_ && host_) DPB_CUDA_WARN(cudaFreeHost(const_cast<std::uint64_t*>(host_)));
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

std::uint64_t CudaSignalSet::device_address(int device, std::size_t index) const {
  if (index >= count_) throw std::out_of_range("CudaSignalSet: slot out of range");
  if (device < 0 || static_cast<std::size_t>(device) >= device_base_.size() ||
      device_base_[static_cast<std::size_t>(device)] == 0) {
    throw std::invalid_argument(cuda_signals_unsupported(device).value_or(
        "cuda device " + std::to_string(device) + " has no mapping of these signal words"));
  }
  return device_base_[static_cast<std::size_t>(device)] + index * sizeof(std::uint64_t);
}

void cuda_write_signal(cudaStream_t stream, int device, const CudaSignalSet& set, std::size_t index,
                       std::uint64_t value) {
  // The default flags order the write after all earlier work of the stream, with a memory fence,
  // so data written by earlier copies and kernels is visible to whoever sees the value.
  check_driver(driver().write(reinterpret_cast<CUstream>(stream), set.device_address(device, index), value,
                              CU_STREAM_WRITE_VALUE_DEFAULT),
               "cuStreamWriteValue64", __FILE__, __LINE__);
}

void cuda_wait_signal(cudaStream_t stream, int device, const CudaSignalSet& set, std::size_t index,
                      std::uint64_t value) {
  // No CU_STREAM_WAIT_VALUE_FLUSH: not every device supports it, and the writer's fenced write
  // comes after its copies completed, so the data is in place before the value is.
  check_driver(driver().wait(reinterpret_cast<CUstream>(stream), set.device_address(device, index), value,
                             CU_STREAM_WAIT_VALUE_GEQ),
               "cuStreamWaitValue64", __FILE__, __LINE__);
}

}  // namespace dpb
