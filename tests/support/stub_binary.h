// The real onedock-stub binary, run as a driver script execs it: argv as given, stdin from a
// file, ONEDOCK_STUB_CONFIG naming the stub.conf, stdout and stderr together. Header only.
#ifndef ONEDOCK_TESTS_SUPPORT_STUB_BINARY_H_
#define ONEDOCK_TESTS_SUPPORT_STUB_BINARY_H_

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace onedock::testing {

struct StubRun {
  int exit_code = -1;  // -1 when it could not be spawned or did not exit
  std::string output;  // stdout and stderr, in order
};

// Runs `bin` with `argv` and `stdin_file` on its stdin; its output goes through `out_file`.
inline StubRun RunStubBinary(const std::string& bin, const std::string& config,
                             const std::vector<std::string>& argv, const std::string& stdin_file,
                             const std::string& out_file) {
  std::vector<const char*> args = {bin.c_str()};
  for (const auto& a : argv) args.push_back(a.c_str());
  args.push_back(nullptr);
  const std::string env_config = "ONEDOCK_STUB_CONFIG=" + config;
  const char* env[] = {env_config.c_str(), nullptr};
  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  posix_spawn_file_actions_addopen(&files, 0, stdin_file.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&files, 1, out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&files, 1, 2);
  pid_t pid;
  const int rc = posix_spawn(&pid, bin.c_str(), &files, nullptr, const_cast<char**>(args.data()),
                             const_cast<char**>(env));
  posix_spawn_file_actions_destroy(&files);
  StubRun run;
  if (rc != 0) return run;
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFEXITED(status)) run.exit_code = WEXITSTATUS(status);
  std::ifstream in(out_file);
  std::stringstream text;
  text << in.rdbuf();
  run.output = text.str();
  return run;
}

}  // namespace onedock::testing

#endif  // ONEDOCK_TESTS_SUPPORT_STUB_BINARY_H_
