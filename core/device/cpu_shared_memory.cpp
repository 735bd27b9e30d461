// The cpu backend's memory shared between the processes of a node (backend.h, allocate_shared):
// POSIX shared memory. A segment is named /dpbench-<pid>-<backend>-<serial> by its owner; peers map it by
// that name; sealing removes the name, so a job that dies leaves nothing in /dev/shm once every
// process had mapped its peers' segments.
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <stdexcept>
#include <string>

#include "device/cpu_backend.h"
#include "device/error.h"
#include "device/posix_shm.h"

namespace dpb {

namespace {

// A segment of at least one byte (mmap refuses zero), mapped by map_shm_segment.
void* map_segment(const std::string& name, std::size_t bytes, bool create) {
  return map_shm_segment(name, bytes == 0 ? 1 : bytes, create);
}

DeviceBuffer::Deleter unmapper(std::size_t bytes) {
  return [size = bytes == 0 ? 1 : bytes](void* p) { ::munmap(p, size); };
}

}  // namespace

Backend::SharedBuffer CpuBackend::allocate_shared(int device, std::size_t bytes) {
  if (device != kSharedHost) check_device(device);  // host memory is what every device is here
  // pid, then this backend (several backends of one process must not collide), then a serial.
  const std::string name = "/dpbench-" + std::to_string(::getpid()) + "-" +
                           std::to_string(reinterpret_cast<std::uintptr_t>(state_.get()) % 1000003) + "-" +
                           std::to_string(state_->shared_serial++);
  void* p = map_segment(name, bytes, true);
  return {DeviceBuffer(p, bytes, device, unmapper(bytes)), name};
}

DeviceBuffer CpuBackend::open_shared(int device, const std::string& handle, std::size_t bytes) {
  if (device != kSharedHost) check_device(device);
  return DeviceBuffer(map_segment(handle, bytes, false), bytes, device, unmapper(bytes));
}

void CpuBackend::seal_shared(const std::string& handle) { unlink_shm_segment(handle); }

std::unique_ptr<SignalSet> CpuBackend::make_signals_in(void* memory, std::size_t count) {
  static_assert(std::atomic<std::uint64_t>::is_always_lock_free, "signals in shared memory need lock-free atomics");
  if (reinterpret_cast<std::uintptr_t>(memory) % alignof(std::atomic<std::uint64_t>) != 0) {
    throw std::invalid_argument("make_signals_in: memory is not 8-byte aligned");
  }
  return std::make_unique<CpuSignalSet>(state_, static_cast<std::atomic<std::uint64_t>*>(memory), count);
}

}  // namespace dpb
