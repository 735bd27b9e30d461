#include "results/results_resume.h"

#include <set>

#include "device/error.h"

namespace dpb {

namespace fs = std::filesystem;

namespace {

void diff_values(const std::string& prefix, const nlohmann::json& file, const nlohmann::json& run,
                 std::vector<ResumeDifference>& out) {
  if (file.is_object() && run.is_object()) {
    std::set<std::string> keys;
    for (const auto& [k, v] : run.items()) keys.insert(k);
    for (const auto& [k, v] : file.items()) keys.insert(k);
    for (const auto& k : keys) {
      const nlohmann::json a = file.contains(k) ? file[k] : nlohmann::json(nullptr);
      const nlohmann::json b = run.contains(k) ? run[k] : nlohmann::json(nullptr);
      diff_values(prefix.empty() ? k : prefix + "." + k, a, b, out);
    }
    return;
  }
  if (file != run) out.push_back(ResumeDifference{prefix, file, run});
}

// The parts of `system` that say which machine measured: not its free memory or driver state.
nlohmann::json system_identity(const nlohmann::json& system) {
  if (!system.is_object()) return nullptr;
  nlohmann::json id = {{"backend", system.value("backend", nlohmann::json(nullptr))}};
  const nlohmann::json host = system.value("host", nlohmann::json::object());
  id["host"] = {{"hostname", host.is_object() ? host.value("hostname", nlohmann::json(nullptr)) : nullptr},
                {"cpu_model", host.is_object() ? host.value("cpu_model", nlohmann::json(nullptr)) : nullptr}};
  nlohmann::json names = nlohmann::json::array();
  for (const auto& d : system.value("devices", nlohmann::json::array())) {
    if (d.is_object()) names.push_back(d.value("name", nlohmann::json(nullptr)));
  }
  id["devices"] = names;
  return id;
}

std::string short_json(const nlohmann::json& v) { return v.is_null() ? "(none)" : v.dump(); }

}  // namespace

nlohmann::json ResumeDifference::to_json() const {
  return {{"setting", setting}, {"in_file", in_file}, {"in_run", in_run}};
}

ResumeMismatch::ResumeMismatch(const fs::path& path, ResumeDifference difference)
    : SettingError(difference.setting, "'" + path.string() + "' was measured with " + difference.setting + " " +
                                           short_json(difference.in_file) + "; this run has " +
                                           short_json(difference.in_run)),
      path_(path),
      difference_(std::move(difference)) {}

std::vector<ResumeDifference> resume_differences(const nlohmann::json& doc, const ResultsHeader& header) {
  std::vector<ResumeDifference> out;
  const nlohmann::json inv = doc.value("invocation", nlohmann::json::object());
  const nlohmann::json file_options =
      inv.is_object() ? inv.value("options", nlohmann::json::object()) : nlohmann::json::object();
  diff_values("", file_options, header.options.is_null() ? nlohmann::json::object() : header.options, out);
  const nlohmann::json file_system = doc.contains("system") ? doc["system"] : nlohmann::json(nullptr);
  const nlohmann::json a = system_identity(file_system), b = system_identity(header.system);
  if (a.is_null() != b.is_null()) {
    out.push_back(ResumeDifference{"system", file_system, b.is_null() ? nlohmann::json(nullptr) : b});
  } else {
    diff_values("system", a, b, out);
  }
  return out;
}

void check_resumable_points(const nlohmann::json& points, const fs::path& path, std::string_view setting) {
  static const std::set<std::string, std::less<>> kStatuses = {"ok", "failed", "skipped", "timeout"};
  std::set<std::string> ids;
  for (std::size_t i = 0; i < points.size(); ++i) {
    auto fail = [&](const std::string& why) {
      throw SettingError(std::string(setting), "'" + path.string() + "' point " + std::to_string(i) + " " +
                                  why + "; the file is not continued (repair or remove it)");
    };
    const auto& p = points[i];
    if (!p.is_object()) fail("is not an object");
    if (!p.contains("id") || !p["id"].is_string() || p["id"].get<std::string>().empty()) {
      fail(p.contains("id") ? "has id " + p["id"].dump() + ", not a point id string" : "has no id");
    }
    if (!p.contains("status") || !p["status"].is_string() || !kStatuses.count(p["status"].get<std::string>())) {
      fail("('" + p["id"].get<std::string>() + "') has no valid status");
    }
    if (!ids.insert(p["id"].get<std::string>()).second) fail("repeats id '" + p["id"].get<std::string>() + "'");
  }
}

bool is_retryable_status(const nlohmann::json& point) {
  const std::string s = point.value("status", "");
  return s == "failed" || s == "timeout";
}

}  // namespace dpb
