// What goes between onedockd and monitord on the wire: oned's monitor configuration as captured,
// and messages delivered to a monitord socket.
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "rpc/monitord_message.h"
#include "rpc/monitord_sender.h"
#include "rpc/one_parse.h"
#include "tests/free_port.h"
#include "tests/unit/fixtures.h"

namespace onedock::rpc {
namespace {

TEST_CASE("oned's captured monitor configuration gives monitord's address and the probe periods") {
  const std::string xml = fixtures::CapturedDocument("im-start-monitor.txt");
  auto c = ParseMonitorConfiguration(xml, {"10.0.0.1", 1});
  REQUIRE_MESSAGE(c.ok(), c.status().ToString());
  CHECK(c->monitord.ip == "127.0.0.1");
  CHECK(c->monitord.port == 4124);
  CHECK(c->periods.beacon_host == 30);
  CHECK(c->periods.system_host == 600);
  CHECK(c->periods.monitor_host == 120);
  CHECK(c->periods.monitor_vm == 30);
  CHECK(c->periods.state_vm == 5);
  CHECK(c->periods.sync_state_vm == 180);

  auto automatic = ParseMonitorConfiguration(
      "<MONITOR_CONFIGURATION><NETWORK><MONITOR_ADDRESS>auto</MONITOR_ADDRESS><PORT>x</PORT></"
      "NETWORK>"
      "<PROBES_PERIOD><STATE_VM>-3</STATE_VM></PROBES_PERIOD></MONITOR_CONFIGURATION>",
      {"192.0.2.7", 4200});
  REQUIRE(automatic.ok());
  CHECK(automatic->monitord.ip == "192.0.2.7");
  CHECK(automatic->monitord.port == 4200);
  CHECK(automatic->periods.state_vm == 5);
  CHECK_FALSE(ParseMonitorConfiguration("<VM/>", {}).ok());
  CHECK_FALSE(ParseMonitorConfiguration("<MONITOR_CONFIGURATION>", {}).ok());
}

int Bound(int type, int* port) {
  const int fd = testing::BindLoopback(type, 0, port);
  REQUIRE(fd >= 0);
  return fd;
}

TEST_CASE("messages reach monitord: STATE_VM over TCP, the others over UDP") {
  int port = 0;
  const int tcp = Bound(SOCK_STREAM, &port);
  REQUIRE(listen(tcp, 4) == 0);
  std::string received;
  std::thread server([&] {
    const int c = accept(tcp, nullptr, nullptr);
    char buf[4096];
    for (ssize_t n; (n = read(c, buf, sizeof buf)) > 0;)
      received.append(buf, static_cast<size_t>(n));
    close(c);
  });
  REQUIRE(MonitordSender()
              .Send({"127.0.0.1", port},
                    {"STATE_VM", true, 3, 5, "VM = [ ID=\"1\", STATE=\"POWEROFF\" ]\n"})
              .ok());
  server.join();
  close(tcp);
  auto m = DecodeMonitordMessage(received);
  REQUIRE_MESSAGE(m.ok(), m.status().ToString());
  CHECK(m->type == "STATE_VM");
  CHECK(m->host_id == 3);
  CHECK(m->payload.find("POWEROFF") != std::string::npos);

  const int udp = Bound(SOCK_DGRAM, &port);
  REQUIRE(MonitordSender()
              .Send({"127.0.0.1", port}, {"MONITOR_HOST", false, 4, 6, "engine down"})
              .ok());
  char buf[65536];
  const ssize_t n = recv(udp, buf, sizeof buf, 0);
  close(udp);
  REQUIRE(n > 0);
  auto u = DecodeMonitordMessage(std::string_view(buf, static_cast<size_t>(n)));
  REQUIRE(u.ok());
  CHECK_FALSE(u->success);
  CHECK(u->payload == "engine down");

  CHECK(
      MonitordSender().Send({"monitord.example", 4124}, {"BEACON_HOST", true, 1, 0, "1"}).code() ==
      Status::Code::kInvalidArgument);
  int closed_port = 0;
  close(Bound(SOCK_STREAM, &closed_port));
  CHECK(MonitordSender().Send({"127.0.0.1", closed_port}, {"STATE_VM", true, 1, 0, ""}).code() ==
        Status::Code::kUnavailable);
}

}  // namespace
}  // namespace onedock::rpc
