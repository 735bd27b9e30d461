#include "collectives/p2p_communicator.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <iterator>
#include <stdexcept>
#include <string>
#include <thread>

#include "device/cpu_backend.h"

namespace dpb {

namespace {

bool overlaps(const void* a, const void* b, std::size_t bytes) {
  const auto x = reinterpret_cast<std::uintptr_t>(a);
  const auto y = reinterpret_cast<std::uintptr_t>(b);
  return x < y + bytes && y < x + bytes;
}

}  // namespace

P2pCommunicator::P2pCommunicator(Backend& backend, std::string algorithm, std::vector<int> devices,
                                 CommunicatorOptions options)
    : backend_(backend), algorithm_(std::move(algorithm)), devices_(std::move(devices)), options_(options) {
  const auto& known = schedule_algorithms();
  if (std::find(known.begin(), known.end(), algorithm_) == known.end()) {
    throw std::invalid_argument("p2p-" + algorithm_ + ": unknown algorithm (expected p2p-ring, p2p-tree or p2p-direct)");
  }
  if (devices_.empty()) throw std::invalid_argument("p2p-" + algorithm_ + ": needs at least one rank");
  if (options_.chunk_bytes == 0) throw std::invalid_argument("p2p-" + algorithm_ + ": chunk_bytes must be positive");
  if (options_.pipeline_slots < 1) {
    throw std::invalid_argument("p2p-" + algorithm_ + ": pipeline_slots must be at least 1 (got " +
                                std::to_string(options_.pipeline_slots) + ")");
  }
  for (int d : devices_) backend_.check_device(d);
  for (int a : devices_) {
    for (int b : devices_) {
      if (a != b && backend_.can_access_peer(a, b)) backend_.enable_peer_access(a, b);
    }
  }
  name_ = "p2p-" + algorithm_;
  scratch_.resize(devices_.size());
  memory_.resize(devices_.size());
  fences_.resize(devices_.size());
}

P2pCommunicator::~P2pCommunicator() { drain(); }

std::size_t P2pCommunicator::chunk_elems(DType type) const {
  return std::max<std::size_t>(1, options_.chunk_bytes / dtype_size(type));
}

P2pCacheStats P2pCommunicator::cache_stats() const {
  P2pCacheStats s = stats_;
  s.plans_cached = plans_.size();
  return s;
}

const Schedule& P2pCommunicator::schedule_for(DType type, std::size_t count, bool in_place) {
  return plan({type, count, in_place}).schedule();
}

const PreparedSchedule& P2pCommunicator::plan(const PlanKey& key) {
  for (auto it = plans_.begin(); it != plans_.end(); ++it) {
    if (it->first == key) {
      plans_.splice(plans_.begin(), plans_, it);
      return *plans_.front().second;
    }
  }
  ScheduleShape shape;
  shape.ranks = ranks();
  shape.count = key.count;
  shape.chunk_elems = chunk_elems(key.type);
  shape.slots = options_.pipeline_slots;
  shape.in_place = key.in_place;
  auto prepared = std::make_unique<PreparedSchedule>(backend_, build_schedule(algorithm_, shape), devices_);
  ++stats_.plans_built;
  if (plans_.size() >= kMaxPlans) {
    drain();  // the evicted plan's events may still be referenced by enqueued waits
    plans_.pop_back();
  }
  plans_.emplace_front(key, std::move(prepared));
  return *plans_.front().second;
}

void P2pCommunicator::ensure_scratch(DType type, const Schedule& schedule) {
  for (std::size_t r = 0; r < devices_.size(); ++r) {
    const std::size_t need = schedule.scratch_elems[r] * dtype_size(type);
    if (need == 0 || scratch_[r].bytes() >= need) continue;
    drain();  // earlier calls may still use the old buffer
    scratch_[r] = DeviceBuffer();
    scratch_[r] = backend_.allocate(devices_[r], need);
    ++stats_.scratch_allocations;
  }
}

void P2pCommunicator::record_fences(std::span<Stream* const> streams) {
  for (std::size_t r = 0; r < devices_.size(); ++r) {
    auto& list = fences_[r];
    auto it = std::find_if(list.begin(), list.end(), [&](const auto& f) { return f.first == streams[r]; });
    if (it == list.end()) {
      list.emplace_back(streams[r], backend_.make_event(devices_[r], /*timing=*/false));
      it = std::prev(list.end());
    }
    streams[r]->record(*it->second);
  }
}

void P2pCommunicator::drain() noexcept {
  for (auto& list : fences_) {
    for (auto& [stream, event] : list) {
      try {
        event->synchronize();
      } catch (...) {
        // Aborted or failed: the streams still run their remaining event bookkeeping, so wait for
        // the fence to complete before anything it covers is freed.
        try {
          while (!event->query()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        } catch (...) {
        }
      }
    }
  }
}

void P2pCommunicator::allreduce(DType type, std::span<const void* const> send, std::span<void* const> recv,
                                std::size_t count, std::span<Stream* const> streams) {
  const std::string& name = name_;
  const std::size_t n = devices_.size();
  if (send.size() != n || recv.size() != n || streams.size() != n) {
    throw std::invalid_argument(name + " allreduce: expected " + std::to_string(n) + " send buffers, recv buffers and streams, got " +
                                std::to_string(send.size()) + ", " + std::to_string(recv.size()) + " and " +
                                std::to_string(streams.size()));
  }
  const std::size_t bytes = count * dtype_size(type);
  std::size_t in_place = 0;
  for (std::size_t r = 0; r < n; ++r) {
    if (!streams[r]) throw std::invalid_argument(name + " allreduce: rank " + std::to_string(r) + " has no stream");
    if (streams[r]->device() != devices_[r]) {
      throw std::invalid_argument(name + " allreduce: rank " + std::to_string(r) + "'s stream is on device " +
                                  std::to_string(streams[r]->device()) + ", the rank is on device " +
                                  std::to_string(devices_[r]));
    }
    if (count == 0) continue;
    if (!send[r] || !recv[r]) {
      throw std::invalid_argument(name + " allreduce: rank " + std::to_string(r) + " has a null buffer");
    }
    if (send[r] == recv[r]) {
      ++in_place;
    } else if (overlaps(send[r], recv[r], bytes)) {
      throw std::invalid_argument(name + " allreduce: rank " + std::to_string(r) +
                                  "'s send and recv buffers overlap without being the same buffer");
    }
  }
  if (count == 0) return;
  if (in_place != 0 && in_place != n) {
    throw std::invalid_argument(name + " allreduce: in place on some ranks only (send == recv must hold on all "
                                       "ranks or none)");
  }
  const PreparedSchedule& prepared = plan({type, count, in_place == n});
  ensure_scratch(type, prepared.schedule());
  for (std::size_t r = 0; r < n; ++r) memory_[r] = {send[r], recv[r], scratch_[r].data()};
  prepared.enqueue(type, memory_, streams);
  record_fences(streams);
}

void P2pCommunicator::abort() {
  if (auto* cpu = dynamic_cast<CpuBackend*>(&backend_)) cpu->abort();
}

}  // namespace dpb
