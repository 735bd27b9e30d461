// Helpers the schedule builders share: appending steps to per-rank lists, signals with their
// generations, bounded-slot channels between two ranks, and the entry/done fencing of a call.
// Internal to core/collectives (the builders' .cpp files); the Schedule type is the public face.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "collectives/schedule.h"

namespace dpb::detail {

// One record of a signal: what a wait refers to.
struct SignalRef {
  int signal = -1;
  std::uint32_t generation = 0;
};

// A one-way link sender -> receiver through `slots` chunk-sized slots in the receiver's scratch.
// Chunks are consumed in the order they were sent (FIFO), so the k-th send (from 0) uses slot
// k % slots. Two counters serve every slot (signals are coalesced per link, not per slot): the
// sender's "ready" reaches k+1 when chunk k has landed, the receiver's "free" reaches k+1 when it
// is done with chunk k, so the k-th send waits for free >= k - slots + 1.
struct Channel {
  int sender = -1;
  int receiver = -1;
  std::size_t base = 0;        // first scratch element of slot 0 at the receiver
  std::size_t slot_elems = 0;  // elements per slot
  int slots = 0;
  int ready = -1;  // owned by the sender
  int free = -1;   // owned by the receiver
  std::uint64_t sent = 0;
  std::uint64_t released = 0;
};

// A chunk pushed through a channel and not yet released.
struct Delivery {
  int channel = -1;
  std::uint64_t sequence = 0;
  Location slot;  // where the chunk sits in the receiver's scratch
  std::size_t count = 0;
  SignalRef ready;
};

class ScheduleBuilder {
 public:
  ScheduleBuilder(std::string algorithm, const ScheduleShape& shape);

  int ranks() const { return schedule_.shape.ranks; }
  const ScheduleShape& shape() const { return schedule_.shape; }

  int new_signal(int owner);
  SignalRef record(int rank, int signal);
  void wait(int rank, SignalRef ref);
  void copy_peer(int rank, int peer, Location src, Location dst, std::size_t count);
  void reduce(int rank, Location dst, Location src, std::size_t count);
  void local_copy(int rank, Location dst, Location src, std::size_t count);

  // Opens a link with `slots` slots of `slot_elems` elements in the receiver's scratch.
  int open_channel(int sender, int receiver, std::size_t slot_elems, int slots);
  // Sender side: waits until the next slot is free, copies `count` elements from src into it,
  // records "ready". The receiver must receive() before reading the slot.
  Delivery send(int channel, Location src, std::size_t count);
  // Receiver side: waits for the chunk's "ready".
  void receive(const Delivery& delivery);
  // Receiver side: the slot may be overwritten (after everything enqueued before this on the
  // receiver's stream). Deliveries of one channel must be released in the order they were sent.
  void release(const Delivery& delivery);

  // Adds the entry/done fencing and returns the schedule.
  Schedule finish();

 private:
  // Appends a data-moving step (copy_peer, reduce, local_copy) to `rank`'s list.
  void push_move(int rank, StepKind kind, int peer, Location src, Location dst, std::size_t count);
  Schedule schedule_;
  std::vector<std::uint32_t> records_;  // per signal: records appended so far
  std::vector<Channel> channels_;
};

// Input region of this rank's own contribution: output when in place (same memory).
inline Region own_input(const ScheduleShape& shape) { return shape.in_place ? Region::output : Region::input; }

// Number of chunks of at most chunk_elems that cover `elems` elements.
inline std::size_t chunks_for(std::size_t elems, std::size_t chunk_elems) {
  return elems == 0 ? 0 : (elems + chunk_elems - 1) / chunk_elems;
}

// Slot size and slot count for a link that carries pieces of at most `largest_piece` elements cut
// into `chunks` chunks: no bigger than needed for small messages.
inline std::size_t slot_elems_for(const ScheduleShape& shape, std::size_t largest_piece) {
  return largest_piece < shape.chunk_elems ? largest_piece : shape.chunk_elems;
}
inline int slots_for(const ScheduleShape& shape, std::size_t chunks) {
  return chunks < static_cast<std::size_t>(shape.slots) ? static_cast<int>(chunks) : shape.slots;
}

// Checks a shape; throws std::invalid_argument naming the bad field.
void validate_shape(const ScheduleShape& shape);

// Schedules for the trivial cases every builder shares: no elements (nothing to do) and one rank
// (a copy when out of place, nothing in place). Returns true when `builder` now holds the schedule.
bool build_trivial(ScheduleBuilder& builder);

}  // namespace dpb::detail
