// The NCCL transport in a build without CUDA: every nccl-* algorithm refused with one line
// (nccl_communicator.cpp and nccl_world_communicator.cpp in CUDA builds; core/CMakeLists.txt
// compiles one set).
#include <stdexcept>

#include "collectives/nccl_communicator.h"

namespace dpb {

namespace {
[[noreturn]] void refuse(const AlgorithmName& algo) {
  throw std::invalid_argument(algo.text() + " needs NCCL, and this dpbench was built without CUDA");
}
}  // namespace

std::unique_ptr<Communicator> make_nccl_communicator(Backend&, const AlgorithmName& algo, const std::vector<int>&,
                                                     const CommunicatorOptions&) {
  refuse(algo);
}

std::unique_ptr<Communicator> make_nccl_world_communicator(Backend&, World&, const AlgorithmName& algo, int,
                                                           const CommunicatorOptions&) {
  refuse(algo);
}

int nccl_runtime_version() { return 0; }

}  // namespace dpb
