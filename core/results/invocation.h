// Helpers for the results file's `invocation` block and timestamps.
#pragma once
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace dpb {

// "2024-06-11T10:01:55Z" (UTC, second resolution).
std::string iso8601_utc(std::chrono::system_clock::time_point t);
std::string iso8601_utc_now();

// POSIX shell quoting: words made only of safe characters stay bare, others are single-quoted
// (with ' written as '\''), so the result pastes back into a shell as the same argv.
std::string shell_quote(std::string_view word);
std::string shell_join(const std::vector<std::string>& argv);

// The schema's `dpbench` block (version, git revision, compiled backends, build-time versions).
nlohmann::json dpbench_build_json();

}  // namespace dpb
