// Monitoring end to end: the emulator runs the real IM script, onedockd monitors the real engines
// and pushes to the emulator's monitord port; the assertions read what OpenNebula shows.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "tests/e2e/world.h"
#include "tests/integration/bed.h"

namespace onedock::e2e {
namespace {

using Clock = std::chrono::steady_clock;

double Number(const Attributes& a, const std::string& key) {
  auto it = a.find(key);
  return it == a.end() ? -1 : std::atof(it->second.c_str());
}

// oned ignores STATE_VM for 30 s after a VM starts or stops running (InformationManager.cc,
// test_and_trigger: compiled in); this waits until `vm` has been running that long.
void PastOnedsGuard(World& w, int vm) {
  const Vm v = w.Info(vm);
  REQUIRE(v.CurrentHistory() != nullptr);
  const auto since = std::chrono::system_clock::from_time_t(v.CurrentHistory()->running_since);
  std::this_thread::sleep_until(since + std::chrono::seconds(31));
}

TEST_CASE(
    "a created host becomes MONITORED with the engine's CPU and memory, offline and back, and a "
    "host whose engine is down is ERROR") {
  World w;
  const Host h1 = w.WaitForHost("h1", 2);
  auto info = w.Engine("h1").Info();
  REQUIRE_MESSAGE(info.ok(), info.status().ToString());
  CHECK(h1.total_cpu == info->ncpu * 100);
  CHECK(h1.total_mem == info->mem_total / 1024);
  CHECK(h1.template_attributes.at("HYPERVISOR") == "docker");
  CHECK(h1.free_disk_mb > 0);  // the scheduler places VMs only where free disk is reported
  const Host h2 = w.WaitForHost("h2", 2);
  CHECK(h2.total_cpu > 0);
  // OFFLINE stops the monitoring (STOP_MONITOR), enabling starts it again.
  w.Call("one.host.status", {xmlrpc_c::value_int(w.host("h2")), xmlrpc_c::value_int(2)});
  w.WaitForHost("h2", 8);
  w.Call("one.host.status", {xmlrpc_c::value_int(w.host("h2")), xmlrpc_c::value_int(0)});
  CHECK(w.WaitForHost("h2", 2).total_cpu == h2.total_cpu);
  const Host dead = w.WaitForHost("dead", 3);
  REQUIRE(dead.template_attributes.count("ERROR") == 1);
  CHECK(dead.template_attributes.at("ERROR").find("dead") != std::string::npos);
}

TEST_CASE("a running VM shows its CPU and memory use in OpenNebula") {
  World w;
  const int vm = w.CreateVm("busy", 0.5, 128);
  w.Deploy(vm, "h1");
  const Vm running = w.WaitFor(vm, kVmActive, kLcmRunning);
  // Half a CPU of busy loop for a while: the VM's CPU figure must show it.
  w.ExecOut("h1", running.deploy_id,
            "(timeout 20 sh -c 'while :; do :; done' >/dev/null 2>&1 &) ; echo started");
  const auto deadline = Clock::now() + std::chrono::seconds(20);
  Vm seen = w.Info(vm);
  while (Clock::now() < deadline && Number(seen.monitoring, "CPU") < 20) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    seen = w.Info(vm);
  }
  INFO("monitoring CPU=" << Number(seen.monitoring, "CPU")
                         << " MEMORY=" << Number(seen.monitoring, "MEMORY"));
  CHECK(Number(seen.monitoring, "CPU") >= 20);
  CHECK(Number(seen.monitoring, "CPU") <= 60);  // NanoCpus caps it at half a CPU (50) plus rounding
  CHECK(Number(seen.monitoring, "MEMORY") > 0);
  CHECK(Number(seen.monitoring, "MEMORY") <= 128 * 1024);
  CHECK(Number(seen.monitoring, "NETRX") >= 0);
}

TEST_CASE(
    "docker kill behind OpenNebula's back moves the VM to POWEROFF: at once past oned's guard, at "
    "its end inside it") {
  World w;
  // Two VMs: one killed 6 s after it started running (oned holds the report until its 30 s guard
  // is over; onedock repeats it for 40 s), one killed once it has run for more than 30 s.
  const int early = w.CreateVm("early", 0.25, 64), late = w.CreateVm("late", 0.25, 64);
  w.Deploy(early, "h1");
  w.Deploy(late, "h2");
  const Vm first = w.WaitFor(early, kVmActive, kLcmRunning);
  const Vm second = w.WaitFor(late, kVmActive, kLcmRunning);
  std::this_thread::sleep_until(
      std::chrono::system_clock::from_time_t(first.CurrentHistory()->running_since) +
      std::chrono::seconds(6));
  const auto killed_early = Clock::now();
  REQUIRE(w.Engine("h1").KillContainer(first.deploy_id).ok());
  PastOnedsGuard(w, late);
  const auto killed_late = Clock::now();
  REQUIRE(w.Engine("h2").KillContainer(second.deploy_id).ok());
  w.WaitFor(late, kVmPoweroff, kLcmInit, 10);
  const double late_s = std::chrono::duration<double>(Clock::now() - killed_late).count();
  w.WaitFor(early, kVmPoweroff, kLcmInit, 40);
  const double early_s = std::chrono::duration<double>(Clock::now() - killed_early).count();
  MESSAGE("docker kill -> POWEROFF in oned: " << late_s << " s for a VM running over 30 s, "
                                              << early_s
                                              << " s for one killed 6 s after it started running");
  CHECK(late_s < 5);
  CHECK(early_s < 30);  // the guard ends 24 s after this kill
  w.Action("resume", late);
  w.WaitFor(late, kVmActive, kLcmRunning);
  CHECK(World::HttpGet(second.nics.front().ip).find("onedock test page") != std::string::npos);
}

TEST_CASE(
    "an engine that stops makes its host ERROR, and when it is back the host and its VMs return "
    "without a redeploy") {
  World w;
  w.WaitForHost("h2", 2);
  const int vm = w.CreateVm("survivor", 0.25, 64);
  w.Deploy(vm, "h2");
  const Vm running = w.WaitFor(vm, kVmActive, kLcmRunning);
  auto before = w.Engine("h2").InspectContainer(running.deploy_id);
  REQUIRE(before.ok());
  // Back to RUNNING from UNKNOWN is a STATE_VM, which oned ignores in its guard.
  PastOnedsGuard(w, vm);

  w.StopEngine("h2");
  const Host down = w.WaitForHost("h2", 3, 20);
  CHECK(down.template_attributes.at("ERROR").find("h2") != std::string::npos);
  w.WaitFor(vm, kVmActive, kLcmUnknown, 10);
  // The container outlives its engine (live-restore) and keeps serving.
  CHECK(World::HttpGet(running.nics.front().ip).find("onedock test page") != std::string::npos);

  w.StartEngine("h2");
  w.WaitForHost("h2", 2, 30);
  w.WaitFor(vm, kVmActive, kLcmRunning, 30);
  auto after = w.Engine("h2").InspectContainer(running.deploy_id);
  REQUIRE_MESSAGE(after.ok(), after.status().ToString());
  CHECK(after->id == before->id);
  CHECK(after->started_at == before->started_at);  // not restarted, not recreated
  CHECK(after->running);
}

}  // namespace
}  // namespace onedock::e2e
