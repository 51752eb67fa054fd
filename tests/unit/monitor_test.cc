// The monitor's pure parts: payload texts, CPU from two samples, the STATE_VM decisions, oned's
// monitor configuration as captured, and delivery to a monitord socket.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <filesystem>
#include <set>
#include <thread>

#include "bridge/base64.h"
#include "monitor/monitor_service.h"
#include "monitor/monitord_sender.h"
#include "monitor/probes.h"
#include "bridge/vm_activity.h"
#include "monitor/state_tracker.h"
#include "tests/emulator/one_template.h"
#include "tests/free_port.h"
#include "tests/unit/fixtures.h"

namespace onedock::monitor {
namespace {

// Parsed with the emulator's template parser, which follows oned's template syntax.
emulator::Template Parse(const std::string& text) {
  auto t = emulator::ParseTemplate(text);
  REQUIRE_MESSAGE(t.ok(), t.status().ToString() << "\n" << text);
  return *t;
}

EngineInfo FourCpus() {
  EngineInfo i;
  i.name = "node1";
  i.ncpu = 4;
  i.mem_total = 8LL * 1024 * 1024 * 1024;
  i.server_version = "20.10.24+dfsg1";
  i.architecture = "x86_64";
  i.cgroup_version.assign(1, '2');  // not = "2": GCC 12 -O3 reports a false -Wrestrict for it
  return i;
}

TEST_CASE("SYSTEM_HOST carries the engine's totals in oned's units and the datastore figures") {
  const auto t = Parse(SystemHostText(FourCpus(), {1000, 250}));
  CHECK(t.Get("HYPERVISOR") == "docker");
  CHECK(t.Get("TOTALCPU") == "400");
  CHECK(t.Get("TOTALMEMORY") == std::to_string(8 * 1024 * 1024));
  CHECK(t.Get("VERSION") == "docker 20.10.24+dfsg1");
  CHECK(t.Get("DS_LOCATION_TOTAL_MB") == "1000");
  CHECK(t.Get("DS_LOCATION_USED_MB") == "250");
  CHECK(t.Get("DS_LOCATION_FREE_MB") == "750");
  CHECK(SystemHostText(FourCpus(), {100, 400}).find("DS_LOCATION_FREE_MB=0\n") != std::string::npos);
  EngineInfo hostile = FourCpus();
  hostile.name = "evil\"\nTOTALCPU=999999";
  const auto h = Parse(SystemHostText(hostile, {1, 0}));
  CHECK(h.Get("TOTALCPU") == "400");  // an engine's strings stay inside their quotes
}

TEST_CASE("CPU percent comes from two samples and refuses what cannot be compared") {
  StatsSample a, b;
  a.cpu_total_ns = 1'000'000'000;
  a.system_cpu_ns = 100'000'000'000;
  b.cpu_total_ns = 1'500'000'000;  // 0.5 s of CPU …
  b.system_cpu_ns = 104'000'000'000;  // … over 1 s of 4 CPUs (system time counts every CPU)
  b.online_cpus = 4;
  REQUIRE(CpuPercent(a, b).has_value());
  CHECK(*CpuPercent(a, b) == doctest::Approx(50.0));
  CHECK_FALSE(CpuPercent(StatsSample{}, b).has_value());  // first sample
  CHECK_FALSE(CpuPercent(b, a).has_value());              // counters went back (restart)
}

TEST_CASE("MONITOR_VM holds a base64 record per VM, with memory net of the page cache") {
  StatsSample s;
  s.memory_usage = 100 * 1024 * 1024;
  s.memory_inactive_file = 40 * 1024 * 1024;
  s.net_rx_bytes = 10;
  s.net_tx_bytes = 20;
  const VmFigures f = FiguresOf(42, "one-42", s, 12.5);
  CHECK(f.memory_kb == 60 * 1024);
  const auto t = Parse(MonitorVmText({f, FiguresOf(43, "one-43", s, std::nullopt)}));
  const auto vms = t.All("VM");
  REQUIRE(vms.size() == 2);
  CHECK(vms[0]->Get("ID") == "42");
  CHECK(vms[0]->Get("DEPLOY_ID") == "one-42");
  auto record = Base64Decode(vms[0]->Get("MONITOR"));
  REQUIRE(record.ok());
  const auto r = Parse(*record);
  CHECK(r.Get("CPU") == "12.50");
  CHECK(r.Get("MEMORY") == std::to_string(60 * 1024));
  CHECK(r.Get("NETRX") == "10");
  CHECK(r.Get("NETTX") == "20");
  auto second = Base64Decode(vms[1]->Get("MONITOR"));
  REQUIRE(second.ok());
  CHECK(Parse(*second).Get("CPU").empty());  // no CPU before a second sample
}

TEST_CASE("MONITOR_HOST sums the VMs within the engine's totals") {
  StatsSample s;
  s.memory_usage = 1024 * 1024;
  const auto t = Parse(MonitorHostText(FourCpus(), {FiguresOf(1, "one-1", s, 30.4), FiguresOf(2, "one-2", s, 20.0)}));
  CHECK(t.Get("USEDCPU") == "50");
  CHECK(t.Get("FREECPU") == "350");
  CHECK(t.Get("USEDMEMORY") == "2048");
  CHECK(t.Get("FREEMEMORY") == std::to_string(8 * 1024 * 1024 - 2048));
}

TEST_CASE("container states map to the VM states oned understands") {
  CHECK(VmStateOf("running") == "RUNNING");
  CHECK(VmStateOf("paused") == "SUSPENDED");
  CHECK(VmStateOf("exited") == "POWEROFF");
  CHECK(VmStateOf("created") == "POWEROFF");
  CHECK(VmStateOf("removing").empty());
  const auto t = Parse(StateVmText({{7, "one-7", "POWEROFF"}}, true));
  CHECK(t.Get("SYNC_STATE") == "yes");
  CHECK(t.Get("MISSING_STATE") == "POWEROFF");
  REQUIRE(t.All("VM").size() == 1);
  CHECK(t.All("VM")[0]->Get("STATE") == "POWEROFF");
}

auto Never = [](int) { return false; };

TEST_CASE("state tracker: the first round is a complete report, then only changes, repeated past oned's guard") {
  StateTracker tracker(2, 3);
  auto first = tracker.Round({{1, "one-1", "RUNNING"}, {2, "one-2", "RUNNING"}}, Never, false);
  CHECK(first.sync);
  CHECK(first.vms.size() == 2);
  CHECK(tracker.Round({{1, "one-1", "RUNNING"}, {2, "one-2", "RUNNING"}}, Never, false).vms.size() == 2);  // repeat 1
  CHECK(tracker.Round({{1, "one-1", "RUNNING"}, {2, "one-2", "RUNNING"}}, Never, false).vms.size() == 2);  // repeat 2
  CHECK(tracker.Round({{1, "one-1", "RUNNING"}, {2, "one-2", "RUNNING"}}, Never, false).empty());

  auto killed = tracker.Event({2, "one-2", "POWEROFF"}, false);
  REQUIRE(killed.vms.size() == 1);
  CHECK_FALSE(killed.sync);
  CHECK(killed.vms[0].state == "POWEROFF");
  CHECK(tracker.Event({2, "one-2", "POWEROFF"}, false).empty());  // the same news once
  auto again = tracker.Round({{1, "one-1", "RUNNING"}, {2, "one-2", "POWEROFF"}}, Never, false);
  REQUIRE(again.vms.size() == 1);  // repeated for oned's guard window
  CHECK(again.vms[0] == VmState{2, "one-2", "POWEROFF"});
}

TEST_CASE("state tracker: onedock's own actions are never reported, before or after they end") {
  StateTracker tracker(2, 3);
  tracker.Round({{1, "one-1", "RUNNING"}}, Never, false);
  tracker.Round({{1, "one-1", "RUNNING"}}, Never, false);
  tracker.Round({{1, "one-1", "RUNNING"}}, Never, false);
  std::set<int> busy = {1};
  auto quiet = [&](int vm) { return busy.count(vm) != 0; };
  CHECK(tracker.Event({1, "one-1", "POWEROFF"}, true).empty());  // onedock's shutdown
  CHECK(tracker.Round({{1, "one-1", "POWEROFF"}}, quiet, true).empty());
  busy.clear();
  CHECK(tracker.Round({{1, "one-1", "POWEROFF"}}, Never, false).empty());  // after the grace: known
  // A VM removed by onedock (terminate, migration) is not missing.
  busy = {1};
  CHECK(tracker.Round({}, quiet, true).empty());
  busy.clear();
  for (int n = 0; n < 5; ++n) CHECK(tracker.Round({}, Never, false).empty());
}

TEST_CASE("state tracker: a container gone for three rounds makes a complete report, postponed while onedock acts") {
  StateTracker tracker(0, 3);
  tracker.Round({{1, "one-1", "RUNNING"}, {2, "one-2", "RUNNING"}}, Never, false);
  CHECK(tracker.Round({{1, "one-1", "RUNNING"}}, Never, false).empty());
  CHECK(tracker.Round({{1, "one-1", "RUNNING"}}, Never, false).empty());
  auto blocked = tracker.Round({{1, "one-1", "RUNNING"}}, Never, true);  // a deploy is under way
  CHECK(blocked.empty());
  auto missing = tracker.Round({{1, "one-1", "RUNNING"}}, Never, false);
  CHECK(missing.sync);
  REQUIRE(missing.vms.size() == 1);
  CHECK(missing.vms[0].vm_id == 1);  // VM 2 is left out: oned applies MISSING_STATE to it
}

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
      "<MONITOR_CONFIGURATION><NETWORK><MONITOR_ADDRESS>auto</MONITOR_ADDRESS><PORT>x</PORT></NETWORK>"
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
    for (ssize_t n; (n = read(c, buf, sizeof buf)) > 0;) received.append(buf, static_cast<size_t>(n));
    close(c);
  });
  REQUIRE(SendToMonitord({"127.0.0.1", port}, {"STATE_VM", true, 3, 5, "VM = [ ID=\"1\", STATE=\"POWEROFF\" ]\n"}).ok());
  server.join();
  close(tcp);
  auto m = rpc::DecodeMonitordMessage(received);
  REQUIRE_MESSAGE(m.ok(), m.status().ToString());
  CHECK(m->type == "STATE_VM");
  CHECK(m->host_id == 3);
  CHECK(m->payload.find("POWEROFF") != std::string::npos);

  const int udp = Bound(SOCK_DGRAM, &port);
  REQUIRE(SendToMonitord({"127.0.0.1", port}, {"MONITOR_HOST", false, 4, 6, "engine down"}).ok());
  char buf[65536];
  const ssize_t n = recv(udp, buf, sizeof buf, 0);
  close(udp);
  REQUIRE(n > 0);
  auto u = rpc::DecodeMonitordMessage(std::string_view(buf, static_cast<size_t>(n)));
  REQUIRE(u.ok());
  CHECK_FALSE(u->success);
  CHECK(u->payload == "engine down");

  CHECK(SendToMonitord({"monitord.example", 4124}, {"BEACON_HOST", true, 1, 0, "1"}).code() ==
        Status::Code::kInvalidArgument);
  int closed_port = 0;
  close(Bound(SOCK_STREAM, &closed_port));
  CHECK(SendToMonitord({"127.0.0.1", closed_port}, {"STATE_VM", true, 1, 0, ""}).code() == Status::Code::kUnavailable);
}

}  // namespace
}  // namespace onedock::monitor

