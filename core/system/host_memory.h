// How much host memory this process may still use, read from the OS at the moment of asking:
// MemAvailable from /proc/meminfo, lowered by a cgroup (v2) memory limit when one applies.
//
// The cpu backend's simulated devices live in host memory, so their sizes come from here (a share
// of what is available now, not a made-up GPU size): allocations past the share fail as device
// out-of-memory errors long before the kernel's OOM killer would end the run.
#pragma once
#include <cstddef>
#include <optional>
#include <string>

namespace dpb {

// Bytes the host can still give this process; empty when the OS does not say.
std::optional<std::size_t> host_available_memory();

// Parsers, separated for tests. Each returns empty when the value is absent or unlimited.
std::optional<std::size_t> parse_meminfo_available_bytes(const std::string& meminfo);
std::optional<std::size_t> parse_cgroup_bytes(const std::string& text);  // "max" -> empty

// The cpu backend's default memory per simulated device: half of the available host memory (the
// other half stays for host-side inputs, references, staging copies and the rest of the system),
// split evenly over `devices`. Falls back to 1 GiB per device when the OS does not say.
std::size_t default_cpu_device_memory(int devices);

}  // namespace dpb
