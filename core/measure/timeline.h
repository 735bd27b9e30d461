// Named (start, end) device-event pairs per rank, for phase timing inside one iteration.
//
// `dpbench train` records forward, backward, each bucket's all-reduce and the optimizer on the
// ranks' streams; after the iteration's streams are synchronized, spans() turns the events into
// milliseconds from that rank's origin event. Events are created once per (name, rank) and
// re-recorded every iteration, so a steady-state iteration allocates nothing.
//
// Why a per-rank origin: CUDA cannot time two events of different devices against each other
// (cudaEventElapsedTime needs both on one device), so every span is measured against an origin
// event recorded on the same rank's stream at iteration start. Callers that want a common time
// base make every rank's stream wait on rank 0's origin before recording their own (begin_iteration
// does exactly that), so the origins coincide up to a cross-stream wait.
//
// begin/end may be called from several host threads at once (a thread per rank); begin_iteration
// and spans() from one thread while no rank is recording.
#pragma once
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "device/backend.h"

namespace dpb {

struct TimelineSpan {
  std::string name;
  int rank = 0;
  double start_ms = 0;  // from the rank's origin
  double end_ms = 0;
  double duration_ms() const { return end_ms - start_ms; }
};

class Timeline {
 public:
  // `devices[r]` is rank r's device; events are created there.
  Timeline(Backend& backend, std::vector<int> devices);

  // Records each rank's origin: rank 0 records its origin, every other rank's stream waits on it
  // and records its own. streams[r] is rank r's stream. Also forgets which spans were recorded in
  // the previous iteration (their events are kept for reuse).
  void begin_iteration(std::span<Stream* const> streams);

  // Records the start / end of span `name` on `stream` for `rank`. A name may be used once per
  // rank per iteration; end without begin throws std::logic_error.
  void begin(std::string_view name, int rank, Stream& stream);
  void end(std::string_view name, int rank, Stream& stream);

  // After the iteration's work is complete (streams synchronized): every span recorded since
  // begin_iteration, in recording order. Throws std::logic_error for a span begun but not ended.
  std::vector<TimelineSpan> spans() const;

  // Duration in ms of span `name` on `rank` in the last iteration; throws if it was not recorded.
  double duration_ms(std::string_view name, int rank) const;

 private:
  struct Slot {
    std::unique_ptr<Event> start, end;
    bool begun = false, ended = false;
    std::size_t order = 0;
  };
  Slot& slot(std::string_view name, int rank);

  Backend* backend_;
  std::vector<int> devices_;
  std::vector<std::unique_ptr<Event>> origins_;
  std::mutex mutex_;  // guards slots_ (inserts, flags) and next_order_
  std::map<std::pair<std::string, int>, Slot, std::less<>> slots_;
  std::size_t next_order_ = 0;
};

// The schema's `timeline` array: [{name, rank, start_ms, end_ms}].
nlohmann::json to_json(std::span<const TimelineSpan> spans);
// The inverse of to_json (spans sent between processes). Throws nlohmann::json::exception.
std::vector<TimelineSpan> spans_from_json(const nlohmann::json& spans);

}  // namespace dpb
