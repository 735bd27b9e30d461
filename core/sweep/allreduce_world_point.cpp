#include "sweep/allreduce_world_point.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <utility>

#include "device/error.h"

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

std::optional<AllreduceCheck> WorldAllreduceBench::checked_call(const AllreducePointSpec& spec, Communicator& comm) {
  const int n = world_.size();
  const int rank = world_.rank();
  const std::size_t bytes = spec.bytes();
  void* recv = spec.in_place ? send_.data() : recv_.data();
  // The inputs and the sentinel, then the call.
  std::vector<std::byte> input(bytes);
  fill_allreduce_input(spec.dtype, config_.pattern, rank, n, input);
  stream_->copy_from_host(send_.data(), input.data(), bytes);
  if (!spec.in_place) stream_->fill(spec.dtype, recv_.data(), spec.count, -1.0);
  stream_->synchronize();
  world_.barrier();
  comm.allreduce_rank(rank, spec.dtype, send_.data(), recv, spec.count, *stream_);
  stream_->synchronize();
  if (!config_.check) return std::nullopt;
  AllreduceCheck check;
  std::vector<std::byte> host(bytes);
  stream_->copy_to_host(host.data(), recv, bytes);
  stream_->synchronize();
  check.result = AllreduceReference(spec.dtype, config_.pattern, n, 0, spec.count).check(host);
  if (!spec.in_place) {
    stream_->copy_to_host(host.data(), send_.data(), bytes);
    stream_->synchronize();
    check.send_modified = bytes > 0 && std::memcmp(host.data(), input.data(), bytes) != 0;
  }
  check.result.wrong = world_.all_reduce_sum(check.result.wrong);
  check.result.checked = world_.all_reduce_sum(check.result.checked);
  check.result.max_abs_error = world_.all_reduce_max(check.result.max_abs_error);
  check.send_modified = world_.all_reduce_sum(check.send_modified ? 1 : 0) > 0;
  return check;
}

std::pair<std::vector<double>, std::vector<double>> WorldAllreduceBench::call(const AllreducePointSpec& spec,
                                                                              Communicator& comm) {
  void* recv = spec.in_place ? send_.data() : recv_.data();
  world_.barrier();
  stream_->record(*start_);
  const auto t0 = std::chrono::steady_clock::now();
  comm.allreduce_rank(world_.rank(), spec.dtype, send_.data(), recv, spec.count, *stream_);
  const double host_us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
  stream_->record(*end_);
  stream_->synchronize();
  const double us = end_->elapsed_ms_since(*start_) * 1000.0;
  std::vector<double> times = world_.gather_doubles(us);
  std::vector<double> hosts = world_.gather_doubles(host_us);
  return {std::move(times), std::move(hosts)};
}

AllreduceSamples WorldAllreduceBench::timed_calls(const AllreducePointSpec& spec, Communicator& comm,
                                                  AllreduceRankTimes& ranks) {
  // Rank 0 keeps every rank's time of every timed call.
  std::vector<std::vector<double>> per_rank(static_cast<std::size_t>(world_.size()));
  AllreduceSamples samples;
  const auto timed = [&](bool keep) {
    const auto [times, hosts] = call(spec, comm);
    if (keep) {
      for (std::size_t r = 0; r < times.size(); ++r) per_rank[r].push_back(times[r]);
      samples.host_us.push_back(*std::max_element(hosts.begin(), hosts.end()));
    }
    return *std::max_element(times.begin(), times.end());
  };
  if (world_.rank() == 0) {
    samples.timing = measure(config_.stopping, [&](const IterationInfo& it) {
      std::string next(1, static_cast<char>(it.warmup ? Next::warmup : Next::timed));
      world_.broadcast(next, 0);
      return timed(!it.warmup);
    });
    std::string stop(1, static_cast<char>(Next::stop));
    world_.broadcast(stop, 0);
  } else {
    for (;;) {
      std::string next;
      world_.broadcast(next, 0);
      if (next.empty() || next[0] == static_cast<char>(Next::stop)) break;
      timed(next[0] == static_cast<char>(Next::timed));
    }
  }
  for (const auto& s : per_rank) ranks.medians_us.push_back(median_of(s));
  return samples;
}

PointRecord WorldAllreduceBench::run(const AllreducePointSpec& spec) {
  const int n = world_.size();
  if (spec.ranks() != n) {
    throw std::invalid_argument("allreduce: a " + std::to_string(spec.ranks()) + "-rank point in a world of " +
                                std::to_string(n) + " processes");
  }
  if (spec.graph > 0) throw SettingError("graph", "not supported with a process per rank (MPI)");
  if (spec.bytes() > config_.max_bytes) throw std::invalid_argument("allreduce: message larger than the buffers");
  Communicator& comm = communicator(spec.algo);
  std::optional<AllreduceCheck> check = checked_call(spec, comm);
  AllreduceRankTimes ranks;
  AllreduceSamples samples = timed_calls(spec, comm, ranks);
  if (world_.rank() != 0) return allreduce_record_head(spec);  // only rank 0's record is written
  samples.check = std::move(check);
  return allreduce_world_record(spec, config_, samples, ranks);
}

}  // namespace dpb
