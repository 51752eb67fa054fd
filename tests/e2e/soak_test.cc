// A randomized soak on real oned and both engines: creates, poweroffs, resumes, cold migrations,
// terminates, `docker kill`s behind OpenNebula's back and SIGKILLs of onedockd, for
// ONEDOCK_SOAK_SECONDS (120 by default, as CI runs it; longer by hand) from ONEDOCK_SOAK_SEED
// (printed). Then, after the reconcile passes have had their time, every VM oned still has runs
// or is powered off with exactly one container, on the host oned names, and nothing of this
// instance (container, volume, checkpoint in the private registry) is left of a VM that is gone.
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "bridge/container_plan.h"
#include "docker/registry_client.h"
#include "tests/e2e/world.h"
#include "tests/integration/bed.h"

namespace onedock::e2e {
namespace {

using Clock = std::chrono::steady_clock;

std::string Id(int n) { return std::to_string(n); }

long EnvOr(const char* name, long fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::strtol(v, nullptr, 10) : fallback;
}

bool Settled(const Vm& vm) {
  return vm.state == kVmDone || vm.state == kVmPoweroff ||
         (vm.state == kVmActive && vm.lcm_state == kLcmRunning) ||
         (vm.state == kVmActive && vm.lcm_state >= kLcmBootFailure);
}

struct Soak {
  World& w;
  std::mt19937 random;
  std::map<std::string, int> ops;    // what was asked
  std::map<std::string, int> found;  // what did not go as asked
  std::set<int> vms;                 // every VM made
  std::set<int> migrated;

  // The VM once it is settled (RUNNING, POWEROFF, DONE or a failure), within `seconds`.
  Vm Await(int id, double seconds) {
    const auto end = Clock::now() + std::chrono::duration<double>(seconds);
    Vm vm = w.Info(id);
    while (!Settled(vm) && Clock::now() < end) {
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
      vm = w.Info(id);
    }
    if (!Settled(vm)) ++found["not settled after " + std::to_string(int(seconds)) + " s"];
    return vm;
  }
  // oned's refusal counts as found, not as a failure of the run: a kill may have moved the VM.
  void Act(const std::string& action, int id) {
    ++ops[action];
    if (!w.CallError("one.vm.action", {xmlrpc_c::value_string(action), xmlrpc_c::value_int(id)})
             .empty())
      ++found[action + " refused by oned"];
  }
  std::vector<int> In(int state, int lcm) {
    std::vector<int> out;
    for (int id : vms) {
      const Vm vm = w.Info(id);
      if (vm.state == state && (lcm < 0 || vm.lcm_state == lcm)) out.push_back(id);
    }
    return out;
  }
  int Pick(const std::vector<int>& from) {
    return from[std::uniform_int_distribution<size_t>(0, from.size() - 1)(random)];
  }
  std::string HostOf(int id) {
    const Vm vm = w.Info(id);
    const History* h = vm.CurrentHistory();
    return h == nullptr ? "" : h->hostname;
  }

