#include "collectives/communicator.h"

#include <algorithm>
#include <stdexcept>

#include "collectives/algorithm_rules.h"
#include "collectives/p2p_communicator.h"
#include "collectives/process_p2p_communicator.h"
#include "collectives/schedule_counts.h"
#include "collectives/nccl_communicator.h"
#include "collectives/world_allreduce_communicator.h"
#include "device/error.h"

namespace dpb {

std::string AlgorithmName::text() const {
  if (transport == Transport::mpi) return "mpi";
  return (transport == Transport::p2p ? "p2p-" : "nccl-") + algorithm;
}

std::vector<std::string> all_algorithm_names() {
  return {"p2p-ring", "p2p-tree", "p2p-direct", "nccl-ring", "nccl-tree", "nccl-auto", "mpi"};
}

AlgorithmName parse_algorithm(std::string_view name) {
  if (name == "mpi") return {Transport::mpi, ""};
  for (const auto& [prefix, transport] : {std::pair{std::string_view("p2p-"), Transport::p2p},
                                          std::pair{std::string_view("nccl-"), Transport::nccl}}) {
    if (name.substr(0, prefix.size()) != prefix) continue;
    const std::string_view rest = name.substr(prefix.size());
    const bool ok = transport == Transport::p2p ? (rest == "ring" || rest == "tree" || rest == "direct")
                                                : (rest == "ring" || rest == "tree" || rest == "auto");
    if (ok) return {transport, std::string(rest)};
  }
  std::string valid;
  for (const auto& n : all_algorithm_names()) valid += (valid.empty() ? "" : ", ") + n;
  throw SettingError("algo", "unknown algorithm '" + std::string(name) + "' (expected one of " + valid + ")");
}

void Communicator::allreduce_rank(int, DType, const void*, void*, std::size_t, Stream&) {
  throw std::logic_error(algorithm().text() + ": this communicator cannot be driven by a thread per rank");
}

CallPlan plan_allreduce_call(const AlgorithmName& algo, int ranks, DType type, std::size_t count, bool in_place,
                             const CommunicatorOptions& options) {
  if (ranks < 1) throw std::invalid_argument(algo.text() + ": needs at least one rank");
  CallPlan plan;
  if (algo.transport == Transport::nccl) {
    plan.ops_per_stream = 1;  // one ncclAllReduce launch per rank
    return plan;
  }
  if (algo.transport == Transport::mpi) {
    plan.ops_per_stream = 2;  // copy to host, (host MPI_Allreduce), copy back
    return plan;
  }
  const Schedule s = build_p2p_schedule(algo.algorithm, ranks, type, count, in_place, options);
  plan.ops_per_stream = s.max_steps_per_rank() + P2pCommunicator::kOpsAfterSchedule;
  for (std::size_t elems : s.scratch_elems) plan.scratch_bytes = std::max(plan.scratch_bytes, elems * dtype_size(type));
  plan.chunk_bytes = s.shape.chunk_elems * dtype_size(type);
  const ScheduleCounts counts = count_schedule(s, dtype_size(type));
  for (int r = 0; r < ranks; ++r) {
    std::size_t messages = 0;
    for (int peer = 0; peer < ranks; ++peer) messages += counts.messages(r, peer);
    plan.messages_per_rank = std::max(plan.messages_per_rank, messages);
    plan.wire_bytes_per_rank = std::max(plan.wire_bytes_per_rank, counts.sent(r));
  }
  return plan;
}

nlohmann::json CallPlan::schedule_json() const {
  if (messages_per_rank == 0 && wire_bytes_per_rank == 0) return nullptr;
  return {{"messages_per_rank", messages_per_rank}, {"wire_bytes_per_rank", wire_bytes_per_rank},
          {"source", "count_schedule"}};
}

std::unique_ptr<Communicator> make_communicator(Backend& backend, const AlgorithmName& algo,
                                                const std::vector<int>& devices, const CommunicatorOptions& options) {
  check_backend_supports(backend.kind(), algo);
  if (devices.empty()) throw std::invalid_argument(algo.text() + ": needs at least one rank (device list is empty)");
  for (int d : devices) backend.check_device(d);
  if (algo.transport == Transport::p2p) {
    return std::make_unique<P2pCommunicator>(backend, algo.algorithm, devices, options);
  }
  if (algo.transport == Transport::mpi) {
    throw std::invalid_argument("mpi needs a process per rank: run dpbench under mpirun or srun");
  }
  return make_nccl_communicator(backend, algo, devices, options);
}

std::unique_ptr<Communicator> make_world_communicator(Backend& backend, World& world, const AlgorithmName& algo,
                                                      int device, const CommunicatorOptions& options) {
  check_backend_supports(backend.kind(), algo);
  backend.check_device(device);
  switch (algo.transport) {
    case Transport::mpi: return std::make_unique<WorldAllreduceCommunicator>(backend, world, device);
    case Transport::p2p:
      return std::make_unique<ProcessP2pCommunicator>(backend, world, algo.algorithm, device, options);
    case Transport::nccl: break;
  }
  return make_nccl_world_communicator(backend, world, algo, device, options);
}

}  // namespace dpb
