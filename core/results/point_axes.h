// One ordered list of a point type's axes (as nvbench declares a benchmark's axes once), from which
// everything that names a point is derived: its id, its axes JSON, its console label, the key that
// matches it with its baseline point, the sweep's values under invocation.options, and the order
// the results file gives readers (axis_order).
//
// Each axis has a name and a getter from the point's spec to its JSON value (the value stored under
// "axes"); every other form is derived from that JSON value, so a spec and a point read back from a
// results file give the same id text and the same baseline key. Declaring an axis:
//   Axis<Spec>("bucket_mb", [](const Spec& p) { return json(p.bucket_mb); })
//       .label(axis_label_prefixed("b")).baseline(InBaseline::key).option(AxisOption::list)
//
// Ids never change for files already written (point_record.h): an axis added to a point type later
// gets a `default_value`, and a point at its default leaves it out of the id and the label, so
// earlier ids stay valid; a stored point without it reads as having its default.
#pragma once
#include <algorithm>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace dpb {

// An axis's JSON value in id form: booleans 0/1, integers, doubles in shortest round-trip form,
// strings as they are, lists comma-joined (id_value's forms, point_record.h). Throws
// std::invalid_argument for null and objects.
std::string id_text(const nlohmann::json& value);

// How an axis shows in a point's console label: the text for its value, "" for nothing.
using AxisLabel = std::function<std::string(const nlohmann::json& value)>;
AxisLabel axis_label_value();                            // "p2p-ring"
AxisLabel axis_label_prefixed(std::string prefix);       // "n=4", "b25"
AxisLabel axis_label_named(std::string name);            // "accum=4"
AxisLabel axis_label_if_false(std::string text);         // overlap false: "no-overlap"

// How an axis takes part in the baseline key (the key that matches a point with the point its
// figures are relative to, e.g. a train point with its 1-rank point): not at all, as its own
// "name=value" part (left out at its default, as in ids), or as one value of the key's grouped part
// ("sync=4;bf16;linear": train's issue-13 axes, always there; new axes take `key`).
enum class InBaseline { no, key, grouped };

// How the sweep records an axis under invocation.options: not at all, as the one value every
// point shares, or as the list of distinct values in the order the points have them.
enum class AxisOption { none, one, list };

// Everything about an axis that does not need the spec: it works on the axes JSON of a point.
struct AxisRule {
  std::string name;
  bool in_id = true;
  AxisLabel label;  // empty: not in the label
  // Set for axes added after results files existed: the value a point had before (a function of
  // the point's other axes: comm_dtype's is the precision). At it the axis is left out of the id
  // and label; a stored point without the axis reads as having it.
  std::function<nlohmann::json(const nlohmann::json& axes)> default_value;
  InBaseline baseline = InBaseline::no;
  // The value the baseline key uses, if not the axis's own (train's batch: the 1-rank point's).
  std::function<nlohmann::json(const nlohmann::json& axes)> baseline_value;
  AxisOption option = AxisOption::none;

  // The axis's value in `axes`, its default where absent; nullopt where absent without one.
  std::optional<nlohmann::json> value_in(const nlohmann::json& axes) const;
  bool at_default(const nlohmann::json& axes) const;
};

// The baseline key's form: "<kind>/<group>=v1;v2/name=value/...". Empty kind: no baseline key.
struct BaselineForm {
  std::string kind;   // "train-baseline"
  std::string group;  // name of the grouped part ("sync")
};

// The spec-free half of a point type's axes: derivations from an axes JSON object.
class AxisRules {
 public:
  AxisRules(std::string kind, std::vector<AxisRule> rules, BaselineForm baseline = {});

  const std::string& kind() const { return kind_; }
  const std::vector<AxisRule>& rules() const { return rules_; }
  std::vector<std::string> order() const;  // the axes' names, in declaration order

  std::string id(const nlohmann::json& axes) const;     // make_point_id(kind, in-id axes off their default)
  std::string label(const nlohmann::json& axes) const;  // label parts joined by spaces
  // nullopt where an axis the key needs is missing (a point from another version of the format).
  std::optional<std::string> baseline_key(const nlohmann::json& axes) const;

