// Custom all-reduce algorithms as data (ARCHITECTURE.md, seam 2). A Schedule is, for every rank,
// the ordered list of steps its stream runs: copy a chunk to a peer, reduce a chunk, copy locally,
// record a signal, wait for a peer's signal. Builders make `ring`, `tree` and `direct` schedules;
// one executor (schedule_executor.h) runs any of them on any backend; schedule_counts.h counts
// their traffic without a backend (tests, and later the performance model).
//
// Memory model. Each rank owns three regions, addressed in elements:
// - input:   the caller's send buffer (only ever read; the same memory as output when in place),
// - output:  the caller's recv buffer,
// - scratch: a rank-private buffer of bounded size, cut into chunk-sized slots. A sender pushes a
//   chunk into a slot of the receiver's scratch and signals "ready"; the receiver consumes it and
//   signals "free"; the sender waits for "free" before it overwrites that slot again. Scratch per
//   rank is (incoming links) x slots x chunk elements, whatever the message size.
//
// Signals. Every signal is recorded by exactly one rank (its owner) and may be recorded several
// times per call; a wait names the signal and which of its records it needs (generation g = the
// g-th record of that signal in its owner's list, counted from 1 within one call). The executor
// enqueues steps in an order where each wait comes after its record and before the next record
// of the same signal, so the backend's "a wait binds to the most recent record" rule picks it.
//
// Calls and streams. A schedule starts with each rank recording "entry" and every writer waiting
// for its target's entry before the first write, and ends with each target waiting for its
// writers' "done": like an NCCL collective, a call on rank r's stream starts after the work the
// caller enqueued before it and everything written into r's buffers is visible to later work.
#pragma once
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace dpb {

// A schedule that cannot run: a deadlock, a wait with no matching record, a malformed step.
class ScheduleError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

enum class Region : std::uint8_t { input, output, scratch };
enum class StepKind : std::uint8_t { copy_peer, reduce, local_copy, record, wait };

std::string_view region_name(Region region);
std::string_view step_kind_name(StepKind kind);

// A place in one rank's memory: region plus element offset.
struct Location {
  Region region = Region::input;
  std::size_t offset = 0;
  bool operator==(const Location&) const = default;
};

struct Step {
  StepKind kind = StepKind::record;
  // copy_peer: the destination rank (dst is in its memory); -1 otherwise.
  int peer = -1;
  // copy_peer and local_copy: dst = src; reduce: dst = dst + src. src is always this rank's memory.
  Location src;
  Location dst;
  std::size_t count = 0;  // elements
  // record and wait: the signal; wait also names the generation it needs (1-based, per call).
  int signal = -1;
  std::uint32_t generation = 0;
};

// What a schedule is built for. chunk_elems and slots bound the scratch memory; in_place says
// whether input and output are the same memory (the builders then skip the input->output copies).
struct ScheduleShape {
  int ranks = 1;
  std::size_t count = 0;        // elements per rank
  std::size_t chunk_elems = 1;  // pipelining unit, and the size of a scratch slot
  int slots = 2;                // scratch slots per incoming link (chunks in flight per link)
  bool in_place = false;
  bool operator==(const ScheduleShape&) const = default;
};

struct Schedule {
  std::string algorithm;  // "ring", "tree", "direct"
  ScheduleShape shape;
  std::vector<std::vector<Step>> steps;     // per rank, in stream order
  std::vector<int> signal_owner;            // per signal: the rank that records it
  std::vector<std::size_t> scratch_elems;   // per rank

  int ranks() const { return shape.ranks; }
  int signals() const { return static_cast<int>(signal_owner.size()); }
  std::size_t total_steps() const;
  // The most steps any one rank's stream receives: the operations one call puts on a stream.
  std::size_t max_steps_per_rank() const;
  // records_per_call()[s]: how often signal s is recorded in one call (its last generation).
  std::vector<std::uint32_t> records_per_call() const;
};

// The most operations one all-reduce call may put on any stream. CUDA blocks the enqueueing host
// thread once about a thousand operations are pending on a stream (FACTS.md), so a call must fit
// well under that with the caller's own work and a held stream gate around it; and every
// operation is a host API call, so fewer operations is less host time per call.
inline constexpr std::size_t kMaxOpsPerStream = 256;

// Builds the named algorithm with the chunk grown (never shrunk) until no rank's stream receives
// more than `max_ops` steps: small messages keep `shape.chunk_elems`, large ones get a bounded
// number of larger chunks (and scratch slots to match). Throws ScheduleError if even one chunk
// per piece cannot fit (never for ring/tree/direct at up to 8 ranks and the default bound).
Schedule build_schedule_within(std::string_view algorithm, ScheduleShape shape, std::size_t max_ops = kMaxOpsPerStream);

// The algorithms that have builders: "ring", "tree", "direct".
const std::vector<std::string>& schedule_algorithms();

// Builds the named algorithm; throws std::invalid_argument for an unknown name or a bad shape
// (ranks < 1, chunk_elems < 1, slots < 1).
Schedule build_schedule(std::string_view algorithm, const ScheduleShape& shape);

// Ring: reduce-scatter then all-gather, n-1 steps each. The message is cut into n shards (sizes
// differ by at most one element), each shard into chunks; chunk c of every shard travels the
// whole ring (2(n-1) steps) before chunk c+1, so every link carries data at every step. Partial
// sums are forwarded from the scratch slot they arrived in, which needs at least 2 slots per link
// (a shape asking for 1 gets 2).
Schedule build_ring_schedule(const ScheduleShape& shape);

// Pipelined binary tree rooted at rank 0 (children of r are 2r+1 and 2r+2): each chunk is reduced
// up to the root, then broadcast back down. A rank at depth d interleaves "up" for chunk c with
// "down" for chunk c-2d, so chunk k goes up while earlier chunks come down.
Schedule build_tree_schedule(const ScheduleShape& shape);

// Direct: rank r owns shard r; every rank pushes its part of shard r to r, which reduces it,
// then r pushes the reduced shard to every peer. n-1 links per rank, one hop.
Schedule build_direct_schedule(const ScheduleShape& shape);

// Shard j of `count` elements split n ways: the first count % n shards get one extra element.
std::size_t shard_offset(std::size_t count, int ranks, int shard);
std::size_t shard_size(std::size_t count, int ranks, int shard);

// Human-readable dump of a schedule (one line per step): for debugging and test failure messages.
std::string describe(const Schedule& schedule);

}  // namespace dpb
