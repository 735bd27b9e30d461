#include "p2p/p2p_bench.h"

#include <algorithm>
#include <cstring>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>

#include "device/error.h"

namespace dpb {
namespace {

std::string pair_text(const std::vector<int>& devices, std::size_t i, std::size_t j) {
  return "position " + std::to_string(i) + " (device " + std::to_string(devices[i]) + ") -> position " +
         std::to_string(j) + " (device " + std::to_string(devices[j]) + ")";
}

// Per-position resources: a source and destination buffer, two streams and two timing events.
struct Position {
  int device;
  DeviceBuffer src, dst;
  std::unique_ptr<Stream> a, b;
  std::unique_ptr<Event> start, stop;
};

enum class Test { unidir, bidir, latency };

class P2PRun {
 public:
  P2PRun(Backend& backend, const P2POptions& options, std::ostream* log)
      : backend_(backend), options_(options), log_(log), gate_(backend.make_stream_gate(options.gate_timeout)) {
    // Room for the bandwidth and the latency copies, in whole floats for the fill pattern.
    const std::size_t floats = (std::max(options_.bytes, options_.latency_bytes) + 3) / 4;
    for (std::size_t p = 0; p < options_.devices.size(); ++p) {
      const int d = options_.devices[p];
      Position pos{d, backend_.allocate(d, floats * 4), backend_.allocate(d, floats * 4), backend_.make_stream(d),
                   backend_.make_stream(d), backend_.make_event(d), backend_.make_event(d)};
      // Each source holds its position number + 1, so a destination shows whose bytes arrived.
      pos.a->fill(DType::f32, pos.src.data(), floats, static_cast<double>(p + 1));
      pos.a->fill(DType::f32, pos.dst.data(), floats, 0.0);
      pos.a->synchronize();
      positions_.push_back(std::move(pos));
    }
  }

  ~P2PRun() { set_peer_access(false, nullptr); }

  P2PResult run() {
    P2PResult result;
    result.devices = options_.devices;
    std::vector<DeviceMatrix> by_pass[2];
    for (const bool p2p : {false, true}) {
      std::vector<std::string> unsupported;
      bool ready = true;
      try {
        set_peer_access(p2p, &unsupported);
      } catch (const std::exception& e) {
        // Measuring now would label copies with the wrong peer-access state: leave the pass empty.
        result.problems.push_back(std::string(p2p ? "enabling" : "disabling") + " peer access failed: " + e.what());
        ready = false;
      }
      for (const Test t : {Test::unidir, Test::bidir, Test::latency}) {
        by_pass[p2p].push_back(ready ? measure(t, p2p, unsupported, result.problems)
                                     : DeviceMatrix::empty(name_of(t, p2p), t == Test::latency ? "us" : "GB/s",
                                                           describe(t, p2p, unsupported) + "; not measured",
                                                           options_.devices));
      }
    }
    set_peer_access(false, nullptr);
    result.timed_out = timed_out_;
    for (std::size_t t = 0; t < 3; ++t) {
      result.matrices.push_back(std::move(by_pass[0][t]));
      result.matrices.push_back(std::move(by_pass[1][t]));
    }
    return result;
  }

 private:
  bool peer_supported(int a, int b) const {
    return a == b || (backend_.can_access_peer(a, b) && backend_.can_access_peer(b, a));
  }

  // Enables (both directions) or disables peer access between every pair of distinct devices.
  void set_peer_access(bool enable, std::vector<std::string>* unsupported) {
    const auto& devs = options_.devices;
    for (std::size_t i = 0; i < devs.size(); ++i) {
      for (std::size_t j = 0; j < devs.size(); ++j) {
        const int a = devs[i], b = devs[j];
        if (a == b) continue;
        try {
          if (!enable) {
            backend_.disable_peer_access(a, b);
          } else if (peer_supported(a, b)) {
            backend_.enable_peer_access(a, b);
          } else if (unsupported && i < j) {
            unsupported->push_back(std::to_string(a) + "<->" + std::to_string(b));
          }
        } catch (...) {
          if (!unsupported) continue;  // best effort on the way out
          throw;
        }
      }
    }
  }