 private:
  std::string kind_;
  std::vector<AxisRule> rules_;
  BaselineForm baseline_;
};

// One axis of a point type whose points are described by `Spec`: its name, the getter of its JSON
// value, and (chained) how it takes part in the derived forms.
template <class Spec>
class Axis {
 public:
  using Getter = std::function<nlohmann::json(const Spec&)>;
  using OptionGetter = std::function<std::optional<nlohmann::json>(const Spec&)>;
  using FromAxes = std::function<nlohmann::json(const nlohmann::json& axes)>;

  Axis(std::string name, Getter value) : value_(std::move(value)) { rule_.name = std::move(name); }

  Axis& not_in_id() {
    rule_.in_id = false;
    return *this;
  }
  Axis& label(AxisLabel form) {
    rule_.label = std::move(form);
    return *this;
  }
  Axis& default_value(FromAxes value) {
    rule_.default_value = std::move(value);
    return *this;
  }
  // `value`: the key's value if not the axis's own (computed from the point's axes).
  Axis& baseline(InBaseline role, FromAxes value = nullptr) {
    rule_.baseline = role;
    rule_.baseline_value = std::move(value);
    return *this;
  }
  // `value`: the recorded value if not the axis's own (nullopt: this spec records none).
  Axis& option(AxisOption form, OptionGetter value = nullptr) {
    rule_.option = form;
    option_value_ = std::move(value);
    return *this;
  }

  const AxisRule& rule() const { return rule_; }
  const Getter& value() const { return value_; }
  const OptionGetter& option_value() const { return option_value_; }

 private:
  AxisRule rule_;
  Getter value_;
  OptionGetter option_value_;
};

// A point type's ordered axes: the one place they are declared.
template <class Spec>
class PointAxes {
 public:
  PointAxes(std::string kind, std::vector<Axis<Spec>> axes, BaselineForm baseline = {})
      : rules_(std::move(kind), rules_of(axes), std::move(baseline)) {
    for (const auto& a : axes) {
      values_.push_back(a.value());
      options_.push_back(a.option_value());
    }
  }

  const AxisRules& rules() const { return rules_; }
  std::vector<std::string> order() const { return rules_.order(); }

  nlohmann::json axes(const Spec& spec) const {
    nlohmann::json out = nlohmann::json::object();
    for (std::size_t i = 0; i < values_.size(); ++i) out[rules_.rules()[i].name] = values_[i](spec);
    return out;
  }
  std::string id(const Spec& spec) const { return rules_.id(axes(spec)); }
  std::string label(const Spec& spec) const { return rules_.label(axes(spec)); }
  std::string baseline_key(const Spec& spec) const { return rules_.baseline_key(axes(spec)).value(); }

  // invocation.options entries of the axes that record one: {name: value or [values]}.
  nlohmann::json options(const std::vector<Spec>& specs) const {
    nlohmann::json out = nlohmann::json::object();
    for (std::size_t i = 0; i < values_.size(); ++i) {
      const AxisRule& r = rules_.rules()[i];
      if (r.option == AxisOption::none) continue;
      nlohmann::json seen = nlohmann::json::array();
      for (const Spec& s : specs) {
        std::optional<nlohmann::json> v = options_[i] ? options_[i](s) : std::optional<nlohmann::json>(values_[i](s));
        if (v && std::find(seen.begin(), seen.end(), *v) == seen.end()) seen.push_back(std::move(*v));
      }
      if (seen.empty()) continue;
      out[r.name] = r.option == AxisOption::one ? seen[0] : seen;
    }
    return out;
  }

 private:
  static std::vector<AxisRule> rules_of(const std::vector<Axis<Spec>>& axes) {
    std::vector<AxisRule> out;
    for (const auto& a : axes) out.push_back(a.rule());
    return out;
  }

  AxisRules rules_;
  std::vector<std::function<nlohmann::json(const Spec&)>> values_;
  std::vector<std::function<std::optional<nlohmann::json>(const Spec&)>> options_;
};

}  // namespace dpb
