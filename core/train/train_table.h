// The `dpbench train` summary table: one row per point with step time, throughput, scaling
// efficiency, exposed communication, overlap and the loss, printed at the end of a sweep. Rows are
// made from the records' JSON (schema kind "train"), so points carried over by --resume print the
// same way as points measured now. Failed or timed-out points show their reason.
#pragma once
#include <ostream>
#include <vector>

#include <nlohmann/json.hpp>

namespace dpb {

void print_train_summary(std::ostream& out, const std::vector<nlohmann::json>& points);

}  // namespace dpb
