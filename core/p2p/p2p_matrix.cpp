#include "p2p/p2p_matrix.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>
#include <stdexcept>

namespace dpb {
namespace {

double round_significant(double v, int digits) {
  if (v == 0.0 || !std::isfinite(v)) return v;
  char text[64];
  std::snprintf(text, sizeof text, "%.*g", digits, v);
  return std::strtod(text, nullptr);
}

nlohmann::json opt_number(const std::optional<double>& v) {
  return v ? nlohmann::json(round_significant(*v, 6)) : nlohmann::json(nullptr);
}

template <class F>
void for_each_measured(const DeviceMatrix& m, F&& f) {
  for (const auto& row : m.values) {
    for (const auto& v : row) {
      if (v) f(*v);
    }
  }
}

// Column labels: the device index, with "#k" added to the k-th repeat of a device (--devices 0,0).
std::vector<std::string> position_labels(const std::vector<int>& devices) {
  std::vector<std::string> labels;
  for (std::size_t p = 0; p < devices.size(); ++p) {
    const auto repeat = std::count(devices.begin(), devices.begin() + static_cast<std::ptrdiff_t>(p), devices[p]);
    labels.push_back(std::to_string(devices[p]) + (repeat ? "#" + std::to_string(repeat) : ""));
  }
  return labels;
}

std::string number(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f", v);
  return text;
}

}  // namespace

DeviceMatrix DeviceMatrix::empty(std::string name, std::string unit, std::string description, std::vector<int> devices) {
  DeviceMatrix m{std::move(name), std::move(unit), std::move(description), std::move(devices), {}};
  m.values.assign(m.devices.size(), std::vector<std::optional<double>>(m.devices.size()));
  return m;
}

std::size_t DeviceMatrix::measured() const {
  std::size_t n = 0;
  for_each_measured(*this, [&](double) { ++n; });
  return n;
}

std::optional<double> DeviceMatrix::sum() const {
  if (measured() == 0) return std::nullopt;
  double s = 0;
  for_each_measured(*this, [&](double v) { s += v; });
  return s;
}

std::optional<double> DeviceMatrix::min() const {
  if (measured() == 0) return std::nullopt;
  double m = std::numeric_limits<double>::infinity();
  for_each_measured(*this, [&](double v) { m = std::min(m, v); });
  return m;
}

std::optional<double> DeviceMatrix::max() const {
  if (measured() == 0) return std::nullopt;
  double m = -std::numeric_limits<double>::infinity();
  for_each_measured(*this, [&](double v) { m = std::max(m, v); });
  return m;
}

std::optional<double> DeviceMatrix::average() const {
  const std::size_t n = measured();
  if (n == 0) return std::nullopt;
  return *sum() / static_cast<double>(n);
}

nlohmann::json DeviceMatrix::to_json() const {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& row : values) {
    nlohmann::json r = nlohmann::json::array();
    for (const auto& v : row) r.push_back(opt_number(v));
    rows.push_back(std::move(r));
  }
  return {{"name", name},       {"unit", unit},       {"description", description},
          {"devices", devices}, {"values", rows},     {"sum", opt_number(sum())},
          {"min", opt_number(min())}, {"max", opt_number(max())}, {"average", opt_number(average())}};
}

DeviceMatrix DeviceMatrix::from_json(const nlohmann::json& j) {
  try {
    DeviceMatrix m;
    m.name = j.at("name").get<std::string>();
    m.unit = j.at("unit").get<std::string>();
    m.description = j.value("description", "");
    m.devices = j.at("devices").get<std::vector<int>>();
    for (const auto& row : j.at("values")) {
      std::vector<std::optional<double>> r;
      for (const auto& v : row) r.push_back(v.is_null() ? std::nullopt : std::optional<double>(v.get<double>()));
      if (r.size() != m.devices.size()) throw std::invalid_argument("a row's length differs from the device count");
      m.values.push_back(std::move(r));
    }
    if (m.values.size() != m.devices.size()) throw std::invalid_argument("the row count differs from the device count");
    return m;
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(std::string("malformed matrix: ") + e.what());
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string("malformed matrix: ") + e.what());
  }
}

std::string format_matrix(const DeviceMatrix& m) {
  std::ostringstream out;
  out << m.name << " (" << m.unit << "): " << m.description << "\n";
  const auto labels = position_labels(m.devices);
  constexpr int kWidth = 10;
  char cell[64];
  std::snprintf(cell, sizeof cell, "%*s", 6, "src\\dst");
  out << cell;
  for (const auto& l : labels) {
    std::snprintf(cell, sizeof cell, "%*s", kWidth, l.c_str());
    out << cell;
  }
  out << "\n";
  for (std::size_t i = 0; i < m.values.size(); ++i) {
    std::snprintf(cell, sizeof cell, "%7s", labels[i].c_str());
    out << cell;
    for (const auto& v : m.values[i]) {
      std::snprintf(cell, sizeof cell, "%*s", kWidth, v ? number(*v).c_str() : "N/A");
      out << cell;
    }
    out << "\n";
  }
  if (m.measured() > 0) {
    out << "SUM " << m.name << " " << number(*m.sum()) << "  (min " << number(*m.min()) << ", max "
        << number(*m.max()) << ", average " << number(*m.average()) << ")\n";
  } else {
    out << "SUM " << m.name << " N/A (nothing measured)\n";
  }
  return out.str();
}

}  // namespace dpb
