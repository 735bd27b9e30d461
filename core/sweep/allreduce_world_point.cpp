#include "sweep/allreduce_world_point.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <numeric>
#include <stdexcept>

namespace dpb {

namespace {

// What rank 0 tells the others before each call of the measurement loop.
enum class Next : char { stop = '0', warmup = '1', timed = '2' };

double median_of(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

}  // namespace

WorldAllreduceBench::WorldAllreduceBench(Backend& backend, World& world, AllreduceConfig config, int device)
    : backend_(backend), world_(world), config_(std::move(config)), device_(device) {
  config_.stopping.validate();
  backend_.check_device(device_);
  devices_ = world_.gather_ints(device_);
  const std::size_t bytes = std::max<std::size_t>(config_.max_bytes, 16);
  stream_ = backend_.make_stream(device_);
  send_ = backend_.allocate(device_, bytes);
  recv_ = backend_.allocate(device_, bytes);
  start_ = backend_.make_event(device_, true);
  end_ = backend_.make_event(device_, true);
}

WorldAllreduceBench::~WorldAllreduceBench() {
  try {
    stream_->synchronize();
  } catch (...) {
  }
}

Communicator& WorldAllreduceBench::communicator(const AlgorithmName& algo) {
  auto& slot = comms_[algo.text()];
  if (!slot) slot = make_world_communicator(backend_, world_, algo, device_, config_.communicator);
  return *slot;
}

PointRecord WorldAllreduceBench::run(const AllreducePointSpec& spec) {
  const int n = world_.size();
  const int rank = world_.rank();
  if (spec.ranks() != n) {
    throw std::invalid_argument("allreduce: a " + std::to_string(spec.ranks()) + "-rank point in a world of " +
                                std::to_string(n) + " processes");
  }
  if (spec.graph > 0) throw std::invalid_argument("--graph: not supported with a process per rank (MPI)");
  if (spec.bytes() > config_.max_bytes) throw std::invalid_argument("allreduce: message larger than the buffers");
  Communicator& comm = communicator(spec.algo);
  const std::size_t bytes = spec.bytes();
  void* recv = spec.in_place ? send_.data() : recv_.data();

  // 1. inputs and the sentinel, 2. the checked call.
  std::vector<std::byte> input(bytes);
  fill_allreduce_input(spec.dtype, config_.pattern, rank, n, input);
  stream_->copy_from_host(send_.data(), input.data(), bytes);
  if (!spec.in_place) stream_->fill(spec.dtype, recv_.data(), spec.count, -1.0);
  stream_->synchronize();
  world_.barrier();
  comm.allreduce_rank(rank, spec.dtype, send_.data(), recv, spec.count, *stream_);
  stream_->synchronize();
  CheckResult check;
  bool send_modified = false;
  if (config_.check) {
    std::vector<std::byte> host(bytes);
    stream_->copy_to_host(host.data(), recv, bytes);
    stream_->synchronize();
    check = AllreduceReference(spec.dtype, config_.pattern, n, 0, spec.count).check(host);
    if (!spec.in_place) {
      stream_->copy_to_host(host.data(), send_.data(), bytes);
      stream_->synchronize();
      send_modified = bytes > 0 && std::memcmp(host.data(), input.data(), bytes) != 0;
    }
    check.wrong = world_.all_reduce_sum(check.wrong);
    check.checked = world_.all_reduce_sum(check.checked);
    check.max_abs_error = world_.all_reduce_max(check.max_abs_error);
    send_modified = world_.all_reduce_sum(send_modified ? 1 : 0) > 0;
  }

  // 3. warm-up and timed calls; rank 0 keeps every rank's time of every timed call.
  std::vector<std::vector<double>> per_rank(static_cast<std::size_t>(n));
  std::vector<double> host_samples;
  const auto call = [&](bool timed) {
    world_.barrier();
    stream_->record(*start_);
    const auto t0 = std::chrono::steady_clock::now();
    comm.allreduce_rank(rank, spec.dtype, send_.data(), recv, spec.count, *stream_);
    const double host_us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
    stream_->record(*end_);
    stream_->synchronize();
    const double us = end_->elapsed_ms_since(*start_) * 1000.0;
    const std::vector<double> times = world_.gather_doubles(us);
    const std::vector<double> hosts = world_.gather_doubles(host_us);
    if (timed) {
      for (std::size_t r = 0; r < times.size(); ++r) per_rank[r].push_back(times[r]);
      host_samples.push_back(*std::max_element(hosts.begin(), hosts.end()));
    }
    return *std::max_element(times.begin(), times.end());
  };
  Measurement m;
  if (rank == 0) {
    m = measure(config_.stopping, [&](const IterationInfo& it) {
      std::string next(1, static_cast<char>(it.warmup ? Next::warmup : Next::timed));
      world_.broadcast(next, 0);
      return call(!it.warmup);
    });
    std::string stop(1, static_cast<char>(Next::stop));
    world_.broadcast(stop, 0);
  } else {
    for (;;) {
      std::string next;
      world_.broadcast(next, 0);
      if (next.empty() || next[0] == static_cast<char>(Next::stop)) break;
      call(next[0] == static_cast<char>(Next::timed));
    }
  }

  PointRecord rec;
  rec.id = allreduce_point_id(spec);
  rec.kind = "allreduce";
  rec.axes = allreduce_axes(spec);
  if (rank != 0) return rec;  // only rank 0's record is written
  rec.stats["time"] = summarize(m.samples, "us");
  const double median_us = rec.stats["time"].median;
  const double algbw = median_us > 0 ? static_cast<double>(bytes) / (median_us * 1e-6) / 1e9 : 0.0;
  rec.metrics["algbw"] = Metric{algbw, "GB/s", "bytes / median time (GB = 1e9 bytes)", "derived"};
  rec.metrics["busbw"] = Metric{algbw * allreduce_busbw_factor(n), "GB/s", "algbw x 2(n-1)/n", "derived"};
  std::vector<double> medians;
  for (const auto& samples : per_rank) medians.push_back(median_of(samples));
  const auto slowest = std::max_element(medians.begin(), medians.end());
  const double avg = std::accumulate(medians.begin(), medians.end(), 0.0) / static_cast<double>(medians.size());
  rec.metrics["rank_time_min"] = Metric{*std::min_element(medians.begin(), medians.end()), "us",
                                        "fastest rank's median time per call (its own events)", "measured"};
  rec.metrics["rank_time_avg"] = Metric{avg, "us", "mean over ranks of each rank's median time per call", "measured"};
  rec.metrics["rank_time_max"] = Metric{*slowest, "us", "slowest rank's median time per call", "measured"};
  rec.stopping = stopping_to_json(config_.stopping, m);
  if (config_.check) {
    nlohmann::json c = {{"wrong_elements", check.wrong},
                        {"checked_elements", check.checked},
                        {"tolerance", check.tolerance},
                        {"input_pattern", input_pattern_name(config_.pattern)}};
    if (std::isfinite(check.max_abs_error)) c["max_abs_error"] = check.max_abs_error;
    if (!spec.in_place) c["send_buffers_unchanged"] = !send_modified;
    rec.check = std::move(c);
    std::string why;
    if (check.wrong > 0) {
      why = std::to_string(check.wrong) + " of " + std::to_string(check.checked) + " elements wrong (all ranks)";
    }
    if (send_modified) why += std::string(why.empty() ? "" : "; ") + "the out-of-place call modified a send buffer";
    if (!why.empty()) rec.set_status(PointStatus::failed, why);
  }
  rec.stats["host_time"] = summarize(host_samples, "us");
  const CallPlan plan = plan_allreduce_call(spec.algo, n, spec.dtype, spec.count, spec.in_place, config_.communicator);
  rec.more["extra"] = {
      {"timing", "each rank's own events from a host barrier's exit to its end; sample = the slowest rank"},
      {"stream_gate", false},
      {"time_statistic", "median"},
      {"launch", launch_name(Launch::process_per_rank)},
      {"launch_mode", "eager"},
      {"ops_per_stream", plan.ops_per_stream},
      {"host_bound", rec.stats["host_time"].median >= median_us},
      {"slowest_rank", static_cast<int>(slowest - medians.begin())},
      {"rank_median_us", medians}};
  if (spec.algo.transport == Transport::p2p) {
    rec.more["extra"]["staging"] = "shared-memory staging: the message is copied in and out once per call per rank";
  }
  if (plan.scratch_bytes > 0) rec.more["extra"]["scratch_bytes_per_rank"] = plan.scratch_bytes;
  if (plan.chunk_bytes > 0) rec.more["extra"]["chunk_bytes"] = plan.chunk_bytes;
  return rec;
}

}  // namespace dpb
