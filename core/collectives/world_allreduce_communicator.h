// `--algo mpi`: the MPI library's own all-reduce as one more algorithm (process per rank only).
// Host-staged, as an MPI that is not CUDA-aware must be: a call copies the rank's send buffer to
// page-locked host memory, waits for its stream, runs World::allreduce_host (MPI_Allreduce,
// in place), then enqueues the copy back into recv. The call therefore returns only after the
// library's all-reduce finished, and a device-event time around it includes both copies and the
// library's time, as a user of MPI_Allreduce on device data would see.
#pragma once
#include <memory>
#include <vector>

#include "collectives/communicator.h"
#include "world/world.h"

namespace dpb {

class WorldAllreduceCommunicator final : public Communicator {
 public:
  WorldAllreduceCommunicator(Backend& backend, World& world, int device);

  AlgorithmName algorithm() const override { return {Transport::mpi, ""}; }
  int ranks() const override { return world_.size(); }
  const std::vector<int>& devices() const override { return devices_; }

  // One process holds one rank: refuses unless called with that one rank's buffers and stream.
  void allreduce(DType type, std::span<const void* const> send, std::span<void* const> recv, std::size_t count,
                 std::span<Stream* const> streams) override;
  void allreduce_rank(int rank, DType type, const void* send, void* recv, std::size_t count, Stream& stream) override;
  // A rank blocked inside MPI cannot be released from here: the MPI path ends a timed-out job
  // with World::abort_job.
  void abort() override {}

 private:
  Backend& backend_;
  World& world_;
  int device_;
  std::vector<int> devices_;  // every rank's device, by rank
  DeviceBuffer host_;         // page-locked staging, grown to the largest message
  Stream* last_stream_ = nullptr;
};

}  // namespace dpb
