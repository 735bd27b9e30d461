#include "measure/timeline.h"

#include <algorithm>
#include <stdexcept>

namespace dpb {

Timeline::Timeline(Backend& backend, std::vector<int> devices) : backend_(&backend), devices_(std::move(devices)) {
  if (devices_.empty()) throw std::invalid_argument("Timeline: no ranks");
  for (int d : devices_) origins_.push_back(backend_->make_event(d, true));
}

void Timeline::begin_iteration(std::span<Stream* const> streams) {
  if (streams.size() != devices_.size()) {
    throw std::invalid_argument("Timeline::begin_iteration: " + std::to_string(streams.size()) +
                                " streams for " + std::to_string(devices_.size()) + " ranks");
  }
  streams[0]->record(*origins_[0]);
  for (std::size_t r = 1; r < streams.size(); ++r) {
    streams[r]->wait(*origins_[0]);
    streams[r]->record(*origins_[r]);
  }
  for (auto& [key, slot] : slots_) slot.begun = slot.ended = false;
  next_order_ = 0;
}

Timeline::Slot& Timeline::slot(std::string_view name, int rank) {
  if (rank < 0 || static_cast<std::size_t>(rank) >= devices_.size()) {
    throw std::invalid_argument("Timeline: rank " + std::to_string(rank) + " out of range");
  }
  auto it = slots_.find(std::pair<std::string, int>(std::string(name), rank));
  if (it == slots_.end()) {
    Slot s;
    s.start = backend_->make_event(devices_[rank], true);
    s.end = backend_->make_event(devices_[rank], true);
    it = slots_.emplace(std::pair<std::string, int>(std::string(name), rank), std::move(s)).first;
  }
  return it->second;
}

void Timeline::begin(std::string_view name, int rank, Stream& stream) {
  Event* start = nullptr;
  {
    std::lock_guard lock(mutex_);
    Slot& s = slot(name, rank);
    if (s.begun) {
      throw std::logic_error("Timeline: span '" + std::string(name) + "' begun twice on rank " + std::to_string(rank));
    }
    s.begun = true;
    s.order = next_order_++;
    start = s.start.get();
  }
  stream.record(*start);  // outside the lock: only this rank's thread uses this slot
}

void Timeline::end(std::string_view name, int rank, Stream& stream) {
  Event* end = nullptr;
  {
    std::lock_guard lock(mutex_);
    Slot& s = slot(name, rank);
    if (!s.begun || s.ended) {
      throw std::logic_error("Timeline: span '" + std::string(name) + "' ended without begin on rank " +
                             std::to_string(rank));
    }
    s.ended = true;
    end = s.end.get();
  }
  stream.record(*end);
}

std::vector<TimelineSpan> Timeline::spans() const {
  std::vector<std::pair<std::size_t, TimelineSpan>> ordered;
  for (const auto& [key, s] : slots_) {
    if (!s.begun) continue;
    if (!s.ended) throw std::logic_error("Timeline: span '" + key.first + "' was not ended");
    const Event& origin = *origins_[static_cast<std::size_t>(key.second)];
    ordered.emplace_back(s.order, TimelineSpan{key.first, key.second, s.start->elapsed_ms_since(origin),
                                               s.end->elapsed_ms_since(origin)});
  }
  std::sort(ordered.begin(), ordered.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<TimelineSpan> out;
  out.reserve(ordered.size());
  for (auto& [order, span] : ordered) out.push_back(std::move(span));
  return out;
}

double Timeline::duration_ms(std::string_view name, int rank) const {
  auto it = slots_.find(std::pair<std::string, int>(std::string(name), rank));
  if (it == slots_.end() || !it->second.begun || !it->second.ended) {
    throw std::logic_error("Timeline: span '" + std::string(name) + "' was not recorded on rank " +
                           std::to_string(rank));
  }
  return it->second.end->elapsed_ms_since(*it->second.start);
}

nlohmann::json to_json(std::span<const TimelineSpan> spans) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& s : spans) {
    out.push_back({{"name", s.name}, {"rank", s.rank}, {"start_ms", s.start_ms}, {"end_ms", s.end_ms}});
  }
  return out;
}

std::vector<TimelineSpan> spans_from_json(const nlohmann::json& spans) {
  std::vector<TimelineSpan> out;
  for (const auto& s : spans) {
    out.push_back(TimelineSpan{s.at("name").get<std::string>(), s.at("rank").get<int>(), s.at("start_ms").get<double>(),
                               s.at("end_ms").get<double>()});
  }
  return out;
}

}  // namespace dpb
