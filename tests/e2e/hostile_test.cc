// Hostile values a user or an operator can put in front of real oned: each reaches onedockd
// through oned and the real driver scripts, is refused by name, and costs nothing to anything
// else (the world's other VMs keep running, no engine is dialled at an address the value made).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "tests/e2e/world.h"
#include "tests/support/stub_binary.h"

namespace onedock::e2e {
namespace {

using xmlrpc_c::value_boolean;
using xmlrpc_c::value_int;
using xmlrpc_c::value_string;

// A listener on a free loopback port that counts who connects.
class Listener {
 public:
  Listener() {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(listen(fd_, 16) == 0);
    socklen_t len = sizeof addr;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~Listener() { close(fd_); }
  int port() const { return port_; }
  // Connections accepted so far.
  int Accepted() {
    for (int c; (c = accept(fd_, nullptr, nullptr)) >= 0;) {
      ++accepted_;
      close(c);
    }
    return accepted_;
  }

 private:
  int fd_ = -1;
  int port_ = 0;
  int accepted_ = 0;
};

// The installed onedock-stub with `argv` and `input` on its stdin, against the world's onedockd.
testing::StubRun RunStub(World& w, const std::vector<std::string>& argv, const std::string& input) {
  const std::string in_file = w.root() + "/stub-input";
  std::ofstream(in_file) << input;
  return testing::RunStubBinary(ONEDOCK_STUB_BIN, w.root() + "/stub.conf", argv, in_file,
                                w.root() + "/stub-output");
}

std::string WithCpu(std::string tmpl, const std::string& cpu) {
  const auto at = tmpl.find("CPU = ");
  REQUIRE(at != std::string::npos);
  tmpl.replace(at, tmpl.find('\n', at) - at, "CPU = " + cpu);
  return tmpl;
}

TEST_CASE(
    "a host name that would change the engine URL, a CPU with no limit and a bad MTU are refused") {
  World w;
  const int bystander = w.CreateVm("bystander", 0.25, 64);
  w.Deploy(bystander, "h1");
  w.WaitFor(bystander, kVmActive, kLcmRunning);

  // oned 7.4 refuses such a host name itself ("':' is invalid character for a HOSTNAME"), so only
  // a driver call made by hand can carry one: the real stub, as a driver script runs it.
  Listener trap;
  const std::string hostile = "127.0.0.1:" + std::to_string(trap.port()) + "/x?";
  CHECK_FALSE(w.CallError("one.host.allocate", {value_string(hostile), value_string("onedock"),
                                                value_string("onedock"), value_int(w.cluster())})
                  .empty());
  const int on_hostile = w.CreateVm("hostile-host", 0.25, 64);
  const std::string document = value_string(w.Call("one.vm.info", {value_int(on_hostile)}));
  const testing::StubRun run =
      RunStub(w, {"vmm", "deploy", "/dev/null", std::to_string(on_hostile), hostile}, document);
  CHECK(run.exit_code != 0);
  CHECK_MESSAGE(run.output.find("is not a host name") != std::string::npos, run.output);
  CHECK(trap.Accepted() == 0);
  CHECK(w.ContainersOf("h1", on_hostile).empty());

  // CPU = 0.0000000001 rounds to 0 NanoCpus, which the engine reads as no CPU limit at all.
  const int tiny = w.one().Allocate(
      "one.vm.allocate", {value_string(WithCpu(w.VmTemplate("tiny-cpu", 0.25, 64), "0.0000000001")),
                          value_boolean(true)});
  w.Deploy(tiny, "h1");
  const Vm refused_cpu = w.WaitFor(tiny, kVmActive, kLcmBootFailure);
  CHECK(refused_cpu.user_template.at("ERROR").find("CPU") != std::string::npos);
  CHECK(w.ContainersOf("h1", tiny).empty());

  // An MTU that is not a number never reaches the engine's network options.
  const int mtu =
      w.CreateVm("bad-mtu", 0.25, 64,
                 "NIC = [ NETWORK_ID = " + std::to_string(w.vnet(1)) + ", MTU = \"1500 x\" ]\n");
  w.Deploy(mtu, "h1");
  const Vm refused_mtu = w.WaitFor(mtu, kVmActive, kLcmBootFailure);
  CHECK(refused_mtu.user_template.at("ERROR").find("MTU") != std::string::npos);
  CHECK(w.ContainersOf("h1", mtu).empty());

  // The bystander was never touched.
  const Vm still = w.WaitFor(bystander, kVmActive, kLcmRunning);
  auto c = w.Engine("h1").InspectContainer(still.deploy_id);
  REQUIRE(c.ok());
  CHECK(c->running);
}

}  // namespace
}  // namespace onedock::e2e
