// How a VM's container runs its image, from the VM template: DOCKER_TTY, DOCKER_CMD,
// DOCKER_ENTRYPOINT, DOCKER_WORKDIR, DOCKER_USER, DOCKER_ENV, DOCKER_SHM_SIZE, DOCKER_ULIMITS,
// DOCKER_SYSCTLS and DOCKER_LABELS. Each is read from the VM's USER_TEMPLATE, else from its
// DISK 0, where oned copies the image's attributes listed in INHERIT_IMAGE_ATTR: the VM's own
// value wins. Every value is checked here, before anything reaches an engine; an error names the
// attribute. Nothing is ever run through a shell. Pure functions.
#ifndef ONEDOCK_BRIDGE_RUN_OPTIONS_H_
#define ONEDOCK_BRIDGE_RUN_OPTIONS_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "bridge/engine_types.h"
#include "bridge/one_types.h"
#include "bridge/status.h"

namespace onedock {

struct RunOptions {
  bool tty = true;                      // DOCKER_TTY: a terminal and an open stdin
  std::vector<std::string> cmd;         // empty = the image's CMD
  std::vector<std::string> entrypoint;  // empty = the image's ENTRYPOINT
  std::string working_dir;              // empty = the image's WORKDIR
  std::string user;                     // empty = the image's USER
  std::vector<std::string> env;         // "KEY=value", besides CONTEXT's variables
  int64_t shm_size_bytes = 0;           // 0 = the engine's default
  std::vector<Ulimit> ulimits;
  std::map<std::string, std::string> sysctls;
  std::map<std::string, std::string> labels;  // never one.*
};

// The attributes RunOptionsOf reads, for the docs and INHERIT_IMAGE_ATTR.
inline constexpr const char* kRunAttributes[] = {
    "DOCKER_TTY", "DOCKER_CMD",      "DOCKER_ENTRYPOINT", "DOCKER_WORKDIR", "DOCKER_USER",
    "DOCKER_ENV", "DOCKER_SHM_SIZE", "DOCKER_ULIMITS",    "DOCKER_SYSCTLS", "DOCKER_LABELS"};

// The longest value any of them may have, and the most words or items one may hold.
inline constexpr size_t kMaxRunValue = 16 * 1024;
inline constexpr size_t kMaxRunItems = 256;

// The VM's value of `name`: its USER_TEMPLATE's, else its DISK 0's; "" when neither has it.
std::string RunAttribute(const Vm& vm, const std::string& name);

// Every attribute above, checked. kInvalidArgument naming the attribute for a value that cannot
// be used; kPermissionDenied for what no container may have (a sysctl outside the container's
// namespaces). DOCKER_ENV may not set a variable CONTEXT sets, and DOCKER_SHM_SIZE may not
// exceed MEMORY.
Result<RunOptions> RunOptionsOf(const Vm& vm);

// DOCKER_ULIMITS against what a container may raise on a shared host. Unless
// `allow_realtime`, rtprio must be 0 (a real-time task escapes the CPU limit) and nice at most 20
// (no niceness below 0). Always: memlock at most `memory_bytes` when that is set (never
// unlimited), nofile at most kMaxOpenFiles (Linux's nr_open default). kPermissionDenied for what
// policy refuses, kInvalidArgument for the bounds; errors name DOCKER_ULIMITS.
inline constexpr int64_t kMaxOpenFiles = 1048576;
Status CheckUlimits(const std::vector<Ulimit>& ulimits, int64_t memory_bytes, bool allow_realtime);

// The words of `text` as a POSIX shell splits them, with no expansion of any kind: blanks
// separate words; '…' keeps everything literally; "…" keeps everything but \" \\ \$ \` and a
// backslash-newline; a backslash outside quotes keeps the next character. $, ;, |, &, <, >, *, ~
// and backquotes stay literal characters of the words. kInvalidArgument for an unterminated quote
// or a trailing backslash.
Result<std::vector<std::string>> SplitWords(std::string_view text);

// A command: a JSON array of strings when `value` starts with '[', else SplitWords. Errors name
// `attribute`.
Result<std::vector<std::string>> ParseCommand(const std::string& attribute, std::string_view value);

// NAME=VALUE items: a JSON object of strings when `value` starts with '{', else SplitWords, each
// word NAME=VALUE. Names must be unique. Errors name `attribute`.
Result<std::vector<std::pair<std::string, std::string>>> ParseAssignments(
    const std::string& attribute, std::string_view value);

// A size: digits with an optional unit b, k, m or g (powers of 1024, either case, an optional
// trailing b: "64m", "1GB", "512k", "65536").
Result<int64_t> ParseSize(const std::string& attribute, std::string_view value);

// Whether the kernel keeps `sysctl` per IPC or network namespace, so that setting it in a
// container changes nothing outside it (the list runc accepts).
bool IsNamespacedSysctl(std::string_view sysctl);

}  // namespace onedock

#endif  // ONEDOCK_BRIDGE_RUN_OPTIONS_H_
