#include "results/results_lock.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace dpb {

namespace fs = std::filesystem;

namespace {

fs::path dir_of(const fs::path& p) { return p.parent_path().empty() ? fs::path(".") : p.parent_path(); }

std::optional<long> read_pid(int fd) {
  char buf[32] = {};
  const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return std::nullopt;
  try {
    return std::stol(std::string(buf, static_cast<std::size_t>(n)));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

bool process_alive(long pid) { return pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM); }

std::string locked_message(const fs::path& path, const std::optional<long>& holder) {
  return "'" + path.string() + "' is being written by another dpbench run" +
         (holder ? " (pid " + std::to_string(*holder) + ")" : std::string()) +
         "; wait for it to finish or write to another file";
}

}  // namespace

ResultsLockedError::ResultsLockedError(const fs::path& path, std::optional<long> holder)
    : std::runtime_error(locked_message(path, holder)), holder_(holder) {}

fs::path lock_path_for(const fs::path& results_path) {
  return dir_of(results_path) / ("." + results_path.filename().string() + ".lock");
}

ResultsLock::ResultsLock(const fs::path& results_path) : lock_path_(lock_path_for(results_path)) {
  // The file we lock must still be the one at lock_path_ once locked: a holder that finished
  // unlinks it while holding the lock, so a waiter may have locked a file no longer there.
  for (int attempt = 0; attempt < 100; ++attempt) {
    const int fd = ::open(lock_path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
      throw std::runtime_error("cannot create lock file '" + lock_path_.string() + "': " + std::strerror(errno));
    }
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      const std::optional<long> holder = read_pid(fd);
      ::close(fd);
      if (err == EWOULDBLOCK) throw ResultsLockedError(results_path, holder);
      throw std::runtime_error("cannot lock '" + lock_path_.string() + "': " + std::strerror(err));
    }
    struct stat held {}, named {};
    if (::fstat(fd, &held) == 0 && ::stat(lock_path_.c_str(), &named) == 0 && held.st_ino == named.st_ino &&
        held.st_dev == named.st_dev) {
      const std::string pid = std::to_string(::getpid()) + "\n";
      if (::ftruncate(fd, 0) == 0) (void)!::pwrite(fd, pid.data(), pid.size(), 0);
      fd_ = fd;
      removed_ = remove_stale_temporaries(results_path);
      return;
    }
    ::close(fd);  // unlinked or replaced under us: try again with the current file
  }
  throw std::runtime_error("cannot lock '" + lock_path_.string() + "': it keeps being replaced");
}

ResultsLock::~ResultsLock() { release(); }

ResultsLock::ResultsLock(ResultsLock&& other) noexcept
    : lock_path_(std::move(other.lock_path_)), fd_(other.fd_), removed_(other.removed_) {
  other.fd_ = -1;
}

ResultsLock& ResultsLock::operator=(ResultsLock&& other) noexcept {
  if (this != &other) {
    release();
    lock_path_ = std::move(other.lock_path_);
    fd_ = other.fd_;
    removed_ = other.removed_;
    other.fd_ = -1;
  }
  return *this;
}

void ResultsLock::release() noexcept {
  if (fd_ < 0) return;
  ::unlink(lock_path_.c_str());  // while still holding it: see the constructor
  ::close(fd_);
  fd_ = -1;
}

int remove_stale_temporaries(const fs::path& results_path) {
  const std::string prefix = "." + results_path.filename().string() + ".tmp.";
  int removed = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir_of(results_path), ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    const std::string pid_text = name.substr(prefix.size());
    if (pid_text.empty() || pid_text.find_first_not_of("0123456789") != std::string::npos) continue;
    long pid = 0;
    try {
      pid = std::stol(pid_text);
    } catch (const std::exception&) {
      continue;
    }
    if (pid == ::getpid() || process_alive(pid)) continue;
    if (fs::remove(entry.path(), ec)) ++removed;
  }
  return removed;
}

}  // namespace dpb
