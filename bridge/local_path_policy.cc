#include "bridge/local_path_policy.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <filesystem>
#include <sstream>

namespace onedock {

bool PathUnder(const std::string& path, const std::string& dir) {
  std::string d = dir;
  while (d.size() > 1 && d.back() == '/') d.pop_back();
  if (d == "/") return !path.empty() && path.front() == '/';
  return path == d ||
         (path.size() > d.size() && path.compare(0, d.size(), d) == 0 && path[d.size()] == '/');
}

std::vector<std::string> SplitDirectories(const std::string& value) {
  std::vector<std::string> out;
  std::istringstream in(value);
  for (std::string dir; in >> dir;) {
    if (dir.front() == '/') out.push_back(dir);
  }
  return out;
}

Status LocalPathPolicy::Check(const std::string& resolved) const {
  for (const auto& dir : restricted) {
    if (PathUnder(resolved, dir))
      return PermissionDenied("PATH " + resolved + " is in restricted directory " + dir);
  }
  for (const auto& dir : safe_dirs) {
    if (PathUnder(resolved, dir)) return Status::Ok();
  }
  for (const auto& dir : restricted_dirs) {
    if (PathUnder(resolved, dir)) {
      return PermissionDenied("PATH " + resolved + " is in the datastore's RESTRICTED_DIRS (" +
                              dir + ") and not in its SAFE_DIRS");
    }
  }
  for (const auto& dir : allowed) {
    if (PathUnder(resolved, dir)) return Status::Ok();
  }
  std::string list;
  for (const auto* dirs : {&safe_dirs, &allowed}) {
    for (const auto& dir : *dirs) list += (list.empty() ? "" : " ") + dir;
  }
  return PermissionDenied("PATH " + resolved + " is outside the upload directories (" +
                          (list.empty() ? "none" : list) +
                          "); see SAFE_DIRS of the datastore, [images] upload_dirs");
}

Result<OpenedTarball> OpenedTarball::Open(const std::string& path, const LocalPathPolicy& policy) {
  // Checked once before opening, so a refused path is not even opened (a FIFO or a device
  // could block or have side effects), and once more on what was opened.
  char resolved[PATH_MAX];
  if (::realpath(path.c_str(), resolved) == nullptr) {
    // Whether a refused path exists is not told either.
    const std::string lexical = std::filesystem::path(path).lexically_normal().string();
    if (Status s = policy.Check(lexical); !s.ok()) return s;
    return NotFound("tarball " + path + " cannot be read");
  }
  if (Status s = policy.Check(resolved); !s.ok()) return s;
  const int fd = ::open(resolved, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) return NotFound("tarball " + path + " cannot be read");
  OpenedTarball file(fd, 0, "");
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
    return InvalidArgument("tarball " + path + " is not a regular file");
  char held[PATH_MAX];
  const std::string link = file.proc_path();
  const ssize_t n = ::readlink(link.c_str(), held, sizeof held - 1);
  if (n <= 0) return Internal("tarball " + path + ": cannot tell which file was opened");
  file.resolved_.assign(held, static_cast<size_t>(n));
  if (Status s = policy.Check(file.resolved_); !s.ok()) return s;
  file.size_ = static_cast<int64_t>(st.st_size);
  return file;
}

OpenedTarball::OpenedTarball(OpenedTarball&& other) noexcept
    : fd_(other.fd_), size_(other.size_), resolved_(std::move(other.resolved_)) {
  other.fd_ = -1;
}

OpenedTarball::~OpenedTarball() {
  if (fd_ >= 0) ::close(fd_);
}

std::string OpenedTarball::proc_path() const { return "/proc/self/fd/" + std::to_string(fd_); }

}  // namespace onedock
