// The `dpbench allreduce` console table, in nccl-tests' spirit: one row per point with size,
// count, type, algorithm, placement, time, algbw, busbw and #wrong, plus how the point stopped.
// Rows are printed as points finish (the table is the progress on stdout); header lines start
// with '#' so the output stays easy to grep and to load as whitespace-separated columns.
#pragma once
#include <ostream>
#include <string>
#include <vector>

#include "results/point_record.h"

namespace dpb {

// Header: what ran where and how points stop. `lines` are printed as "# <line>" first.
void print_allreduce_header(std::ostream& out, const std::vector<std::string>& lines);
// "#  ranks 4 on devices 0,1,2,3" group line, printed whenever the device list changes.
void print_allreduce_group(std::ostream& out, const std::vector<int>& devices);
// One row from a finished record (ok or failed; failed rows end with the reason).
void print_allreduce_row(std::ostream& out, const PointRecord& rec);

}  // namespace dpb
