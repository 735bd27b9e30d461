// Placeholder until the p2p command lands.
#include <iostream>

#include "commands.h"

namespace dpb::cli {

Command add_p2p_command(CLI::App& root) {
  auto* app = root.add_subcommand("p2p", "(not built yet)");
  return {app, [](const Invocation&) {
            std::cerr << "dpbench p2p: not built yet\n";
            return 2;
          }};
}

}  // namespace dpb::cli
