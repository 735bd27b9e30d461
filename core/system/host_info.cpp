#include "system/host_info.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

namespace dpb {

namespace {

std::string read_file(const char* path) {
  std::ifstream in(path);
  if (!in) return {};
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

std::string trim(std::string s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

// "key<sep>value" lines: the value of the first line whose key (trimmed) equals `key`.
std::optional<std::string> find_value(const std::string& text, std::string_view key, char sep) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    const auto pos = line.find(sep);
    if (pos == std::string::npos) continue;
    if (trim(line.substr(0, pos)) == key) return trim(line.substr(pos + 1));
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> parse_os_release_pretty_name(const std::string& text) {
  auto v = find_value(text, "PRETTY_NAME", '=');
  if (!v) return std::nullopt;
  std::string s = *v;
  if (s.size() >= 2 && (s.front() == '"' || s.front() == '\'') && s.back() == s.front()) s = s.substr(1, s.size() - 2);
  if (s.empty()) return std::nullopt;
  return s;
}

std::optional<std::string> parse_cpuinfo_model(const std::string& text) {
  // x86: "model name"; arm64 kernels print no model name, only "CPU implementer"/"CPU part".
  if (auto v = find_value(text, "model name", ':'); v && !v->empty()) return v;
  if (auto v = find_value(text, "Model", ':'); v && !v->empty()) return v;
  if (auto v = find_value(text, "CPU part", ':'); v && !v->empty()) {
    return "CPU implementer " + find_value(text, "CPU implementer", ':').value_or("?") + " part " + *v;
  }
  return std::nullopt;
}

std::optional<std::size_t> parse_meminfo_total_bytes(const std::string& text) {
  auto v = find_value(text, "MemTotal", ':');
  if (!v) return std::nullopt;
  std::istringstream in(*v);
  std::size_t amount = 0;
  std::string unit;
  if (!(in >> amount)) return std::nullopt;
  in >> unit;
  if (unit == "kB" || unit == "KB" || unit == "kb") return amount * 1024;
  if (unit.empty() || unit == "B") return amount;
  return std::nullopt;
}

HostInfo read_host_info() {
  HostInfo h;
  char name[256] = {};
  h.hostname = ::gethostname(name, sizeof name - 1) == 0 ? name : "unknown";
  h.os = parse_os_release_pretty_name(read_file("/etc/os-release"));
  struct utsname u {};
  if (::uname(&u) == 0) h.kernel = std::string(u.sysname) + " " + u.release;
  h.cpu_model = parse_cpuinfo_model(read_file("/proc/cpuinfo")).value_or("unknown");
  const long online = ::sysconf(_SC_NPROCESSORS_ONLN);
  h.cpu_logical_cores = online > 0 ? static_cast<int>(online) : static_cast<int>(std::thread::hardware_concurrency());
  if (auto mem = parse_meminfo_total_bytes(read_file("/proc/meminfo"))) {
    h.memory_bytes = *mem;
  } else {
    const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
    if (pages > 0 && page > 0) h.memory_bytes = static_cast<std::size_t>(pages) * static_cast<std::size_t>(page);
  }
  return h;
}

nlohmann::json to_json(const HostInfo& h) {
  nlohmann::json j = {{"hostname", h.hostname},
                      {"cpu_model", h.cpu_model},
                      {"cpu_logical_cores", h.cpu_logical_cores},
                      {"memory_bytes", h.memory_bytes}};
  if (h.os) j["os"] = *h.os;
  if (h.kernel) j["kernel"] = *h.kernel;
  return j;
}

}  // namespace dpb
