#include "results/point_axes.h"

#include <stdexcept>

#include "results/point_record.h"

namespace dpb {

std::string id_text(const nlohmann::json& v) {
  if (v.is_boolean()) return id_value(v.get<bool>());
  if (v.is_number_unsigned()) return std::to_string(v.get<unsigned long long>());
  if (v.is_number_integer()) return id_value(v.get<long long>());
  if (v.is_number_float()) return id_value(v.get<double>());
  if (v.is_string()) return v.get<std::string>();
  if (v.is_array()) {
    std::string out;
    for (std::size_t i = 0; i < v.size(); ++i) out += (i ? "," : "") + id_text(v[i]);
    return out;
  }
  throw std::invalid_argument("axis value " + v.dump() + " has no id form");
}

AxisLabel axis_label_value() {
  return [](const nlohmann::json& v) { return id_text(v); };
}

AxisLabel axis_label_prefixed(std::string prefix) {
  return [prefix = std::move(prefix)](const nlohmann::json& v) { return prefix + id_text(v); };
}

AxisLabel axis_label_named(std::string name) {
  return [name = std::move(name)](const nlohmann::json& v) { return name + "=" + id_text(v); };
}

AxisLabel axis_label_if_false(std::string text) {
  return [text = std::move(text)](const nlohmann::json& v) { return v.is_boolean() && !v.get<bool>() ? text : ""; };
}

std::optional<nlohmann::json> AxisRule::value_in(const nlohmann::json& axes) const {
  if (axes.is_object() && axes.contains(name)) return axes[name];
  if (default_value) return default_value(axes);
  return std::nullopt;
}

bool AxisRule::at_default(const nlohmann::json& axes) const {
  return default_value && value_in(axes) == default_value(axes);
}

AxisRules::AxisRules(std::string kind, std::vector<AxisRule> rules, BaselineForm baseline)
    : kind_(std::move(kind)), rules_(std::move(rules)), baseline_(std::move(baseline)) {}

std::vector<std::string> AxisRules::order() const {
  std::vector<std::string> out;
  for (const auto& r : rules_) out.push_back(r.name);
  return out;
}

std::string AxisRules::id(const nlohmann::json& axes) const {
  std::vector<std::pair<std::string, std::string>> parts;
  for (const auto& r : rules_) {
    if (!r.in_id || r.at_default(axes)) continue;
    const std::optional<nlohmann::json> v = r.value_in(axes);
    if (!v) throw std::invalid_argument(kind_ + " point: axis '" + r.name + "' is missing");
    parts.emplace_back(r.name, id_text(*v));
  }
  return make_point_id(kind_, parts);
}

std::string AxisRules::label(const nlohmann::json& axes) const {
  std::string out;
  for (const auto& r : rules_) {
    if (!r.label || r.at_default(axes)) continue;
    const std::optional<nlohmann::json> v = r.value_in(axes);
    const std::string part = v ? r.label(*v) : "";
    if (!part.empty()) out += (out.empty() ? "" : " ") + part;
  }
  return out;
}

std::optional<std::string> AxisRules::baseline_key(const nlohmann::json& axes) const {
  if (baseline_.kind.empty()) return std::nullopt;
  std::string group;
  bool grouped = false;
  std::vector<std::pair<std::string, std::string>> parts;
  try {
    for (const auto& r : rules_) {
      if (r.baseline == InBaseline::no) continue;
      // As in ids: an axis at its default is left out, so adding one keeps every earlier key.
      if (r.baseline == InBaseline::key && r.at_default(axes)) continue;
      const std::optional<nlohmann::json> v = r.baseline_value ? r.baseline_value(axes) : r.value_in(axes);
      if (!v) return std::nullopt;
      if (r.baseline == InBaseline::key) {
        parts.emplace_back(r.name, id_text(*v));
      } else {
        group += (grouped ? ";" : "") + id_text(*v);
        grouped = true;
      }
    }
  } catch (const std::exception&) {
    return std::nullopt;  // a value of another type (another version of the format): no key
  }
  if (grouped) parts.insert(parts.begin(), {baseline_.group, group});
  return make_point_id(baseline_.kind, parts);
}

}  // namespace dpb
