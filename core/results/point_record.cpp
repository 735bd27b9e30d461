#include "results/point_record.h"

#include <charconv>
#include <stdexcept>

namespace dpb {

std::string_view point_status_name(PointStatus s) {
  switch (s) {
    case PointStatus::ok: return "ok";
    case PointStatus::failed: return "failed";
    case PointStatus::skipped: return "skipped";
    case PointStatus::timeout: return "timeout";
  }
  return "failed";
}

std::string id_value(bool v) { return v ? "1" : "0"; }
std::string id_value(long long v) { return std::to_string(v); }
std::string id_value(int v) { return std::to_string(v); }
std::string id_value(std::size_t v) { return std::to_string(v); }
std::string id_value(double v) {
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof buf, v);  // shortest round-trip form
  return std::string(buf, res.ptr);
}
std::string id_value(std::string_view v) { return std::string(v); }
std::string id_value(const char* v) { return std::string(v); }
std::string id_value(const std::string& v) { return v; }
std::string id_value(const std::vector<int>& v) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i) out += ',';
    out += std::to_string(v[i]);
  }
  return out;
}

std::string make_point_id(std::string_view kind, const std::vector<std::pair<std::string, std::string>>& axes) {
  auto check = [](std::string_view s) {
    if (s.find('/') != std::string_view::npos) {
      throw std::invalid_argument("point id part '" + std::string(s) + "' contains '/'");
    }
  };
  check(kind);
  std::string id(kind);
  for (const auto& [key, value] : axes) {
    check(key);
    check(value);
    id += '/';
    id += key;
    id += '=';
    id += value;
  }
  return id;
}

void PointRecord::set_status(PointStatus s, std::string why) {
  status = s;
  reason = std::move(why);
}

nlohmann::json PointRecord::to_json() const {
  nlohmann::json j = {{"id", id}, {"kind", kind}, {"axes", axes}, {"status", point_status_name(status)}};
  j["reason"] = reason ? nlohmann::json(*reason) : nlohmann::json(nullptr);
  if (!started_at.empty()) j["started_at"] = started_at;
  j["duration_s"] = duration_s;
  if (!stats.empty()) {
    nlohmann::json s = nlohmann::json::object();
    for (const auto& [name, st] : stats) s[name] = dpb::to_json(st);
    j["stats"] = std::move(s);
  }
  if (!metrics.empty()) {
    nlohmann::json m = nlohmann::json::object();
    for (const auto& [name, metric] : metrics) {
      nlohmann::json one = {{"value", metric.value ? nlohmann::json(*metric.value) : nlohmann::json(nullptr)},
                            {"unit", metric.unit}};
      if (!metric.description.empty()) one["description"] = metric.description;
      if (!metric.source.empty()) one["source"] = metric.source;
      m[name] = std::move(one);
    }
    j["metrics"] = std::move(m);
  }
  if (stopping) j["stopping"] = *stopping;
  if (check) j["check"] = *check;
  if (more.is_object()) {
    for (const auto& [key, value] : more.items()) j[key] = value;
  }
  return j;
}

}  // namespace dpb
