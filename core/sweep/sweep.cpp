#include "sweep/sweep.h"

#include <chrono>
#include <set>
#include <stdexcept>

#include "device/error.h"
#include "results/invocation.h"
#include "results/results_file.h"
#include "sweep/progress.h"

namespace dpb {

void validate_plan(const std::vector<SweepPoint>& points) {
  if (points.empty()) throw std::invalid_argument("the sweep has no points");
  std::set<std::string> ids;
  for (const auto& p : points) {
    if (p.id.empty()) throw std::invalid_argument("a sweep point has no id");
    if (!p.run) throw std::invalid_argument("sweep point '" + p.id + "' has nothing to run");
    if (!ids.insert(p.id).second) throw std::invalid_argument("sweep point '" + p.id + "' is planned twice");
  }
}

namespace {

PointRecord run_one(const SweepPoint& point) {
  const std::string started = iso8601_utc_now();
  const auto t0 = std::chrono::steady_clock::now();
  PointRecord rec;
  try {
    rec = point.run();
  } catch (const TimeoutError& e) {
    rec = PointRecord{};
    rec.set_status(PointStatus::timeout, e.what());
  } catch (const std::exception& e) {
    rec = PointRecord{};
    rec.set_status(PointStatus::failed, e.what());
  }
  if (rec.id.empty()) rec.id = point.id;
  if (rec.kind.empty()) rec.kind = point.kind;
  if (rec.axes.is_null() || rec.axes.empty()) rec.axes = point.axes;
  if (rec.started_at.empty()) rec.started_at = started;
  if (rec.duration_s == 0) rec.duration_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (rec.status != PointStatus::ok && !rec.reason) rec.reason = "no reason given";
  return rec;
}

}  // namespace

SweepOutcome run_sweep(const std::vector<SweepPoint>& points, const SweepOptions& options) {
  validate_plan(points);
  if (options.repeats < 1) throw std::invalid_argument("repeats must be at least 1");
  SweepOutcome out;
  out.planned = points.size();
  std::vector<const SweepPoint*> todo;
  for (const auto& p : points) {
    if (options.results && options.results->is_done(p.id)) {
      ++out.already_done;
    } else {
      todo.push_back(&p);
    }
  }
  const auto rounds = static_cast<std::size_t>(options.repeats);
  std::optional<Progress> progress;
  if (options.progress) progress.emplace(*options.progress, todo.size() * rounds, options.progress_tty);
  std::vector<std::vector<PointRecord>> measured(todo.size());
  std::vector<bool> settled(todo.size(), false);
  bool stopped = false;
  auto settle = [&](std::size_t i) {
    settled[i] = true;
    const SweepPoint* p = todo[i];
    PointRecord rec = measured[i].size() > 1 && p->merge ? p->merge(std::move(measured[i])) : measured[i].back();
    measured[i].clear();
    if (options.results) options.results->append(rec);
    switch (rec.status) {
      case PointStatus::ok: ++out.ok; break;
      case PointStatus::failed: ++out.failed; break;
      case PointStatus::timeout: ++out.timeout; break;
      case PointStatus::skipped: ++out.skipped; break;
    }
    if (options.on_record) options.on_record(rec);
    return rec;
  };
  for (std::size_t round = 1; round <= rounds && !stopped; ++round) {
    for (std::size_t i = 0; i < todo.size() && !stopped; ++i) {
      if (settled[i]) continue;
      const SweepPoint* p = todo[i];
      std::string label = p->label.empty() ? p->id : p->label;
      if (rounds > 1) label += " [round " + std::to_string(round) + "/" + std::to_string(rounds) + "]";
      if (progress) progress->start_point(label);
      measured[i].push_back(run_one(*p));
      const PointRecord& last = measured[i].back();
      if (progress) {
        progress->finish_point(label, point_status_name(last.status), last.reason.value_or(""));
        progress->clear_line();
      }
      if (round < rounds && last.status == PointStatus::ok) continue;
      const PointRecord rec = settle(i);
      if (options.stop_after && options.stop_after(rec)) stopped = true;
    }
  }
  // Stopped early: points with rounds already measured keep them (stopping.rounds says how many).
  for (std::size_t i = 0; i < todo.size(); ++i) {
    if (!settled[i] && !measured[i].empty()) settle(i);
  }
  if (options.results) options.results->finish(!stopped);
  return out;
}

}  // namespace dpb
