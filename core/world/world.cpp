#include "world/world.h"

#include <cstdlib>
#include <cstring>

namespace dpb {

bool World::single_node() const {
  const auto& h = hosts();
  for (const auto& name : h) {
    if (name != h.at(static_cast<std::size_t>(rank()))) return false;
  }
  return true;
}

std::vector<int> World::gather_ints(int value) {
  std::vector<int> out;
  for (double v : gather_doubles(static_cast<double>(value))) out.push_back(static_cast<int>(v));
  return out;
}

std::vector<double> World::gather_doubles(double value) {
  const std::string mine(reinterpret_cast<const char*>(&value), sizeof value);
  std::vector<double> out;
  for (const std::string& s : all_gather(mine)) {
    double v = 0;
    if (s.size() == sizeof v) std::memcpy(&v, s.data(), sizeof v);
    out.push_back(v);
  }
  return out;
}

std::optional<std::string> detect_process_launcher() {
  for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS"}) {
    if (std::getenv(var)) return std::string("mpi");
  }
  return std::nullopt;
}

}  // namespace dpb
