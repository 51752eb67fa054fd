#include "bridge/run_options.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <nlohmann/json.hpp>
#include <set>

#include "bridge/utf8.h"

namespace onedock {
namespace {

using nlohmann::json;

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view TrimBlanks(std::string_view s) {
  while (!s.empty() && IsBlank(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsBlank(s.back())) s.remove_suffix(1);
  return s;
}

// A value quoted for an error message: at most 64 characters, control characters as '?'.
std::string Shown(std::string_view v) {
  std::string out;
  for (char c : v.substr(0, 64)) {
    out += static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? '?' : c;
  }
  return "\"" + out + (v.size() > 64 ? "…\"" : "\"");
}

bool HasControl(std::string_view v) {
  return std::any_of(v.begin(), v.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

bool AllOf(std::string_view v, bool (*ok)(char)) { return std::all_of(v.begin(), v.end(), ok); }

bool IsNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
}

// "name" or "uid", as a passwd entry or a number.
bool IsUserPart(std::string_view p) {
  return !p.empty() && p.size() <= 32 && p.front() != '-' && p.front() != '.' &&
         AllOf(p, IsNameChar);
}

bool IsEnvName(std::string_view n) {
  if (n.empty() || n.size() > 256 || std::isdigit(static_cast<unsigned char>(n.front())))
    return false;
  return AllOf(n, [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

bool IsLabelKey(std::string_view k) {
  if (k.empty() || k.size() > 128 || !std::isalnum(static_cast<unsigned char>(k.front())))
    return false;
  return AllOf(k, [](char c) { return IsNameChar(c) || c == '/'; });
}

bool IsSysctlKey(std::string_view k) {
  if (k.empty() || k.size() > 128) return false;
  return AllOf(k, [](char c) {
    return std::islower(static_cast<unsigned char>(c)) ||
           std::isdigit(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
  });
}

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  }
  return true;
}

// The resources setrlimit knows, by the names Docker gives them.
constexpr std::array<std::string_view, 15> kUlimitNames = {
    "core",   "cpu",   "data", "fsize",  "locks",  "memlock",    "msgqueue", "nice",
    "nofile", "nproc", "rss",  "rtprio", "rttime", "sigpending", "stack"};

// A limit: decimal digits, or -1 / "unlimited" for no limit.
bool ParseLimit(std::string_view text, int64_t* out) {
  if (text == "unlimited" || text == "-1") {
    *out = -1;
    return true;
  }
  if (text.empty() || text.size() > 18 || !AllOf(text, [](char c) { return c >= '0' && c <= '9'; }))
    return false;
  *out = std::stoll(std::string(text));
  return true;
}

Result<Ulimit> ParseUlimit(const std::string& name, const std::string& value) {
  const std::string what = "DOCKER_ULIMITS: " + Shown(name + "=" + value);
  if (std::find(kUlimitNames.begin(), kUlimitNames.end(), name) == kUlimitNames.end()) {
    return InvalidArgument(
        what + ": " + Shown(name) +
        " is not a resource limit (core, cpu, data, fsize, locks, memlock, "
        "msgqueue, nice, nofile, nproc, rss, rtprio, rttime, sigpending, stack)");
  }
  Ulimit u{name, 0, 0};
  const auto colon = value.find(':');
  const std::string soft = value.substr(0, colon);
  const std::string hard = colon == std::string::npos ? soft : value.substr(colon + 1);
  if (!ParseLimit(soft, &u.soft) || !ParseLimit(hard, &u.hard)) {
    return InvalidArgument(what + ": write SOFT[:HARD], each a number or unlimited");
  }
  const bool soft_above = u.hard != -1 && (u.soft == -1 || u.soft > u.hard);
  if (soft_above) return InvalidArgument(what + ": the soft limit is above the hard one");
  return u;
}

// The words of a JSON array of strings; errors name `attribute`.
Result<std::vector<std::string>> JsonCommand(const std::string& attribute, std::string_view text) {
  const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_array()) {
    return InvalidArgument(attribute + ": " + Shown(text) + " is not a JSON array of strings");
  }
  std::vector<std::string> out;
  for (const json& item : j) {
    if (!item.is_string()) {
      return InvalidArgument(attribute + ": every item of the JSON array must be a string, have " +
                             Shown(item.dump()));
    }
    out.push_back(item.get<std::string>());
  }
  return out;
}

}  // namespace

Status CheckUlimits(const std::vector<Ulimit>& ulimits, int64_t memory_bytes, bool allow_realtime) {
  // -1 is no limit: above any bound.
  const auto above = [](int64_t limit, int64_t bound) { return limit == -1 || limit > bound; };
  for (const Ulimit& u : ulimits) {
    const std::string what =
        "DOCKER_ULIMITS: " + u.name + "=" + std::to_string(u.soft) + ":" + std::to_string(u.hard);
    if (!allow_realtime && u.name == "rtprio" && above(u.hard, 0)) {
      return PermissionDenied(what +
                              " refused by policy: a real-time task escapes the CPU limit "
                              "([policy] allow_realtime_ulimits = no)");
    }
    if (!allow_realtime && u.name == "nice" && above(u.hard, 20)) {
      return PermissionDenied(what +
                              " refused by policy: above 20 lets a task run below niceness 0 "
                              "([policy] allow_realtime_ulimits = no)");
    }
    if (u.name == "memlock" && memory_bytes > 0 && above(u.hard, memory_bytes)) {
      return InvalidArgument(what + ": locked memory may not exceed the VM's MEMORY (" +
                             std::to_string(memory_bytes) + " bytes)");
    }
    if (u.name == "nofile" && above(u.hard, kMaxOpenFiles)) {
      return InvalidArgument(what + ": at most " + std::to_string(kMaxOpenFiles) +
                             " open files (the kernel's nr_open)");
    }
  }
  return Status::Ok();
}

Result<std::vector<std::string>> SplitWords(std::string_view text) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (IsBlank(c)) {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
    } else if (c == '\'') {
      const size_t end = text.find('\'', i + 1);
      if (end == std::string_view::npos) return InvalidArgument("a ' is not closed");
      word.append(text.substr(i + 1, end - i - 1));
      in_word = true;
      i = end;
    } else if (c == '"') {
      in_word = true;
      for (++i;; ++i) {
        if (i >= text.size()) return InvalidArgument("a \" is not closed");
        const char d = text[i];
        if (d == '"') break;
        if (d == '\\' && i + 1 < text.size()) {
          const char e = text[i + 1];
          if (e == '\n') {
            ++i;
            continue;
          }
          if (e == '"' || e == '\\' || e == '$' || e == '`') {
            word += e;
            ++i;
            continue;
          }
        }
        word += d;
      }
    } else if (c == '\\') {
      if (i + 1 >= text.size()) return InvalidArgument("a \\ ends the text");
      if (text[i + 1] != '\n') {
        word += text[i + 1];
        in_word = true;
      }
      ++i;
    } else {
      word += c;
      in_word = true;
    }
  }
  if (in_word) words.push_back(std::move(word));
  return words;
}

Result<std::vector<std::string>> ParseCommand(const std::string& attribute,
                                              std::string_view value) {
  const std::string_view text = TrimBlanks(value);
  Result<std::vector<std::string>> words = std::vector<std::string>{};
  if (!text.empty() && text.front() == '[') {
    words = JsonCommand(attribute, text);
    if (!words.ok()) return words.status();
  } else {
    words = SplitWords(text);
    if (!words.ok()) {
      return InvalidArgument(attribute + ": " + words.status().message() + " in " + Shown(text));
    }
  }
  if (words->empty()) return InvalidArgument(attribute + ": the command is empty");
  if (words->size() > kMaxRunItems) {
    return InvalidArgument(attribute + ": " + std::to_string(words->size()) + " words, more than " +
                           std::to_string(kMaxRunItems));
  }
  for (const auto& w : *words) {
    if (w.find('\0') != std::string::npos)
      return InvalidArgument(attribute + ": a word holds a NUL character");
  }
  return words;
}

Result<std::vector<std::pair<std::string, std::string>>> ParseAssignments(
    const std::string& attribute, std::string_view value) {
  const std::string_view text = TrimBlanks(value);
  std::vector<std::pair<std::string, std::string>> out;
  if (!text.empty() && text.front() == '{') {
    const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) {
      return InvalidArgument(attribute + ": " + Shown(text) + " is not a JSON object of strings");
    }
    for (const auto& [k, v] : j.items()) {
      if (!v.is_string()) {
        return InvalidArgument(attribute + ": the value of " + Shown(k) +
                               " must be a JSON string, have " + Shown(v.dump()));
      }
      out.emplace_back(k, v.get<std::string>());
    }
  } else {
    auto words = SplitWords(text);
    if (!words.ok()) {
      return InvalidArgument(attribute + ": " + words.status().message() + " in " + Shown(text));
    }
    for (const auto& w : *words) {
      const auto eq = w.find('=');
      if (eq == std::string::npos || eq == 0) {
        return InvalidArgument(attribute + ": " + Shown(w) +
                               " is not NAME=VALUE (items are separated by blanks; quote a "
                               "value that holds blanks)");
      }
      out.emplace_back(w.substr(0, eq), w.substr(eq + 1));
    }
  }
  if (out.size() > kMaxRunItems) {
    return InvalidArgument(attribute + ": " + std::to_string(out.size()) + " items, more than " +
                           std::to_string(kMaxRunItems));
  }
  std::set<std::string> names;
  for (const auto& [k, v] : out) {
    if (!names.insert(k).second)
      return InvalidArgument(attribute + ": " + Shown(k) + " is set twice");
    if (k.find('\0') != std::string::npos || v.find('\0') != std::string::npos)
      return InvalidArgument(attribute + ": an item holds a NUL character");
  }
  return out;
}

Result<int64_t> ParseSize(const std::string& attribute, std::string_view value) {
  std::string_view text = TrimBlanks(value);
  const std::string shown = Shown(text);
  auto bad = [&] {
    return InvalidArgument(attribute + ": " + shown +
                           " is not a size (a number with an optional unit k, m or g: \"64m\")");
  };
  if (!text.empty() && (text.back() == 'b' || text.back() == 'B')) text.remove_suffix(1);
  int shift = 0;
  if (!text.empty()) {
    switch (std::tolower(static_cast<unsigned char>(text.back()))) {
      case 'k':
        shift = 10;
        break;
      case 'm':
        shift = 20;
        break;
      case 'g':
        shift = 30;
        break;
      default:
        break;
    }
    if (shift != 0) text.remove_suffix(1);
  }
  if (text.empty() || text.size() > 12 || !AllOf(text, [](char c) { return c >= '0' && c <= '9'; }))
    return bad();
  const int64_t n = std::stoll(std::string(text));
  // Bounded before the shift, which would overflow for 12 digits of gigabytes.
  if (n > (int64_t{1} << (62 - shift)))
    return InvalidArgument(attribute + ": " + shown + " is too large");
  return n << shift;
}

bool IsNamespacedSysctl(std::string_view s) {
  static const std::set<std::string_view> kIpc = {
      "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
      "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"};
  return kIpc.count(s) != 0 || s.rfind("fs.mqueue.", 0) == 0 || s.rfind("net.", 0) == 0;
}

std::string RunAttribute(const Vm& vm, const std::string& name) {
  if (auto it = vm.user_template.find(name); it != vm.user_template.end()) return it->second;
  for (const auto& d : vm.disks) {
    if (d.disk_id == 0) return Get(d.all, name);
  }
  return "";
}

Result<RunOptions> RunOptionsOf(const Vm& vm) {
  RunOptions o;
  std::map<std::string, std::string> values;
  for (const char* name : kRunAttributes) {
    std::string v = RunAttribute(vm, name);
    if (v.size() > kMaxRunValue) {
      return InvalidArgument(std::string(name) + ": " + std::to_string(v.size()) +
                             " bytes, more than " + std::to_string(kMaxRunValue));
    }
    // JSON, which the engine is sent, holds UTF-8 only.
    if (!IsUtf8(v)) return InvalidArgument(std::string(name) + ": not UTF-8 text");
    if (!TrimBlanks(v).empty()) values[name] = std::move(v);
  }
  auto value = [&](const char* name) -> const std::string* {
    auto it = values.find(name);
    return it == values.end() ? nullptr : &it->second;
  };

  if (const auto* v = value("DOCKER_TTY")) {
    std::string t(TrimBlanks(*v));
    std::transform(t.begin(), t.end(), t.begin(), ::toupper);
    if (t == "YES" || t == "TRUE") {
      o.tty = true;
    } else if (t == "NO" || t == "FALSE") {
      o.tty = false;
    } else {
      return InvalidArgument("DOCKER_TTY: " + Shown(*v) + " is neither YES nor NO");
    }
  }
  if (const auto* v = value("DOCKER_CMD")) {
    auto cmd = ParseCommand("DOCKER_CMD", *v);
    if (!cmd.ok()) return cmd.status();
    o.cmd = std::move(*cmd);
  }
  if (const auto* v = value("DOCKER_ENTRYPOINT")) {
    auto entrypoint = ParseCommand("DOCKER_ENTRYPOINT", *v);
    if (!entrypoint.ok()) return entrypoint.status();
    o.entrypoint = std::move(*entrypoint);
  }
  if (const auto* v = value("DOCKER_WORKDIR")) {
    const std::string_view dir = TrimBlanks(*v);
    if (dir.front() != '/' || dir.size() > 1024 || HasControl(dir)) {
      return InvalidArgument("DOCKER_WORKDIR: " + Shown(dir) +
                             " is not an absolute path in the container");
    }
    o.working_dir = dir;
  }
  if (const auto* v = value("DOCKER_USER")) {
    const std::string_view user = TrimBlanks(*v);
    const auto colon = user.find(':');
    const bool ok = IsUserPart(user.substr(0, colon)) &&
                    (colon == std::string_view::npos || IsUserPart(user.substr(colon + 1)));
    if (!ok) {
      return InvalidArgument("DOCKER_USER: " + Shown(user) +
                             " is not USER or USER:GROUP (names or numeric ids)");
    }
    o.user = user;
  }
  if (const auto* v = value("DOCKER_ENV")) {
    auto env = ParseAssignments("DOCKER_ENV", *v);
    if (!env.ok()) return env.status();
    for (const auto& [name, val] : *env) {
      if (!IsEnvName(name)) {
        return InvalidArgument("DOCKER_ENV: " + Shown(name) +
                               " is not a variable name (letters, digits and _)");
      }
      if (vm.context.count(name) != 0) {
        return InvalidArgument("DOCKER_ENV: " + name +
                               " is also a CONTEXT variable; set it in one place");
      }
      o.env.push_back(name + "=" + val);
    }
  }
  if (const auto* v = value("DOCKER_SHM_SIZE")) {
    auto size = ParseSize("DOCKER_SHM_SIZE", *v);
    if (!size.ok()) return size.status();
    if (*size <= 0) return InvalidArgument("DOCKER_SHM_SIZE: the size must be above 0");
    if (vm.memory_mb > 0 && *size > vm.memory_mb * 1024 * 1024) {
      return InvalidArgument("DOCKER_SHM_SIZE: " + Shown(*v) + " is more than the VM's MEMORY (" +
                             std::to_string(vm.memory_mb) + " MB)");
    }
    o.shm_size_bytes = *size;
  }
  if (const auto* v = value("DOCKER_ULIMITS")) {
    auto items = ParseAssignments("DOCKER_ULIMITS", *v);
    if (!items.ok()) return items.status();
    for (const auto& [name, val] : *items) {
      auto u = ParseUlimit(name, val);
      if (!u.ok()) return u.status();
      o.ulimits.push_back(*u);
    }
  }
  if (const auto* v = value("DOCKER_SYSCTLS")) {
    auto items = ParseAssignments("DOCKER_SYSCTLS", *v);
    if (!items.ok()) return items.status();
    for (const auto& [name, val] : *items) {
      if (!IsSysctlKey(name)) {
        return InvalidArgument("DOCKER_SYSCTLS: " + Shown(name) + " is not a sysctl name");
      }
      if (val.size() > 256 || HasControl(val)) {
        return InvalidArgument("DOCKER_SYSCTLS: the value of " + name +
                               " is not one line of at most 256 characters");
      }
      if (name == "kernel.hostname" || name == "kernel.domainname") {
        return InvalidArgument("DOCKER_SYSCTLS: " + name +
                               " is set from the VM's name or CONTEXT SET_HOSTNAME");
      }
      if (!IsNamespacedSysctl(name)) {
        return PermissionDenied("DOCKER_SYSCTLS: " + name +
                                " is not kept per container (only net.*, fs.mqueue.* and the IPC "
                                "kernel.msg*, kernel.sem and kernel.shm* ones are); setting it "
                                "would change the host, so it is refused");
      }
      o.sysctls[name] = val;
    }
  }
  if (const auto* v = value("DOCKER_LABELS")) {
    auto items = ParseAssignments("DOCKER_LABELS", *v);
    if (!items.ok()) return items.status();
    for (const auto& [name, val] : *items) {
      if (!IsLabelKey(name)) {
        return InvalidArgument("DOCKER_LABELS: " + Shown(name) +
                               " is not a label name (letters, digits, '.', '-', '_', '/')");
      }
      if (StartsWithNoCase(name, "one.")) {
        return InvalidArgument("DOCKER_LABELS: " + name +
                               ": labels named one.* are onedock's own and cannot be set");
      }
      for (const std::string_view reserved : {"com.docker.", "io.docker.", "org.dockerproject."}) {
        if (StartsWithNoCase(name, reserved)) {
          return InvalidArgument("DOCKER_LABELS: " + name + ": labels named " +
                                 std::string(reserved) + "* are reserved by Docker");
        }
      }
      if (val.size() > 1024) {
        return InvalidArgument("DOCKER_LABELS: the value of " + name +
                               " is longer than 1024 characters");
      }
      o.labels[name] = val;
    }
  }
  return o;
}

}  // namespace onedock
