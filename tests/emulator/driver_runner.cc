#include "tests/emulator/driver_runner.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <regex>
#include <sstream>

extern char** environ;

namespace onedock::emulator {

DriverRun RunDriver(const std::string& executable, const std::vector<std::string>& args,
                    const std::string& stdin_text, int timeout_s) {
  DriverRun run;
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) {
    run.err = "pipe failed";
    return run;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(executable.c_str()));
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, executable.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(in[0]);
  close(out[1]);
  close(err[1]);
  if (rc != 0) {
    close(in[1]);
    close(out[0]);
    close(err[0]);
    run.err = "cannot execute " + executable;
    return run;
  }
  // Feed stdin and drain both outputs together, so no pipe fills up and blocks the script.
  fcntl(in[1], F_SETFL, O_NONBLOCK);
  size_t written = 0;
  int stdin_fd = in[1];
  if (stdin_text.empty()) {
    close(stdin_fd);
    stdin_fd = -1;
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  bool out_open = true, err_open = true, killed = false;
  while (out_open || err_open) {
    pollfd fds[3] = {{out_open ? out[0] : -1, POLLIN, 0},
                     {err_open ? err[0] : -1, POLLIN, 0},
                     {stdin_fd, POLLOUT, 0}};
    if (poll(fds, 3, 200) < 0 && errno != EINTR) break;
    char buf[8192];
    for (int i = 0; i < 2; ++i) {
      if (fds[i].revents & (POLLIN | POLLHUP)) {
        const ssize_t n = read(fds[i].fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n > 0) {
          (i == 0 ? run.out : run.err).append(buf, static_cast<size_t>(n));
        } else {
          (i == 0 ? out_open : err_open) = false;
        }
      }
    }
    if (stdin_fd >= 0 && (fds[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
      const ssize_t n = write(stdin_fd, stdin_text.data() + written, stdin_text.size() - written);
      if (n > 0) written += static_cast<size_t>(n);
      if (n < 0 || written == stdin_text.size()) {
        close(stdin_fd);
        stdin_fd = -1;
      }
    }
    if (!killed && std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      killed = true;
    }
  }
  if (stdin_fd >= 0) close(stdin_fd);
  close(out[0]);
  close(err[0]);
  int status = 0;
  pid_t reaped;
  do {
    reaped = waitpid(pid, &status, 0);
  } while (reaped < 0 && errno == EINTR);
  if (reaped != pid) {
    run.err += "\ncannot collect the exit status of " + executable;
    return run;  // exit_code stays -1: a status nobody saw is not a success
  }
  run.exit_code = !killed && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (killed) run.err += "\nTimeout executing " + executable;
  return run;
}

std::string FailureMessage(const std::string& stderr_text) {
  static const std::regex kLogLine(R"(^(ERROR|INFO|WARN|DEBUG):\s+(\d+)?\s*(.*)$)");
  std::istringstream in(stderr_text);
  std::string line, message;
  while (std::getline(in, line)) {
    if (line.empty() || std::regex_match(line, kLogLine)) continue;
    if (!message.empty()) message += ' ';
    message += line;
  }
  return message;
}

std::vector<std::string> SplitWords(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

bool DriverOptionLists(const std::string& arguments, const std::string& flag,
                       const std::string& name) {
  auto lower = [](std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  };
  const std::vector<std::string> words = SplitWords(arguments);
  for (size_t i = 0; i + 1 < words.size(); ++i) {
    if (words[i] != flag) continue;
    std::istringstream list(words[i + 1]);
    for (std::string item; std::getline(list, item, ',');) {
      if (lower(item.substr(0, item.find('='))) == lower(name)) return true;
    }
  }
  return false;
}

}  // namespace onedock::emulator
