// Counting a schedule without a backend: bytes and messages per link, work per rank. Tests check
// these against textbook figures; the performance model costs them on a described topology.
#pragma once
#include <cstddef>
#include <vector>

#include "collectives/schedule.h"

namespace dpb {

struct ScheduleCounts {
  int ranks = 0;
  // link_bytes[src * ranks + dst] and link_messages[...]: copy_peer traffic from src to dst.
  std::vector<std::size_t> link_bytes;
  std::vector<std::size_t> link_messages;
  // Per rank.
  std::vector<std::size_t> reduce_elems;      // elements added by this rank's reduces
  std::vector<std::size_t> local_copy_bytes;  // bytes moved by local copies
  std::vector<std::size_t> waits;             // cross-stream waits (each costs a synchronisation)
  std::vector<std::size_t> scratch_bytes;     // scratch memory the rank needs

  std::size_t link(int src, int dst) const { return link_bytes[index(src, dst)]; }
  std::size_t messages(int src, int dst) const { return link_messages[index(src, dst)]; }
  std::size_t sent(int rank) const;      // bytes rank copies to peers
  std::size_t received(int rank) const;  // bytes peers copy into rank
  std::size_t total_bytes() const;       // over all links
  int links_used() const;                // ordered pairs that carry data

 private:
  std::size_t index(int src, int dst) const {
    return static_cast<std::size_t>(src) * static_cast<std::size_t>(ranks) + static_cast<std::size_t>(dst);
  }
};

// Counts `schedule` for elements of `elem_bytes` bytes (dtype_size of the dtype it will run with).
ScheduleCounts count_schedule(const Schedule& schedule, std::size_t elem_bytes);

}  // namespace dpb
