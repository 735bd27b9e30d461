#include "cli_sizes.h"

namespace dpb::cli {

void add_size_flags(CLI::App& app, SizeFlags& flags) {
  app.add_option("-b,--minbytes", flags.min_bytes, "Smallest message size (K/M/G = 2^10/2^20/2^30)")
      ->capture_default_str();
  app.add_option("-e,--maxbytes", flags.max_bytes, "Largest message size")->capture_default_str();
  app.add_option("-f,--stepfactor", flags.factor, "Multiply the size by this factor each step (>= 2)")
      ->capture_default_str();
}

SizeRange parse_size_flags(const SizeFlags& flags) {
  SizeRange r;
  r.min_bytes = parse_size(flags.min_bytes, "-b/--minbytes");
  r.max_bytes = parse_size(flags.max_bytes, "-e/--maxbytes");
  r.factor = parse_step_factor(flags.factor, "-f/--stepfactor");
  r.validate();
  return r;
}

}  // namespace dpb::cli
