// The bookkeeping behind captured signal edges (cuda_capture_edges.h), kept free of CUDA types so
// the cpu tests check it: which graph nodes wrote which signal value in which capture.
//
// Key: (signal set, slot, value). The schedules write each value of a slot once per call and the
// values grow from call to call (schedule_executor.h), so one key names exactly one write inside a
// capture; a wait names the exact value of the write it needs.
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace dpb {

template <class Node>
class SignalEdgeBook {
 public:
  struct Key {
    const void* set = nullptr;
    std::size_t index = 0;
    std::uint64_t value = 0;
    friend bool operator<(const Key& a, const Key& b) {
      return std::tie(a.set, a.index, a.value) < std::tie(b.set, b.index, b.value);
    }
  };

  // The write of `key` became `nodes` (the capturing stream's dependency set right after it) in
  // capture `capture`. A later write of the same key replaces the earlier one.
  void wrote(const Key& key, unsigned long long capture, std::vector<Node> nodes) {
    writes_[key] = Entry{capture, std::move(nodes)};
  }

  // The nodes a wait for `key` inside capture `capture` must depend on. Throws std::logic_error
  // when that write was not captured before the wait in the same capture: the graph would then
  // hold a wait that no CUDA-visible edge orders after its write.
  const std::vector<Node>& write_of(const Key& key, unsigned long long capture) const {
    const auto it = writes_.find(key);
    if (it == writes_.end() || it->second.capture != capture) {
      throw std::logic_error(
          "graph capture: a captured wait for signal slot " + std::to_string(key.index) + " >= " +
          std::to_string(key.value) + " has no write of that value earlier in the same capture, so no graph edge "
          "can order it after its write (it could deadlock a graph replay); capture every rank's work from one "
          "thread in the schedule's sequential order (Communicator::allreduce does), or use per_stream capture");
    }
    return it->second.nodes;
  }

  std::size_t size() const { return writes_.size(); }

 private:
  struct Entry {
    unsigned long long capture = 0;
    std::vector<Node> nodes;
  };
  std::map<Key, Entry> writes_;
};

}  // namespace dpb
