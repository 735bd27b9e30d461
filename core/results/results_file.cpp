#include "results/results_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "results/invocation.h"
#include "results/results_resume.h"
#include "device/error.h"

namespace dpb {

namespace fs = std::filesystem;

namespace {

std::string errno_text(int err) { return std::strerror(err); }

fs::path parent_dir(const fs::path& path) {
  fs::path parent = path.parent_path();
  return parent.empty() ? fs::path(".") : parent;
}

fs::path temp_path_for(const fs::path& path) {
  return parent_dir(path) / ("." + path.filename().string() + ".tmp." + std::to_string(::getpid()));
}

// Closes a POSIX file descriptor on scope exit.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_;
};

void fsync_directory(const fs::path& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY));
  if (fd.get() >= 0) ::fsync(fd.get());  // best effort: some filesystems refuse directory fsync
}

}  // namespace

void write_json_atomically(const fs::path& path, const nlohmann::json& doc) {
  write_text_atomically(path, doc.dump(1) + "\n");
}

std::string serialize_results(const nlohmann::json& head, const std::vector<std::string>& point_lines) {
  std::string out = "{\n";
  bool first = true;
  for (const auto& [key, value] : head.items()) {
    if (key == "points") continue;
    std::string v = value.dump(1);
    // Indent nested lines by one more space so the block reads as part of the document.
    for (std::size_t pos = v.find('\n'); pos != std::string::npos; pos = v.find('\n', pos + 2)) v.insert(pos + 1, " ");
    out += (first ? " " : ",\n ") + nlohmann::json(key).dump() + ": " + v;
    first = false;
  }
  out += std::string(first ? " " : ",\n ") + "\"points\": [";
  for (std::size_t i = 0; i < point_lines.size(); ++i) out += (i ? ",\n  " : "\n  ") + point_lines[i];
  out += point_lines.empty() ? "]\n}\n" : "\n ]\n}\n";
  return out;
}

void write_text_atomically(const fs::path& path, const std::string& text) {
  const fs::path tmp = temp_path_for(path);
  auto fail = [&](const std::string& what, int err) {
    ::unlink(tmp.c_str());
    throw std::runtime_error("cannot write results file '" + path.string() + "': " + what + ": " + errno_text(err));
  };
  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (fd.get() < 0) fail("creating '" + tmp.string() + "'", errno);
  std::size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(fd.get(), text.data() + written, text.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("writing", errno);
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(fd.get()) != 0) fail("fsync", errno);
  if (::close(fd.release()) != 0) fail("close", errno);
  if (::rename(tmp.c_str(), path.c_str()) != 0) fail("rename", errno);
  fsync_directory(parent_dir(path));
}

void ResultsFile::check_writable(const fs::path& path, std::string_view setting) {
  auto fail = [&](const std::string& why) {
    throw SettingError(std::string(setting), "cannot write '" + path.string() + "': " + why);
  };
  if (path.empty()) fail("empty path");
  if (path.filename().empty() || path.filename() == "." || path.filename() == "..") fail("not a file name");
  const fs::path dir = parent_dir(path);
  std::error_code ec;
  const auto dir_status = fs::status(dir, ec);
  if (!fs::exists(dir_status)) fail("directory '" + dir.string() + "' does not exist");
  if (!fs::is_directory(dir_status)) fail("'" + dir.string() + "' is not a directory");
  const auto target_status = fs::status(path, ec);
  if (fs::exists(target_status) && !fs::is_regular_file(target_status)) fail("exists and is not a regular file");
  // The only reliable test of "can I create a file here" (permissions, read-only mounts, ACLs) is
  // to create one; the name is unique to this process and removed at once.
  const fs::path probe = dir / (".dpbench-probe." + std::to_string(::getpid()));
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) fail(errno_text(errno));
  ::close(fd);
  ::unlink(probe.c_str());
}

nlohmann::json load_results(const fs::path& path, std::string_view command, std::string_view setting) {
  auto fail = [&](const std::string& why) {
    throw SettingError(std::string(setting), "'" + path.string() + "' " + why);
  };
  std::ifstream in(path);
  if (!in) fail("cannot be read: " + errno_text(errno));
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    fail(std::string("is not valid JSON (") + e.what() + ")");
  }
  if (!doc.is_object() || doc.value("format", "") != kResultsFormat) fail("is not a dpbench results file");
  if (!doc.contains("format_version") || !doc["format_version"].is_number_integer() ||
      doc["format_version"].get<int>() != kResultsFormatVersion) {
    fail("has format_version " + (doc.contains("format_version") ? doc["format_version"].dump() : "(none)") +
         "; this dpbench reads version " + std::to_string(kResultsFormatVersion));
  }
  if (!command.empty() && doc.value("command", "") != command) {
    fail("holds results of 'dpbench " + doc.value("command", "?") + "', not 'dpbench " + std::string(command) + "'");
  }
  if (!doc.contains("points") || !doc["points"].is_array()) fail("has no points array");
  return doc;
}

fs::path failed_run_path(const fs::path& path) {
  return path.parent_path() / (path.stem().string() + ".failed" + path.extension().string());
}

ResultsFile::ResultsFile(fs::path path, nlohmann::json doc) : path_(std::move(path)), doc_(std::move(doc)) {}

