// Registration of dpbench's subcommands. Each cmd_*.cpp adds one subcommand to the CLI11 app and
// returns the function that runs it once parsing succeeded; main() runs the chosen one.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace dpb::cli {

// What every subcommand gets besides its own options.
struct Invocation {
  std::vector<std::string> argv;
};

using Runner = std::function<int(const Invocation&)>;

struct Command {
  CLI::App* app;
  Runner run;
};

// CLI11's message in words a person understands where it is cryptic: "--gpus: At Most 1 required
// but received 2" becomes "--gpus: given 2 times; give it once (lists are comma-separated, ...)".
std::string readable_parse_error(const std::string& message);

Command add_allreduce_command(CLI::App& root);
Command add_train_command(CLI::App& root);
Command add_info_command(CLI::App& root);
Command add_p2p_command(CLI::App& root);
Command add_model_command(CLI::App& root);

}  // namespace dpb::cli
