// Placeholder until the train command lands.
#include <iostream>

#include "commands.h"

namespace dpb::cli {

Command add_train_command(CLI::App& root) {
  auto* app = root.add_subcommand("train", "(not built yet)");
  return {app, [](const Invocation&) {
            std::cerr << "dpbench train: not built yet\n";
            return 2;
          }};
}

}  // namespace dpb::cli
