// Placeholder until the info command lands.
#include <iostream>

#include "commands.h"

namespace dpb::cli {

Command add_info_command(CLI::App& root) {
  auto* app = root.add_subcommand("info", "(not built yet)");
  return {app, [](const Invocation&) {
            std::cerr << "dpbench info: not built yet\n";
            return 2;
          }};
}

}  // namespace dpb::cli
