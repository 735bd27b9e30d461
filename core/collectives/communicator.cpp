#include "collectives/communicator.h"

#include <stdexcept>

#include "collectives/algorithm_rules.h"
#include "collectives/p2p_communicator.h"
#if DPBENCH_HAVE_CUDA
#include "collectives/nccl_communicator.h"
#endif

namespace dpb {

std::string AlgorithmName::text() const { return (transport == Transport::p2p ? "p2p-" : "nccl-") + algorithm; }

std::vector<std::string> all_algorithm_names() {
  return {"p2p-ring", "p2p-tree", "p2p-direct", "nccl-ring", "nccl-tree", "nccl-auto"};
}

AlgorithmName parse_algorithm(std::string_view name) {
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
  throw std::invalid_argument("--algo: unknown algorithm '" + std::string(name) + "' (expected one of " + valid + ")");
}

std::unique_ptr<Communicator> make_communicator(Backend& backend, const AlgorithmName& algo,
                                                const std::vector<int>& devices, const CommunicatorOptions& options) {
  check_backend_supports(backend.kind(), algo);
  if (devices.empty()) throw std::invalid_argument(algo.text() + ": needs at least one rank (device list is empty)");
  for (int d : devices) backend.check_device(d);
  if (algo.transport == Transport::p2p) {
    return std::make_unique<P2pCommunicator>(backend, algo.algorithm, devices, options);
  }
#if DPBENCH_HAVE_CUDA
  return make_nccl_communicator(backend, algo, devices, options);
#else
  throw std::invalid_argument(algo.text() + " needs NCCL, and this dpbench was built without CUDA");
#endif
}

}  // namespace dpb
