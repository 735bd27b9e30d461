#include "collectives/algorithm_rules.h"

#include <stdexcept>

namespace dpb {

void check_backend_supports(BackendKind backend, const AlgorithmName& algo) {
  if (algo.transport == Transport::nccl && backend != BackendKind::cuda) {
    throw std::invalid_argument(algo.text() + " needs the cuda backend (NCCL); on " + std::string(backend_name(backend)) +
                                " use p2p-ring, p2p-tree or p2p-direct");
  }
}

std::string nccl_version_text(int code) {
  // NCCL_VERSION(X,Y,Z) is X*1000+Y*100+Z up to 2.8, X*10000+Y*100+Z after.
  const int major = code >= 10000 ? code / 10000 : code / 1000;
  const int minor = code >= 10000 ? (code / 100) % 100 : (code / 100) % 10;
  const int patch = code % 100;
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
}

bool nccl_supports_multi_rank_gpu(int version_code) { return version_code >= 23000; }

std::optional<int> repeated_device(const std::vector<int>& devices) {
  for (std::size_t i = 0; i < devices.size(); ++i) {
    for (std::size_t j = i + 1; j < devices.size(); ++j) {
      if (devices[i] == devices[j]) return devices[i];
    }
  }
  return std::nullopt;
}

std::optional<std::string> nccl_device_refusal(const AlgorithmName& algo, const std::vector<int>& devices,
                                               bool multi_rank_requested, int version_code) {
  const std::optional<int> repeated = repeated_device(devices);
  if (!repeated) return std::nullopt;
  if (multi_rank_requested && nccl_supports_multi_rank_gpu(version_code)) return std::nullopt;
  std::string list;
  for (int d : devices) {
    if (!list.empty()) list += ',';
    list += std::to_string(d);
  }
  std::string why = algo.text() + ": devices " + list + " put two ranks on GPU " + std::to_string(*repeated) +
                    ": NCCL refuses two ranks on one GPU (NCCL < 2.30); use a p2p-* algorithm or give each rank its own device";
  if (multi_rank_requested) {
    why += " (multi-rank GPUs were requested, but the loaded NCCL is " + nccl_version_text(version_code) + ")";
  }
  return why;
}

}  // namespace dpb
