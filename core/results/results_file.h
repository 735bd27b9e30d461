// The results file writer: one JSON document per file (schema
// scripts/dpbench_report/schema/dpbench-results.schema.json),
// rewritten ATOMICALLY after every finished point so a crash or kill keeps every finished point.
//
// Atomic write: the whole document goes to a temporary file in the target's directory
// (".<name>.tmp.<pid>"), is fsync'ed, renamed over the target, and the directory is fsync'ed.
// rename(2) within one filesystem is atomic: a reader sees the old or the new file, never a torn
// one. A kill between write and rename leaves a stray temporary beside an intact target; the next
// run that locks the file removes it (results_lock.h).
//
// A failing run never damages an existing file: `create` over an existing file writes nothing
// until the first ok point is appended (then the new document, failed points included, replaces
// the old one); a run that ends without one leaves the old file as it was and writes its records
// beside it ("<stem>.failed<ext>", see written_beside()).
//
// Typical use by a command:
//   ResultsFile::check_writable(out);             // before any measuring
//   ResultsHeader h{"allreduce", argv, options_json, describe_system(backend, devices)};
//   ResultsFile file = resume ? ResultsFile::resume(out, h) : ResultsFile::create(out, h);
//   for each planned point: if (file.is_done(id)) skip; else file.append(record);
//   file.finish();                                         // invocation.complete = true
#pragma once
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "results/point_record.h"

namespace dpb {

inline constexpr std::string_view kResultsFormat = "dpbench-results";
inline constexpr int kResultsFormatVersion = 1;

// What a command knows before measuring.
struct ResultsHeader {
  std::string command;               // "allreduce" | "train" | "p2p" | "info"
  std::vector<std::string> argv;     // as given to main
  nlohmann::json options = nlohmann::json::object();  // parsed options, name -> value
  nlohmann::json system;             // describe_system(...)
  // The command's point axes in declaration order (PointAxes::order()), written as the document's
  // "axis_order" so readers show axes in dpbench's order; empty: none (info, p2p).
  std::vector<std::string> axis_order = {};
};

// Writes `text` / `doc` to `path` atomically (temporary + fsync + rename + directory fsync).
// Throws std::runtime_error naming the path and errno text on failure; the target is untouched.
void write_text_atomically(const std::filesystem::path& path, const std::string& text);
void write_json_atomically(const std::filesystem::path& path, const nlohmann::json& doc);

// The results file layout: the header fields indented, then "points" with one compact point per
// line. Still one JSON document; keeps files small (samples are not one per line) and lets a
// writer append a point without re-serializing the others.
std::string serialize_results(const nlohmann::json& doc_without_points, const std::vector<std::string>& point_lines);

class ResultsFile {
 public:
  // Fails fast on an unusable output path, before any measuring: the parent directory must exist
  // and accept a new file (a temporary is created and removed), and an existing target must be a
  // regular file. Throws SettingError(setting, "cannot write '<path>': <why>"). Creates
  // nothing that outlives the call.
  static void check_writable(const std::filesystem::path& path, std::string_view setting = "out");

  // How `create` treats an existing file: replaced once a point is ok (sweeps), or at once
  // (documents without points, e.g. `dpbench info`).
  enum class Replace { when_a_point_is_ok, at_once };

  // Starts a new document and writes it with no points, unless a file exists there (see Replace).
  static ResultsFile create(const std::filesystem::path& path, const ResultsHeader& header,
                            Replace replace = Replace::when_a_point_is_ok);

  struct ResumeOptions {
    bool force = false;         // continue despite differing options/system (recorded in the file)
    bool retry_failed = false;  // failed and timed-out points are measured again (and replaced)
  };

  // Continues an existing file: its format, format_version and command must match, its points
  // must be well formed (else one SettingError("resume", "'<path>' ..."), and so must
  // the options and the system (else ResumeMismatch naming the first difference, results_resume.h)
  // unless `force`. Keeps its points and started_at; records this invocation under
  // invocation.resumed[]. A missing file starts a new one (so `--resume` is safe to always pass in
  // scripts).
  static ResultsFile resume(const std::filesystem::path& path, const ResultsHeader& header,
                            const ResumeOptions& options);
  static ResultsFile resume(const std::filesystem::path& path, const ResultsHeader& header) {
    return resume(path, header, ResumeOptions{});
  }

  // True when a point with this id is already recorded (any status: every point runs once).
  bool is_done(std::string_view id) const;
  const std::set<std::string, std::less<>>& done_ids() const { return done_; }
  // Number of points carried over from the resumed file.
  std::size_t resumed_points() const { return resumed_; }

  // Appends the record and rewrites the file atomically (unless an existing file is still waiting
  // for the first ok point). A point being retried (--retry-failed) replaces its old record.
  // Throws std::invalid_argument for a duplicate id.
  void append(const PointRecord& record);
  void append(nlohmann::json point);

  // Marks the invocation complete (every planned point has a record; `complete` false: the run
  // stopped early) and rewrites the file, or writes beside it (written_beside()) when an existing
  // file was waiting for an ok point that never came.
  void finish(bool complete = true);

  const nlohmann::json& document() const { return doc_; }
  const std::filesystem::path& path() const { return path_; }
  // Set by finish() when the run had no ok point and the existing file was kept: where this run's
  // records went instead.
  const std::optional<std::filesystem::path>& written_beside() const { return beside_; }
  // Points of the resumed file that will be measured again (--retry-failed).
  std::size_t retrying_points() const { return retry_.size(); }

 private:
  ResultsFile(std::filesystem::path path, nlohmann::json doc);
  void write();
  void write_to(const std::filesystem::path& target);

  bool waiting_for_ok_ = false;  // an existing file is replaced only once a point is ok
  std::optional<std::filesystem::path> beside_;
  std::set<std::string, std::less<>> retry_;  // ids whose old record a new one replaces

  std::filesystem::path path_;
  nlohmann::json doc_;
  std::vector<std::string> point_lines_;  // doc_["points"][i].dump(), cached: appends stay O(new point)
  std::set<std::string, std::less<>> done_;
  std::size_t resumed_ = 0;
};

// "<dir>/<stem>.failed<ext>": where a run without an ok point writes instead of replacing `path`.
std::filesystem::path failed_run_path(const std::filesystem::path& path);

// Reads and checks a results document (format, version, command if non-empty). Throws
// SettingError naming `setting`.
nlohmann::json load_results(const std::filesystem::path& path, std::string_view command,
                            std::string_view setting = "resume");

}  // namespace dpb
