// The pipelined binary-tree all-reduce schedule (schedule.h). Heap order rooted at rank 0.
//
// Up: a leaf pushes its input chunk to its parent's scratch; an inner rank sums its own input and
// its children's chunks into its output and pushes that partial sum up; the root's sum is final.
// Down: a rank copies the final chunk from its output straight into each child's output. The
// final value overwrites the partial sum a child sent up, which is safe because the final value
// exists only after the child's copy of its partial sum completed.
#include <algorithm>
#include <vector>

#include "collectives/schedule_builder.h"

namespace dpb {

using detail::Delivery;
using detail::ScheduleBuilder;
using detail::SignalRef;

namespace {

int depth_of(int rank) {
  int d = 0;
  for (int r = rank + 1; r > 1; r /= 2) ++d;
  return d;
}

}  // namespace

Schedule build_tree_schedule(const ScheduleShape& shape) {
  ScheduleBuilder b("tree", shape);
  if (detail::build_trivial(b)) return b.finish();

  const int n = shape.ranks;
  const auto un = static_cast<std::size_t>(n);
  const Region input = detail::own_input(shape);
  const std::size_t chunks = detail::chunks_for(shape.count, shape.chunk_elems);
  const std::size_t slot_elems = detail::slot_elems_for(shape, shape.count);
  const int slots = detail::slots_for(shape, chunks);

  std::vector<std::vector<int>> children(un);
  std::vector<int> depth(un), up(un, -1), arrived(un, -1);
  int max_depth = 0;
  for (int r = 0; r < n; ++r) {
    depth[static_cast<std::size_t>(r)] = depth_of(r);
    max_depth = std::max(max_depth, depth_of(r));
    for (int c : {2 * r + 1, 2 * r + 2}) {
      if (c < n) children[static_cast<std::size_t>(r)].push_back(c);
    }
  }
  for (int r = 1; r < n; ++r) {
    const int parent = (r - 1) / 2;
    up[static_cast<std::size_t>(r)] = b.open_channel(r, parent, slot_elems, slots);
    // Only a rank that forwards downwards waits for its chunk to arrive; leaves rely on the
    // call's closing fence.
    if (!children[static_cast<std::size_t>(r)].empty()) arrived[static_cast<std::size_t>(r)] = b.new_signal(parent);
  }

  // pending[r][c]: chunk c pushed up by r; final_ref[r][c]: chunk c's final value arrived at r.
  std::vector<std::vector<Delivery>> pending(un, std::vector<Delivery>(chunks));
  std::vector<std::vector<SignalRef>> final_ref(un, std::vector<SignalRef>(chunks));
  // Ranks in order of decreasing depth, so a chunk is pushed up before its parent consumes it.
  std::vector<int> bottom_up(un);
  for (int r = 0; r < n; ++r) bottom_up[static_cast<std::size_t>(r)] = n - 1 - r;

  const auto span = [&](std::size_t c) {
    const std::size_t off = c * shape.chunk_elems;
    return std::pair{off, std::min(shape.chunk_elems, shape.count - off)};
  };
  // A rank at depth d runs "up" for chunk t then "down" for chunk t-2d: the final value of a chunk
  // reaches depth d about 2d hops after that rank sent the chunk up.
  const std::size_t ticks = chunks + 2 * static_cast<std::size_t>(max_depth);
  for (std::size_t t = 0; t < ticks; ++t) {
    for (int r : bottom_up) {
      const auto ur = static_cast<std::size_t>(r);
      const auto& kids = children[ur];
      if (t < chunks) {  // up
        const auto [off, cnt] = span(t);
        if (kids.empty()) {
          pending[ur][t] = b.send(up[ur], {input, off}, cnt);
        } else {
          b.local_copy(r, {Region::output, off}, {input, off}, cnt);
          for (int k : kids) {
            const Delivery& d = pending[static_cast<std::size_t>(k)][t];
            b.receive(d);
            b.reduce(r, {Region::output, off}, d.slot, cnt);
            b.release(d);
          }
          if (r > 0) pending[ur][t] = b.send(up[ur], {Region::output, off}, cnt);
        }
      }
      const std::size_t lag = 2 * static_cast<std::size_t>(depth[ur]);
      if (!kids.empty() && t >= lag && t - lag < chunks) {  // down
        const std::size_t c = t - lag;
        const auto [off, cnt] = span(c);
        if (r > 0) b.wait(r, final_ref[ur][c]);
        for (int k : kids) {
          b.copy_peer(r, k, {Region::output, off}, {Region::output, off}, cnt);
          const auto uk = static_cast<std::size_t>(k);
          if (arrived[uk] >= 0) final_ref[uk][c] = b.record(r, arrived[uk]);
        }
      }
    }
  }
  return b.finish();
}

}  // namespace dpb
