// `dpbench model`: explain the scaling of measured results and extrapolate it (issue 14). The
// fitting, prediction and plots live in the report package (numpy/scipy/matplotlib:
// `dpbench-report model fit|whatif`, scripts/dpbench_report/model_*.py); this command checks its
// inputs first, sorts the results files into all-reduce sweeps (fitted) and train sweeps
// (predicted), and runs the fit, then the what-if when GPU counts are given. The step and byte
// counts of dpbench's own algorithms come from the results files, where every p2p point records
// its schedule's count_schedule figures. Every number it writes carries "source": "model".
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli_lists.h"
#include "commands.h"

extern char** environ;

namespace dpb::cli {
namespace {

namespace fs = std::filesystem;

struct ModelFlags {
  std::vector<std::string> from;
  std::string out;
  std::string holdout;
  std::string gpus;
  std::string gpus_per_node = "8";
  std::string intra;
  std::string inter;
  std::string algo;
  std::string bytes;
};

// "BW,LAT": GB/s and microseconds, both positive.
void check_link(const std::string& text, const char* flag) {
  const std::vector<double> v =
      parse_list<double>(text, flag, [flag](const std::string& item) { return parse_double(item, flag, 0, 1e9); });
  if (v.size() != 2 || !(v[0] > 0) || !(v[1] >= 0)) {
    throw std::invalid_argument(std::string(flag) + ": expected BW,LAT (GB/s > 0, microseconds >= 0), got '" + text + "'");
  }
}

// The command ("allreduce", "train", ...) a results file was written by.
std::string results_command(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::invalid_argument("--from: cannot read " + path);
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception&) {
    throw std::invalid_argument("--from: " + path + " is not JSON (a dpbench results file is)");
  }
  const auto command = doc.is_object() ? doc.value("command", std::string()) : std::string();
  if (command.empty() || !doc.contains("points")) {
    throw std::invalid_argument("--from: " + path + " is not a dpbench results file (no command/points)");
  }
  return command;
}

// The report package's command: $DPBENCH_REPORT, the build's venv beside this binary
// (build/bench/dpbench -> build/venv/bin), else dpbench-report on PATH.
std::string report_tool() {
  if (const char* env = std::getenv("DPBENCH_REPORT"); env && *env) return env;
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const fs::path beside = self.parent_path().parent_path() / "venv" / "bin" / "dpbench-report";
    if (fs::exists(beside, ec)) return beside.string();
  }
  return "dpbench-report";
}

// Runs the tool with `args`, waits, returns its exit status; one clear error when it cannot start.
int run_tool(const std::string& tool, const std::vector<std::string>& args) {
  std::vector<std::string> all = {tool};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  if (posix_spawnp(&pid, tool.c_str(), nullptr, nullptr, argv.data(), environ) != 0) {
    throw std::runtime_error("cannot run '" + tool + "': install the report package (python3 -m pip install ./scripts, "
                             "or scripts/setup.sh) or point DPBENCH_REPORT at its dpbench-report");
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int run_model(const ModelFlags& f) {
  // Everything is checked before the first step runs.
  std::vector<std::string> allreduce, train;
  for (const std::string& path : f.from) {
    const std::string command = results_command(path);
    if (command == "allreduce") allreduce.push_back(path);
    if (command == "train") train.push_back(path);
  }
  if (allreduce.empty()) {
    throw std::invalid_argument("--from: no allreduce results among the files; the model is fitted from an allreduce sweep");
  }
  if (!f.gpus.empty()) parse_positive_int_list(f.gpus, "--gpus");
  parse_positive_int_list(f.gpus_per_node, "--gpus-per-node");
  if (!f.intra.empty()) check_link(f.intra, "--intra");
  if (!f.inter.empty()) check_link(f.inter, "--inter");
  fs::create_directories(f.out);
  const std::string model = (fs::path(f.out) / "model.json").string();
  const std::string tool = report_tool();

  std::vector<std::string> fit = {"model", "fit"};
  fit.insert(fit.end(), allreduce.begin(), allreduce.end());
  fit.insert(fit.end(), train.begin(), train.end());
  fit.insert(fit.end(), {"--out", model});
  if (!f.holdout.empty()) fit.insert(fit.end(), {"--holdout", f.holdout});
  if (const int rc = run_tool(tool, fit); rc != 0 || f.gpus.empty()) return rc;

  std::vector<std::string> whatif = {"model", "whatif", "--from", model, "--gpus", f.gpus,
                                     "--gpus-per-node", f.gpus_per_node, "--out",
                                     (fs::path(f.out) / "whatif.json").string()};
  if (!f.intra.empty()) whatif.insert(whatif.end(), {"--intra", f.intra});
  if (!f.inter.empty()) whatif.insert(whatif.end(), {"--inter", f.inter});
  if (!f.algo.empty()) whatif.insert(whatif.end(), {"--algo", f.algo});
  if (!f.bytes.empty()) whatif.insert(whatif.end(), {"--bytes", f.bytes});
  if (!train.empty()) whatif.insert(whatif.end(), {"--train", train.front()});
  return run_tool(tool, whatif);
}

}  // namespace

Command add_model_command(CLI::App& root) {
  auto flags = std::make_shared<ModelFlags>();
  auto* app = root.add_subcommand(
      "model", "Fit a latency-bandwidth cost model to allreduce results (each p2p schedule's own step and byte "
               "counts), predict the train points beside them, and what-if other GPU counts and topologies "
               "(runs dpbench-report model; every figure is marked source: model)");
  app->add_option("--from", flags->from, "dpbench results files: allreduce (fitted) and train (predicted)")
      ->required()
      ->expected(1, -1);
  app->add_option("--out", flags->out, "Directory for model.json, whatif.json, their .md summaries and plots")
      ->required();
  app->add_option("--holdout", flags->holdout, "even|odd|ranks=N,...: fit on a subset, report errors on the rest");
  app->add_option("--gpus", flags->gpus, "What-if GPU counts, e.g. 16,64,256 (omit: fit only)");
  app->add_option("--gpus-per-node", flags->gpus_per_node, "What-if GPUs per node")->capture_default_str();
  app->add_option("--intra", flags->intra, "What-if intra-node link BW,LAT (GB/s, us); default: the fitted ring's");
  app->add_option("--inter", flags->inter, "What-if inter-node network BW,LAT per GPU (GB/s, us)");
  app->add_option("--algo", flags->algo, "What-if algorithms: ring,tree,hierarchical (default all)");
  app->add_option("--bytes", flags->bytes, "What-if message sizes, e.g. 25M (default 4K..1G)");
  return {app, [flags](const Invocation&) { return run_model(*flags); }};
}

}  // namespace dpb::cli
