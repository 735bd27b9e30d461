// What makes `--resume` strict: a results file is continued only by a run that would have written
// the same points. The command, the options recorded under invocation.options and the identity of
// the system (backend, host name, CPU model, device names) must all match; the first difference is
// reported as a ResumeMismatch naming the setting (an option key such as "gpus", or
// "system.host.hostname"), which bench/ turns into a message naming the flag. Forcing records the
// differences in the file. Points must be well formed (an object with a non-empty string id, a
// known status), else the file is refused: a file we cannot trust is not extended.
#pragma once
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "results/results_file.h"
#include "device/error.h"

namespace dpb {

struct ResumeDifference {
  std::string setting;  // "gpus", "stopping.iters", "system.host.hostname", ...
  nlohmann::json in_file, in_run;  // null where absent
  nlohmann::json to_json() const;
};

class ResumeMismatch : public SettingError {
 public:
  ResumeMismatch(const std::filesystem::path& path, ResumeDifference difference);
  const ResumeDifference& difference() const { return difference_; }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  ResumeDifference difference_;
};

// Every difference between the file and this run, options first (in key order), then the system.
std::vector<ResumeDifference> resume_differences(const nlohmann::json& doc, const ResultsHeader& header);

// Throws SettingError(setting, "'<path>' point N ...") for a malformed points array.
void check_resumable_points(const nlohmann::json& points, const std::filesystem::path& path, std::string_view setting);

// True for statuses --retry-failed measures again ("failed", "timeout").
bool is_retryable_status(const nlohmann::json& point);

}  // namespace dpb
