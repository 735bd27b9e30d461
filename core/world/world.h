// How ranks find each other when each rank is its own process (ARCHITECTURE.md, "ranks run as DDP
// runs them"): a World is the job's ranks, its size and the host-side bootstrap they share
// (barriers, small exchanges, the MPI library's own all-reduce). Today the only World is MPI's
// (mpirun, srun); a process launched without one runs every rank itself (threads) and has none.
//
// MPI types never appear here: mpi_world.cpp implements this where CMake found MPI
// (-DDPBENCH_MPI=AUTO), no_mpi_world.cpp stands in where it did not.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "device/dtype.h"

namespace dpb {

class World {
 public:
  virtual ~World() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // Ranks on this rank's node, and this rank's index among them (its local device on cuda).
  virtual int local_rank() const = 0;
  virtual int local_size() const = 0;
  // Host name of every rank, by rank.
  virtual const std::vector<std::string>& hosts() const = 0;
  // True when every rank runs on this rank's host.
  bool single_node() const;
  // "MPI 3.1, Open MPI v4.1.4": the library in use, for records and messages.
  virtual std::string library() const = 0;

  virtual void barrier() = 0;
  // Rank `root`'s bytes, on every rank (the others' `data` is replaced).
  virtual void broadcast(std::string& data, int root = 0) = 0;
  // Every rank's bytes, by rank (any lengths).
  virtual std::vector<std::string> all_gather(const std::string& data) = 0;
  // Every rank's value, by rank.
  std::vector<double> gather_doubles(double value);
  std::vector<int> gather_ints(int value);
  // Sum / max over ranks.
  virtual double all_reduce_max(double value) = 0;
  virtual std::uint64_t all_reduce_sum(std::uint64_t value) = 0;
  // In-place sum all-reduce of host memory by the MPI library (MPI_Allreduce; fp16/bf16 through a
  // user operation over the shared element math).
  virtual void allreduce_host(DType type, void* data, std::size_t count) = 0;
  // Ends every process of the job now (MPI_Abort): how a rank that timed out waiting for a hung or
  // dead peer stops the others, which may be blocked inside the library.
  [[noreturn]] virtual void abort_job(int code) = 0;
};

// "mpi" when this process was started by an MPI launcher (OMPI_COMM_WORLD_SIZE, PMI_SIZE,
// PMIX_RANK, SLURM_STEP_NUM_TASKS with PMI), nothing otherwise. Reads the environment only.
std::optional<std::string> detect_process_launcher();

bool mpi_compiled_in();

// Initialises MPI (MPI_THREAD_MULTIPLE where available) and returns the job's world; finalised
// when the returned object is destroyed. Throws std::runtime_error when dpbench was built without
// MPI, naming the CMake switch.
std::unique_ptr<World> open_mpi_world();

}  // namespace dpb
