// The cuda backend's signal slots (backend.h, SignalSet): 64-bit words in pinned host memory mapped
// into every device's address space, written and polled by stream memory operations.
//
// Why host-mapped memory: every device can reach it whether or not peer access is enabled between
// a pair (a GPU's own memory is visible to another only with peer access), so one design serves
// NVLink, PCIe, several ranks on one GPU and, in POSIX shared memory registered with every
// process's CUDA (cuda_shared_memory.cpp), several processes. The cost is a poll over the bus
// instead of in local memory (about a microsecond); flags in the waiter's device memory are the
// next step once peer access is known to be on for every pair.
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
#include <optional>
#include <string>
#include <vector>

#include "device/backend.h"

namespace dpb {

// Why signals cannot be written or waited on by streams of cuda device `device`, as one line
// naming the device and the attribute it lacks; empty when they can. Stream memory operations on
// mapped host memory need CU_DEVICE_ATTRIBUTE_CAN_USE_64_BIT_STREAM_MEM_OPS (cuStreamWriteValue64 /
// cuStreamWaitValue64; since CUDA 12 the "v2" operations need no NVreg_EnableStreamMemOPs module
// option, only this attribute) and cudaDevAttrCanMapHostMemory (a device address for the host
// words). No fallback: events would need the host to order every wait after its write, which is
// what signals exist to avoid (ranks enqueue independently), so an unsupported device is refused.
std::optional<std::string> cuda_signals_unsupported(int device);

class CudaSignalSet final : public SignalSet {
 public:
  // `count` zeroed slots in pinned host memory of its own (cudaHostAlloc, mapped and portable).
  explicit CudaSignalSet(std::size_t count);
  // `count` slots in `memory`, which stays owned by the caller: host memory already registered
  // with cudaHostRegister(mapped | portable) (Backend::make_signals_in; shared between processes).
  CudaSignalSet(void* memory, std::size_t count);
  ~CudaSignalSet() override;
  CudaSignalSet(const CudaSignalSet&) = delete;
  CudaSignalSet& operator=(const CudaSignalSet&) = delete;

  std::size_t size() const override { return count_; }
  std::uint64_t load(std::size_t index) const override;
  void reset() override;
  // Host stores of 2^62: above any generation, and satisfied under the driver's cyclic GEQ.
  void release_all() override;
  // The address of slot `index` for streams of `device`. Each device has its own mapping of the
  // host words (cudaHostGetDevicePointer per device): with unified addressing they coincide, but
  // registered memory is only guaranteed to where CanUseHostPointerForRegisteredMem holds.
  // Throws std::invalid_argument when the device has no mapping (cuda_signals_unsupported).
  std::uint64_t device_address(int device, std::size_t index) const;

 private:
  void map_devices();

  std::size_t count_;
  bool owned_;
  volatile std::uint64_t* host_ = nullptr;
  std::vector<std::uint64_t> device_base_;  // by device; 0 where the device cannot map host memory
};

// Enqueue a 64-bit write / a wait for >= value on `stream` of cuda device `device` (the calling
// thread's current device need not be the stream's). Throw DeviceError naming the driver call
// when it fails.
void cuda_write_signal(cudaStream_t stream, int device, const CudaSignalSet& set, std::size_t index,
                       std::uint64_t value);
void cuda_wait_signal(cudaStream_t stream, int device, const CudaSignalSet& set, std::size_t index,
                      std::uint64_t value);

}  // namespace dpb
