// Shared CLI flags for message sizes, as nccl-tests: -b/--minbytes, -e/--maxbytes, -f/--stepfactor.
#pragma once
#include <string>

#include <CLI/CLI.hpp>

#include "sweep/sizes.h"

namespace dpb::cli {

struct SizeFlags {
  std::string min_bytes = "8";
  std::string max_bytes = "256M";
  std::string factor = "2";
};

void add_size_flags(CLI::App& app, SizeFlags& flags);
// Parses and validates (errors name -b/--minbytes, -e/--maxbytes, -f/--stepfactor).
SizeRange parse_size_flags(const SizeFlags& flags);

}  // namespace dpb::cli
