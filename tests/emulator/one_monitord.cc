// The emulator's monitord: how SYSTEM_HOST, MONITOR_HOST, BEACON_HOST, MONITOR_VM and STATE_VM
// messages change hosts and VMs (reference §4.3–§4.7, §2.5 "monitor says …").
//
// Simplifications: no RSA payload decryption (unencrypted messages are what monitord always
// accepts); STATE_VM POWEROFF for a VM in SHUTDOWN* is ignored rather than completing the
// in-flight shutdown; the 30 s guard after a VM starts or stops running is STATE_VM_GUARD
// seconds (default 30, as oned).
#include <algorithm>
#include <cstdlib>
#include <ctime>

#include "bridge/base64.h"
#include "tests/emulator/one_state.h"

namespace onedock::emulator {
namespace {

bool IsBoot(int lcm) {
  return lcm == 2 || lcm == 19 || lcm == 20 || lcm == 21 || lcm == 22 || lcm == 32 || lcm == 35 ||
         lcm == 36 || lcm == 37 || lcm == 47 || lcm == 48;
}

}  // namespace

void OneState::SetHostStateLocked(Host& host, int state) {
  if (host.state != state) host.last_ts.clear();  // timestamps reset on state changes
  host.state = state;
}

bool OneState::ApplyMonitord(const MonitordInput& m) {
  std::lock_guard lock(mu_);
  auto it = hosts_.find(m.host_id);
  if (it == hosts_.end() || it->second.state == 8) return false;  // unknown or OFFLINE
  Host& host = it->second;
  if (m.type != "BEACON_HOST" && m.timestamp != 0) {
    int64_t& last = host.last_ts[m.type];
    if (m.timestamp < last) return false;  // "out of order message ignored"
    last = m.timestamp;
  }
  const bool host_message =
      m.type == "BEACON_HOST" || m.type == "MONITOR_HOST" || m.type == "SYSTEM_HOST";
  if (!m.success) {
    if (!host_message) return false;
    if (host.state != 4) {  // a DISABLED host does not go to ERROR
      SetHostStateLocked(host, 3);
      host.templ.Set("ERROR", m.payload);
      for (auto& [id, vm] : vms_) {
        if (vm.hid == host.id && vm.state == 3 && vm.lcm_state == 3) SetStateLocked(vm, 3, 16);
      }
    }
    return true;
  }
  if (m.type == "BEACON_HOST") return true;
  auto parsed = ParseTemplate(m.payload);
  if (!parsed.ok()) return false;
  Template t = std::move(*parsed);
  if (m.type == "SYSTEM_HOST") {
    host.total_cpu = std::atoll(t.Get("TOTALCPU", std::to_string(host.total_cpu)).c_str());
    host.total_mem = std::atoll(t.Get("TOTALMEMORY", std::to_string(host.total_mem)).c_str());
    host.free_disk_mb =
        std::atoll(t.Get("DS_LOCATION_FREE_MB", std::to_string(host.free_disk_mb)).c_str());
    for (const char* k : {"DS_LOCATION_USED_MB", "DS_LOCATION_TOTAL_MB", "DS_LOCATION_FREE_MB"})
      t.Erase(k);
    host.templ.Erase("ERROR");
    host.templ.Merge(t);
    if (host.state == 0 || host.state == 3) SetHostStateLocked(host, 2);
    return true;
  }
  if (m.type == "MONITOR_HOST") {
    host.monitoring = std::move(t);
    return true;
  }
  if (m.type == "MONITOR_VM") {
    bool applied = false;
    for (const TemplateAttribute* v : t.All("VM")) {
      auto vm = vms_.find(std::atoi(v->Get("ID", "-1").c_str()));
      if (vm == vms_.end() || vm->second.hid != host.id) continue;
      auto text = Base64Decode(v->Get("MONITOR"));
      if (!text.ok()) continue;
      auto record = ParseTemplate(*text);
      if (!record.ok()) continue;
      vm->second.monitoring.Merge(*record);
      vm->second.monitoring.Set("TIMESTAMP", std::to_string(m.timestamp));
      applied = true;
    }
    return applied;
  }
  if (m.type == "STATE_VM") return ApplyStateVmLocked(host, t);
  return false;  // EXEC_VM: not used by onedock
}

bool OneState::ApplyStateVmLocked(Host& host, const Template& report) {
  const int64_t now = std::time(nullptr);
  const int64_t guard = std::atoll(config_.Get("STATE_VM_GUARD", "30").c_str());
  auto apply = [&](Vm& vm, const std::string& state) {
    if (now - vm.running_changed < guard) return false;  // races with driver replies
    const bool running = vm.state == 3 && vm.lcm_state == 3;
    const bool unknown = vm.state == 3 && vm.lcm_state == 16;
    if (state == "RUNNING") {
      if (vm.state == 8 || vm.state == 5 || (vm.state == 3 && (unknown || IsBoot(vm.lcm_state)))) {
        SetStateLocked(vm, 3, 3);
        vm.running_changed = now;
        return true;
      }
    } else if (state == "POWEROFF") {
      if (running || unknown) {
        SetStateLocked(vm, 8, 0);
        vm.running_changed = now;
        return true;
      }
    } else if (state == "SUSPENDED") {
      if (running || unknown) {
        SetStateLocked(vm, 5, 0);
        return true;
      }
    } else if (state == "FAILURE" || state == "UNKNOWN") {
      if (running) {
        SetStateLocked(vm, 3, 16);
        return true;
      }
    }
    return false;
  };
  bool changed = false;
  std::vector<int> listed;
  for (const TemplateAttribute* v : report.All("VM")) {
    const int id = std::atoi(v->Get("ID", "-1").c_str());
    listed.push_back(id);
    auto it = vms_.find(id);
    if (it == vms_.end() || it->second.history.empty() || it->second.hid != host.id) continue;
    const std::string state = v->Get("STATE");
    if (state == "RUNNING" && !v->Get("DEPLOY_ID").empty())
      it->second.deploy_id = v->Get("DEPLOY_ID");
    changed = apply(it->second, state) || changed;
  }
  if (report.Get("SYNC_STATE") == "yes") {
    const std::string missing = report.Get("MISSING_STATE");
    if (missing == "POWEROFF" || missing == "UNKNOWN") {
      for (auto& [id, vm] : vms_) {
        if (vm.hid != host.id || std::find(listed.begin(), listed.end(), id) != listed.end())
          continue;
        if (vm.state == 3 && (vm.lcm_state == 3 || vm.lcm_state == 16)) {
          changed = apply(vm, missing) || changed;
        }
      }
    }
  }
  return changed;
}

}  // namespace onedock::emulator