  static std::string name_of(Test t, bool p2p) {
    const std::string suffix = p2p ? "_p2p_enabled" : "_p2p_disabled";
    switch (t) {
      case Test::unidir: return "unidir_bw" + suffix;
      case Test::bidir: return "bidir_bw" + suffix;
      case Test::latency: return "latency" + suffix;
    }
    return {};
  }

  std::string describe(Test t, bool p2p, const std::vector<std::string>& unsupported) const {
    std::string d;
    switch (t) {
      case Test::unidir:
        d = "unidirectional copy bandwidth, row (source) to column (destination): " + std::to_string(options_.repeats) +
            " x " + std::to_string(options_.bytes) + "-byte copies on the source's stream";
        break;
      case Test::bidir:
        d = "bidirectional copy bandwidth between row and column, both directions at once on two streams: " +
            std::to_string(options_.repeats) + " x " + std::to_string(options_.bytes) +
            "-byte copies each way, bytes of both directions counted";
        break;
      case Test::latency:
        d = "copy latency, row to column: mean of " + std::to_string(options_.latency_repeats) + " back-to-back " +
            std::to_string(options_.latency_bytes) + "-byte copies";
        break;
    }
    if (backend_.kind() == BackendKind::cpu) {
      d += "; cpu backend: host memcpy between simulated device arenas, where peer access enabled and disabled are "
           "the same path";
    } else {
      d += p2p ? "; cudaMemcpyPeerAsync with peer access enabled" : "; cudaMemcpyPeerAsync with peer access disabled "
                                                                   "(the driver stages copies between distinct GPUs)";
      if (p2p && !unsupported.empty()) {
        d += "; empty where peer access is not supported (";
        for (std::size_t k = 0; k < unsupported.size(); ++k) d += (k ? ", " : "") + unsupported[k];
        d += ")";
      }
    }
    bool repeated = false;
    for (std::size_t i = 0; i < options_.devices.size(); ++i) {
      for (std::size_t j = i + 1; j < options_.devices.size(); ++j) repeated |= options_.devices[i] == options_.devices[j];
    }
    if (repeated) d += "; entries between positions on the same device are device-local copies (bytes counted once)";
    return d;
  }

  DeviceMatrix measure(Test t, bool p2p, const std::vector<std::string>& unsupported,
                       std::vector<std::string>& problems) {
    DeviceMatrix m = DeviceMatrix::empty(name_of(t, p2p), t == Test::latency ? "us" : "GB/s",
                                         describe(t, p2p, unsupported), options_.devices);
    if (log_) *log_ << "p2p: measuring " << m.name << "\n" << std::flush;
    const std::size_t n = positions_.size();
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t j = 0; j < n; ++j) {
        if (i == j) continue;
        if (p2p && !peer_supported(positions_[i].device, positions_[j].device)) continue;
        if (past_deadline()) {
          if (!timed_out_) problems.push_back("past the time limit: entries from " + m.name + " " +
                                              pair_text(options_.devices, i, j) + " on were not measured");
          timed_out_ = true;
          continue;
        }
        try {
          m.values[i][j] = measure_entry(t, i, j, problems, m.name);
        } catch (const std::exception& e) {
          problems.push_back(m.name + " " + pair_text(options_.devices, i, j) + ": " + e.what());
          // Leave the streams idle for the next entry.
          try {
            gate_->release();
            positions_[i].a->synchronize();
            positions_[j].b->synchronize();
          } catch (const std::exception&) {
          }
        }
      }
    }
    return m;
  }

  void copy(Stream& s, std::size_t to, std::size_t from, std::size_t bytes) {
    s.copy_peer(positions_[to].dst.data(), positions_[to].device, positions_[from].src.data(),
                positions_[from].device, bytes);
  }

  // True when `to`'s destination starts with `from`'s pattern (its first float).
  bool arrived(std::size_t to, std::size_t from) {
    float first = 0;
    Stream& s = *positions_[to].a;
    s.copy_to_host(&first, positions_[to].dst.data(), sizeof first);
    s.synchronize();
    return first == static_cast<float>(from + 1);
  }

  void clear_destination(std::size_t to) {
    Stream& s = *positions_[to].a;
    s.fill(DType::f32, positions_[to].dst.data(), std::min<std::size_t>(4, positions_[to].dst.bytes() / 4), 0.0);
    s.synchronize();
  }

