#include "tests/support/fake_fleet_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <fstream>
#include <sstream>

#include "bridge/admin/certs.h"
#include "docker/engine_json.h"

extern char** environ;

namespace onedock::testing {
namespace {

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return FailedPrecondition("cannot read " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

Status WriteFile(const std::string& path, const std::string& text, mode_t mode) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return FailedPrecondition("cannot write " + path);
  const bool ok = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  close(fd);
  return ok ? Status::Ok() : FailedPrecondition("cannot write " + path);
}

// The server certificate every host of the fake presents: the clients dial 127.0.0.1.
Status IssueServerCert(const std::string& certs_dir, const std::string& cert,
                       const std::string& key) {
  auto ca_cert = ReadFile(certs_dir + "/ca.pem");
  if (!ca_cert.ok()) return ca_cert.status();
  auto ca_key = ReadFile(certs_dir + "/ca-key.pem");
  if (!ca_key.ok()) return ca_key.status();
  auto issued = admin::Issue({*ca_key, *ca_cert}, {.common_name = "fake-fleet",
                                                   .role = admin::CertRole::kServer,
                                                   .names = {"localhost"},
                                                   .addresses = {"127.0.0.1"},
                                                   .days = 30,
                                                   .now = std::time(nullptr)});
  if (!issued.ok()) return issued.status().WithContext("fake fleet certificate");
  if (Status s = WriteFile(key, issued->key_pem, 0600); !s.ok()) return s;
  return WriteFile(cert, issued->cert_pem, 0644);
}

// Reads one line from `fd` within `timeout_ms`; empty on timeout or end of file.
std::string ReadLine(int fd, int timeout_ms) {
  std::string line;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    pollfd p{fd, POLLIN, 0};
    if (left <= 0 || poll(&p, 1, static_cast<int>(left)) <= 0) return "";
    char c;
    if (read(fd, &c, 1) != 1) return "";
    if (c == '\n') return line;
    line += c;
  }
}

}  // namespace

FakeFleetProcess::FakeFleetProcess(std::string binary, std::string certs_dir, std::string work_dir)
    : binary_(std::move(binary)),
      certs_dir_(std::move(certs_dir)),
      work_dir_(std::move(work_dir)),
      log_(work_dir_ + "/fake_fleet.log") {}

FakeFleetProcess::~FakeFleetProcess() { Stop(); }

Status FakeFleetProcess::Start(int hosts, int containers, const std::string& instance,
                               int first_port, bool verify_client) {
  Stop();
  const std::string cert = work_dir_ + "/fleet-cert.pem", key = work_dir_ + "/fleet-key.pem";
  if (Status s = IssueServerCert(certs_dir_, cert, key); !s.ok()) return s;
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) return Unavailable("pipe for fake_fleet");
  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  posix_spawn_file_actions_adddup2(&files, out[1], 1);
  posix_spawn_file_actions_addopen(&files, 2, log_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  const std::string ca = certs_dir_ + "/ca.pem";
  const std::string n = std::to_string(hosts), m = std::to_string(containers),
                    p = std::to_string(first_port);
  std::vector<const char*> argv = {binary_.c_str(), "--hosts",      n.c_str(),       "--containers",
                                   m.c_str(),       "--first-port", p.c_str(),       "--cert",
                                   cert.c_str(),    "--key",        key.c_str(),     "--ca",
                                   ca.c_str(),      "--instance",   instance.c_str()};
  if (!verify_client) argv.push_back("--no-verify-client");
  argv.push_back(nullptr);
  const int rc = posix_spawn(&pid_, binary_.c_str(), &files, nullptr,
                             const_cast<char**>(argv.data()), environ);
  posix_spawn_file_actions_destroy(&files);
  close(out[1]);
  if (rc != 0) {
    pid_ = -1;
    close(out[0]);
    return Unavailable("cannot spawn " + binary_);
  }
  // "ready N hosts: PORT PORT …"
  const std::string ready = ReadLine(out[0], 10000);
  close(out[0]);
  std::istringstream words(ready);
  std::string word, count, label;
  words >> word >> count >> label;
  ports_.clear();
  for (int port; words >> port;) ports_.push_back(port);
  if (word != "ready" || static_cast<int>(ports_.size()) != hosts) {
    Stop();
    return Unavailable("fake_fleet did not start; see " + log_);
  }
  control_ = std::make_unique<docker::CurlTransport>(EndpointOf(0));
  return Status::Ok();
}

void FakeFleetProcess::Stop() {
  control_.reset();
  ports_.clear();
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

docker::Endpoint FakeFleetProcess::EndpointOf(int host) const {
  return {.base_url = "https://127.0.0.1:" + std::to_string(port_of(host)),
          .ca_file = certs_dir_ + "/ca.pem",
          .cert_file = certs_dir_ + "/cert.pem",
          .key_file = certs_dir_ + "/key.pem"};
}

Status FakeFleetProcess::Control(const std::string& action, const std::string& container) {
  if (!control_) return FailedPrecondition("fake fleet not started");
  const std::string what = action + " " + container + " on the fake fleet";
  auto reply = control_->Perform(
      {.method = "POST", .target = "/fleet/" + action + "/" + docker::UrlEscape(container)});
  if (!reply.ok()) return reply.status().WithContext(what);
  if (reply->status == 204 || reply->status == 304) return Status::Ok();
  return docker::StatusFromHttp(reply->status, reply->body).WithContext(what);
}

Status FakeFleetProcess::Kill(const std::string& container) { return Control("kill", container); }

Status FakeFleetProcess::StartContainer(const std::string& container) {
  return Control("start", container);
}

double FakeFleetProcess::CpuSeconds() const {
  std::ifstream in("/proc/" + std::to_string(pid_) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t paren = text.rfind(')');
  if (pid_ <= 0 || paren == std::string::npos) return -1;
  // After "pid (comm)": field 3 is the state; utime and stime are fields 14 and 15.
  std::istringstream fields(text.substr(paren + 1));
  std::string skip;
  for (int i = 3; i < 14; ++i) fields >> skip;
  long utime = 0, stime = 0;
  fields >> utime >> stime;
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

}  // namespace onedock::testing
