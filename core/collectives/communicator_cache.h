// A small cache of communicators keyed on (algorithm, devices, options), owned by whoever runs a
// sweep: creating an NCCL communicator takes hundreds of milliseconds and device memory, so a
// sweep creates each one once and reuses it across sizes, dtypes and repetitions. Not a global:
// the caller holds it, and its lifetime bounds the communicators'.
#pragma once
#include <cstddef>
#include <list>
#include <memory>
#include <string>
#include <vector>

#include "collectives/communicator.h"

namespace dpb {

class CommunicatorCache {
 public:
  // At most `capacity` communicators are kept; the least recently used is destroyed to make room.
  explicit CommunicatorCache(Backend& backend, std::size_t capacity = 4);
  CommunicatorCache(const CommunicatorCache&) = delete;
  CommunicatorCache& operator=(const CommunicatorCache&) = delete;

  // The communicator for this key, created by make_communicator on first use (its exceptions
  // propagate and nothing is cached). May destroy the least recently used one: the caller must
  // have finished (synchronized) the work it enqueued on that one.
  Communicator& get(const AlgorithmName& algo, const std::vector<int>& devices, const CommunicatorOptions& options = {});

  std::size_t size() const { return entries_.size(); }
  std::size_t created() const { return created_; }  // communicators created so far
  void clear() { entries_.clear(); }

 private:
  struct Entry {
    std::string algo;
    std::vector<int> devices;
    CommunicatorOptions options;
    std::unique_ptr<Communicator> comm;
  };
  Backend& backend_;
  std::size_t capacity_;
  std::list<Entry> entries_;  // most recently used first
  std::size_t created_ = 0;
};

}  // namespace dpb
