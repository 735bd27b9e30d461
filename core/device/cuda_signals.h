// The cuda backend's signal slots (backend.h, SignalSet): 64-bit words in pinned host memory mapped
// into every device's address space, written and polled by stream memory operations.
//
// Why host-mapped memory: every device can reach it whether or not peer access is enabled between
// a pair (a GPU's own memory is visible to another only with peer access), so one design serves
// NVLink, PCIe and several ranks on one GPU. The cost is a poll over the bus instead of in local
// memory (about a microsecond); flags in the waiter's device memory are the next step once peer
// access is known to be on for every pair.
//
// Why stream memory operations (cuStreamWriteValue64 / cuStreamWaitValue64 with GEQ) and not
// events: a wait names the value it needs, so ranks can enqueue from different threads in any
// order, and both can be captured into CUDA graphs (CUDA >= 11.7). The driver functions come from
// cudaGetDriverEntryPointByVersion, so the program links against the runtime only. The driver
// warns that such ordering is invisible to its scheduler, which may serialise a waiting stream and
// its releaser into one hardware queue: visible_cuda_devices() raises CUDA_DEVICE_MAX_CONNECTIONS
// to 32 before CUDA starts, so the streams of up to 8 ranks on one GPU get queues of their own.
// Only compiled with CUDA.
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

#include "device/backend.h"

namespace dpb {

class CudaSignalSet final : public SignalSet {
 public:
  explicit CudaSignalSet(std::size_t count);
  ~CudaSignalSet() override;
  CudaSignalSet(const CudaSignalSet&) = delete;
  CudaSignalSet& operator=(const CudaSignalSet&) = delete;

  std::size_t size() const override { return count_; }
  std::uint64_t load(std::size_t index) const override;
  void reset() override;
  // Host stores of 2^62: above any generation, and satisfied under the driver's cyclic GEQ.
  void release_all() override;
  // The device address of slot `index` (the same on every device: mapped, portable memory).
  std::uint64_t device_address(std::size_t index) const;

 private:
  std::size_t count_;
  volatile std::uint64_t* host_ = nullptr;
  std::uint64_t device_base_ = 0;
};

// Enqueue a 64-bit write / a wait for >= value on `stream` (the calling thread's current device
// need not be the stream's). Throw DeviceError naming the driver call when it fails.
void cuda_write_signal(cudaStream_t stream, const CudaSignalSet& set, std::size_t index, std::uint64_t value);
void cuda_wait_signal(cudaStream_t stream, const CudaSignalSet& set, std::size_t index, std::uint64_t value);

}  // namespace dpb
