// The emulator's hotplug operations: NIC attach/detach and resize (reference §1.6, §3.5).
//
// Simplifications: the vnm pre/post/clean and the prereconfigure/CONTEXT/reconfigure steps that
// oned runs around attach_nic and detach_nic are not run; NIC_ALIAS is not supported.
#include <cstdlib>

#include "bridge/base64.h"
#include "tests/emulator/driver_runner.h"
#include "tests/emulator/one_state.h"

namespace onedock::emulator {

void OneState::DropNicLocked(Vm& vm, int nic_id) {
  std::string ip;
  std::erase_if(vm.templ.attributes, [nic_id, &ip](const TemplateAttribute& a) {
    const bool match = a.name == "NIC" && a.Get("NIC_ID") == std::to_string(nic_id);
    if (match) ip = a.Get("IP");
    return match;
  });
  for (auto& [vid, net] : vnets_) {
    for (Range& r : net.ranges) {
      std::erase_if(r.leases, [&](const Lease& l) { return l.vm_id == vm.id && l.ip == ip; });
    }
  }
}

Answer OneState::VmAttachNic(int id, const std::string& text) {
  auto parsed = ParseTemplateOrXml(text);
  if (!parsed.ok()) return Answer::BadTemplate(parsed.status());
  std::lock_guard lock(mu_);
  auto it = vms_.find(id);
  if (it == vms_.end()) return Answer::Missing("virtual machine", id);
  Vm& vm = it->second;
  auto nics = parsed->All("NIC");
  if (nics.size() != 1) return Answer::Error(kRpcApi, "The template must contain exactly one NIC");
  const bool running = vm.state == 3 && vm.lcm_state == 3;
  const TemplateAttribute* mad = VmMadLocked(vm);
  const bool cold = vm.state == 8 && mad != nullptr && mad->Get("COLD_NIC_ATTACH") == "yes";
  if (!running && vm.state != 8 && vm.state != 1 && vm.state != 2) {
    return Answer::Error(
        kAction, "Action \"nic-attach\" is not available for state " + std::to_string(vm.state));
  }
  int nic_id = 0;
  for (const TemplateAttribute* n : vm.templ.All("NIC"))
    nic_id = std::max(nic_id, std::atoi(n->Get("NIC_ID").c_str()) + 1);
  TemplateAttribute nic = *nics[0];
  if (Answer leased = LeaseNic(id, nic_id, &nic); !leased.ok()) return leased;
  vm.templ.attributes.push_back(nic);
  if (!running && !cold) return Answer::Id(id);     // a database change only
  SetStateLocked(vm, vm.state, running ? 25 : 65);  // HOTPLUG_NIC / HOTPLUG_NIC_POWEROFF
  Step step = VmmStep(vm, "attach_nic", true);
  if (step.error.empty()) {
    step.args = {
        vm.deploy_id,      nic.Get("MAC"),    nic.Get("BRIDGE"),  nic.Get("MODEL", "-"),
        nic.Get("VN_MAD"), nic.Get("TARGET"), std::to_string(id), vm.history.back().hostname};
  }
  const int to_state = running ? 3 : 8, to_lcm = running ? 3 : 0;
  VmmStepAsync(
      id, step, "ATTACHNIC", to_state, to_lcm,
      [this, to_state, to_lcm](Vm& v, const DriverRun&) { SetStateLocked(v, to_state, to_lcm); },
      [this, nic_id](Vm& v) { DropNicLocked(v, nic_id); });
  return Answer::Id(id);
}

Answer OneState::VmDetachNic(int id, int nic_id) {
  std::lock_guard lock(mu_);
  auto it = vms_.find(id);
  if (it == vms_.end()) return Answer::Missing("virtual machine", id);
  Vm& vm = it->second;
  TemplateAttribute* nic = nullptr;
  for (TemplateAttribute* n : vm.templ.All("NIC")) {
    if (n->Get("NIC_ID") == std::to_string(nic_id)) nic = n;
  }
  if (nic == nullptr)
    return Answer::Error(kAction,
                         "VM " + std::to_string(id) + " has no NIC " + std::to_string(nic_id));
  const bool running = vm.state == 3 && vm.lcm_state == 3;
  const TemplateAttribute* mad = VmMadLocked(vm);
  const bool cold = vm.state == 8 && mad != nullptr && mad->Get("COLD_NIC_ATTACH") == "yes";
  if (!running && vm.state != 8 && vm.state != 1 && vm.state != 2) {
    return Answer::Error(
        kAction, "Action \"nic-detach\" is not available for state " + std::to_string(vm.state));
  }
  const std::string mac = nic->Get("MAC");
  if (!running && !cold) {
    DropNicLocked(vm, nic_id);
    return Answer::Id(id);
  }
  SetStateLocked(vm, vm.state, running ? 25 : 65);
  Step step = VmmStep(vm, "detach_nic", true);
  if (step.error.empty())
    step.args = {vm.deploy_id, mac, std::to_string(id), vm.history.back().hostname};
  const int to_state = running ? 3 : 8, to_lcm = running ? 3 : 0;
  VmmStepAsync(id, step, "DETACHNIC", to_state, to_lcm,
               [this, nic_id, to_state, to_lcm](Vm& v, const DriverRun&) {
                 DropNicLocked(v, nic_id);
                 SetStateLocked(v, to_state, to_lcm);
               });
  return Answer::Id(id);
}

Answer OneState::VmResize(int id, const std::string& text, bool /*enforce*/) {
  auto parsed = ParseTemplateOrXml(text);
  if (!parsed.ok()) return Answer::BadTemplate(parsed.status());
  std::lock_guard lock(mu_);
  auto it = vms_.find(id);
  if (it == vms_.end()) return Answer::Missing("virtual machine", id);
  Vm& vm = it->second;
  const bool running = vm.state == 3 && vm.lcm_state == 3;
  const bool offline =
      vm.state == 0 || vm.state == 1 || vm.state == 2 || vm.state == 8 || vm.state == 9;
  const TemplateAttribute* mad = VmMadLocked(vm);
  if (running && (mad == nullptr || mad->Get("LIVE_RESIZE") != "yes")) {
    return Answer::Error(kAction, "Resize of a RUNNING VM needs LIVE_RESIZE = yes in its VM_MAD");
  }
  if (!running && !offline) {
    return Answer::Error(
        kAction, "Action \"resize\" is not available for state " + std::to_string(vm.state));
  }
  Template before = vm.templ;
  for (const char* key : {"CPU", "VCPU", "MEMORY"}) {
    if (const std::string v = parsed->Get(key); !v.empty()) vm.templ.Set(key, v);
  }
  if (!running) return Answer::Id(id);
  SetStateLocked(vm, 3, 66);  // HOTPLUG_RESIZE
  Step step = VmmStep(vm, "resize", true);
  VmmStepAsync(
      id, step, "RESIZE", 3, 3, [this](Vm& v, const DriverRun&) { SetStateLocked(v, 3, 3); },
      [before](Vm& v) { v.templ = before; });  // the old capacity stays
  return Answer::Id(id);
}

}  // namespace onedock::emulator
