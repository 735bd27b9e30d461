// Stands in for mpi_world.cpp where CMake found no MPI.
#include <stdexcept>

#include "world/world.h"

namespace dpb {

bool mpi_compiled_in() { return false; }

std::unique_ptr<World> open_mpi_world() {
  throw std::runtime_error(
      "this dpbench was built without MPI, so it cannot run a process per rank (install an MPI, e.g. Debian's "
      "libopenmpi-dev, and reconfigure with -DDPBENCH_MPI=AUTO or ON)");
}

}  // namespace dpb
