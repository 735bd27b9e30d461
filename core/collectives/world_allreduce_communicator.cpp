#include "collectives/world_allreduce_communicator.h"

#include <stdexcept>
#include <string>

namespace dpb {

WorldAllreduceCommunicator::WorldAllreduceCommunicator(Backend& backend, World& world, int device)
    : backend_(backend), world_(world), device_(device) {
  backend_.check_device(device);
  devices_ = world_.gather_ints(device_);
}

void WorldAllreduceCommunicator::allreduce(DType type, std::span<const void* const> send, std::span<void* const> recv,
                                           std::size_t count, std::span<Stream* const> streams) {
  if (send.size() != 1 || recv.size() != 1 || streams.size() != 1 || !streams[0]) {
    throw std::invalid_argument("mpi allreduce: this process holds one rank; pass that rank's buffers and stream");
  }
  allreduce_rank(world_.rank(), type, send[0], recv[0], count, *streams[0]);
}

void WorldAllreduceCommunicator::allreduce_rank(int rank, DType type, const void* send, void* recv, std::size_t count,
                                                Stream& stream) {
  if (rank != world_.rank()) {
    throw std::invalid_argument("mpi allreduce: this process is rank " + std::to_string(world_.rank()) +
                                ", not rank " + std::to_string(rank));
  }
  if (stream.device() != device_) {
    throw std::invalid_argument("mpi allreduce: the stream is on device " + std::to_string(stream.device()) +
                                ", the rank on device " + std::to_string(device_));
  }
  if (count == 0) return;
  if (!send || !recv) throw std::invalid_argument("mpi allreduce: null buffer");
  const std::size_t bytes = count * dtype_size(type);
  // The previous call's copy back may still read the staging buffer on another stream.
  if (last_stream_ && last_stream_ != &stream) last_stream_->synchronize();
  if (host_.bytes() < bytes) {
    stream.synchronize();
    host_ = DeviceBuffer();
    host_ = backend_.allocate_pinned(bytes);
  }
  stream.copy_to_host(host_.data(), send, bytes);
  stream.synchronize();
  world_.allreduce_host(type, host_.data(), count);
  stream.copy_from_host(recv, host_.data(), bytes);
  last_stream_ = &stream;
}

}  // namespace dpb
