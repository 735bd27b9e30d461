// Device-to-device copy bandwidth and latency matrices, measured as cuda-samples'
// p2pBandwidthLatencyTest and nvbandwidth's copy-engine tests do:
// - unidirectional bandwidth: `repeats` copies of `bytes` from position i to position j on i's
//   stream (Stream::copy_peer = cudaMemcpyPeerAsync), bytes*repeats / elapsed;
// - bidirectional bandwidth: the same both ways at once on two streams, 2*bytes*repeats / elapsed;
// - latency: `latency_repeats` copies of `latency_bytes` (16 bytes: one int4), elapsed / repeats;
// each with peer access disabled and enabled. The stream is held by a StreamGate while the copies
// are queued, so the start event does not run ahead of the work. GB = 1e9 bytes.
//
// Positions may repeat a device (--devices 0,0): such entries are device-local copies, which is
// how one GPU measures its own copy bandwidth. The diagonal (a position with itself) is not
// measured. On the cpu backend copies are host memcpy between device arenas, and "peer access
// disabled" is the same path as "enabled" (the matrices say so).
#pragma once
#include <chrono>
#include <cstddef>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "device/backend.h"
#include "p2p/p2p_matrix.h"
#include "device/stream_gate.h"

namespace dpb {

struct P2POptions {
  std::vector<int> devices;  // positions; empty = every device of the backend
  std::size_t bytes = std::size_t{64} << 20;
  int repeats = 5;
  std::size_t latency_bytes = 16;
  int latency_repeats = 100;
  std::chrono::milliseconds gate_timeout = kDefaultGateTimeout;
  // Time limit of the whole run, checked between matrix entries: entries not started before it are
  // left empty and the result says it timed out (a copy already running is not interrupted).
  std::optional<double> timeout_s;

  static constexpr int kMaxRepeats = 1000;  // copies queued behind a held stream must fit its queue
};

// Checks the options against the backend: at least two positions, every device exists, bytes > 0,
// 1 <= repeats <= kMaxRepeats. Throws std::invalid_argument naming the flag (--devices, --size,
// --repeats).
void validate(const P2POptions& options, const Backend& backend);

struct P2PResult {
  std::vector<int> devices;           // the positions measured
  std::vector<DeviceMatrix> matrices;  // unidir, bidir, latency; each p2p disabled then enabled
  std::vector<std::string> problems;   // failed entries, wrong data, gate timeouts (empty: all good)
  bool timed_out = false;              // timeout_s passed before every entry was measured
};

// Runs every matrix; a failing entry is left empty and described in `problems` (the run goes on).
// Progress lines go to `log` when given. Restores peer access to disabled on exit.
P2PResult run_p2p(Backend& backend, const P2POptions& options, std::ostream* log = nullptr);

}  // namespace dpb
