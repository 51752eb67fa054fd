#include "tests/support/onedockd_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>
#include <vector>

extern char** environ;

namespace onedock::testing {

bool Answers(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = fd >= 0 && connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  if (fd >= 0) close(fd);
  return ok;
}

OnedockdProcess::OnedockdProcess(std::string binary, std::string config, std::string log,
                                 int stub_port)
    : binary_(std::move(binary)),
      config_(std::move(config)),
      log_(std::move(log)),
      stub_port_(stub_port) {}

OnedockdProcess::~OnedockdProcess() { Stop(); }

Status OnedockdProcess::Start() {
  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  posix_spawn_file_actions_addopen(&files, 2, log_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  std::vector<const char*> argv = {binary_.c_str(), "-c", config_.c_str(), nullptr};
  const int rc = posix_spawn(&pid_, binary_.c_str(), &files, nullptr,
                             const_cast<char**>(argv.data()), environ);
  posix_spawn_file_actions_destroy(&files);
  if (rc != 0) {
    pid_ = -1;
    return Unavailable("cannot spawn " + binary_);
  }
  for (int n = 0; n < 200 && !Answers(stub_port_); ++n)
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  if (!Answers(stub_port_)) return Unavailable("onedockd did not start; see " + log_);
  return Status::Ok();
}

void OnedockdProcess::Signal(int sig) {
  if (pid_ <= 0) return;
  kill(pid_, sig);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

namespace {
std::string ProcStatusField(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) return line.substr(field.size() + 1);
  }
  return "";
}
}  // namespace

// Not reaped here, so that Stop and Kill still find it: a crashed onedockd is a zombie.
bool OnedockdProcess::Alive() const {
  const std::string state = ProcStatusField(pid_, "State");
  return pid_ > 0 && !state.empty() && state.find('Z') == std::string::npos;
}

long ProcStatusKb(pid_t pid, const std::string& field) {
  const std::string value = ProcStatusField(pid, field);
  return value.empty() ? -1 : std::stol(value);
}

void OnedockdProcess::Stop() { Signal(SIGTERM); }
void OnedockdProcess::Kill() { Signal(SIGKILL); }

}  // namespace onedock::testing
