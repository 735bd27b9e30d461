#include "system/host_memory.h"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace dpb {

namespace {

std::string read_small_file(const char* path) {
  std::ifstream in(path);
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

}  // namespace

std::optional<std::size_t> parse_meminfo_available_bytes(const std::string& meminfo) {
  std::istringstream in(meminfo);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("MemAvailable:", 0) != 0) continue;
    std::istringstream fields(line.substr(13));
    std::size_t amount = 0;
    std::string unit;
    if (!(fields >> amount)) return std::nullopt;
    fields >> unit;
    if (unit == "kB" || unit == "KB" || unit == "kb") return amount * 1024;
    if (unit.empty() || unit == "B") return amount;
    return std::nullopt;
  }
  return std::nullopt;
}

std::optional<std::size_t> parse_cgroup_bytes(const std::string& text) {
  std::istringstream in(text);
  std::string word;
  if (!(in >> word) || word == "max") return std::nullopt;
  try {
    std::size_t used = 0;
    const unsigned long long v = std::stoull(word, &used);
    if (used != word.size()) return std::nullopt;
    return static_cast<std::size_t>(v);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::optional<std::size_t> host_available_memory() {
  std::optional<std::size_t> avail = parse_meminfo_available_bytes(read_small_file("/proc/meminfo"));
  // A cgroup limit (containers, systemd slices) can be far below what the host has free.
  const auto limit = parse_cgroup_bytes(read_small_file("/sys/fs/cgroup/memory.max"));
  const auto current = parse_cgroup_bytes(read_small_file("/sys/fs/cgroup/memory.current"));
  if (limit) {
    const std::size_t left = current && *current < *limit ? *limit - *current : 0;
    avail = avail ? std::min(*avail, left) : left;
  }
  return avail;
}

std::size_t default_cpu_device_memory(int devices) {
  const std::size_t n = static_cast<std::size_t>(std::max(devices, 1));
  const auto avail = host_available_memory();
  if (!avail) return std::size_t{1} << 30;
  return std::max<std::size_t>(*avail / 2 / n, std::size_t{1} << 20);
}

}  // namespace dpb
