// The direct all-reduce schedule (schedule.h): rank r owns shard r.
//
// Reduce-scatter: every rank q pushes chunk c of its input shard r into r's scratch; r sums them
// into its output. All-gather: r copies its reduced chunk straight into every peer's output.
// Sends run one chunk ahead of the reductions where the slots allow it (lookahead <= slots - 1
// keeps a sender from waiting on a slot its receiver frees only after that sender's next turn).
#include <algorithm>
#include <vector>

#include "collectives/schedule_builder.h"

namespace dpb {

using detail::Delivery;
using detail::ScheduleBuilder;

Schedule build_direct_schedule(const ScheduleShape& shape) {
  ScheduleBuilder b("direct", shape);
  if (detail::build_trivial(b)) return b.finish();

  const int n = shape.ranks;
  const auto un = static_cast<std::size_t>(n);
  const Region input = detail::own_input(shape);
  const std::size_t largest = shard_size(shape.count, n, 0);
  const std::size_t chunks = detail::chunks_for(largest, shape.chunk_elems);
  const std::size_t slot_elems = detail::slot_elems_for(shape, largest);
  const int slots = detail::slots_for(shape, chunks);
  const std::size_t lookahead = slots > 1 ? 1 : 0;

  const auto piece = [&](int shard, std::size_t c) {
    const std::size_t size = shard_size(shape.count, n, shard);
    const std::size_t start = c * shape.chunk_elems;
    if (start >= size) return std::pair<std::size_t, std::size_t>{0, 0};
    return std::pair{shard_offset(shape.count, n, shard) + start, std::min(shape.chunk_elems, size - start)};
  };
  const auto peer = [n](int r, int i) { return (r + i) % n; };

  // link[q][r]: q -> r. pending[r][q][c]: chunk c of shard r pushed by q.
  std::vector<std::vector<int>> link(un, std::vector<int>(un, -1));
  std::vector<std::vector<std::vector<Delivery>>> pending(un, std::vector<std::vector<Delivery>>(un));
  for (int q = 0; q < n; ++q) {
    for (int r = 0; r < n; ++r) {
      if (q == r) continue;
      link[static_cast<std::size_t>(q)][static_cast<std::size_t>(r)] = b.open_channel(q, r, slot_elems, slots);
      pending[static_cast<std::size_t>(r)][static_cast<std::size_t>(q)].resize(chunks);
    }
  }

  const auto sends = [&](std::size_t c) {
    for (int q = 0; q < n; ++q) {
      for (int i = 1; i < n; ++i) {
        const int r = peer(q, i);
        const auto [off, cnt] = piece(r, c);
        if (!cnt) continue;
        const auto uq = static_cast<std::size_t>(q), ur = static_cast<std::size_t>(r);
        pending[ur][uq][c] = b.send(link[uq][ur], {input, off}, cnt);
      }
    }
  };

  for (std::size_t c = 0; c < std::min(lookahead, chunks); ++c) sends(c);
  for (std::size_t c = 0; c < chunks; ++c) {
    if (c + lookahead < chunks) sends(c + lookahead);
    for (int r = 0; r < n; ++r) {
      const auto [off, cnt] = piece(r, c);
      if (!cnt) continue;
      const Location mine{Region::output, off};
      b.local_copy(r, mine, {input, off}, cnt);
      for (int i = 1; i < n; ++i) {
        const int q = peer(r, i);
        const Delivery& d = pending[static_cast<std::size_t>(r)][static_cast<std::size_t>(q)][c];
        b.receive(d);
        b.reduce(r, mine, d.slot, cnt);
        b.release(d);
      }
      for (int i = 1; i < n; ++i) b.copy_peer(r, peer(r, i), mine, mine, cnt);
    }
  }
  return b.finish();
}

}  // namespace dpb
