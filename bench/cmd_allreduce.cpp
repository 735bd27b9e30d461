// Placeholder until the allreduce command lands.
#include <iostream>

#include "commands.h"

namespace dpb::cli {

Command add_allreduce_command(CLI::App& root) {
  auto* app = root.add_subcommand("allreduce", "(not built yet)");
  return {app, [](const Invocation&) {
            std::cerr << "dpbench allreduce: not built yet\n";
            return 2;
          }};
}

}  // namespace dpb::cli