  void Step() {
    const auto running = In(kVmActive, kLcmRunning);
    const auto off = In(kVmPoweroff, -1);
    const int live = static_cast<int>(In(kVmActive, -1).size() + off.size());
    switch (std::uniform_int_distribution<int>(0, 9)(random)) {
      case 0:
      case 1: {
        if (live >= 6) return;
        ++ops["create"];
        const int id = w.CreateVm("soak", 0.1, 64, "DISK = [ TYPE = fs, SIZE = 8 ]");
        vms.insert(id);
        w.Deploy(id, random() % 2 == 0 ? "h1" : "h2");
        Await(id, 90);
        return;
      }
      case 2:
        if (running.empty()) return;
        Act("poweroff", Pick(running));
        return;
      case 3:
        if (off.empty()) return;
        Act("resume", Pick(off));
        return;
      case 4: {
        if (running.empty()) return;
        const int id = Pick(running);
        const std::string to = HostOf(id) == "h1" ? "h2" : "h1";
        ++ops["migrate"];
        migrated.insert(id);
        if (!w.CallError("one.vm.migrate",
                         {xmlrpc_c::value_int(id), xmlrpc_c::value_int(w.host(to)),
                          xmlrpc_c::value_boolean(false)})
                 .empty())
          ++found["migrate refused by oned"];
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        Await(id, 120);
        return;
      }
      case 5: {
        std::vector<int> any = running;
        any.insert(any.end(), off.begin(), off.end());
        if (any.empty()) return;
        const int id = Pick(any);
        Act("terminate-hard", id);
        Await(id, 60);
        return;
      }
      case 6:
      case 7: {
        if (running.empty()) return;
        const int id = Pick(running);
        ++ops["docker kill"];
        w.Engine(HostOf(id)).KillContainer("one-" + Id(id), "KILL");
        return;
      }
      case 8:
        ++ops["SIGKILL onedockd"];
        w.KillOnedockd();
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        w.StartOnedockd();
        return;
      default:
        std::this_thread::sleep_for(std::chrono::seconds(1));  // quiet time
        return;
    }
  }
};

TEST_CASE(
    "soak: random lifecycle actions, kills and onedockd crashes end with one container per live "
    "VM where oned says and nothing left of the others") {
  World w("[reconcile]\nperiod = 2\norphan_grace = 3\n");
  const long seconds = EnvOr("ONEDOCK_SOAK_SECONDS", 120);
  const auto seed = static_cast<unsigned>(EnvOr("ONEDOCK_SOAK_SEED", std::random_device{}()));
  MESSAGE("soak for " << seconds << " s from ONEDOCK_SOAK_SEED=" << seed);
  Soak soak{w, std::mt19937(seed), {}, {}, {}, {}};
  const auto end = Clock::now() + std::chrono::seconds(seconds);
  while (Clock::now() < end) soak.Step();

  // Let every VM settle; what ended in a failure state is terminated, as an operator would.
  for (int id : soak.vms) {
    Vm vm = soak.Await(id, 120);
    if (vm.state == kVmActive && vm.lcm_state >= kLcmBootFailure) {
      ++soak.found["failure state " + std::to_string(vm.lcm_state) + ", terminated"];
      soak.Act("terminate-hard", id);
      soak.Await(id, 60);
    }
  }
  // Two passes at least the grace apart; and a container killed just after its VM started
  // running is reported once oned's 30 s guard is over: up to 60 s for oned and the engines to
  // agree on every VM.
  std::this_thread::sleep_for(std::chrono::seconds(12));
  const auto agreed = [&] {
    for (int id : soak.vms) {
      const Vm vm = w.Info(id);
      if (vm.state == kVmDone || vm.CurrentHistory() == nullptr) continue;
      const auto here = w.ContainersOf(vm.CurrentHistory()->hostname, id);
      if (here.size() != 1) return false;
      if ((vm.state == kVmActive) != (here[0].state == "running")) return false;
    }
    return true;
  };
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  while (!agreed() && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::seconds(1));

  docker::RegistryClient registry("private", ThisSlot().Registry());
  const std::string ours = std::string(kLabelInstance) + "=" + w.instance();
  int live = 0, done = 0;
  for (int id : soak.vms) {
    CAPTURE(id);
    const Vm vm = w.Info(id);
    if (vm.state == kVmDone) {
      ++done;
      for (const char* engine : {"h1", "h2"}) {
        CHECK(w.ContainersOf(engine, id).empty());
        auto volumes = w.Engine(engine).ListVolumes({"one.vmid=" + Id(id), ours});
        REQUIRE(volumes.ok());
        CHECK(volumes->empty());
      }
      if (soak.migrated.count(id) != 0) {
        auto digest = registry.TagDigest("onedock-checkpoint/one-" + Id(id), "latest");
        CHECK_MESSAGE(digest.status().code() == Status::Code::kNotFound,
                      "checkpoint of VM " << id << " still in the registry");
      }
      continue;
    }
    ++live;
    REQUIRE(vm.CurrentHistory() != nullptr);
    const std::string host = vm.CurrentHistory()->hostname;
    const std::string other = host == "h1" ? "h2" : "h1";
    CAPTURE(host);
    CAPTURE(vm.state);
    CAPTURE(vm.lcm_state);
    const auto here = w.ContainersOf(host, id);
    CHECK(here.size() == 1);
    CHECK(w.ContainersOf(other, id).empty());
    if (here.size() == 1 && vm.state == kVmActive) CHECK(here[0].state == "running");
    if (here.size() == 1 && vm.state == kVmPoweroff) CHECK(here[0].state != "running");
  }
  // What the reconcile passes repaired, from onedockd's log.
  std::map<std::string, int> repaired;
  {
    std::ifstream log(w.root() + "/od/onedockd.log");
    const std::pair<const char*, const char*> kinds[] = {
        {"removed, orphaned", "orphans removed"},
        {"removed, a twin", "twins removed"},
        {"limits restored", "limits restored"},
        {"recorded in the journal", "journal rows learned"},
        {"image(s) deleted", "image deletions"},
        {"network removed", "networks removed"},
        {"not repaired", "repairs failed"},
        {"finished at restart", "deploys finished at restart"},
        {"rolled back", "deploys rolled back"}};
    for (std::string line; std::getline(log, line);) {
      for (const auto& [text, name] : kinds) {
        if (line.find(text) != std::string::npos) ++repaired[name];
      }
    }
  }
  std::string ops, found, repairs;
  for (const auto& [what, n] : repaired) repairs += what + " " + std::to_string(n) + ", ";
  for (const auto& [what, n] : soak.ops) ops += what + " " + std::to_string(n) + ", ";
  for (const auto& [what, n] : soak.found) found += what + " " + std::to_string(n) + ", ";
  MESSAGE("soak operations: " << ops << "VMs " << soak.vms.size() << " (" << live << " live, "
                              << done << " DONE); found: " << (found.empty() ? "nothing" : found)
                              << "; onedockd: " << (repairs.empty() ? "nothing" : repairs));
}

}  // namespace
}  // namespace onedock::e2e
