// What this binary is: version, git revision, compiled backends, CUDA/NCCL versions built against.
#pragma once
#include <optional>
#include <string>
#include <vector>

namespace dpb {

struct BuildInfo {
  std::string version;
  std::string git_revision;
  std::vector<std::string> backends;  // "cpu", and "cuda" where compiled in
  std::optional<std::string> cuda_build_version;
  std::optional<std::string> nccl_build_version;
};

BuildInfo build_info();

// The text `dpbench --version` prints.
std::string version_text();

}  // namespace dpb
