// The emulator's cold migration (type 0, save/restore) and system snapshots (reference §2.5,
// §3.5). Simplification: live migration and the poweroff migration types 1 and 2 answer
// "not supported by the emulator".
#include <algorithm>
#include <cctype>
#include <ctime>
#include <filesystem>
#include <fstream>

#include "tests/emulator/driver_runner.h"
#include "tests/emulator/one_state.h"

namespace onedock::emulator {

Answer OneState::VmMigrate(int id, int host_id, bool live, int type) {
  std::lock_guard lock(mu_);
  auto it = vms_.find(id);
  if (it == vms_.end()) return Answer::Missing("virtual machine", id);
  auto host = hosts_.find(host_id);
  if (host == hosts_.end()) return Answer::Missing("host", host_id);
  Vm& vm = it->second;
  if (live || type != 0)
    return Answer::Error(kAction, "Only cold migration (save) is supported by the emulator");
  if (!(vm.state == 3 && vm.lcm_state == 3)) {
    return Answer::Error(kAction, "Action \"migrate\" is not available for state " +
                                      std::to_string(vm.state) + "/" +
                                      std::to_string(vm.lcm_state));
  }
  if (host_id == vm.hid)
    return Answer::Error(kAction, "VM is already running on host " + std::to_string(host_id));
  SetStateLocked(vm, 3, 7);  // SAVE_MIGRATE
  vm.migrate_to = host_id;
  Background([this, id] { MigrateFlow(id); });
  return Answer::Id(id);
}

void OneState::MigrateFlow(int vm_id) {
  Step save;
  {
    std::lock_guard lock(mu_);
    save = VmmStep(vms_.at(vm_id), "save", true);
  }
  DriverRun run = RunStep(save);
  std::vector<Step> moves;
  {
    std::lock_guard lock(mu_);
    Vm& vm = vms_.at(vm_id);
    const int dest = vm.migrate_to;
    vm.migrate_to = -1;
    if (!run.ok()) {
      FailLocked(vm, 3, 3, "SAVE", StepFailure(save, run));  // back to RUNNING
      return;
    }
    SetStateLocked(vm, 3, 8);  // PROLOG_MIGRATE
    const HistoryRecord src = vm.history.back();
    const Host& to = hosts_.at(dest);
    vm.history.push_back(
        {src.seq + 1, to.name, to.id, src.ds_id, std::time(nullptr), to.vm_mad, src.tm_mad, 1});
    vm.hid = to.id;
    const std::string sysdir = SystemDirLocked(vm);
    std::ofstream transfer(config_.Get("VMS_LOCATION") + "/" + std::to_string(vm_id) +
                           "/transfer." + std::to_string(src.seq + 1) + ".migrate");
    for (const TemplateAttribute* d : vm.templ.All("DISK")) {
      const bool is_volatile = d->Get("IMAGE_ID").empty();  // moved by the system datastore's TM
      const std::string disk = sysdir + "/disk." + d->Get("DISK_ID");
      moves.push_back(
          TmStep("MV", is_volatile ? src.tm_mad : d->Get("TM_MAD"),
                 {src.hostname + ":" + disk, to.name + ":" + disk, std::to_string(vm_id),
                  is_volatile ? std::to_string(src.ds_id) : d->Get("DATASTORE_ID")},
                 transfer));
    }
    moves.push_back(TmStep("MV", src.tm_mad,
                           {src.hostname + ":" + sysdir, to.name + ":" + sysdir,
                            std::to_string(vm_id), std::to_string(src.ds_id)},
                           transfer));
  }
  for (const Step& mv : moves) {
    DriverRun moved = RunStep(mv);
    if (!moved.ok()) {
      std::lock_guard lock(mu_);
      FailLocked(vms_.at(vm_id), 3, 38, "TRANSFER", StepFailure(mv, moved));
      return;
    }
  }
  Step restore;
  {
    std::lock_guard lock(mu_);
    Vm& vm = vms_.at(vm_id);
    SetStateLocked(vm, 3, 35);  // BOOT_MIGRATE
    restore = VmmStep(vm, "restore", true);
  }
  DriverRun restored = RunStep(restore);
  std::lock_guard lock(mu_);
  Vm& vm = vms_.at(vm_id);
  if (!restored.ok()) {
    FailLocked(vm, 3, 37, "RESTORE", StepFailure(restore, restored));
    return;
  }
  SetStateLocked(vm, 3, 3);
  vm.running_changed = std::time(nullptr);
}

Answer OneState::VmSnapshotCreate(int id, const std::string& name) {
  std::lock_guard lock(mu_);
  auto it = vms_.find(id);
  if (it == vms_.end()) return Answer::Missing("virtual machine", id);
  Vm& vm = it->second;
  if (!(vm.state == 3 && vm.lcm_state == 3))
    return Answer::Error(kAction, "Action \"snapshot-create\" is not available");
  int snap_id = 0;
  for (const TemplateAttribute* s : vm.templ.All("SNAPSHOT")) {
    snap_id = std::max(snap_id, std::atoi(s->Get("SNAPSHOT_ID").c_str()) + 1);
  }
  SetStateLocked(vm, 3, 24);  // HOTPLUG_SNAPSHOT
  Step step = VmmStep(vm, "snapshot_create", true);
  if (step.error.empty())
    step.args = {vm.deploy_id, std::to_string(snap_id), std::to_string(id),
                 vm.history.back().hostname};
  const std::string snap_name = name.empty() ? "snapshot-" + std::to_string(snap_id) : name;
  VmmStepAsync(id, step, "SNAPSHOTCREATE", 3, 3,
               [this, snap_id, snap_name](Vm& vm, const DriverRun& run) {
                 // The first word of snapshot_create's stdout is the snapshot's HYPERVISOR_ID.
                 const std::vector<std::string> out = SplitWords(run.out);
                 if (out.empty()) {
                   FailLocked(vm, 3, 3, "SNAPSHOTCREATE", "empty snapshot id");
                   return;
                 }
                 vm.templ.attributes.push_back({"SNAPSHOT",
                                                "",
                                                {{"SNAPSHOT_ID", std::to_string(snap_id)},
                                                 {"NAME", snap_name},
                                                 {"HYPERVISOR_ID", out[0]},
                                                 {"ACTIVE", "YES"},
                                                 {"TIME", std::to_string(std::time(nullptr))}},
                                                true});
                 SetStateLocked(vm, 3, 3);
               });
  return Answer::Id(snap_id);
}

namespace {

TemplateAttribute* FindSnapshot(Template& t, int snap_id) {
  for (TemplateAttribute* s : t.All("SNAPSHOT")) {
    if (s->Get("SNAPSHOT_ID") == std::to_string(snap_id)) return s;
  }
  return nullptr;
}

}  // namespace

Answer OneState::VmSnapshotRevert(int id, int snap_id) {
  return SnapshotStep(id, snap_id, "snapshot_revert",
                      [this](Vm& vm, const DriverRun&) { SetStateLocked(vm, 3, 3); });
}

Answer OneState::VmSnapshotDelete(int id, int snap_id) {
  return SnapshotStep(id, snap_id, "snapshot_delete", [this, snap_id](Vm& vm, const DriverRun&) {
    std::erase_if(vm.templ.attributes, [snap_id](const TemplateAttribute& a) {
      return a.name == "SNAPSHOT" && a.Get("SNAPSHOT_ID") == std::to_string(snap_id);
    });
    SetStateLocked(vm, 3, 3);
  });
}

// snapshot_revert and snapshot_delete: the same checks, argv and failure handling.
Answer OneState::SnapshotStep(int id, int snap_id, const std::string& action,
                              std::function<void(Vm&, const DriverRun&)> done) {
  std::lock_guard lock(mu_);
  auto it = vms_.find(id);
  if (it == vms_.end()) return Answer::Missing("virtual machine", id);
  Vm& vm = it->second;
  TemplateAttribute* snap = FindSnapshot(vm.templ, snap_id);
  if (snap == nullptr)
    return Answer::Error(kAction, "Snapshot " + std::to_string(snap_id) + " does not exist");
  if (!(vm.state == 3 && vm.lcm_state == 3))
    return Answer::Error(kAction, "Action \"" + action + "\" is not available");
  SetStateLocked(vm, 3, 24);  // HOTPLUG_SNAPSHOT
  Step step = VmmStep(vm, action, true);
  if (step.error.empty())
    step.args = {vm.deploy_id, snap->Get("HYPERVISOR_ID"), std::to_string(id),
                 vm.history.back().hostname};
  std::string name = action;
  name.erase(std::remove(name.begin(), name.end(), '_'), name.end());
  for (char& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  VmmStepAsync(id, step, name, 3, 3, std::move(done));  // SNAPSHOTREVERT / SNAPSHOTDELETE
  return Answer::Id(id);
}

}  // namespace onedock::emulator
