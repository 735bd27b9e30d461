#include "collectives/communicator_cache.h"

#include <stdexcept>

namespace dpb {

namespace {

bool same_options(const CommunicatorOptions& a, const CommunicatorOptions& b) {
  return a.chunk_bytes == b.chunk_bytes && a.pipeline_slots == b.pipeline_slots &&
         a.nccl_multi_rank_gpu == b.nccl_multi_rank_gpu;
}

}  // namespace

CommunicatorCache::CommunicatorCache(Backend& backend, std::size_t capacity) : backend_(backend), capacity_(capacity) {
  if (capacity_ == 0) throw std::invalid_argument("CommunicatorCache: capacity must be at least 1");
}

Communicator& CommunicatorCache::get(const AlgorithmName& algo, const std::vector<int>& devices,
                                     const CommunicatorOptions& options) {
  const std::string name = algo.text();
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    if (it->algo == name && it->devices == devices && same_options(it->options, options)) {
      entries_.splice(entries_.begin(), entries_, it);
      return *entries_.front().comm;
    }
  }
  // Make room first: an NCCL communicator holds device memory the new one may need.
  if (entries_.size() >= capacity_) entries_.pop_back();
  auto comm = make_communicator(backend_, algo, devices, options);
  ++created_;
  entries_.push_front(Entry{name, devices, options, std::move(comm)});
  return *entries_.front().comm;
}

}  // namespace dpb
