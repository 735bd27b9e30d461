// The host part of the results file's `system` block: read from the OS, never assumed.
#pragma once
#include <cstddef>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace dpb {

struct HostInfo {
  std::string hostname;
  std::optional<std::string> os;      // PRETTY_NAME from /etc/os-release
  std::optional<std::string> kernel;  // uname: sysname release
  std::string cpu_model;              // "model name" from /proc/cpuinfo ("unknown" if unreadable)
  int cpu_logical_cores = 0;          // std::thread::hardware_concurrency / sysconf
  std::size_t memory_bytes = 0;       // MemTotal from /proc/meminfo
};

HostInfo read_host_info();

// Parsers for the files above, separated for tests. Each returns empty when the key is absent.
std::optional<std::string> parse_os_release_pretty_name(const std::string& text);
std::optional<std::string> parse_cpuinfo_model(const std::string& text);
std::optional<std::size_t> parse_meminfo_total_bytes(const std::string& text);

// The schema's system.host object.
nlohmann::json to_json(const HostInfo& h);

}  // namespace dpb