  std::optional<double> measure_entry(Test t, std::size_t i, std::size_t j, std::vector<std::string>& problems,
                                      const std::string& name) {
    Position& src = positions_[i];
    Position& dst = positions_[j];
    const bool latency = t == Test::latency;
    const std::size_t bytes = latency ? options_.latency_bytes : options_.bytes;
    const int repeats = latency ? options_.latency_repeats : options_.repeats;
    clear_destination(j);
    if (t == Test::bidir) clear_destination(i);

    // One untimed copy first: the first copy of a pair pays for mappings and staging setup.
    copy(*src.a, j, i, bytes);
    if (t == Test::bidir) copy(*dst.b, i, j, bytes);
    src.a->synchronize();
    dst.b->synchronize();

    const std::uint32_t timeouts_before = gate_->timeouts();
    gate_->hold(*src.a);
    src.a->record(*src.start);
    if (t == Test::bidir) dst.b->wait(*src.start);
    for (int r = 0; r < repeats; ++r) {
      copy(*src.a, j, i, bytes);
      if (t == Test::bidir) copy(*dst.b, i, j, bytes);
    }
    if (t == Test::bidir) {
      dst.b->record(*dst.stop);
      src.a->wait(*dst.stop);
    }
    src.a->record(*src.stop);
    gate_->release();
    src.a->synchronize();
    dst.b->synchronize();
    const double ms = src.stop->elapsed_ms_since(*src.start);

    if (gate_->timeouts() != timeouts_before) {
      problems.push_back(name + " " + pair_text(options_.devices, i, j) +
                         ": the stream gate timed out while copies were queued; the entry is not valid");
      return std::nullopt;
    }
    if (bytes >= sizeof(float) && (!arrived(j, i) || (t == Test::bidir && !arrived(i, j)))) {
      problems.push_back(name + " " + pair_text(options_.devices, i, j) + ": the destination does not hold the copied data");
      return std::nullopt;
    }
    if (!(ms > 0)) {
      problems.push_back(name + " " + pair_text(options_.devices, i, j) + ": elapsed time " + std::to_string(ms) +
                         " ms is not positive (timer resolution); the entry is left empty");
      return std::nullopt;
    }
    if (latency) return ms * 1000.0 / repeats;
    const double moved = static_cast<double>(bytes) * repeats * (t == Test::bidir ? 2.0 : 1.0);
    return moved / (ms * 1e-3) / 1e9;
  }

  Backend& backend_;
  bool past_deadline() const {
    return options_.timeout_s &&
           std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count() > *options_.timeout_s;
  }

  bool timed_out_ = false;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  const P2POptions& options_;
  std::ostream* log_;
  std::unique_ptr<StreamGate> gate_;
  std::vector<Position> positions_;
};

}  // namespace

void validate(const P2POptions& options, const Backend& backend) {
  if (options.devices.size() < 2) {
    throw SettingError("devices", "a matrix needs at least two positions (repeat a device, e.g. '0,0', to "
                                  "measure copies within one device)");
  }
  for (int d : options.devices) {
    if (d < 0 || d >= backend.device_count()) {
      throw SettingError("devices", "device " + std::to_string(d) + " does not exist (the " +
                                  std::string(backend.name()) + " backend has " +
                                  std::to_string(backend.device_count()) + " devices)");
    }
  }
  if (options.bytes == 0) throw SettingError("bytes", "must be positive");
  if (options.repeats < 1 || options.repeats > P2POptions::kMaxRepeats) {
    throw SettingError("repeats", std::to_string(options.repeats) + " is outside 1.." +
                                std::to_string(P2POptions::kMaxRepeats));
  }
  if (options.latency_bytes == 0 || options.latency_repeats < 1 || options.latency_repeats > P2POptions::kMaxRepeats) {
    throw std::invalid_argument("p2p: latency copies need a positive size and 1.." +
                                std::to_string(P2POptions::kMaxRepeats) + " repeats");
  }
}

P2PResult run_p2p(Backend& backend, const P2POptions& options, std::ostream* log) {
  P2POptions resolved = options;
  if (resolved.devices.empty()) {
    for (int d = 0; d < backend.device_count(); ++d) resolved.devices.push_back(d);
  }
  validate(resolved, backend);
  P2PRun run(backend, resolved, log);
  return run.run();
}

}  // namespace dpb
