// One writer per results file: an advisory lock (flock) on a lock file beside it,
// ".<name>.lock", held for as long as a run may write the file. The lock file holds the holder's
// pid so a refused run can say who writes the file. flock locks die with their process, so a lock
// file left by a killed run never blocks the next one.
//
// Taking the lock also removes the temporaries a killed writer of the same file left behind
// (".<name>.tmp.<pid>" of a pid that no longer runs): only the lock holder writes temporaries, so
// while we hold it no live writer can own one.
#pragma once
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>

namespace dpb {

// Another live process holds the lock.
class ResultsLockedError : public std::runtime_error {
 public:
  ResultsLockedError(const std::filesystem::path& path, std::optional<long> holder);
  // The holder's pid as it wrote it in the lock file (empty if unreadable).
  const std::optional<long>& holder() const { return holder_; }

 private:
  std::optional<long> holder_;
};

class ResultsLock {
 public:
  // Locks `results_path` without waiting: throws ResultsLockedError when another process holds it,
  // std::runtime_error (naming the lock file and errno) when the lock file cannot be made.
  explicit ResultsLock(const std::filesystem::path& results_path);
  ~ResultsLock();
  ResultsLock(ResultsLock&& other) noexcept;
  ResultsLock& operator=(ResultsLock&& other) noexcept;
  ResultsLock(const ResultsLock&) = delete;
  ResultsLock& operator=(const ResultsLock&) = delete;

  const std::filesystem::path& lock_path() const { return lock_path_; }
  // Stale temporaries removed when the lock was taken.
  int removed_temporaries() const { return removed_; }

 private:
  void release() noexcept;
  std::filesystem::path lock_path_;
  int fd_ = -1;
  int removed_ = 0;
};

std::filesystem::path lock_path_for(const std::filesystem::path& results_path);

// Removes ".<name>.tmp.<pid>" beside `results_path` whose pid is not a running process; returns
// how many were removed. Called by ResultsLock; exposed for tests.
int remove_stale_temporaries(const std::filesystem::path& results_path);

}  // namespace dpb
