// The cpu backend's memory shared between the processes of a node (backend.h, allocate_shared):
// POSIX shared memory. A segment is named /dpbench-<pid>-<backend>-<serial> by its owner; peers map it by
// that name; sealing removes the name, so a job that dies leaves nothing in /dev/shm once every
// process had mapped its peers' segments.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include "device/cpu_backend.h"
#include "device/error.h"

namespace dpb {

namespace {

std::string errno_text() { return std::strerror(errno); }

// Maps `name` (created when `create`) with at least `bytes` bytes; the fd is closed at once.
void* map_segment(const std::string& name, std::size_t bytes, bool create) {
  const int fd = ::shm_open(name.c_str(), create ? (O_CREAT | O_EXCL | O_RDWR) : O_RDWR, 0600);
  if (fd < 0) throw std::runtime_error("shm_open(" + name + ") failed: " + errno_text());
  struct FdCloser {
    int fd;
    ~FdCloser() { ::close(fd); }
  } closer{fd};
  const std::size_t size = bytes == 0 ? 1 : bytes;
  if (create && ::ftruncate(fd, static_cast<off_t>(size)) != 0) {
    const std::string why = errno_text();
    ::shm_unlink(name.c_str());
    throw std::runtime_error("ftruncate(" + name + ", " + std::to_string(size) + ") failed: " + why +
                             " (is /dev/shm large enough?)");
  }
  if (!create) {
    struct stat st {};
    if (::fstat(fd, &st) != 0 || static_cast<std::size_t>(st.st_size) < size) {
      throw std::runtime_error("shared memory " + name + " is smaller than the " + std::to_string(size) +
                               " bytes its peer announced");
    }
  }
  void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) {
    const std::string why = errno_text();
    if (create) ::shm_unlink(name.c_str());
    throw std::runtime_error("mmap(" + name + ") failed: " + why);
  }
  return p;
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

void CpuBackend::seal_shared(const std::string& handle) {
  if (::shm_unlink(handle.c_str()) != 0 && errno != ENOENT) {
    throw std::runtime_error("shm_unlink(" + handle + ") failed: " + errno_text());
  }
}

std::unique_ptr<SignalSet> CpuBackend::make_signals_in(void* memory, std::size_t count) {
  static_assert(std::atomic<std::uint64_t>::is_always_lock_free, "signals in shared memory need lock-free atomics");
  if (reinterpret_cast<std::uintptr_t>(memory) % alignof(std::atomic<std::uint64_t>) != 0) {
    throw std::invalid_argument("make_signals_in: memory is not 8-byte aligned");
  }
  return std::make_unique<CpuSignalSet>(state_, static_cast<std::atomic<std::uint64_t>*>(memory), count);
}

}  // namespace dpb
