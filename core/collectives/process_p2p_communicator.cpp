#include "collectives/process_p2p_communicator.h"

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstring>
#include <optional>
#include <string>
#include <stdexcept>
#include <thread>

#include "collectives/p2p_communicator.h"

namespace dpb {

namespace {

constexpr std::size_t kAlign = 64;
std::size_t align_up(std::size_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

std::string host_list(const std::vector<std::string>& hosts) {
  std::vector<std::string> distinct;
  for (const auto& h : hosts) {
    if (std::find(distinct.begin(), distinct.end(), h) == distinct.end()) distinct.push_back(h);
  }
  std::string s;
  for (const auto& h : distinct) s += (s.empty() ? "" : ", ") + h;
  return s;
}

}  // namespace

ProcessP2pCommunicator::ProcessP2pCommunicator(Backend& backend, World& world, std::string algorithm, int device,
                                               CommunicatorOptions options)
    : backend_(backend),
      world_(world),
      algorithm_(std::move(algorithm)),
      name_("p2p-" + algorithm_),
      rank_(world.rank()),
      device_(device),
      options_(options),
      slots_per_plan_(static_cast<std::size_t>(world.size()) * kMaxOpsPerStream) {
  const auto& known = schedule_algorithms();
  if (std::find(known.begin(), known.end(), algorithm_) == known.end()) {
    throw std::invalid_argument(name_ + ": unknown algorithm (expected p2p-ring, p2p-tree or p2p-direct)");
  }
  if (!world_.single_node()) {
    // Every rank reaches the same verdict (all know every host), so all throw together.
    throw std::invalid_argument(name_ + ": the ranks run on several nodes (" + host_list(world_.hosts()) +
                                "); p2p-* reaches only the processes of one node (shared memory / CUDA IPC), so it "
                                "stops at the node boundary: across nodes use nccl-* or mpi");
  }
  if (options_.chunk_bytes == 0 || options_.pipeline_slots < 1) {
    throw std::invalid_argument(name_ + ": chunk_bytes and pipeline_slots must be positive");
  }
  backend_.check_device(device_);
  // Collective from here: every verdict is gathered, so all ranks refuse together.
  refuse_together(backend_.can_share_between_processes()
                      ? std::string()
                      : name_ + " with a process per rank needs memory shared between processes, which the " +
                            std::string(backend_.name()) + " backend cannot provide here (cpu: POSIX shared memory; "
                            "cuda: CUDA IPC, which needs unified addressing, cudaHostRegister and 64-bit stream "
                            "memory operations on every device): use nccl-* or mpi under MPI, or p2p-* with a "
                            "thread per rank in one process");
  devices_ = local_devices();
  fence_ = backend_.make_signals(1);
  // The signal arena, in host memory every process and device reaches: rank 0 creates it, every
  // rank maps it, then its name is removed.
  const std::size_t arena_bytes = kMaxPlans * slots_per_plan_ * sizeof(std::uint64_t);
  std::string handle;
  if (rank_ == 0) {
    Backend::SharedBuffer shared = backend_.allocate_shared(Backend::kSharedHost, arena_bytes);
    arena_ = std::move(shared.buffer);
    handle = shared.handle;
  }
  world_.broadcast(handle, 0);
  if (rank_ != 0) arena_ = backend_.open_shared(Backend::kSharedHost, handle, arena_bytes);
  world_.barrier();
  if (rank_ == 0) backend_.seal_shared(handle);
}

void ProcessP2pCommunicator::refuse_together(const std::string& why) {
  for (const std::string& verdict : world_.all_gather(why)) {
    if (!verdict.empty()) throw std::invalid_argument(verdict);
  }
}

std::vector<int> ProcessP2pCommunicator::local_devices() {
  const std::vector<int> ordinals = world_.gather_ints(device_);
  const DeviceProperties mine = backend_.properties(device_);
  // Simulated devices (cpu) are the same in every process; so are GPUs without a UUID to match.
  const std::vector<std::string> ids = world_.all_gather(mine.simulated ? std::string() : mine.uuid.value_or(""));
  if (std::any_of(ids.begin(), ids.end(), [](const std::string& id) { return id.empty(); })) {
    refuse_together("");
    return ordinals;
  }
  std::string why;
  for (std::size_t a = 0; a < ids.size() && why.empty(); ++a) {
    for (std::size_t b = a + 1; b < ids.size() && why.empty(); ++b) {
      if (ids[a] != ids[b]) continue;
      // Two processes on one GPU run in separate CUDA contexts that the GPU time-slices; a stream
      // memory wait in one for a write in the other is ordered by nothing CUDA can see, and this
      // was never run on a GPU: refused rather than risk a hang.
      why = name_ + " with a process per rank: ranks " + std::to_string(a) + " and " + std::to_string(b) +
            " share GPU " + ids[a] + " from two processes; give each process its own GPU, or run ranks that share "
            "a GPU as threads of one process (p2p-* without mpirun), or use nccl-*";
    }
  }
  // Each rank's GPU as this process numbers it (CUDA_VISIBLE_DEVICES may order them differently).
  std::vector<int> local(ids.size(), -1);
  for (int d = 0; d < backend_.device_count() && why.empty(); ++d) {
    const std::optional<std::string> uuid = backend_.properties(d).uuid;
    for (std::size_t r = 0; r < ids.size(); ++r) {
      if (uuid && *uuid == ids[r]) local[r] = d;
    }
  }
  for (std::size_t r = 0; r < ids.size() && why.empty(); ++r) {
    if (local[r] < 0) {
      why = name_ + " with a process per rank: rank " + std::to_string(rank_) + " cannot see rank " +
            std::to_string(r) + "'s GPU " + ids[r] + " (CUDA IPC maps a peer's memory only where its GPU is "
            "visible): do not narrow CUDA_VISIBLE_DEVICES per process; pick each rank's GPU in the device list";
    }
  }
  refuse_together(why);
  return local;
}

ProcessP2pCommunicator::~ProcessP2pCommunicator() {
  drain();
  // Peers may still write into this rank's staging or wait on the arena until they finish too.
  try {
    world_.barrier();
    plans_.clear();  // their signal sets live in the arena
    if (rank_ != 0) arena_ = DeviceBuffer();
    release_staging();  // peers' mappings closed everywhere before owners free
  } catch (...) {
  }
}

void ProcessP2pCommunicator::release_staging() {
  // CUDA IPC: every importer closes its mapping (cudaIpcCloseMemHandle) before the exporter frees
  // the memory, so no process maps memory its owner has already freed.
  for (std::size_t r = 0; r < staging_.size(); ++r) {
    if (static_cast<int>(r) != rank_) staging_[r] = DeviceBuffer();
  }
  world_.barrier();
  staging_.clear();
}

void ProcessP2pCommunicator::drain() noexcept {
  try {
    while (fence_->load(0) < fenced_) std::this_thread::sleep_for(std::chrono::microseconds(100));
  } catch (...) {
  }
}

void ProcessP2pCommunicator::quiesce() {
  drain();
  world_.barrier();
}

void ProcessP2pCommunicator::ensure_staging(std::size_t bytes) {
  if (bytes <= staging_bytes_) return;
  const std::size_t size = std::bit_ceil(std::max<std::size_t>(bytes, 4096));
  quiesce();  // peers may still use the old mappings
  if (!staging_.empty()) release_staging();
  staging_.resize(static_cast<std::size_t>(world_.size()));
  Backend::SharedBuffer own = backend_.allocate_shared(device_, size);
  const std::vector<std::string> handles = world_.all_gather(own.handle);
  for (std::size_t r = 0; r < handles.size(); ++r) {
    staging_[r] = static_cast<int>(r) == rank_ ? std::move(own.buffer)
                                                : backend_.open_shared(device_, handles[r], size);
  }
  world_.barrier();  // every peer mapped this rank's segment: its name can go
  backend_.seal_shared(handles[static_cast<std::size_t>(rank_)]);
  staging_bytes_ = size;
}

ProcessP2pCommunicator::Plan& ProcessP2pCommunicator::plan(DType type, std::size_t count) {
  for (auto it = plans_.begin(); it != plans_.end(); ++it) {
    if (it->type == type && it->count == count) {
      plans_.splice(plans_.begin(), plans_, it);
      return plans_.front();
    }
  }
  Schedule schedule = build_p2p_schedule(algorithm_, world_.size(), type, count, true, options_);
  if (static_cast<std::size_t>(schedule.signals()) > slots_per_plan_) {
    throw std::logic_error(name_ + ": a schedule with " + std::to_string(schedule.signals()) +
                           " signals does not fit its arena region");
  }
  std::size_t region = plans_.size();
  if (plans_.size() >= kMaxPlans) {
    // Every rank evicts the same plan at the same call; its region is zeroed while nothing runs.
    quiesce();
    region = plans_.back().region;
    plans_.pop_back();
    if (rank_ == 0) {
      std::memset(arena_.as<char>() + region * slots_per_plan_ * sizeof(std::uint64_t), 0,
                  slots_per_plan_ * sizeof(std::uint64_t));
    }
    world_.barrier();
  }
  void* slots = arena_.as<char>() + region * slots_per_plan_ * sizeof(std::uint64_t);
  Plan fresh{type, count, region, nullptr, 0};
  fresh.prepared = std::make_unique<PreparedSchedule>(backend_, std::move(schedule), devices_,
                                                      backend_.make_signals_in(slots, slots_per_plan_));
  plans_.push_front(std::move(fresh));
  return plans_.front();
}

void ProcessP2pCommunicator::allreduce(DType type, std::span<const void* const> send, std::span<void* const> recv,
                                       std::size_t count, std::span<Stream* const> streams) {
  if (send.size() != 1 || recv.size() != 1 || streams.size() != 1 || !streams[0]) {
    throw std::invalid_argument(name_ + " allreduce: this process holds one rank; pass that rank's buffers and stream");
  }
  allreduce_rank(rank_, type, send[0], recv[0], count, *streams[0]);
}

void ProcessP2pCommunicator::allreduce_rank(int rank, DType type, const void* send, void* recv, std::size_t count,
                                            Stream& stream) {
  if (rank != rank_) {
    throw std::invalid_argument(name_ + " allreduce: this process is rank " + std::to_string(rank_) + ", not rank " +
                                std::to_string(rank));
  }
  if (stream.device() != device_) {
    throw std::invalid_argument(name_ + " allreduce: the stream is on device " + std::to_string(stream.device()) +
                                ", the rank on device " + std::to_string(device_));
  }
  if (count == 0) return;
  if (!send || !recv) throw std::invalid_argument(name_ + " allreduce: null buffer");
  const std::size_t bytes = count * dtype_size(type);
  Plan& p = plan(type, count);
  std::size_t need = 0;  // the same on every rank: each knows every rank's scratch
  for (std::size_t elems : p.prepared->schedule().scratch_elems) {
    need = std::max(need, align_up(bytes) + elems * dtype_size(type));
  }
  ensure_staging(need);
  memory_.resize(staging_.size());
  for (std::size_t r = 0; r < staging_.size(); ++r) {
    char* base = staging_[r].as<char>();
    memory_[r] = {base, base, base + align_up(bytes)};
  }
  void* mine = staging_[static_cast<std::size_t>(rank_)].data();
  stream.copy(mine, send, bytes);
  p.prepared->enqueue_rank(rank_, p.calls++, type, memory_, stream);
  stream.copy(recv, mine, bytes);
  stream.write_signal(*fence_, 0, ++fenced_);
}

}  // namespace dpb