namespace onedock::monitor {
namespace {

TEST_CASE("IM calls: bad host ids, names and documents are refused, and stop forgets the host") {
  char dir[] = "/tmp/onedock-monitor-test-XXXXXX";
  REQUIRE(mkdtemp(dir) != nullptr);
  auto journal = bridge::SqliteJournal::Open(std::string(dir) + "/journal.db");
  REQUIRE(journal.ok());
  bridge::VmActivity activity;
  MonitorService service([](const std::string& host) -> Result<docker::Endpoint> {
                           return InvalidArgument("no engine for " + host);
                         },
                         [](const std::string& host) { return "https://" + host + ":2376"; }, activity, **journal,
                         MonitorSettings{}, MonitordAddress{});
  auto call = [&](const std::string& action, std::vector<std::string> argv, std::string document = "") {
    return service.Handle({"im", action, std::move(argv), std::move(document), std::nullopt});
  };
  CHECK(call("start", {"onedock", "1x", "h1"}).error.find("host id \"1x\" is not a number") != std::string::npos);
  CHECK(call("start", {"onedock", "1", "h1;reboot"}).error.find("host name \"h1;reboot\" is not valid") != std::string::npos);
  CHECK(call("start", {"onedock"}).exit_code == 1);
  CHECK(call("restart", {"onedock", "1", "h1"}).error.find("unknown action") != std::string::npos);
  CHECK(call("start", {"onedock", "1", "h1"}, "<VM/>").error.find("not <MONITOR_CONFIGURATION>") != std::string::npos);
  const auto no_engine = call("start", {"onedock", "1", "h1"}, "<MONITOR_CONFIGURATION/>");
  CHECK(no_engine.exit_code == 1);
  CHECK(no_engine.error.find("start monitoring host h1: no engine for h1") != std::string::npos);

  // The journal keeps what start recorded until stop.
  REQUIRE((*journal)->Monitor({7, "h7", "<MONITOR_CONFIGURATION/>"}).ok());
  auto kept = (*journal)->MonitoredHosts();
  REQUIRE(kept.ok());
  REQUIRE(kept->size() == 1);  // h1, whose start failed, is not remembered
  CHECK(kept->front().name == "h7");
  CHECK(kept->front().configuration == "<MONITOR_CONFIGURATION/>");
  const auto stopped = call("stop", {"onedock", "7", "h7"});
  CHECK(stopped.exit_code == 0);
  CHECK(stopped.out.empty());
  kept = (*journal)->MonitoredHosts();
  REQUIRE(kept.ok());
  CHECK(kept->empty());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace onedock::monitor

namespace onedock::bridge {
namespace {

TEST_CASE("a VM is quiet while onedock acts on it and for the grace after, on its host only") {
  VmActivity activity;
  using std::chrono::milliseconds;
  CHECK_FALSE(activity.Quiet(1, milliseconds(50)));
  activity.Begin(1, "h1");
  CHECK(activity.Quiet(1, milliseconds(0)));
  CHECK(activity.AnyQuietOn("h1", milliseconds(0)));
  CHECK_FALSE(activity.AnyQuietOn("h2", milliseconds(0)));
  activity.End(1);
  CHECK(activity.Quiet(1, milliseconds(5000)));
  std::this_thread::sleep_for(milliseconds(60));
  CHECK_FALSE(activity.Quiet(1, milliseconds(50)));
  CHECK_FALSE(activity.AnyQuietOn("h1", milliseconds(50)));
}

}  // namespace
}  // namespace onedock::bridge
