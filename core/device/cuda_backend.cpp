#include "device/cuda_backend.h"

#include <cuda_runtime_api.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "device/cuda_check.h"
#include "device/cuda_handles.h"
#include "device/cuda_shared_memory.h"
#include "device/cuda_signals.h"
#include "device/cuda_stream.h"

namespace dpb {
namespace {

// nvidia-smi's spelling: GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx
std::string format_uuid(const cudaUUID_t& uuid) {
  const auto* b = reinterpret_cast<const unsigned char*>(uuid.bytes);
  char text[64];
  std::snprintf(text, sizeof text,
                "GPU-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2],
                b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
  return text;
}

// An attribute that a driver may not report: empty instead of an error.
std::optional<int> optional_attribute(cudaDeviceAttr attr, int device) {
  int value = 0;
  if (cudaDeviceGetAttribute(&value, attr, device) != cudaSuccess) {
    (void)cudaGetLastError();
    return std::nullopt;
  }
  return value;
}

class CudaBackend final : public Backend {
 public:
  CudaBackend() {
    device_count_ = visible_cuda_devices();
    if (device_count_ == 0) throw std::invalid_argument("the cuda backend needs a visible CUDA device; none is");
    sm_counts_.resize(static_cast<std::size_t>(device_count_));
    signals_refusals_.resize(static_cast<std::size_t>(device_count_));
    for (int d = 0; d < device_count_; ++d) {
      DPB_CUDA_CHECK(cudaDeviceGetAttribute(&sm_counts_[static_cast<std::size_t>(d)],
                                            cudaDevAttrMultiProcessorCount, d));
      // Asked once: a device that cannot run stream memory operations refuses signals with one
      // line naming it and the attribute (cuda_signals.h), before anything waits on them.
      signals_refusals_[static_cast<std::size_t>(d)] = cuda_signals_unsupported(d);
      if (auto why = cuda_sharing_unsupported(d)) sharing_refusal_ = sharing_refusal_.value_or(*why);
    }
  }

  BackendKind kind() const override { return BackendKind::cuda; }
  int device_count() const override { return device_count_; }

  DeviceProperties properties(int device) const override {
    check_device(device);
    cudaDeviceProp prop{};
    DPB_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
    DeviceProperties p;
    p.index = device;
    p.name = prop.name;
    p.simulated = false;
    p.memory_bytes = prop.totalGlobalMem;
    p.uuid = format_uuid(prop.uuid);
    char bus_id[64] = {};
    if (cudaDeviceGetPCIBusId(bus_id, static_cast<int>(sizeof bus_id), device) == cudaSuccess) {
      p.pci_bus_id = std::string(bus_id);
    } else {
      (void)cudaGetLastError();
    }
    p.sm_count = prop.multiProcessorCount;
    p.compute_capability = std::to_string(prop.major) + "." + std::to_string(prop.minor);
    // CUDA 13 dropped the clock fields from cudaDeviceProp; the attributes remain (kHz).
    if (auto khz = optional_attribute(cudaDevAttrClockRate, device); khz && *khz > 0) p.clock_mhz = *khz / 1000.0;
    if (auto khz = optional_attribute(cudaDevAttrMemoryClockRate, device); khz && *khz > 0) {
      p.memory_clock_mhz = *khz / 1000.0;
    }
    if (auto ecc = optional_attribute(cudaDevAttrEccEnabled, device)) p.ecc_enabled = *ecc != 0;
    return p;
  }

  DeviceBuffer allocate_pinned(std::size_t bytes) override {
    if (bytes == 0) return DeviceBuffer(nullptr, 0, -1, nullptr);
    void* p = nullptr;
    DPB_CUDA_CHECK(cudaHostAlloc(&p, bytes, cudaHostAllocPortable));
    return DeviceBuffer(p, bytes, -1, [](void* ptr) { DPB_CUDA_WARN(cudaFreeHost(ptr)); });
  }

  DeviceBuffer allocate(int device, std::size_t bytes) override {
    check_device(device);
    if (bytes == 0) return DeviceBuffer(nullptr, 0, device, nullptr);
    CudaDeviceGuard guard(device);
    void* p = nullptr;
    const cudaError_t status = cudaMalloc(&p, bytes);
    if (status != cudaSuccess) {
      (void)cudaGetLastError();
      throw DeviceError("cudaMalloc", __FILE__, __LINE__,
                        std::string(cudaGetErrorString(status)) + " (" + std::to_string(bytes) +
                            " bytes on cuda device " + std::to_string(device) + ")");
    }
    return DeviceBuffer(p, bytes, device, [device](void* ptr) {
      CudaDeviceGuard free_guard(device, std::nothrow);
      DPB_CUDA_WARN(cudaFree(ptr));
    });
  }

  std::unique_ptr<Stream> make_stream(int device) override {
    check_device(device);
    const auto d = static_cast<std::size_t>(device);
    return std::make_unique<CudaStream>(device, sm_counts_[d], signals_refusals_[d]);
  }

  std::unique_ptr<Event> make_event(int device, bool timing) override {
    check_device(device);
    return std::make_unique<CudaEvent>(device, timing);
  }

  std::unique_ptr<SignalSet> make_signals(std::size_t count) override {
    return std::make_unique<CudaSignalSet>(count);
  }

  // Process per rank on one node (cuda_shared_memory.h): CUDA IPC for buffers, registered POSIX
  // shared memory for signals, when every device has what both need.
  bool can_share_between_processes() const override { return !sharing_refusal_.has_value(); }

  SharedBuffer allocate_shared(int device, std::size_t bytes) override {
    if (device != kSharedHost) check_device(device);
    // pid, then this backend (several backends of one process must not collide), then a serial.
    const std::string segment = "/dpbench-cuda-" + std::to_string(::getpid()) + "-" +
                                std::to_string(reinterpret_cast<std::uintptr_t>(this) % 1000003) + "-" +
                                std::to_string(shared_serial_.fetch_add(1));
    return cuda_allocate_shared(device, bytes, segment);
  }

  DeviceBuffer open_shared(int device, const std::string& handle, std::size_t bytes) override {
    if (device != kSharedHost) check_device(device);
    return cuda_open_shared(device, handle, bytes);
  }

  void seal_shared(const std::string& handle) override { cuda_seal_shared(handle); }

  std::unique_ptr<SignalSet> make_signals_in(void* memory, std::size_t count) override {
    return std::make_unique<CudaSignalSet>(memory, count);
  }

  // CUDA's limit is not queryable and about 1,000 (FACTS.md); stay a little under it.
  std::size_t stream_queue_depth() const override { return 960; }

  bool can_access_peer(int device, int peer) const override {
    check_device(device);
    check_device(peer);
    if (device == peer) return true;
    int can = 0;
    DPB_CUDA_CHECK(cudaDeviceCanAccessPeer(&can, device, peer));
    return can != 0;
  }

  void enable_peer_access(int device, int peer) override {
    if (device == peer) {
      check_device(device);
      return;
    }
    if (!can_access_peer(device, peer)) {
      throw std::invalid_argument("peer access from cuda device " + std::to_string(device) + " to device " +
                                  std::to_string(peer) + " is not supported by this system");
    }
    std::lock_guard lock(peer_mutex_);
    if (peer_enabled_.count({device, peer})) return;
    CudaDeviceGuard guard(device);
    const cudaError_t status = cudaDeviceEnablePeerAccess(peer, 0);
    // Someone else in this process (NCCL, an earlier backend) may have enabled it already.
    if (status == cudaErrorPeerAccessAlreadyEnabled) {
      (void)cudaGetLastError();
    } else {
      DPB_CUDA_CHECK(status);
    }
    peer_enabled_.insert({device, peer});
  }

  void disable_peer_access(int device, int peer) override {
    check_device(device);
    check_device(peer);
    if (device == peer) return;
    std::lock_guard lock(peer_mutex_);
    CudaDeviceGuard guard(device);
    // Peer access is process-wide state; it may have been enabled outside this backend, so try
    // even when not tracked here and accept "not enabled".
    const cudaError_t status = cudaDeviceDisablePeerAccess(peer);
    if (status == cudaErrorPeerAccessNotEnabled) {
      (void)cudaGetLastError();
    } else {
      DPB_CUDA_CHECK(status);
    }
    peer_enabled_.erase({device, peer});
  }

 private:
  int device_count_ = 0;
  std::vector<int> sm_counts_;
  std::vector<std::optional<std::string>> signals_refusals_;  // by device (cuda_signals_unsupported)
  std::optional<std::string> sharing_refusal_;                // the first device's (cuda_sharing_unsupported)
  std::atomic<std::uint64_t> shared_serial_{0};
  std::mutex peer_mutex_;
  std::set<std::pair<int, int>> peer_enabled_;
};

}  // namespace

std::unique_ptr<Backend> make_cuda_backend() { return std::make_unique<CudaBackend>(); }

int visible_cuda_devices() {
  // Ranks order each other's streams with stream memory operations (cuda_signals.h), which CUDA
  // does not see as dependencies: with more streams than hardware queues, the scheduler may put a
  // waiting stream and the stream that would release it in one queue, and they deadlock (the
  // warning in the driver API's Stream Memory Operations section). The default of 8 queues is fewer
  // than 4 ranks on one GPU use (compute, communication, timing); 32 is the most CUDA allows. Set
  // before the first CUDA call (read when a context is made), never over a value the user chose.
  ::setenv("CUDA_DEVICE_MAX_CONNECTIONS", "32", /*overwrite=*/0);
  int count = 0;
  // No driver, an old driver or no GPU all mean "no CUDA devices" here, never a crash (FACTS.md).
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    (void)cudaGetLastError();
    return 0;
  }
  return count;
}

}  // namespace dpb
