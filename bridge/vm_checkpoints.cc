#include <algorithm>

#include "bridge/log.h"
#include "bridge/ownership.h"
#include "bridge/vm_actions.h"

namespace onedock {
namespace {

bool Is(const Status& s, Status::Code code) { return s.code() == code; }

// "repo:tag@sha256:…" → "repo@sha256:…": the image by its digest alone, so that no local image
// of the tag's name can stand in for it.
std::string ByDigest(const std::string& pushed) {
  const auto at = pushed.find('@');
  const std::string named = pushed.substr(0, at);
  const auto colon = named.find_last_of(':');
  const auto slash = named.find_last_of('/');
  const bool tagged = colon != std::string::npos && (slash == std::string::npos || colon > slash);
  return (tagged ? named.substr(0, colon) : named) + pushed.substr(at);
}

}  // namespace

Status VmActions::CheckOwnSnapshot(int vm_id, const std::string& action,
                                   const std::string& reference, std::string* pinned) {
  const std::string prefix =
      settings_.plan.registry + "/onedock-snapshot/" + ContainerName(vm_id) + ":s";
  const std::string id = reference.rfind(prefix, 0) == 0 ? reference.substr(prefix.size()) : "";
  const bool named_so =
      !id.empty() && id.size() < 10 && std::all_of(id.begin(), id.end(), ::isdigit);
  auto recorded = named_so ? journal_.SnapshotOf(vm_id, reference)
                           : Result<std::optional<std::string>>(std::nullopt);
  if (!recorded.ok()) return recorded.status();
  if (!*recorded) {
    return InvalidArgument(action + " vm " + std::to_string(vm_id) + ": \"" + reference +
                           "\" is not a snapshot onedock took of this VM; refused");
  }
  *pinned = **recorded;
  return Status::Ok();
}

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
  const std::string pinned = reference + "@" + *pushed;
  // Recorded so that it is deleted from the registry once the VM is gone.
  if (Status r = journal_.RecordPushed(vm_id, pinned); !r.ok()) return r;
  return pinned;
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
    // Revert and delete act on the pushed digest only, and only on what is recorded here.
    return journal_.RecordSnapshot(vm.id, reference, ByDigest(*r));
  });
  if (!s.ok()) return s;
  return reference;
}

Status VmActions::SnapshotRevert(const Vm& vm, const std::string& host,
                                 const std::string& reference) {
  auto lock = LockVm(vm.id);
  std::string pinned;
  if (Status own = CheckOwnSnapshot(vm.id, "snapshot_revert", reference, &pinned); !own.ok())
    return own;
  Status s = Journaled(vm.id, "snapshot_revert", host, [&]() -> Status {
    auto engine = engines_.Acquire(host);
    if (!engine.ok()) return engine.status();
    auto c = OurContainer(**engine, vm.id);
    if (!c.ok()) return Is(c.status(), Status::Code::kNotFound) ? Status::Ok() : c.status();
    Status removed = (*engine)->RemoveContainer(ContainerName(vm.id), true, false);
    return Is(removed, Status::Code::kNotFound) ? Status::Ok() : removed;
  });
  if (!s.ok()) return s;
  auto deployed = DeployLocked(vm, host, pinned);
  return deployed.ok() ? Status::Ok() : deployed.status();
}

Status VmActions::SnapshotDelete(int vm_id, const std::string& host, const std::string& reference) {
  auto lock = LockVm(vm_id);
  std::string pinned;
  if (Status own = CheckOwnSnapshot(vm_id, "snapshot_delete", reference, &pinned); !own.ok())
    return own;
  return Journaled(vm_id, "snapshot_delete", host, [&]() -> Status {
    auto engine = engines_.Acquire(host);
    if (!engine.ok()) return engine.status();
    // The local tag is removed only while it is still the image onedock committed for this VM.
    auto image = (*engine)->InspectImage(reference);
    if (!image.ok() && !Is(image.status(), Status::Code::kNotFound)) return image.status();
    if (image.ok() && !IsOurs(image->labels, vm_id, settings_.plan.instance))
      return NotOurs("image " + reference, image->labels);
    Status s = image.ok() ? (*engine)->RemoveImage(reference, false) : Status::Ok();
    // 409: the running container was reverted to it and still uses it.
    // The record stays until the reconcile pass deletes the registry copy (oned no longer lists
    // the snapshot) or the VM is forgotten, so that a repeated call finds it done.
    if (!s.ok() && !Is(s, Status::Code::kNotFound) && !Is(s, Status::Code::kConflict)) return s;
    return Status::Ok();
  });
}

}  // namespace onedock
