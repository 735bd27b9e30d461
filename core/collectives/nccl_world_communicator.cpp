// NCCL with a process per rank (nccl_communicator.h, make_nccl_world_communicator). NEVER RUN:
// written and compiled on a machine without a GPU; the first GPU run under mpirun must check it.
#include <cuda_runtime.h>
#include <nccl.h>

#include <cstring>
#include <stdexcept>
#include <string>

#include "collectives/algorithm_rules.h"
#include "collectives/communicator_env.h"
#include "collectives/nccl_check.h"
#include "collectives/nccl_communicator.h"
#include "device/cuda_check.h"
#include "device/cuda_handles.h"
#include "world/world.h"

namespace dpb {

namespace {

ncclDataType_t nccl_rank_type(DType type) {
  switch (type) {
    case DType::f32: return ncclFloat32;
    case DType::f16: return ncclFloat16;
    case DType::bf16: return ncclBfloat16;
  }
  throw std::invalid_argument("nccl: unsupported dtype");
}

class NcclRankCommunicator final : public Communicator {
 public:
  NcclRankCommunicator(World& world, AlgorithmName algo, int device)
      : world_(world), algo_(std::move(algo)), device_(device) {
    devices_ = world_.gather_ints(device_);
    std::string id_bytes(sizeof(ncclUniqueId), '\0');
    if (world_.rank() == 0) {
      ncclUniqueId id;
      DPB_NCCL_CHECK(ncclGetUniqueId(&id));
      id_bytes.assign(reinterpret_cast<const char*>(&id), sizeof id);
    }
    world_.broadcast(id_bytes, 0);
    ncclUniqueId id;
    std::memcpy(&id, id_bytes.data(), sizeof id);
    DPB_CUDA_CHECK(cudaSetDevice(device_));
    // NCCL reads NCCL_ALGO at init (FACTS.md): set for this init only, without racing other
    // threads' getenv, one init of the process at a time (communicator_env.h).
    run_nccl_init(algo_.algorithm, false, [&] {
      DPB_NCCL_CHECK(ncclCommInitRank(&comm_, world_.size(), id, world_.rank()));
    });
  }
  ~NcclRankCommunicator() override {
    if (!comm_) return;
    DPB_NCCL_WARN(ncclCommFinalize(comm_));
    DPB_NCCL_WARN(ncclCommDestroy(comm_));
  }
  NcclRankCommunicator(const NcclRankCommunicator&) = delete;
  NcclRankCommunicator& operator=(const NcclRankCommunicator&) = delete;

  AlgorithmName algorithm() const override { return algo_; }
  int ranks() const override { return world_.size(); }
  const std::vector<int>& devices() const override { return devices_; }

  void allreduce(DType type, std::span<const void* const> send, std::span<void* const> recv, std::size_t count,
                 std::span<Stream* const> streams) override {
    if (send.size() != 1 || recv.size() != 1 || streams.size() != 1 || !streams[0]) {
      throw std::invalid_argument(algo_.text() + " allreduce: this process holds one rank");
    }
    allreduce_rank(world_.rank(), type, send[0], recv[0], count, *streams[0]);
  }
  void allreduce_rank(int rank, DType type, const void* send, void* recv, std::size_t count, Stream& stream) override {
    if (rank != world_.rank()) throw std::invalid_argument(algo_.text() + ": this process holds another rank");
    if (!comm_) throw std::invalid_argument(algo_.text() + " allreduce: the communicator was aborted");
    if (stream.device() != device_) throw std::invalid_argument(algo_.text() + ": the stream is on another device");
    if (count == 0) return;
    DPB_NCCL_CHECK(ncclAllReduce(send, recv, count, nccl_rank_type(type), ncclSum, comm_, cuda_stream_handle(stream)));
  }
  void abort() override {
    if (!comm_) return;
    DPB_NCCL_WARN(ncclCommAbort(comm_));
    comm_ = nullptr;
  }

 private:
  World& world_;
  AlgorithmName algo_;
  int device_;
  std::vector<int> devices_;
  ncclComm_t comm_ = nullptr;
};

}  // namespace

std::unique_ptr<Communicator> make_nccl_world_communicator(Backend& backend, World& world, const AlgorithmName& algo,
                                                           int device, const CommunicatorOptions&) {
  check_backend_supports(backend.kind(), algo);
  backend.check_device(device);
  return std::make_unique<NcclRankCommunicator>(world, algo, device);
}

}  // namespace dpb
