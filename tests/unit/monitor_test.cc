// The monitor: payload texts, CPU from two samples, the STATE_VM decisions, and HostMonitor's
// rounds, events and engine failures against a fake engine, a fake clock and a fake monitord.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "bridge/base64.h"
#include "bridge/log.h"
#include "bridge/vm_activity.h"
#include "monitor/exit_watch.h"
#include "monitor/host_monitor.h"
#include "monitor/monitor_service.h"
#include "monitor/probes.h"
#include "monitor/state_tracker.h"
#include "rpc/one_parse.h"
#include "tests/emulator/one_template.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_engines.h"
#include "tests/fakes/fake_event_feed.h"
#include "tests/fakes/fake_monitord.h"
#include "tests/support/temp_dir.h"
#include "tests/support/threads.h"

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
  CHECK(SystemHostText(FourCpus(), {100, 400}).find("DS_LOCATION_FREE_MB=0\n") !=
        std::string::npos);
  EngineInfo hostile = FourCpus();
  hostile.name = "evil\"\nTOTALCPU=999999";
  const auto h = Parse(SystemHostText(hostile, {1, 0}));
  CHECK(h.Get("TOTALCPU") == "400");  // an engine's strings stay inside their quotes
}

TEST_CASE("CPU percent comes from two samples and refuses what cannot be compared") {
  StatsSample a, b;
  a.cpu_total_ns = 1'000'000'000;
  a.system_cpu_ns = 100'000'000'000;
  b.cpu_total_ns = 1'500'000'000;     // 0.5 s of CPU …
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

TEST_CASE("MONITOR_VM says a running container's state and health and clears the last exit") {
  VmFigures f = FiguresOf(42, "one-42", StatsSample{}, 1.0);
  f.docker_state = "running";
  f.health = HealthOfStatus("Up 3 minutes (unhealthy)");
  const auto message = Parse(MonitorVmText({f}));
  const auto r = Parse(*Base64Decode(message.All("VM")[0]->Get("MONITOR")));
  CHECK(r.Get("DOCKER_STATE") == "running");
  CHECK(r.Get("DOCKER_HEALTH") == "unhealthy");
  // oned merges a record into the last one: an exit of an earlier run must be overwritten.
  for (const char* cleared : {"DOCKER_EXIT_CODE", "DOCKER_OOM_KILLED", "DOCKER_FINISHED_AT",
                              "DOCKER_LOG_TAIL", "DOCKER_ERROR"}) {
    CAPTURE(cleared);
    CHECK(r.Get(cleared, "absent") != "absent");
    CHECK(r.Get(cleared).empty());
  }
  // A health that is gone (an image without HEALTHCHECK after one with) is cleared too.
  f.health.clear();
  const auto later = Parse(MonitorVmText({f}));
  const auto healthless = Parse(*Base64Decode(later.All("VM")[0]->Get("MONITOR")));
  CHECK(healthless.Get("DOCKER_HEALTH", "absent").empty());
  CHECK(HealthOfStatus("Up 1 second (health: starting)") == "starting");
  CHECK(HealthOfStatus("Up 2 hours").empty());
}

TEST_CASE("MONITOR_VM of a stopped container says why, in oned's template syntax") {
  ContainerInfo info;
  info.status = "exited";
  info.exit_code = 137;
  info.oom_killed = true;
  info.finished_at = "2026-12-02T10:00:00Z";
  const ContainerExit exit = ExitOf(info, "alloc \"big\" = [x]\nKilled\n");
  const auto message = Parse(MonitorVmText({StoppedFigures(42, "one-42", exit)}));
  const auto r = Parse(*Base64Decode(message.All("VM")[0]->Get("MONITOR")));
  CHECK(r.Get("DOCKER_STATE") == "exited");
  CHECK(r.Get("DOCKER_EXIT_CODE") == "137");
  CHECK(r.Get("DOCKER_OOM_KILLED") == "YES");
  CHECK(r.Get("DOCKER_FINISHED_AT") == "2026-12-02T10:00:00Z");
  CHECK(r.Get("DOCKER_LOG_TAIL") == "alloc \"big\" = [x] | Killed");
  CHECK(r.Get("MEMORY") == "0");
  CHECK(r.Get("NETRX", "absent") == "absent");  // the counters stay as last reported
}

TEST_CASE("a log tail with quotes, backslashes and a CDATA end reaches oned as written") {
  ContainerInfo info;
  info.status = "exited";
  info.exit_code = 3;
  const ContainerExit exit = ExitOf(info, "say \"hi\" [x] a\\b ]]> c:\\ \\\"q\\\" end\\\n");
  const std::string text = MonitorVmText({StoppedFigures(42, "one-42", exit)});
  const std::string record = *Base64Decode(Parse(text).All("VM")[0]->Get("MONITOR"));
  // Only \" is an escape in oned's template syntax, a backslash before the closing quote would
  // escape it, and "]]>" anywhere in a value makes oned refuse the record.
  CHECK(record.find("]]>") == std::string::npos);
  CHECK(
      record.find("DOCKER_LOG_TAIL=\"say \\\"hi\\\" [x] a\\b ]] > c:\\ \\\\\"q\\\\\" end\\ \"\n") !=
      std::string::npos);
  const auto r = Parse(record);
  CHECK(r.Get("DOCKER_LOG_TAIL") == "say \"hi\" [x] a\\b ]] > c:\\ \\\"q\\\" end\\ ");
  CHECK(r.Get("DOCKER_EXIT_CODE") == "3");
  CHECK(r.Get("DOCKER_ERROR", "absent") == "");  // the next attribute is its own
}

TEST_CASE(
    "exit watch: each stop is due once, again after a run, a start or a die event, and is "
    "bounded") {
  ExitWatch w;
  const std::vector<ContainerSummary> stopped = {{.id = "a", .state = "exited"},
                                                 {.id = "b", .state = "dead"},
                                                 {.id = "c", .state = "created"},
                                                 {.id = "d", .state = "running"}};
  auto round = w.Due(stopped, 1);
  CHECK(round.ids == std::vector<std::string>{"a"});  // b waits for the next round
  CHECK(round.more);
  w.Reported(round, "a");
  round = w.Due(stopped, 10);
  CHECK(round.ids == std::vector<std::string>{"b"});
  CHECK_FALSE(round.more);
  w.Reported(round, "b");
  CHECK(w.Due(stopped, 10).ids.empty());
  w.Died("a");  // restarted and died between two rounds
  round = w.Due(stopped, 10);
  CHECK(round.ids == std::vector<std::string>{"a"});
  w.Reported(round, "a");
  CHECK(w.Due({{.id = "a", .state = "running"}, {.id = "b", .state = "exited"}}, 10).ids.empty());
  round = w.Due(stopped, 10);
  CHECK(round.ids == std::vector<std::string>{"a"});  // it ran since
  w.Reported(round, "a");
  CHECK(w.Due(stopped, 10).ids.empty());
  w.Started("a");  // a start event, then a stop no event told of, between two listings
  CHECK(w.Due(stopped, 10).ids == std::vector<std::string>{"a"});
}

TEST_CASE("a container that dies again while its stop is being read is reported again") {
  ExitWatch w;
  const std::vector<ContainerSummary> stopped = {{.id = "a", .state = "exited"},
                                                 {.id = "b", .state = "exited"}};
  auto round = w.Due(stopped, 10);
  REQUIRE(round.ids == std::vector<std::string>{"a", "b"});
  w.Died("a");  // restarted and died again after the listing, before the report went out
  w.Reported(round, "a");
  w.Reported(round, "b");
  CHECK(w.Due(stopped, 10).ids == std::vector<std::string>{"a"});
  // A death before the round began is the one the round read.
  w.Died("b");
  round = w.Due(stopped, 10);
  CHECK(round.ids == std::vector<std::string>{"a", "b"});
  w.Reported(round, "a");
  w.Reported(round, "b");
  CHECK(w.Due(stopped, 10).ids.empty());
}

TEST_CASE("MONITOR_HOST sums the VMs within the engine's totals") {
  StatsSample s;
  s.memory_usage = 1024 * 1024;
  const auto t = Parse(MonitorHostText(
      FourCpus(), {FiguresOf(1, "one-1", s, 30.4), FiguresOf(2, "one-2", s, 20.0)}));
  CHECK(t.Get("USEDCPU") == "50");
  CHECK(t.Get("FREECPU") == "350");
  CHECK(t.Get("USEDMEMORY") == "2048");
  CHECK(t.Get("FREEMEMORY") == std::to_string(8 * 1024 * 1024 - 2048));
}

TEST_CASE("engine events that cannot change a container's listing are told apart") {
  for (const char* action : {"start", "die", "pause", "unpause", "restart", "rename", "destroy",
                             "create", "health_status: unhealthy", "kill", "oom", "update"}) {
    CHECK_MESSAGE(ChangesListing(action), action);
  }
  for (const char* action :
       {"exec_create: /bin/sh -c true", "exec_start: /bin/sh -c true", "exec_die", "attach",
        "detach", "resize", "top", "commit", "copy", "archive-path", "extract-to-dir"}) {
    CHECK_MESSAGE(!ChangesListing(action), action);
  }
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

TEST_CASE(
    "state tracker: the first round is a complete report, then only changes, repeated past oned's "
    "guard") {
  StateTracker tracker(2, 3);
  auto first = tracker.Round({{1, "one-1", "RUNNING"}, {2, "one-2", "RUNNING"}}, Never, false);
  CHECK(first.sync);
  CHECK(first.vms.size() == 2);
  CHECK(
      tracker.Round({{1, "one-1", "RUNNING"}, {2, "one-2", "RUNNING"}}, Never, false).vms.size() ==
      2);  // repeat 1
  CHECK(
      tracker.Round({{1, "one-1", "RUNNING"}, {2, "one-2", "RUNNING"}}, Never, false).vms.size() ==
      2);  // repeat 2
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

TEST_CASE(
    "state tracker: a container gone for three rounds makes a complete report, postponed while "
    "onedock acts") {
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

// A HostMonitor of host h1 (id 3) on a fake engine holding VM 5's running container, with a fake
// clock, a fake monitord and the default probe periods.
struct MonitorRig {
  MonitorRig() {
    ConfigureLogging("off", "");
    fakes::FakeEngine& e = engines.hosts["h1"];
    e.info = FourCpus();
    ContainerInfo c;
    c.id = "c5";
    c.name = "one-5";
    c.running = true;
    c.status = "running";
    c.labels = {{"one.vmid", "5"}, {"one.instance", "test"}, {"one.host", "h1"}};
    e.containers["one-5"] = c;
  }
  fakes::FakeEngine& h1() { return engines.hosts["h1"]; }
  // The messages sent since the last call, as "TYPE SUCCESS|FAILURE".
  std::vector<std::string> Sent() {
    std::vector<std::string> out;
    for (const auto& m : monitord.Take()) {
      out.push_back(m.type + (m.success ? " SUCCESS" : " FAILURE"));
      payloads.push_back(m.payload);
    }
    return out;
  }
  // An engine event of VM `vm`'s container (c<vm>, named one-<vm>).
  Event ContainerEvent(const std::string& action, int vm = 5) const {
    const std::string n = std::to_string(vm);
    return {"container",
            action,
            "c" + n,
            {{"one.vmid", n}, {"one.instance", "test"}, {"one.host", "h1"}, {"name", "one-" + n}},
            0};
  }
  // Ticks every `step` for `span`, collecting what is sent.
  std::vector<std::string> TickFor(std::chrono::seconds span,
                                   std::chrono::seconds step = std::chrono::seconds(5)) {
    std::vector<std::string> all;
    for (auto t = std::chrono::seconds(0); t < span; t += step) {
      clock.Advance(step);
      monitor.Tick();
      for (auto& m : Sent()) all.push_back(m);
    }
    return all;
  }
  // The state rounds' listings of h1 while ticking every 5 s for `span`; what was sent goes to
  // `sent`, if given.
  size_t ListingsIn(std::chrono::seconds span, std::vector<std::string>* sent = nullptr) {
    const size_t before = h1().full_listings;
    auto all = TickFor(span);
    if (sent != nullptr) *sent = std::move(all);
    return h1().full_listings - before;
  }
  // The state round's listings of h1 in a Tick at once, the clock unmoved (so only a round an
  // event asked for runs); what it sent is left for Sent().
  size_t ListingsAtOnce() {
    const size_t before = h1().full_listings;
    monitor.Tick();
    return h1().full_listings - before;
  }
  // The host's event stream is live from the start, and VM 5's state was repeated past oned's
  // guard: the host is settled, its last listing 20 s ago and vouched for by the stream.
  void SettleOnLiveStream() {
    live = 1;
    REQUIRE_OK(monitor.FirstReport());
    TickFor(std::chrono::seconds(60));
  }

  fakes::FakeEngines engines;
  fakes::FakeClock clock;
  fakes::FakeMonitord monitord;
  VmActivity activity{clock};
  std::vector<std::string> payloads;
  // What the host's event stream says of itself (EventFeed::Live): 0, not live, unless a test
  // sets it, so that the state rounds list at each round.
  std::atomic<uint64_t> live{0};
  HostMonitor monitor{
      HostTarget{3, "h1", {}, {}}, MonitorContext{engines, activity, monitord, clock},
      MonitorSettings{.instance = "test", .disk_total_mb = 1000, .stats_in_flight = 1},
      RoundHooks{{}, [this] { return live.load(); }}};
};

size_t Count(const std::vector<std::string>& sent, const std::string& what) {
  return static_cast<size_t>(std::count(sent.begin(), sent.end(), what));
}

TEST_CASE(
    "host monitor: a VM round asks its stats at the host's share, on an engine of its own kept "
    "between rounds") {
  MonitorRig r;
  r.h1().stats["one-5"] = StatsSample{};
  r.monitor.SetStatsInFlight(7);
  auto first = r.monitor.VmRound();
  REQUIRE_MESSAGE(first.ok(), first.status().ToString());
  CHECK(first->size() == 1);
  CHECK(r.h1().stats_in_flight == 7);
  r.monitor.SetStatsInFlight(3);  // another host came: a smaller share
  REQUIRE(r.monitor.VmRound().ok());
  CHECK(r.h1().stats_in_flight == 3);
  CHECK(r.engines.acquired_own == 1);
}

TEST_CASE(
    "host monitor: an engine that stops answering puts the host in ERROR, again every beacon "
    "period") {
  MonitorRig r;
  REQUIRE_OK(r.monitor.FirstReport());
  r.h1().down = true;
  // State rounds every 5 s notice at once; the failure is not repeated until a beacon period
  // (30 s) has passed, and nothing else is asked of the engine meanwhile.
  const auto sent = r.TickFor(std::chrono::seconds(60));
  CHECK(Count(sent, "MONITOR_HOST FAILURE") == 2);
  CHECK(sent.size() == 2);
  CHECK(r.payloads.front().find("engine of host h1 at fake://h1 does not answer") !=
        std::string::npos);
  CHECK(r.TickFor(std::chrono::seconds(30)) == std::vector<std::string>{"MONITOR_HOST FAILURE"});
}

TEST_CASE(
    "host monitor: an engine that answers again brings SYSTEM_HOST, then a complete state report") {
  MonitorRig r;
  REQUIRE_OK(r.monitor.FirstReport());
  r.h1().down = true;
  r.TickFor(std::chrono::seconds(10));
  r.payloads.clear();
  r.h1().down = false;
  r.clock.Advance(std::chrono::seconds(5));
  r.monitor.Tick();
  const auto sent = r.Sent();
  REQUIRE(sent.size() >= 2);
  CHECK(sent[0] == "SYSTEM_HOST SUCCESS");
  CHECK(sent[1] == "STATE_VM SUCCESS");
  CHECK(r.payloads[0].find("TOTALCPU=400") != std::string::npos);
  CHECK(r.payloads[1].find("SYNC_STATE=yes") != std::string::npos);
  CHECK(r.payloads[1].find("ID=\"5\"") != std::string::npos);
  CHECK(r.payloads[1].find("STATE=\"RUNNING\"") != std::string::npos);
}

TEST_CASE("host monitor: a container killed behind OpenNebula's back is POWEROFF at its event") {
  MonitorRig r;
  REQUIRE_OK(r.monitor.FirstReport());
  r.Sent();
  r.h1().containers["one-5"].running = false;
  r.h1().containers["one-5"].status = "exited";
  r.monitor.OnEvent(r.ContainerEvent("die"));
  CHECK(r.Sent() == std::vector<std::string>{"STATE_VM SUCCESS"});
  CHECK(r.payloads.back().find("ID=\"5\"") != std::string::npos);
  CHECK(r.payloads.back().find("STATE=\"POWEROFF\"") != std::string::npos);
  CHECK(r.payloads.back().find("SYNC_STATE") == std::string::npos);
  r.monitor.OnEvent(r.ContainerEvent("exec_start: sh"));  // says nothing of the VM's state
  CHECK(r.Sent().empty());
}

TEST_CASE(
    "host monitor: onedock's own action is not reported, before or during its grace, and is "
    "after") {
  MonitorRig r;
  REQUIRE_OK(r.monitor.FirstReport());
  r.Sent();
  r.activity.Begin(5, "h1");
  r.monitor.OnEvent(r.ContainerEvent("die"));  // a shutdown onedock runs
  r.activity.End(5);
  r.clock.Advance(std::chrono::seconds(2));
  r.monitor.OnEvent(r.ContainerEvent("start"));  // inside the 3 s grace: still onedock's
  r.monitor.OnEvent(r.ContainerEvent("die"));
  CHECK(r.Sent().empty());
  r.clock.Advance(std::chrono::seconds(2));
  r.monitor.OnEvent(r.ContainerEvent("start"));  // after it: a start behind OpenNebula's back
  CHECK(r.Sent() == std::vector<std::string>{"STATE_VM SUCCESS"});
  CHECK(r.payloads.back().find("STATE=\"RUNNING\"") != std::string::npos);
}

TEST_CASE("host monitor: a container that dies says why in the VM's monitoring, once") {
  MonitorRig r;
  REQUIRE_OK(r.monitor.FirstReport());
  r.Sent();
  auto& c = r.h1().containers["one-5"];
  c.running = false;
  c.status = "exited";
  c.exit_code = 3;
  r.h1().logs["one-5"] = "first\nbye\n";
  r.monitor.OnEvent(r.ContainerEvent("die"));
  r.Sent();
  r.payloads.clear();
  r.monitor.Tick();  // the event asked for a state round
  const auto sent = r.Sent();
  REQUIRE(Count(sent, "MONITOR_VM SUCCESS") == 1);
  const auto at = std::find(sent.begin(), sent.end(), "MONITOR_VM SUCCESS") - sent.begin();
  const auto message = Parse(r.payloads[at]);
  const auto vm = message.All("VM");
  REQUIRE(vm.size() == 1);
  CHECK(vm[0]->Get("ID") == "5");
  const auto record = Parse(*Base64Decode(vm[0]->Get("MONITOR")));
  CHECK(record.Get("DOCKER_EXIT_CODE") == "3");
  CHECK(record.Get("DOCKER_LOG_TAIL") == "first | bye");
  // Rounds go on; the stop is not reported again (no container runs, so no other MONITOR_VM).
  CHECK(Count(r.TickFor(std::chrono::seconds(60)), "MONITOR_VM SUCCESS") == 0);
}

TEST_CASE(
    "host monitor: while its event stream is live and the host settled, state rounds go without a "
    "listing, and list again every 30 s") {
  MonitorRig r;
  r.SettleOnLiveStream();
  const uint64_t unlisted = r.monitor.Snapshot().state_rounds_unlisted;
  std::vector<std::string> sent;
  CHECK(r.ListingsIn(std::chrono::seconds(60), &sent) == 2);  // of 12 state rounds
  CHECK(r.monitor.Snapshot().state_rounds_unlisted - unlisted == 10);
  CHECK(Count(sent, "STATE_VM SUCCESS") == 0);    // nothing changed
  CHECK(Count(sent, "MONITOR_VM SUCCESS") == 2);  // the other rounds go on
  CHECK(r.monitor.Snapshot().containers == 1);

  // A round without a listing counts for the round's age, not for its duration.
  r.h1().on_read = [&r] { r.clock.Advance(std::chrono::milliseconds(250)); };
  r.TickFor(std::chrono::seconds(15));  // a round without, the relist, then one without
  r.h1().on_read = nullptr;
  const HostSnapshot after = r.monitor.Snapshot();
  CHECK(after.state.took == std::chrono::milliseconds(250));
  REQUIRE(after.state.ended.has_value());
  CHECK(*after.state.ended == r.clock.Now());

  // Without a live stream, every round lists.
  r.live = 0;
  CHECK(r.ListingsIn(std::chrono::seconds(30)) == 6);
}

TEST_CASE(
    "host monitor: a state round lists after a die or create event, a stream that opened again, "
    "an engine that hangs, and while onedock acts and once after") {
  MonitorRig r;
  r.SettleOnLiveStream();
  REQUIRE(r.ListingsIn(std::chrono::seconds(5)) == 0);

  SUBCASE("a container died: the asked round lists, says why, and the repeats list") {
    auto& c = r.h1().containers["one-5"];
    c.running = false;
    c.status = "exited";
    r.monitor.OnEvent(r.ContainerEvent("die"));
    CHECK(r.Sent() == std::vector<std::string>{"STATE_VM SUCCESS"});
    CHECK(r.ListingsAtOnce() == 1);                      // the round the event asked for
    CHECK(Count(r.Sent(), "MONITOR_VM SUCCESS") == 1);   // why it stopped
    CHECK(r.ListingsIn(std::chrono::seconds(40)) == 7);  // POWEROFF repeated past oned's guard
    CHECK(r.ListingsIn(std::chrono::seconds(20)) == 0);
  }
  SUBCASE("a container created behind OpenNebula's back: its create event asks for a listing") {
    ContainerInfo c;
    c.id = "c6";
    c.name = "one-6";
    c.status = "created";
    c.labels = {{"one.vmid", "6"}, {"one.instance", "test"}, {"one.host", "h1"}};
    r.h1().containers["one-6"] = c;
    r.monitor.OnEvent(r.ContainerEvent("create", 6));
    CHECK(r.ListingsAtOnce() == 1);
    CHECK(r.Sent() == std::vector<std::string>{"STATE_VM SUCCESS"});
    CHECK(r.payloads.back().find("ID=\"6\"") != std::string::npos);
    CHECK(r.payloads.back().find("STATE=\"POWEROFF\"") != std::string::npos);
  }
  SUBCASE("a container renamed behind OpenNebula's back: its rename event asks for a listing") {
    r.h1().containers["one-5"].name = "other";
    Event renamed = r.ContainerEvent("rename");
    renamed.attributes["name"] = "other";
    r.monitor.OnEvent(renamed);
    CHECK(r.ListingsAtOnce() == 1);
    CHECK(r.Sent() == std::vector<std::string>{"STATE_VM SUCCESS"});  // its new DEPLOY_ID
    CHECK(r.payloads.back().find("DEPLOY_ID=\"other\"") != std::string::npos);
  }
  SUBCASE("onedock's own create asks for no listing: the one after its action comes anyway") {
    r.activity.Begin(6, "h1");
    r.monitor.OnEvent(r.ContainerEvent("create", 6));
    CHECK(r.ListingsAtOnce() == 0);  // nothing asked
    r.activity.End(6);
  }
  SUBCASE("the stream broke and opened again: rounds list until it was live at the round before") {
    r.live = 2;
    CHECK(r.ListingsIn(std::chrono::seconds(10)) == 2);
    CHECK(r.ListingsIn(std::chrono::seconds(25)) == 0);
  }
  SUBCASE("the stream is opening again: every round lists until it is live") {
    r.live = 0;
    CHECK(r.ListingsIn(std::chrono::seconds(15)) == 3);
    r.live = 3;
    CHECK(r.ListingsIn(std::chrono::seconds(10)) == 2);
    CHECK(r.ListingsIn(std::chrono::seconds(25)) == 0);
  }
  SUBCASE("onedock acts on VM 5: rounds list during it and once after its grace") {
    r.activity.Begin(5, "h1");
    CHECK(r.ListingsIn(std::chrono::seconds(10)) == 2);
    r.activity.End(5);
    // 5 s later, past the 3 s grace: the last listing was quiet, so this one reports what the
    // action left; the stream vouches again from it.
    CHECK(r.ListingsIn(std::chrono::seconds(5)) == 1);
    CHECK(r.ListingsIn(std::chrono::seconds(25)) == 0);
  }
  SUBCASE(
      "the engine stopped answering: rounds list until it answers, and after its stream opens") {
    r.h1().down = true;
    r.live = 0;  // its stream broke with it
    CHECK(r.ListingsIn(std::chrono::seconds(10)) == 2);
    r.h1().down = false;
    std::vector<std::string> sent;
    CHECK(r.ListingsIn(std::chrono::seconds(5), &sent) == 1);
    CHECK(Count(sent, "SYSTEM_HOST SUCCESS") == 1);  // it answers: the host is up again
    r.live = 4;
    CHECK(r.ListingsIn(std::chrono::seconds(10)) == 2);
    CHECK(r.ListingsIn(std::chrono::seconds(25)) == 0);
  }
  SUBCASE(
      "the engine hangs with its stream open: the relist notices, then rounds list until it "
      "answers") {
    r.h1().down = true;
    std::vector<std::string> sent;
    // The last listing began 25 s ago: the relist at 30 s, then every round.
    CHECK(r.ListingsIn(std::chrono::seconds(15), &sent) == 3);
    CHECK(Count(sent, "MONITOR_HOST FAILURE") == 1);
    r.h1().down = false;
    CHECK(r.ListingsIn(std::chrono::seconds(5)) == 1);  // it answers: a complete report
    CHECK(r.ListingsIn(std::chrono::seconds(20)) == 0);
  }
}

TEST_CASE(
    "host monitor: a VM round takes the running containers from a listing the stream vouches for, "
    "and lists after any event of the host's containers") {
  MonitorRig r;
  ContainerInfo stopped;  // VM 6's container, stopped: a VM round asks no stats of it
  stopped.id = "c6";
  stopped.name = "one-6";
  stopped.status = "exited";
  stopped.labels = {{"one.vmid", "6"}, {"one.instance", "test"}, {"one.host", "h1"}};
  r.h1().containers["one-6"] = stopped;
  ContainerInfo paused = stopped;  // VM 7's, paused: it is asked, as the engine lists it
  paused.id = "c7";
  paused.name = "one-7";
  paused.running = true;
  paused.status = "paused";
  paused.labels["one.vmid"] = "7";
  r.h1().containers["one-7"] = paused;
  r.SettleOnLiveStream();
  const auto running_listings = [&r] { return r.h1().running_listings; };
  const auto vm_rounds_in = [&r](std::chrono::seconds span) {
    return Count(r.TickFor(span), "MONITOR_VM SUCCESS");
  };
  // VM 5's record in the last MONITOR_VM sent.
  const auto last_record = [&r] {
    const auto at = std::find_if(r.payloads.rbegin(), r.payloads.rend(), [](const std::string& p) {
      return p.find("MONITOR=") != std::string::npos;
    });
    REQUIRE(at != r.payloads.rend());
    const auto message = Parse(*at);
    const auto vms = message.All("VM");
    const auto vm =
        std::find_if(vms.begin(), vms.end(), [](auto* v) { return v->Get("ID") == "5"; });
    REQUIRE(vm != vms.end());
    return Parse(*Base64Decode((*vm)->Get("MONITOR")));
  };
  size_t before = running_listings();
  REQUIRE(vm_rounds_in(std::chrono::seconds(60)) == 2);
  CHECK(running_listings() == before);  // both took the state rounds' listings
  CHECK(r.h1().stats_asked == std::vector<std::string>{"c5", "c7"});
  CHECK(last_record().Get("DOCKER_STATE") == "running");

  SUBCASE("a HEALTHCHECK's exec changes no listing") {
    r.monitor.OnEvent(r.ContainerEvent("exec_start: /bin/sh -c true"));
    r.monitor.OnEvent(r.ContainerEvent("exec_die"));
    before = running_listings();
    REQUIRE(vm_rounds_in(std::chrono::seconds(30)) == 1);
    CHECK(running_listings() == before);
  }
  SUBCASE("an event that may change a listing: a health change") {
    r.h1().containers["one-5"].health = "unhealthy";
    r.monitor.OnEvent(r.ContainerEvent("health_status: unhealthy"));
    before = running_listings();
    REQUIRE(vm_rounds_in(std::chrono::seconds(30)) == 1);
    CHECK(running_listings() == before + 1);
    CHECK(last_record().Get("DOCKER_HEALTH") == "unhealthy");
    // The state round's next listing (its relist) counts that event: the rounds after take it.
    before = running_listings();
    REQUIRE(vm_rounds_in(std::chrono::seconds(60)) == 2);
    CHECK(running_listings() == before);
  }
  SUBCASE("the stream is not live") {
    r.live = 0;
    before = running_listings();
    REQUIRE(vm_rounds_in(std::chrono::seconds(30)) == 1);
    CHECK(running_listings() == before + 1);
  }
  SUBCASE("the stream broke and opened again since the listing") {
    r.live = 2;
    before = running_listings();
    REQUIRE(vm_rounds_in(std::chrono::seconds(30)) == 1);
    CHECK(running_listings() == before + 1);
  }
  SUBCASE("onedock acts on one of the host's VMs") {
    r.activity.Begin(7, "h1");
    before = running_listings();
    REQUIRE(vm_rounds_in(std::chrono::seconds(30)) == 1);
    CHECK(running_listings() == before + 1);
    r.activity.End(7);
  }
  SUBCASE("the state round's last listing failed") {
    r.h1().down = true;
    r.TickFor(std::chrono::seconds(30));  // its relist fails
    r.h1().down = false;
    before = running_listings();
    r.monitor.VmRound();
    CHECK(running_listings() == before + 1);
  }
}

using testing::ThreadsOfThisProcess;

// prefix followed by n ("h7"). Appended rather than `prefix + std::to_string(n)`, which GCC 12
// at -O3 reports as an overlapping copy (-Wrestrict, a false positive) once inlined here.
std::string Numbered(const char* prefix, int n) {
  std::string s(prefix);
  s += std::to_string(n);
  return s;
}

// Puts `count` running containers of this onedockd ("test") on host number `h` named `host`:
// VMs h*100 … h*100+count-1, each with a stats sample.
void AddRunning(fakes::FakeEngine& e, int h, const std::string& host, int count) {
  for (int c = 0; c < count; ++c) {
    const int vm = h * 100 + c;
    ContainerInfo info;
    info.id = Numbered("c", vm);
    info.name = Numbered("one-", vm);
    info.running = true;
    info.status = "running";
    info.labels = {{"one.vmid", std::to_string(vm)}, {"one.instance", "test"}, {"one.host", host}};
    e.containers[info.name] = info;
    e.stats[info.name] = StatsSample{};
  }
}

// Adds the VM ids the MONITOR_VM messages among `sent` report to `reported`.
void AddReported(const std::vector<MonitordMessage>& sent, std::set<std::string>& reported) {
  for (const auto& message : sent) {
    if (message.type != "MONITOR_VM") continue;
    const auto parsed = Parse(message.payload);
    for (const auto* vm : parsed.All("VM")) reported.insert(vm->Get("ID"));
  }
}

TEST_CASE("host monitor: 20 hosts of 50 containers are monitored without a thread per request") {
  ConfigureLogging("off", "");
  fakes::FakeEngines engines;
  fakes::FakeClock clock;
  fakes::FakeMonitord monitord;
  VmActivity activity{clock};
  size_t most_threads = 0;
  std::vector<std::unique_ptr<HostMonitor>> monitors;
  for (int h = 0; h < 20; ++h) {
    const std::string host = Numbered("h", h);
    fakes::FakeEngine& e = engines.hosts[host];
    e.info = FourCpus();
    e.on_read = [&] { most_threads = std::max(most_threads, ThreadsOfThisProcess()); };
    AddRunning(e, h, host, 50);
    monitors.push_back(std::make_unique<HostMonitor>(
        HostTarget{h, host, {}, {}}, MonitorContext{engines, activity, monitord, clock},
        MonitorSettings{.instance = "test", .disk_total_mb = 1000}));
  }
  const size_t before = ThreadsOfThisProcess();
  for (auto& m : monitors) REQUIRE_OK(m->FirstReport());
  clock.Advance(std::chrono::seconds(5));
  for (auto& m : monitors) m->Tick();
  std::set<std::string> reported;
  AddReported(monitord.Take(), reported);
  CHECK(reported.size() == 20 * 50);
  // Each round asks its stats from the thread that runs it: no worker thread was started.
  CHECK(most_threads == before);
}

TEST_CASE(
    "monitoring service: 50 hosts run on its round threads, not threads per host, and a host's "
    "event is reported at once") {
  ConfigureLogging("off", "");
  testing::TempDir dir("monitor-fleet");
  auto journal = testing::OpenJournal(dir.path() + "/journal.db");
  fakes::FakeEngines engines;
  fakes::FakeClock clock;
  fakes::FakeMonitord monitord;
  fakes::FakeEventFeed events;
  VmActivity activity{clock};
  std::mutex mu;
  size_t most_threads = 0;
  std::atomic<int> h7_reads{0};
  constexpr int kHosts = 50;
  for (int h = 0; h < kHosts; ++h) {
    const std::string host = Numbered("h", h);
    fakes::FakeEngine& e = engines.hosts[host];
    e.info = FourCpus();
    e.on_read = [&, h] {
      if (h == 7) ++h7_reads;
      std::lock_guard lock(mu);
      most_threads = std::max(most_threads, ThreadsOfThisProcess());
    };
    AddRunning(e, h, host, 4);
  }
  const size_t before = ThreadsOfThisProcess();
  {
    MonitorService service(
        {engines, activity, monitord, clock, &events}, *journal,
        MonitorSettings{.instance = "test",
                        .disk_total_mb = 1000,
                        .round_threads = 4,
                        .first_round_quiet = std::chrono::milliseconds(100),
                        .first_round_spread = {}},
        [](const std::string& xml) { return rpc::ParseMonitorConfiguration(xml, {}); });
    CHECK(ThreadsOfThisProcess() == before + 4);
    for (int h = 0; h < kHosts; ++h) {
      REQUIRE_OK(service.StartMonitoring(h, Numbered("h", h), "<MONITOR_CONFIGURATION/>"));
    }
    CHECK(events.followed() == kHosts);
    // Every host's first VM round runs on the service's threads, once the starts are over.
    clock.Advance(std::chrono::milliseconds(100));
    std::set<std::string> reported;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (reported.size() < kHosts * 4 && std::chrono::steady_clock::now() < deadline) {
      AddReported(monitord.Take(), reported);
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    CHECK(reported.size() == kHosts * 4);
    {
      std::lock_guard lock(mu);
      CHECK(most_threads == before + 4);  // not 2 × 50 more
    }

    // A die event of host h7 goes out as STATE_VM at once, on the thread that hands it over (the
    // fake engine is left as it is: the round threads read it), and wakes a state round of h7,
    // though the fake clock makes no round due.
    const int reads_before = h7_reads;
    REQUIRE(events.Push(
        "h7",
        {"container",
         "die",
         "c701",
         {{"one.vmid", "701"}, {"one.instance", "test"}, {"one.host", "h7"}, {"name", "one-701"}},
         0}));
    bool poweroff = false;
    for (const auto& message : monitord.Take()) {
      if (message.type == "STATE_VM" && message.host_id == 7) {
        poweroff = poweroff || (Parse(message.payload).All("VM").size() == 1 &&
                                message.payload.find("POWEROFF") != std::string::npos);
      }
    }
    CHECK(poweroff);
    const auto woken_by = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (h7_reads == reads_before && std::chrono::steady_clock::now() < woken_by) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    CHECK(h7_reads > reads_before);
    REQUIRE_OK(service.StopMonitoring(7, "h7"));
    CHECK(events.followed() == kHosts - 1);
    const int reads_stopped = h7_reads;  // no round of h7 runs after its stop
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    CHECK(h7_reads == reads_stopped);
    CHECK_FALSE(events.Push("h7", {"container", "start", "c701", {}, 0}));
  }
  CHECK(events.followed() == 0);
  CHECK(testing::ThreadsOfThisProcessSettledAt(before) == before);
}

TEST_CASE("host monitor: the rounds follow the probe periods monitord asked for") {
  MonitorRig r;
  REQUIRE_OK(r.monitor.FirstReport());
  r.h1().stats["one-5"] = StatsSample{};
  const auto sent = r.TickFor(std::chrono::seconds(120));
  CHECK(Count(sent, "MONITOR_VM SUCCESS") == 4);    // at 5 s (first round), 35, 65, 95
  CHECK(Count(sent, "BEACON_HOST SUCCESS") == 4);   // 30, 60, 90, 120
  CHECK(Count(sent, "MONITOR_HOST SUCCESS") == 1);  // at 5 s; the next is due at 125
  CHECK(Count(sent, "SYSTEM_HOST SUCCESS") == 0);   // every 600 s
  CHECK(Count(sent, "MONITOR_HOST FAILURE") == 0);
}

TEST_CASE(
    "host monitor: its snapshot holds the engine's state, the rounds' times and STATE_VM sent") {
  MonitorRig r;
  HostSnapshot before = r.monitor.Snapshot();
  CHECK(before.host_id == 3);
  CHECK(before.name == "h1");
  CHECK_FALSE(before.engine_up);
  CHECK(before.containers == -1);
  CHECK_FALSE(before.state.ended.has_value());

  REQUIRE_OK(r.monitor.FirstReport());  // its STATE_VM is the first, complete, report
  HostSnapshot first = r.monitor.Snapshot();
  CHECK(first.engine_up);
  CHECK(first.containers == 1);
  CHECK(first.state_vm_syncs == 1);
  CHECK(first.state_vm_changes == 0);

  // Every read of the engine takes 250 ms: the state round lists once, the VM round lists and
  // fetches one container's stats.
  r.h1().on_read = [&] { r.clock.Advance(std::chrono::milliseconds(250)); };
  r.clock.Advance(std::chrono::seconds(5));
  r.monitor.Tick();
  HostSnapshot ticked = r.monitor.Snapshot();
  REQUIRE(ticked.state.ended.has_value());
  REQUIRE(ticked.vm.ended.has_value());
  CHECK(ticked.state.took == std::chrono::milliseconds(250));
  CHECK(ticked.vm.took == std::chrono::milliseconds(500));
  CHECK(*ticked.vm.ended == r.clock.Now());
  CHECK(*ticked.state.ended == r.clock.Now() - std::chrono::milliseconds(500));
  CHECK_FALSE(ticked.system.ended.has_value());  // every 600 s
  r.h1().on_read = nullptr;
  CHECK(ticked.state_vm_changes == 1);  // RUNNING again, for oned's 30 s guard

  r.h1().containers["one-5"].running = false;
  r.h1().containers["one-5"].status = "exited";
  r.monitor.OnEvent(r.ContainerEvent("die"));
  CHECK(r.monitor.Snapshot().state_vm_changes == 2);
  CHECK(r.monitor.Snapshot().state_vm_syncs == 1);

  r.h1().containers.clear();
  r.h1().down = true;
  r.clock.Advance(std::chrono::seconds(5));
  r.monitor.Tick();
  HostSnapshot down = r.monitor.Snapshot();
  CHECK_FALSE(down.engine_up);
  CHECK(down.containers == 1);  // the last listing that worked
}

TEST_CASE("monitoring service: the snapshot has one entry per monitored host") {
  testing::TempDir dir("monitor-snapshot");
  auto journal = testing::OpenJournal(dir.path() + "/journal.db");
  fakes::FakeEngines engines;
  engines.hosts["h1"].info = FourCpus();
  fakes::FakeClock clock;
  fakes::FakeMonitord monitord;
  VmActivity activity{clock};
  MonitorService service(
      {engines, activity, monitord, clock}, *journal, MonitorSettings{},
      [](const std::string& xml) { return rpc::ParseMonitorConfiguration(xml, {}); });
  CHECK(service.Snapshot().empty());
  REQUIRE_OK(service.StartMonitoring(4, "h1", "<MONITOR_CONFIGURATION/>"));
  auto hosts = service.Snapshot();
  REQUIRE(hosts.size() == 1);
  CHECK(hosts[0].host_id == 4);
  CHECK(hosts[0].name == "h1");
  CHECK(hosts[0].engine_up);
  CHECK(hosts[0].containers == 0);
  REQUIRE_OK(service.StopMonitoring(4, "h1"));
  CHECK(service.Snapshot().empty());
}

TEST_CASE(
    "monitoring service: the hosts share one bound on stats in flight, anew at each start and "
    "stop") {
  testing::TempDir dir("monitor-share");
  auto journal = testing::OpenJournal(dir.path() + "/journal.db");
  fakes::FakeEngines engines;
  for (const char* h : {"h1", "h2", "h3"}) engines.hosts[h].info = FourCpus();
  fakes::FakeClock clock;
  fakes::FakeMonitord monitord;
  VmActivity activity{clock};
  MonitorService service(
      {engines, activity, monitord, clock}, *journal,
      MonitorSettings{.instance = "test", .stats_in_flight = 64, .stats_connections = 100},
      [](const std::string& xml) { return rpc::ParseMonitorConfiguration(xml, {}); });
  const auto shares = [&service] {
    std::vector<int> out;
    for (const auto& h : service.Snapshot()) out.push_back(h.stats_in_flight);
    return out;
  };
  REQUIRE_OK(service.StartMonitoring(1, "h1", "<MONITOR_CONFIGURATION/>"));
  CHECK(shares() == std::vector<int>{64});  // the host's own bound is the smaller
  REQUIRE_OK(service.StartMonitoring(2, "h2", "<MONITOR_CONFIGURATION/>"));
  CHECK(shares() == std::vector<int>{50, 50});
  REQUIRE_OK(service.StartMonitoring(3, "h3", "<MONITOR_CONFIGURATION/>"));
  CHECK(shares() == std::vector<int>{33, 33, 33});
  REQUIRE_OK(service.StartMonitoring(3, "h3", "<MONITOR_CONFIGURATION/>"));  // again: no change
  CHECK(shares() == std::vector<int>{33, 33, 33});
  REQUIRE_OK(service.StopMonitoring(1, "h1"));
  CHECK(shares() == std::vector<int>{50, 50});
}

// The hosts that sent each message type (by type), taken from `monitord` until the MONITOR_VMs
// came from `expected` (at most 10 s), and after 300 ms in any case. The round threads sleep in
// real time until a round is due by the fake clock: a round it holds cannot run however long
// this waits, and one due runs within the wait.
void TakeUntilVmsFrom(fakes::FakeMonitord& monitord, std::map<std::string, std::set<int>>& sent,
                      const std::set<int>& expected) {
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (true) {
    for (const auto& m : monitord.Take()) sent[m.type].insert(m.host_id);
    if (sent["MONITOR_VM"] == expected || std::chrono::steady_clock::now() > deadline) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

// A MonitorService on the fake clock over hosts h1..h<hosts>, each with `containers` running
// containers, for the tests of its first VM rounds; StartMonitoring(h) starts host h.
struct StartingHosts {
  StartingHosts(const std::string& name, int hosts, int containers, MonitorSettings settings)
      : dir(name), journal(testing::OpenJournal(dir.path() + "/journal.db")) {
    ConfigureLogging("off", "");
    for (int h = 1; h <= hosts; ++h) {
      fakes::FakeEngine& e = engines.hosts[Numbered("h", h)];
      e.info = FourCpus();
      AddRunning(e, h, Numbered("h", h), containers);
    }
    settings.instance = "test";
    service = std::make_unique<MonitorService>(
        MonitorContext{engines, activity, monitord, clock}, *journal, settings,
        [](const std::string& xml) { return rpc::ParseMonitorConfiguration(xml, {}); });
  }
  Result<std::string> StartMonitoring(int h) {
    return service->StartMonitoring(h, Numbered("h", h), "<MONITOR_CONFIGURATION/>");
  }

  testing::TempDir dir;
  std::unique_ptr<SqliteStore> journal;
  fakes::FakeEngines engines;
  fakes::FakeClock clock;
  fakes::FakeMonitord monitord;
  VmActivity activity{clock};
  std::unique_ptr<MonitorService> service;  // last: its round threads end first
};

TEST_CASE(
    "monitoring service: the first VM rounds of hosts that start together wait for the last "
    "start, and take the share of them all") {
  using std::chrono::milliseconds;
  StartingHosts r("monitor-burst", 3, 2,
                  {.stats_in_flight = 64,
                   .stats_connections = 100,
                   .first_round_quiet = milliseconds(200),
                   .first_round_wait = milliseconds(500),
                   .first_round_spread = {}});
  // The hosts whose VM round ran, and those that sent MONITOR_HOST, which is held with the VM
  // round since it carries the round's figures.
  std::map<std::string, std::set<int>> sent;
  const auto settle = [&](const std::set<int>& expected) {
    TakeUntilVmsFrom(r.monitord, sent, expected);
    CHECK(sent["MONITOR_VM"] == expected);
    CHECK(sent["MONITOR_HOST"] == expected);
  };
  REQUIRE_OK(r.StartMonitoring(1));
  r.clock.Advance(milliseconds(150));
  REQUIRE_OK(r.StartMonitoring(2));
  r.clock.Advance(milliseconds(150));  // h1 would be due by its own start, h2 came since
  settle({});
  r.clock.Advance(milliseconds(50));  // 200 ms after the last start
  settle({1, 2});
  CHECK(r.engines.hosts["h1"].stats_in_flight == 50);  // the share of two hosts, not 64
  // A start that comes after a host's first VM round holds only the hosts still waiting.
  REQUIRE_OK(r.StartMonitoring(3));
  r.clock.Advance(milliseconds(199));
  settle({1, 2});
  r.clock.Advance(milliseconds(1));
  settle({1, 2, 3});
}

TEST_CASE(
    "monitoring service: a host's first VM round waits no longer than the bound after its start, "
    "though starts go on") {
  using std::chrono::milliseconds;
  StartingHosts r("monitor-burst-bound", 6, 1,
                  {.first_round_quiet = milliseconds(200),
                   .first_round_wait = milliseconds(500),
                   .first_round_spread = {}});
  std::map<std::string, std::set<int>> sent;
  // A start every 150 ms, never 200 ms quiet: h1 is due 500 ms after its start, h2 at 650 ms.
  for (int h = 1; h <= 6; ++h) {
    REQUIRE_OK(r.StartMonitoring(h));
    std::set<int> expected;  // at 0, 150, 300 and 450 ms none, then h1 at 600, h2 at 750
    for (int done = 1; done <= h - 4; ++done) expected.insert(done);
    TakeUntilVmsFrom(r.monitord, sent, expected);
    CHECK(sent["MONITOR_VM"] == expected);
    r.clock.Advance(milliseconds(150));
  }
}

TEST_CASE("monitoring service: hosts that wait together have their first VM rounds spread") {
  using std::chrono::milliseconds;
  StartingHosts r(
      "monitor-spread", 2, 1,
      {.first_round_quiet = milliseconds(200), .first_round_spread = std::chrono::seconds(1)});
  REQUIRE_OK(r.StartMonitoring(1));
  REQUIRE_OK(r.StartMonitoring(2));
  // 200 ms after the last start, then the parts of the second their ids give: 618 ms for h1,
  // 236 ms for h2.
  std::map<std::string, std::set<int>> sent;
  r.clock.Advance(milliseconds(430));
  TakeUntilVmsFrom(r.monitord, sent, {});
  CHECK(sent["MONITOR_VM"].empty());
  r.clock.Advance(milliseconds(10));
  TakeUntilVmsFrom(r.monitord, sent, {2});
  CHECK(sent["MONITOR_VM"] == std::set<int>{2});
  r.clock.Advance(milliseconds(370));
  TakeUntilVmsFrom(r.monitord, sent, {2});
  CHECK(sent["MONITOR_VM"] == std::set<int>{2});
  r.clock.Advance(milliseconds(10));
  TakeUntilVmsFrom(r.monitord, sent, {1, 2});
  CHECK(sent["MONITOR_VM"] == std::set<int>{1, 2});
}

TEST_CASE(
    "monitoring service: a bad configuration or a host without an engine is refused and not "
    "remembered") {
  testing::TempDir dir("monitor-service");
  auto journal = testing::OpenJournal(dir.path() + "/journal.db");
  fakes::FakeEngines engines;  // no host has an engine
  fakes::FakeClock clock;
  fakes::FakeMonitord monitord;
  VmActivity activity{clock};
  MonitorService service(
      {engines, activity, monitord, clock}, *journal, MonitorSettings{},
      [](const std::string& xml) { return rpc::ParseMonitorConfiguration(xml, {}); });
  auto bad = service.StartMonitoring(1, "h1", "<VM/>");
  CHECK(bad.status().message().find("not <MONITOR_CONFIGURATION>") != std::string::npos);
  auto no_engine = service.StartMonitoring(1, "h1", "<MONITOR_CONFIGURATION/>");
  CHECK(no_engine.status().message().find(
            "start monitoring host h1: engine of h1 does not answer") != std::string::npos);

  // The journal keeps what start recorded until stop.
  REQUIRE_OK(journal->Monitor({7, "h7", "<MONITOR_CONFIGURATION/>"}));
  auto kept = journal->MonitoredHosts();
  REQUIRE_OK(kept);
  REQUIRE(kept->size() == 1);  // h1, whose start failed, is not remembered
  CHECK(kept->front().name == "h7");
  CHECK(kept->front().configuration == "<MONITOR_CONFIGURATION/>");
  REQUIRE_OK(service.StopMonitoring(7, "h7"));
  kept = journal->MonitoredHosts();
  REQUIRE_OK(kept);
  CHECK(kept->empty());
}

}  // namespace
}  // namespace onedock::monitor

namespace onedock {
namespace {

TEST_CASE("a VM is busy while onedock acts on it and for the grace after, on its host only") {
  fakes::FakeClock clock;
  VmActivity activity(clock);
  using std::chrono::milliseconds;
  CHECK_FALSE(activity.Busy(1, milliseconds(50)));
  activity.Begin(1, "h1");
  CHECK(activity.Busy(1, milliseconds(0)));
  CHECK(activity.AnyBusyOn("h1", milliseconds(0)));
  CHECK_FALSE(activity.AnyBusyOn("h2", milliseconds(0)));
  activity.End(1);
  CHECK(activity.Busy(1, milliseconds(5000)));
  clock.Advance(milliseconds(60));
  CHECK_FALSE(activity.Busy(1, milliseconds(50)));
  CHECK_FALSE(activity.AnyBusyOn("h1", milliseconds(50)));
}

}  // namespace
}  // namespace onedock
