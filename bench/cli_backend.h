// Shared CLI flags: --backend auto|cpu|cuda, --cpu-devices N, --cpu-queue-depth N and
// --cpu-device-memory SIZE.
//
//   BackendFlags flags;                 // defaults: auto, 8 simulated cpu devices
//   add_backend_flags(*app, flags);     // when building the subcommand
//   BackendSetup b = open_backend(flags, std::cerr);   // in the runner; prints what auto picked
#pragma once
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "collectives/communicator.h"
#include "device/backend.h"

namespace dpb::cli {

struct BackendFlags {
  std::string backend = "auto";
  int cpu_devices = 8;         // typed and range-checked by CLI11 (int_in)
  int cpu_queue_depth = 1024;
  std::string cpu_device_memory;  // empty: a share of the host's available memory
};

void add_backend_flags(CLI::App& app, BackendFlags& flags);

struct BackendSetup {
  BackendChoice choice;
  std::unique_ptr<Backend> backend;
};

// Resolves --backend (auto prints "backend: auto picked cpu: no CUDA device is visible" to `log`)
// and creates the backend. Throws std::invalid_argument naming --backend, --cpu-devices or
// --cpu-device-memory (more than the host has available for all simulated devices together).
BackendSetup open_backend(const BackendFlags& flags, std::ostream& log);

// Parses --algo (comma list; empty means nccl-auto on cuda, p2p-ring on cpu) and refuses names the
// opened backend cannot run, with one error naming --algo.
std::vector<AlgorithmName> parse_algo_flag(const std::string& text, const Backend& backend);
// Their names, as invocation.options records them.
std::vector<std::string> algo_texts(const std::vector<AlgorithmName>& algos);

// {"backend": ..., "cpu_devices": N, "cpu_queue_depth": N, "cpu_device_memory": bytes or null} for
// invocation.options.
nlohmann::json backend_options_json(const BackendFlags& flags);

}  // namespace dpb::cli
