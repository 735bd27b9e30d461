#include "device/cuda_shared_memory.h"

#include <cuda_runtime_api.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <new>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "device/cuda_check.h"
#include "device/cuda_handles.h"
#include "device/cuda_signals.h"
#include "device/posix_shm.h"

namespace dpb {

namespace {

constexpr std::string_view kIpc = "ipc:";
constexpr std::string_view kShm = "shm:";

std::size_t page_rounded(std::size_t bytes) {
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  const std::size_t n = bytes == 0 ? 1 : bytes;
  return (n + page - 1) / page * page;
}

std::string to_hex(const void* data, std::size_t n) {
  static constexpr char digits[] = "0123456789abcdef";
  const auto* b = static_cast<const unsigned char*>(data);
  std::string s;
  for (std::size_t i = 0; i < n; ++i) {
    s += digits[b[i] >> 4];
    s += digits[b[i] & 15];
  }
  return s;
}

void from_hex(const std::string& hex, void* out, std::size_t n, const std::string& handle) {
  if (hex.size() != 2 * n) throw std::invalid_argument("open_shared: malformed CUDA IPC handle '" + handle + "'");
  auto* b = static_cast<unsigned char*>(out);
  const auto nibble = [&](char c) -> unsigned {
    if (c >= '0' && c <= '9') return static_cast<unsigned>(c - '0');
    if (c >= 'a' && c <= 'f') return static_cast<unsigned>(c - 'a' + 10);
    throw std::invalid_argument("open_shared: malformed CUDA IPC handle '" + handle + "'");
  };
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<unsigned char>(nibble(hex[2 * i]) << 4 | nibble(hex[2 * i + 1]));
}

// ---- host memory: POSIX shared memory registered with CUDA --------------------------------------

// Maps and registers `name`; the DeviceBuffer unregisters and unmaps (device() is kSharedHost).
DeviceBuffer registered_host_segment(const std::string& name, std::size_t bytes, bool create) {
  const std::size_t size = page_rounded(bytes);
  void* p = map_shm_segment(name, size, create);
  // Mapped: a device address for the streams' memory operations; portable: for every device.
  const cudaError_t status = cudaHostRegister(p, size, cudaHostRegisterMapped | cudaHostRegisterPortable);
  if (status != cudaSuccess) {
    (void)cudaGetLastError();
    ::munmap(p, size);
    if (create) ::shm_unlink(name.c_str());
    throw DeviceError("cudaHostRegister", __FILE__, __LINE__,
                      std::string(cudaGetErrorString(status)) + " (shared memory " + name + ", " +
                          std::to_string(size) + " bytes)");
  }
  return DeviceBuffer(p, bytes, Backend::kSharedHost, [size](void* q) {
    DPB_CUDA_WARN(cudaHostUnregister(q));
    ::munmap(q, size);
  });
}

// ---- device memory: CUDA IPC --------------------------------------------------------------------

Backend::SharedBuffer exported_device_buffer(int device, std::size_t bytes) {
  CudaDeviceGuard guard(device);
  void* p = nullptr;
  const cudaError_t status = cudaMalloc(&p, bytes == 0 ? 1 : bytes);
  if (status != cudaSuccess) {
    (void)cudaGetLastError();
    throw DeviceError("cudaMalloc", __FILE__, __LINE__,
                      std::string(cudaGetErrorString(status)) + " (" + std::to_string(bytes) +
                          " bytes of shared staging on cuda device " + std::to_string(device) + ")");
  }
  DeviceBuffer buffer(p, bytes, device, [device](void* q) {
    CudaDeviceGuard free_guard(device, std::nothrow);
    DPB_CUDA_WARN(cudaFree(q));
  });
  cudaIpcMemHandle_t handle{};
  DPB_CUDA_CHECK(cudaIpcGetMemHandle(&handle, p));
  return {std::move(buffer), std::string(kIpc) + std::to_string(::getpid()) + ":" + to_hex(&handle, sizeof handle)};
}

DeviceBuffer opened_device_buffer(int device, const std::string& handle, std::size_t bytes) {
  const std::string rest = handle.substr(kIpc.size());
  const std::size_t colon = rest.find(':');
  if (colon == std::string::npos) throw std::invalid_argument("open_shared: malformed CUDA IPC handle '" + handle + "'");
  if (rest.substr(0, colon) == std::to_string(::getpid())) {
    throw std::invalid_argument("open_shared: a CUDA IPC handle cannot be opened in the process that exported it "
                                "(cudaIpcOpenMemHandle refuses); the exporter uses its own buffer");
  }
  cudaIpcMemHandle_t ipc{};
  from_hex(rest.substr(colon + 1), &ipc, sizeof ipc, handle);
  CudaDeviceGuard guard(device);
  void* p = nullptr;
  // Lazy peer access: the mapping enables access from this device to the exporter's on first use.
  const cudaError_t status = cudaIpcOpenMemHandle(&p, ipc, cudaIpcMemLazyEnablePeerAccess);
  if (status != cudaSuccess) {
    (void)cudaGetLastError();
    throw DeviceError("cudaIpcOpenMemHandle", __FILE__, __LINE__,
                      std::string(cudaGetErrorString(status)) + " (a peer process's buffer of " +
                          std::to_string(bytes) + " bytes, opened on cuda device " + std::to_string(device) +
                          "; CUDA IPC needs both GPUs visible to this process and peer access between them)");
  }
  return DeviceBuffer(p, bytes, device, [device](void* q) {
    CudaDeviceGuard close_guard(device, std::nothrow);
    DPB_CUDA_WARN(cudaIpcCloseMemHandle(q));
  });
}

bool starts_with(const std::string& s, std::string_view prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

}  // namespace

std::optional<std::string> cuda_sharing_unsupported(int device) {
  const auto attribute = [device](cudaDeviceAttr attr) {
    int value = 0;
    DPB_CUDA_CHECK(cudaDeviceGetAttribute(&value, attr, device));
    return value != 0;
  };
  const std::string who = "cuda device " + std::to_string(device);
  // CUDA IPC works only between devices with unified addressing (runtime API, Interprocess
  // Communication); the signals live in registered host memory.
  if (!attribute(cudaDevAttrUnifiedAddressing)) return who + ": cudaDevAttrUnifiedAddressing is 0 (CUDA IPC needs it)";
  if (!attribute(cudaDevAttrHostRegisterSupported)) {
    return who + ": cudaDevAttrHostRegisterSupported is 0 (the shared signals need cudaHostRegister)";
  }
  return cuda_signals_unsupported(device);
}

Backend::SharedBuffer cuda_allocate_shared(int device, std::size_t bytes, const std::string& host_segment) {
  if (device == Backend::kSharedHost) {
    return {registered_host_segment(host_segment, bytes, true), std::string(kShm) + host_segment};
  }
  return exported_device_buffer(device, bytes);
}

DeviceBuffer cuda_open_shared(int device, const std::string& handle, std::size_t bytes) {
  if (starts_with(handle, kShm)) {
    if (device != Backend::kSharedHost) {
      throw std::invalid_argument("open_shared: '" + handle + "' is host memory; open it with Backend::kSharedHost");
    }
    return registered_host_segment(handle.substr(kShm.size()), bytes, false);
  }
  if (!starts_with(handle, kIpc)) throw std::invalid_argument("open_shared: not a cuda handle: '" + handle + "'");
  if (device == Backend::kSharedHost) {
    throw std::invalid_argument("open_shared: '" + handle.substr(0, 16) + "...' is device memory; open it on a device");
  }
  return opened_device_buffer(device, handle, bytes);
}

void cuda_seal_shared(const std::string& handle) {
  if (!starts_with(handle, kShm)) return;  // CUDA IPC handles name nothing that could outlive the job
  const std::string name = handle.substr(kShm.size());
  unlink_shm_segment(name);
}

}  // namespace dpb
