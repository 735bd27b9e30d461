// dpbench: data-parallel training benchmarks for one multi-GPU node.
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "cli_sweep_flags.h"
#include "commands.h"
#include "system/version.h"

int main(int argc, char** argv) {
  CLI::App app{"dpbench: data-parallel training benchmarks for one multi-GPU node"};
  app.require_subcommand(0, 1);
  bool version = false;
  app.add_flag("--version", version, "Print version, git revision, compiled backends and library versions");

  std::vector<dpb::cli::Command> commands = {
      dpb::cli::add_allreduce_command(app),
      dpb::cli::add_train_command(app),
      dpb::cli::add_info_command(app),
      dpb::cli::add_p2p_command(app),
      dpb::cli::add_model_command(app),
  };

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // One line naming what was wrong; CLI11's messages name the option.
    std::cerr << "dpbench: error: " << dpb::cli::readable_parse_error(e.what()) << "\n";
    return 2;
  }
  if (version) {
    std::cout << dpb::version_text();
    return 0;
  }
  dpb::cli::Invocation inv{std::vector<std::string>(argv, argv + argc)};
  for (auto& c : commands) {
    if (c.app->parsed()) {
      try {
        return c.run(inv);
      } catch (const dpb::SettingError& e) {
        std::cerr << "dpbench " << c.app->get_name() << ": error: " << dpb::cli::flag_error(e).what() << "\n";
        return 2;
      } catch (const std::exception& e) {
        std::cerr << "dpbench " << c.app->get_name() << ": error: " << e.what() << "\n";
        return 2;
      }
    }
  }
  std::cout << app.help();
  return 0;
}
