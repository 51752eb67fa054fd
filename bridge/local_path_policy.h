// Which files on the front-end an image PATH may name, decided on the resolved path (no symlink,
// no ".."), in this order: onedockd's own restricted list (system directories and the files it
// keeps secrets in) refuses, whatever a datastore says; the datastore's SAFE_DIRS admit; its
// RESTRICTED_DIRS refuse; onedockd's upload directories admit; anything else is refused. The
// datastore's pair keeps OpenNebula's meaning (libfs.sh check_restricted: SAFE_DIRS are the
// exceptions to RESTRICTED_DIRS; oned gives a new datastore RESTRICTED_DIRS="/" and
// SAFE_DIRS="/var/tmp"), with a safe default where OpenNebula admits what no list names.
// Directories match whole components: "/var/tmp" admits "/var/tmp/a.tar", not "/var/tmpx/a.tar".
#ifndef ONEDOCK_BRIDGE_LOCAL_PATH_POLICY_H_
#define ONEDOCK_BRIDGE_LOCAL_PATH_POLICY_H_

#include <string>
#include <vector>

#include "bridge/status.h"

namespace onedock {

struct LocalPathPolicy {
  std::vector<std::string> allowed;          // onedockd's upload directories
  std::vector<std::string> restricted;       // onedockd's own: always refused
  std::vector<std::string> safe_dirs;        // the datastore's SAFE_DIRS
  std::vector<std::string> restricted_dirs;  // the datastore's RESTRICTED_DIRS

  // `resolved` is an absolute path with no symlink or "..". OK, or kPermissionDenied naming the
  // path and the rule that refused it.
  Status Check(const std::string& resolved) const;
};

// Directories a datastore template attribute lists, separated by spaces (as OpenNebula writes
// SAFE_DIRS and RESTRICTED_DIRS); relative entries are ignored.
std::vector<std::string> SplitDirectories(const std::string& value);

// True when `path` is `dir` or lies below it (both absolute, compared component by component).
bool PathUnder(const std::string& path, const std::string& dir);

// A tarball PATH opened once and checked as opened: the policy is applied to the path of the
// file actually held (read back from /proc/self/fd), so a symlink swapped in after the check
// changes nothing. The file is read through `proc_path()` (another open of the same inode).
class OpenedTarball {
 public:
  // kNotFound when it cannot be opened, kInvalidArgument when it is not a regular file,
  // kPermissionDenied from the policy.
  static Result<OpenedTarball> Open(const std::string& path, const LocalPathPolicy& policy);
  OpenedTarball(OpenedTarball&& other) noexcept;
  OpenedTarball& operator=(OpenedTarball&&) = delete;
  OpenedTarball(const OpenedTarball&) = delete;
  ~OpenedTarball();

  int64_t size() const { return size_; }
  const std::string& resolved() const { return resolved_; }
  std::string proc_path() const;  // "/proc/self/fd/N"

 private:
  OpenedTarball(int fd, int64_t size, std::string resolved)
      : fd_(fd), size_(size), resolved_(std::move(resolved)) {}
  int fd_ = -1;
  int64_t size_ = 0;
  std::string resolved_;
};

}  // namespace onedock

#endif  // ONEDOCK_BRIDGE_LOCAL_PATH_POLICY_H_
