#include "collectives/p2p_communicator.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <thread>


namespace dpb {

namespace {

bool overlaps(const void* a, const void* b, std::size_t bytes) {
  const auto x = reinterpret_cast<std::uintptr_t>(a);
  const auto y = reinterpret_cast<std::uintptr_t>(b);
  return x < y + bytes && y < x + bytes;
}

}  // namespace

ScheduleShape p2p_schedule_shape(int ranks, DType type, std::size_t count, bool in_place,
                                 const CommunicatorOptions& options) {
  ScheduleShape shape;
  shape.ranks = ranks;
  shape.count = count;
  shape.chunk_elems = std::max<std::size_t>(1, options.chunk_bytes / dtype_size(type));
  shape.slots = options.pipeline_slots;
  shape.in_place = in_place;
  return shape;
}

Schedule build_p2p_schedule(const std::string& algorithm, int ranks, DType type, std::size_t count, bool in_place,
                            const CommunicatorOptions& options) {
  return build_schedule_within(algorithm, p2p_schedule_shape(ranks, type, count, in_place, options),
                               kMaxOpsPerStream - P2pCommunicator::kOpsAfterSchedule);
}

P2pCommunicator::P2pCommunicator(Backend& backend, std::string algorithm, std::vector<int> devices,
                                 CommunicatorOptions options)
    : backend_(backend),
      algorithm_(std::move(algorithm)),
      devices_(std::move(devices)),
      options_(options),
      rendezvous_(std::max<int>(1, static_cast<int>(devices_.size()))) {
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
  posted_.resize(devices_.size());
  fence_ = backend_.make_signals(devices_.size());
  fenced_.assign(devices_.size(), 0);
}

P2pCommunicator::~P2pCommunicator() { drain(); }

P2pCacheStats P2pCommunicator::cache_stats() const {
  P2pCacheStats s = stats_;
  s.plans_cached = plans_.size();
  return s;
}

P2pCommunicator::Plan& P2pCommunicator::plan(const PlanKey& key) {
  for (auto it = plans_.begin(); it != plans_.end(); ++it) {
    if (it->first == key) {
      plans_.splice(plans_.begin(), plans_, it);
      return plans_.front().second;
    }
  }
  Plan fresh;
  fresh.prepared = std::make_unique<PreparedSchedule>(
      backend_, build_p2p_schedule(algorithm_, ranks(), key.type, key.count, key.in_place, options_), devices_);
  ++stats_.plans_built;
  if (plans_.size() >= kMaxPlans) {
    drain();  // the evicted plan's signals may still be waited on by enqueued work
    plans_.pop_back();
  }
  plans_.emplace_front(key, std::move(fresh));
  return plans_.front().second;
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

void P2pCommunicator::write_fence(int rank, Stream& stream) {
  const auto r = static_cast<std::size_t>(rank);
  stream.write_signal(*fence_, r, ++fenced_[r]);
}

void P2pCommunicator::drain() noexcept {
  // Fence writes run even on an aborted or failed cpu stream (backend.h), and on cuda abort()
  // releases the schedules' waits, so this ends once the streams have worked through their work.
  for (std::size_t r = 0; r < fenced_.size(); ++r) {
    try {
      while (fence_->load(r) < fenced_[r]) std::this_thread::sleep_for(std::chrono::microseconds(200));
    } catch (...) {
    }
  }
}

void P2pCommunicator::check_rank_args(int rank, DType type, const void* send, const void* recv, std::size_t count,
                                      const Stream* stream) const {
  const std::string who = name_ + " allreduce: rank " + std::to_string(rank);
  if (rank < 0 || rank >= ranks()) throw std::invalid_argument(name_ + " allreduce: no rank " + std::to_string(rank));
  if (!stream) throw std::invalid_argument(who + " has no stream");
  if (stream->device() != devices_[static_cast<std::size_t>(rank)]) {
    throw std::invalid_argument(who + "'s stream is on device " + std::to_string(stream->device()) +
                                ", the rank is on device " + std::to_string(devices_[static_cast<std::size_t>(rank)]));
  }
  if (count == 0) return;
  if (!send || !recv) throw std::invalid_argument(who + " has a null buffer");
  if (send != recv && overlaps(send, recv, count * dtype_size(type))) {
    throw std::invalid_argument(who + "'s send and recv buffers overlap without being the same buffer");
  }
}

void P2pCommunicator::allreduce(DType type, std::span<const void* const> send, std::span<void* const> recv,
                                std::size_t count, std::span<Stream* const> streams) {
  const std::size_t n = devices_.size();
  if (send.size() != n || recv.size() != n || streams.size() != n) {
    throw std::invalid_argument(name_ + " allreduce: expected " + std::to_string(n) +
                                " send buffers, recv buffers and streams, got " + std::to_string(send.size()) + ", " +
                                std::to_string(recv.size()) + " and " + std::to_string(streams.size()));
  }
  for (std::size_t r = 0; r < n; ++r) {
    check_rank_args(static_cast<int>(r), type, send[r], recv[r], count, streams[r]);
    posted_[r] = {type, count, send[r], recv[r], streams[r]};
  }
  agree_on_call();
  if (count == 0) return;
  current_->prepared->enqueue(current_call_, type, memory_, streams);
  for (std::size_t r = 0; r < n; ++r) write_fence(static_cast<int>(r), *streams[r]);
}

void P2pCommunicator::allreduce_rank(int rank, DType type, const void* send, void* recv, std::size_t count,
                                     Stream& stream) {
  check_rank_args(rank, type, send, recv, count, &stream);
  posted_[static_cast<std::size_t>(rank)] = {type, count, send, recv, &stream};
  rendezvous_.arrive([this] { agree_on_call(); });
  if (count == 0) return;
  // current_ and memory_ stay as agreed until this rank arrives for its next call.
  current_->prepared->enqueue_rank(rank, current_call_, type, memory_, stream);
  write_fence(rank, stream);
}

void P2pCommunicator::agree_on_call() {
  const Posted& first = posted_.front();
  std::size_t in_place = 0;
  for (std::size_t r = 0; r < posted_.size(); ++r) {
    const Posted& p = posted_[r];
    if (p.type != first.type || p.count != first.count) {
      throw std::invalid_argument(name_ + " allreduce: rank " + std::to_string(r) + " passed " +
                                  std::to_string(p.count) + " " + std::string(dtype_name(p.type)) + " elements, rank 0 " +
                                  std::to_string(first.count) + " " + std::string(dtype_name(first.type)));
    }
    if (p.send == p.recv) ++in_place;
  }
  current_ = nullptr;
  if (first.count == 0) return;
  if (in_place != 0 && in_place != posted_.size()) {
    throw std::invalid_argument(name_ + " allreduce: in place on some ranks only (send == recv must hold on all "
                                        "ranks or none)");
  }
  Plan& p = plan({first.type, first.count, in_place == posted_.size()});
  ensure_scratch(first.type, p.prepared->schedule());
  for (std::size_t r = 0; r < posted_.size(); ++r) memory_[r] = {posted_[r].send, posted_[r].recv, scratch_[r].data()};
  current_ = &p;
  current_call_ = p.calls++;
}

void P2pCommunicator::rewind() {
  drain();
  for (auto& [key, plan] : plans_) {
    plan.calls = 0;
    plan.prepared->reset_signals();
  }
  fence_->reset();
  std::fill(fenced_.begin(), fenced_.end(), 0);
}

void P2pCommunicator::abort() {
  rendezvous_.abort();
  backend_.abort();
  // No CUDA call ends a stream waiting on a signal: satisfy every wait of the schedules, so the
  // streams run through (garbage in the failed call's buffers) and write their fences for real.
  // The fences themselves are never released: drain() must see the streams done before anything
  // they write into is freed. (cpu: the aborted backend makes every wait throw first.)
  for (auto& [key, plan] : plans_) plan.prepared->release_signals();
}

}  // namespace dpb
