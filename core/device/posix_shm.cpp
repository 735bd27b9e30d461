#include "device/posix_shm.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace dpb {

namespace {

std::string errno_text() { return std::strerror(errno); }

}  // namespace

void* map_shm_segment(const std::string& name, std::size_t size, bool create) {
  const int fd = ::shm_open(name.c_str(), create ? (O_CREAT | O_EXCL | O_RDWR) : O_RDWR, 0600);
  if (fd < 0) throw std::runtime_error("shm_open(" + name + ") failed: " + errno_text());
  struct FdCloser {
    int fd;
    ~FdCloser() { ::close(fd); }
  } closer{fd};
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

void unlink_shm_segment(const std::string& name) {
  if (::shm_unlink(name.c_str()) != 0 && errno != ENOENT) {
    throw std::runtime_error("shm_unlink(" + name + ") failed: " + errno_text());
  }
}

}  // namespace dpb
