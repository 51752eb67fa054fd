#include "bridge/admin/doctor_probes.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

extern char** environ;

namespace onedock::admin {

std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return text.str();
}

ProgramRun RunProgram(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
  ProgramRun run;
  char out_path[] = "/tmp/onedock-doctor-out-XXXXXX";
  char err_path[] = "/tmp/onedock-doctor-err-XXXXXX";
  const int out_fd = mkstemp(out_path);
  const int err_fd = mkstemp(err_path);
  if (out_fd < 0 || err_fd < 0) {
    run.err = "cannot make a temporary file";
    return run;
  }
  std::vector<std::string> environment = env;
  for (char** e = environ; *e != nullptr; ++e) environment.emplace_back(*e);
  std::vector<char*> args, envp;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  for (const auto& e : environment) envp.push_back(const_cast<char*>(e.c_str()));
  args.push_back(nullptr);
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_fd, 1);
  posix_spawn_file_actions_adddup2(&actions, err_fd, 2);
  pid_t pid = -1;
  const int spawned = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  close(out_fd);
  close(err_fd);
  if (spawned == 0) {
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    run.out = ReadFile(out_path).value_or("");
    run.err = ReadFile(err_path).value_or("");
  } else {
    run.err = argv[0] + ": " + std::strerror(spawned);
  }
  unlink(out_path);
  unlink(err_path);
  return run;
}

std::optional<int64_t> FreeBytes(const std::string& path) {
  std::filesystem::path p(path);
  std::error_code ec;
  while (!p.empty() && !std::filesystem::exists(p, ec)) p = p.parent_path();
  struct statvfs fs {};
  if (p.empty() || statvfs(p.c_str(), &fs) != 0) return std::nullopt;
  return static_cast<int64_t>(fs.f_bavail) * static_cast<int64_t>(fs.f_frsize);
}

void ListRemotes(const std::string& remotes, std::vector<std::string>* missing,
                 std::vector<std::string>* not_executable) {
  for (const RemoteFile& f : ExpectedRemotes()) {
    const std::string path = remotes + "/" + f.path;
    if (access(path.c_str(), F_OK) != 0) {
      missing->push_back(f.path);
    } else if (f.executable && access(path.c_str(), X_OK) != 0) {
      not_executable->push_back(f.path);
    }
  }
}

}  // namespace onedock::admin
