// onedock-stub sends its token only to an endpoint of its own user: a local user who holds the
// stub port (while onedockd is down, say) sees a connection and nothing else.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "tests/support/stub_binary.h"
#include "tests/support/temp_dir.h"

namespace onedock {
namespace {

constexpr uid_t kNobody = 65534;

struct Impostor {
  pid_t pid = -1;
  int port = 0;
  int report = -1;  // the child writes the bytes it received here, then exits
};

// A child process that, as uid `uid`, listens on a free loopback port and reads what the first
// client sends within two seconds.
Impostor StartImpostor(uid_t uid) {
  int ports[2], bytes[2];
  REQUIRE(pipe(ports) == 0);
  REQUIRE(pipe(bytes) == 0);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    if (setresgid(uid, uid, uid) != 0 || setresuid(uid, uid, uid) != 0) _exit(2);
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd, 4) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
      _exit(3);
    const int port = ntohs(addr.sin_port);
    if (write(ports[1], &port, sizeof port) != sizeof port) _exit(4);
    const int c = accept(fd, nullptr, nullptr);
    std::string got;
    pollfd p{c, POLLIN, 0};
    char buf[4096];
    while (poll(&p, 1, 2000) > 0) {
      const ssize_t n = read(c, buf, sizeof buf);
      if (n <= 0) break;
      got.append(buf, static_cast<size_t>(n));
    }
    if (write(bytes[1], got.data(), got.size()) < 0) _exit(5);
    _exit(0);
  }
  close(ports[1]);
  close(bytes[1]);
  Impostor i{pid, 0, bytes[0]};
  REQUIRE(read(ports[0], &i.port, sizeof i.port) == sizeof i.port);
  close(ports[0]);
  return i;
}

std::string Finish(Impostor& i) {
  std::string got;
  char buf[4096];
  for (ssize_t n; (n = read(i.report, buf, sizeof buf)) > 0;) got.append(buf, n);
  close(i.report);
  int status = 0;
  waitpid(i.pid, &status, 0);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  return got;
}

testing::StubRun RunStub(const testing::TempDir& dir, int port) {
  const std::string token_file = dir.path() + "/token";
  std::ofstream(token_file) << "secret-token-0123456789abcdef\n";
  std::ofstream(dir.path() + "/stub.conf")
      << "endpoint = http://127.0.0.1:" << port << "/RPC2\ntoken_file = " << token_file
      << "\nretry_seconds = 0\ntimeout_seconds = 5\n";
  return testing::RunStubBinary(ONEDOCK_STUB_BIN, dir.path() + "/stub.conf",
                                {"vmm", "poll", "one-1", "1", "h1"}, "/dev/null",
                                dir.path() + "/stub.out");
}

TEST_CASE("onedock-stub sends nothing to a stub port that another user holds") {
  REQUIRE_MESSAGE(geteuid() != kNobody, "the test must run as a user other than nobody");
  testing::TempDir dir("stub-peer");
  Impostor impostor = StartImpostor(kNobody);
  const testing::StubRun run = RunStub(dir, impostor.port);
  const std::string received = Finish(impostor);
  CHECK(run.exit_code != 0);
  CHECK_MESSAGE(run.output.find("is held by uid 65534") != std::string::npos, run.output);
  CHECK_MESSAGE(received.empty(), received);  // no head, so no token
}

TEST_CASE("onedock-stub sends its request to a stub port its own user holds") {
  testing::TempDir dir("stub-peer");
  Impostor own = StartImpostor(geteuid());
  RunStub(dir, own.port);  // the listener answers nothing; the stub gives up after 5 s
  const std::string received = Finish(own);
  CHECK(received.find("X-Onedock-Token: secret-token-0123456789abcdef") != std::string::npos);
}

}  // namespace
}  // namespace onedock
