#include <algorithm>

#include "bridge/log.h"
#include "bridge/vm_actions.h"

namespace onedock {
namespace {

bool Is(const Status& s, Status::Code code) { return s.code() == code; }

}  // namespace

Result<std::string> VmActions::CommitAndPush(Engine& engine, int vm_id, const std::string& repo,
                                             const std::string& tag) {
  CommitRequest commit;
  commit.container = ContainerName(vm_id);
  commit.repo = repo;
  commit.tag = tag;
  commit.author = settings_.plan.instance;
  commit.labels = {{kLabelVmId, std::to_string(vm_id)}, {kLabelInstance, settings_.plan.instance}};
  commit.pause = true;
  auto id = engine.Commit(commit);
  if (!id.ok()) return id.status();
  const std::string reference = repo + ":" + tag;
  auto pushed = engine.PushImage(reference, settings_.registry_auth);
  if (!pushed.ok()) return pushed.status();
  return reference + "@" + *pushed;
}

Status VmActions::Save(const Vm& vm, const std::string& host) {
  auto lock = LockVm(vm.id);
  return Journaled(vm.id, "save", host, [&]() -> Status {
    auto engine = engines_.Acquire(host);
    if (!engine.ok()) return engine.status();
    if (auto c = OurContainer(**engine, vm.id); !c.ok()) return c.status();
    auto reference = CommitAndPush(
        **engine, vm.id, settings_.plan.registry + "/onedock-checkpoint/" + ContainerName(vm.id),
        "latest");
    if (!reference.ok()) return reference.status();
    auto stopped = (*engine)->StopContainer(ContainerName(vm.id), settings_.plan.stop_timeout_s);
    if (!stopped.ok()) return stopped.status();
    auto placement = journal_.PlacementOf(vm.id);
    if (!placement.ok()) return placement.status();
    Placement p = placement->value_or(Placement{vm.id, host, false, ""});
    p.host = host;
    // Pinned by digest: another host may hold an older image of that name (an earlier checkpoint,
    // or another installation's VM of the same id), which must not stand in for this one.
    p.checkpoint = *reference;
    return journal_.Place(p);
  });
}

Result<std::string> VmActions::Restore(const Vm& vm, const std::string& host) {
  auto lock = LockVm(vm.id);
  auto placement = journal_.PlacementOf(vm.id);
  if (!placement.ok()) return placement.status();
  const auto& p = *placement;
  if (!p || p->checkpoint.empty()) {
    return FailedPrecondition("restore vm " + std::to_string(vm.id) + " on host " + host +
                              ": onedock holds no checkpoint for this VM");
  }
  // On the host that saved it, the stopped container still holds the VM's files.
  return DeployLocked(vm, host, p->host == host ? "" : p->checkpoint);
}

Result<std::string> VmActions::SnapshotCreate(const Vm& vm, const std::string& host,
                                              const std::string& snap_id) {
  auto lock = LockVm(vm.id);
  std::string reference;
  Status s = Journaled(vm.id, "snapshot_create", host, [&]() -> Status {
    if (snap_id.empty() || !std::all_of(snap_id.begin(), snap_id.end(), ::isdigit)) {
      return InvalidArgument("snapshot id \"" + snap_id + "\" is not a number");
    }
    auto engine = engines_.Acquire(host);
    if (!engine.ok()) return engine.status();
    if (auto c = OurContainer(**engine, vm.id); !c.ok()) return c.status();
    auto r = CommitAndPush(**engine, vm.id,
                           settings_.plan.registry + "/onedock-snapshot/" + ContainerName(vm.id),
                           "s" + snap_id);
    if (!r.ok()) return r.status();
    reference = r->substr(0, r->find('@'));  // the HYPERVISOR_ID names the tag
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return reference;
}

Status VmActions::SnapshotRevert(const Vm& vm, const std::string& host,
                                 const std::string& reference) {
  auto lock = LockVm(vm.id);
  const std::string prefix =
      settings_.plan.registry + "/onedock-snapshot/" + ContainerName(vm.id) + ":";
  if (reference.rfind(prefix, 0) != 0) {
    return InvalidArgument("snapshot_revert vm " + std::to_string(vm.id) + ": \"" + reference +
                           "\" is not one of this VM's snapshots");
  }
  Status s = Journaled(vm.id, "snapshot_revert", host, [&]() -> Status {
    auto engine = engines_.Acquire(host);
    if (!engine.ok()) return engine.status();
    auto c = OurContainer(**engine, vm.id);
    if (!c.ok()) return Is(c.status(), Status::Code::kNotFound) ? Status::Ok() : c.status();
    Status removed = (*engine)->RemoveContainer(ContainerName(vm.id), true, false);
    return Is(removed, Status::Code::kNotFound) ? Status::Ok() : removed;
  });
  if (!s.ok()) return s;
  auto deployed = DeployLocked(vm, host, reference);
  return deployed.ok() ? Status::Ok() : deployed.status();
}

Status VmActions::SnapshotDelete(int vm_id, const std::string& host, const std::string& reference) {
  auto lock = LockVm(vm_id);
  return Journaled(vm_id, "snapshot_delete", host, [&]() -> Status {
    auto engine = engines_.Acquire(host);
    if (!engine.ok()) return engine.status();
    Status s = (*engine)->RemoveImage(reference, false);
    // 409: the running container was reverted to it and still uses it.
    if (Is(s, Status::Code::kNotFound) || Is(s, Status::Code::kConflict)) return Status::Ok();
    return s;
  });
}

}  // namespace onedock
