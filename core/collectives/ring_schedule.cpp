// The ring all-reduce schedule (schedule.h). Rank q sends to q+1 only.
//
// Reduce-scatter, step s (0..n-2): q sends shard q-s (its own input at s = 0, else the partial sum
// it received at step s-1 plus its own input) and receives shard q-1-s. The partial sum stays in
// the scratch slot it arrived in and is forwarded from there, so the output buffer is untouched
// until q holds the fully reduced shard q+1 at step n-2. Each link has max(slots, 2) slots. All-gather, step t (0..n-2): q sends
// shard q+1-t straight into q+1's output and forwards what arrived at step t-1.
#include <algorithm>
#include <optional>
#include <vector>

#include "collectives/schedule_builder.h"

namespace dpb {

using detail::Delivery;
using detail::ScheduleBuilder;
using detail::SignalRef;

namespace {

struct Piece {
  std::size_t offset = 0;
  std::size_t count = 0;
};

// Chunk c of shard j.
Piece piece(const ScheduleShape& shape, int shard, std::size_t c) {
  const std::size_t size = shard_size(shape.count, shape.ranks, shard);
  const std::size_t start = c * shape.chunk_elems;
  if (start >= size) return {};
  return {shard_offset(shape.count, shape.ranks, shard) + start, std::min(shape.chunk_elems, size - start)};
}

}  // namespace

Schedule build_ring_schedule(const ScheduleShape& shape) {
  ScheduleBuilder b("ring", shape);
  if (detail::build_trivial(b)) return b.finish();

  const int n = shape.ranks;
  const auto mod = [n](int x) { return ((x % n) + n) % n; };
  const Region input = detail::own_input(shape);
  const std::size_t largest = shard_size(shape.count, n, 0);
  const std::size_t chunks = detail::chunks_for(largest, shape.chunk_elems);
  const std::size_t slot_elems = detail::slot_elems_for(shape, largest);
  // A partial sum is forwarded from the slot it arrived in, so a rank holds one slot while it
  // waits for a free slot downstream: with one slot per link every rank would wait on the next
  // one around the ring. Two slots are the least that cannot deadlock.
  ScheduleShape two = shape;
  two.slots = std::max(shape.slots, 2);
  const int slots = detail::slots_for(two, chunks * static_cast<std::size_t>(n - 1));

  std::vector<int> link(static_cast<std::size_t>(n)), arrived(static_cast<std::size_t>(n));
  for (int q = 0; q < n; ++q) {
    link[static_cast<std::size_t>(q)] = b.open_channel(q, mod(q + 1), slot_elems, slots);
    arrived[static_cast<std::size_t>(q)] = b.new_signal(q);
  }
  const auto at = [](auto& v, int i) -> auto& { return v[static_cast<std::size_t>(i)]; };

  for (std::size_t c = 0; c < chunks; ++c) {
    // Reduce-scatter. in_flight[q]: what q sent to q+1 at the current step.
    std::vector<std::optional<Delivery>> in_flight(static_cast<std::size_t>(n));
    for (int q = 0; q < n; ++q) {
      const Piece p = piece(shape, q, c);
      if (p.count) at(in_flight, q) = b.send(at(link, q), {input, p.offset}, p.count);
    }
    for (int s = 0; s + 1 < n; ++s) {
      std::vector<std::optional<Delivery>> next(static_cast<std::size_t>(n));
      for (int q = 0; q < n; ++q) {
        const auto& d = at(in_flight, mod(q - 1));
        if (!d) continue;  // this chunk of the shard is empty
        const Piece p = piece(shape, mod(q - 1 - s), c);
        b.receive(*d);
        if (s + 2 < n) {
          b.reduce(q, d->slot, {input, p.offset}, p.count);
          at(next, q) = b.send(at(link, q), d->slot, p.count);
        } else {  // q now holds shard q+1 fully reduced
          b.local_copy(q, {Region::output, p.offset}, {input, p.offset}, p.count);
          b.reduce(q, {Region::output, p.offset}, d->slot, p.count);
        }
        b.release(*d);
      }
      in_flight = std::move(next);
    }
    // All-gather. got[q]: the arrival q+1 must wait for before forwarding.
    std::vector<std::optional<SignalRef>> got(static_cast<std::size_t>(n));
    for (int t = 0; t + 1 < n; ++t) {
      std::vector<std::optional<SignalRef>> next(static_cast<std::size_t>(n));
      for (int q = 0; q < n; ++q) {
        const Piece p = piece(shape, mod(q + 1 - t), c);
        if (!p.count) continue;
        if (t > 0) b.wait(q, *at(got, mod(q - 1)));
        b.copy_peer(q, mod(q + 1), {Region::output, p.offset}, {Region::output, p.offset}, p.count);
        if (t + 2 < n) at(next, q) = b.record(q, at(arrived, q));  // the last hop is not forwarded
      }
      got = std::move(next);
    }
  }
  return b.finish();
}

}  // namespace dpb
