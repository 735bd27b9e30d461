// Which algorithm can run where, decided without touching a device: the refusals make_communicator
// reports (host code, so it is tested on machines without CUDA or NCCL).
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "collectives/communicator.h"

namespace dpb {

// Throws std::invalid_argument when `algo` cannot run on `backend` at all: NCCL names on the cpu
// backend ("nccl-ring needs the cuda backend (NCCL); on cpu use p2p-ring, p2p-tree or p2p-direct").
void check_backend_supports(BackendKind backend, const AlgorithmName& algo);

// NCCL's version code (ncclGetVersion / NCCL_VERSION_CODE) as "2.28.9".
std::string nccl_version_text(int version_code);
// NCCL_MULTI_RANK_GPU_ENABLE exists from NCCL 2.30 on.
bool nccl_supports_multi_rank_gpu(int version_code);

// A device that two ranks of `devices` share (the first found), or nothing.
std::optional<int> repeated_device(const std::vector<int>& devices);

// Why NCCL cannot run ranks on `devices` (a GPU listed twice), or nothing when it can: repeated
// devices are refused unless `multi_rank_requested` and the loaded NCCL (`version_code`) is 2.30+.
std::optional<std::string> nccl_device_refusal(const AlgorithmName& algo, const std::vector<int>& devices,
                                               bool multi_rank_requested, int version_code);

}  // namespace dpb