ResultsFile ResultsFile::create(const fs::path& path, const ResultsHeader& header, Replace replace) {
  const std::string now = iso8601_utc_now();
  nlohmann::json doc = {
      {"format", kResultsFormat},
      {"format_version", kResultsFormatVersion},
      {"command", header.command},
      {"invocation",
       {{"argv", header.argv},
        {"command_line", shell_join(header.argv)},
        {"started_at", now},
        {"updated_at", now},
        {"complete", false},
        {"options", header.options.is_null() ? nlohmann::json::object() : header.options}}},
      {"dpbench", dpbench_build_json()},
      {"system", header.system},
      {"points", nlohmann::json::array()}};
  if (!header.axis_order.empty()) doc["axis_order"] = header.axis_order;
  ResultsFile file(path, std::move(doc));
  std::error_code ec;
  const auto existing = fs::status(path, ec);
  file.waiting_for_ok_ =
      replace == Replace::when_a_point_is_ok && fs::is_regular_file(existing) && fs::file_size(path, ec) > 0;
  if (!file.waiting_for_ok_) file.write();
  return file;
}

ResultsFile ResultsFile::resume(const fs::path& path, const ResultsHeader& header, const ResumeOptions& options) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return create(path, header);
  nlohmann::json doc = load_results(path, header.command, "resume");
  check_resumable_points(doc["points"], path, "resume");
  const std::vector<ResumeDifference> differences = resume_differences(doc, header);
  if (!differences.empty() && !options.force) throw ResumeMismatch(path, differences.front());
  // A file from before axis_order gains it (display order only: its points and ids are unchanged).
  if (!header.axis_order.empty()) doc["axis_order"] = header.axis_order;
  ResultsFile file(path, std::move(doc));
  for (const auto& p : file.doc_["points"]) {
    const std::string id = p["id"].get<std::string>();
    if (options.retry_failed && is_retryable_status(p)) {
      file.retry_.insert(id);
    } else {
      file.done_.insert(id);
    }
    file.point_lines_.push_back(p.dump());
  }
  file.resumed_ = file.done_.size();
  auto& inv = file.doc_["invocation"];
  if (!inv.is_object()) inv = nlohmann::json::object();
  inv["complete"] = false;
  if (!inv.contains("resumed") || !inv["resumed"].is_array()) inv["resumed"] = nlohmann::json::array();
  nlohmann::json entry = {{"argv", header.argv},
                          {"command_line", shell_join(header.argv)},
                          {"at", iso8601_utc_now()},
                          {"points_kept", file.resumed_}};
  if (options.retry_failed) entry["points_retried"] = file.retry_.size();
  if (options.force) {
    entry["forced"] = true;
    nlohmann::json diffs = nlohmann::json::array();
    for (const auto& d : differences) diffs.push_back(d.to_json());
    entry["differences"] = std::move(diffs);
  }
  inv["resumed"].push_back(std::move(entry));
  file.write();
  return file;
}

bool ResultsFile::is_done(std::string_view id) const { return done_.find(id) != done_.end(); }

void ResultsFile::append(const PointRecord& record) { append(record.to_json()); }

void ResultsFile::append(nlohmann::json point) {
  const std::string id = point.value("id", "");
  if (id.empty()) throw std::invalid_argument("results: a point has no id");
  if (is_done(id)) throw std::invalid_argument("results: point '" + id + "' is already recorded");
  const bool ok = point.value("status", "") == "ok";
  if (retry_.count(id)) {
    // A retried point replaces its old record in place (order kept); the old one stays on disk
    // until the new one is written.
    auto& points = doc_["points"];
    for (std::size_t i = 0; i < points.size(); ++i) {
      if (points[i].value("id", "") != id) continue;
      nlohmann::json old = std::move(points[i]);
      std::string old_line = std::move(point_lines_[i]);
      point_lines_[i] = point.dump();
      points[i] = std::move(point);
      try {
        write();
      } catch (...) {
        points[i] = std::move(old);
        point_lines_[i] = std::move(old_line);
        throw;
      }
      retry_.erase(id);
      done_.insert(id);
      return;
    }
  }
  point_lines_.push_back(point.dump());
  doc_["points"].push_back(std::move(point));
  const bool was_waiting = waiting_for_ok_;
  if (ok) waiting_for_ok_ = false;
  try {
    write();
  } catch (...) {
    doc_["points"].erase(doc_["points"].size() - 1);  // keep memory and disk in agreement
    point_lines_.pop_back();
    waiting_for_ok_ = was_waiting;
    throw;
  }
  done_.insert(id);
}

void ResultsFile::finish(bool complete) {
  doc_["invocation"]["complete"] = complete;
  if (waiting_for_ok_) {
    // No point was ok: the file that was there stays as it was; this run's records go beside it.
    beside_ = failed_run_path(path_);
    write_to(*beside_);
    return;
  }
  write();
}

void ResultsFile::write() {
  if (waiting_for_ok_) return;
  write_to(path_);
}

void ResultsFile::write_to(const fs::path& target) {
  doc_["invocation"]["updated_at"] = iso8601_utc_now();
  // Serialize everything but the points (cached per point) on each write.
  nlohmann::json head = nlohmann::json::object();
  for (const auto& [key, value] : doc_.items()) {
    if (key != "points") head[key] = value;
  }
  write_text_atomically(target, serialize_results(head, point_lines_));
}

}  // namespace dpb
