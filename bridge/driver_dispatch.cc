#include "bridge/driver_dispatch.h"

#include <cctype>
#include <set>

#include "bridge/log.h"

namespace onedock::bridge {
namespace {

DriverAnswer Answer(const Status& s, const std::string& out = "") {
  if (s.ok()) return {0, out, ""};
  return {1, "", s.message()};
}

DriverAnswer Answer(const Result<std::string>& r) { return r.ok() ? Answer(Status::Ok(), *r) : Answer(r.status()); }

DriverAnswer Refuse(const std::string& message) { return {1, "", message}; }

bool IsNumber(const std::string& s) {
  return !s.empty() && s.size() < 10 && std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(c); });
}

// VMM scripts get "<params…> <vmid> <host>" (reference §3.5).
DriverAnswer Vmm(VmActions& actions, const DriverCall& call) {
  const auto& a = call.argv;
  const std::string& action = call.action;
  if (action == "migrate" || action == "attach_disk" || action == "detach_disk" || action == "resize_disk" ||
      action == "exec" || action == "exec_cancel" || action == "poll") {
    return Refuse(action + " is not supported by onedock: containers have no live migration, hot-plugged "
                           "disks or guest exec channel; use cold migration and volumes at deploy");
  }
  if (a.size() < 2 || !IsNumber(a[a.size() - 2])) {
    return Refuse("onedock " + action + ": expected \"<params> <vmid> <host>\", got " + std::to_string(a.size()) +
                  " arguments");
  }
  const int vm_id = std::stoi(a[a.size() - 2]);
  const std::string& host = a.back();
  auto param = [&a](size_t i) { return i + 2 < a.size() ? a[i] : std::string(); };
  static const std::set<std::string> kNeedVm = {"deploy", "save", "restore", "resize", "attach_nic",
                                                "detach_nic", "snapshot_create", "snapshot_revert"};
  if (kNeedVm.count(action) != 0) {
    if (!call.vm) return Refuse("onedock " + action + " vm " + std::to_string(vm_id) + ": stdin carries no <VM> document");
    if (call.vm->id != vm_id) {
      return Refuse("onedock " + action + ": stdin describes vm " + std::to_string(call.vm->id) + ", argv names vm " +
                    std::to_string(vm_id));
    }
  }
  if (action == "deploy") return Answer(actions.Deploy(*call.vm, host));
  if (action == "shutdown") return Answer(actions.Shutdown(vm_id, host));
  if (action == "cancel") return Answer(actions.Cancel(vm_id, host));
  if (action == "reboot") return Answer(actions.Reboot(vm_id, host, false));
  if (action == "reset") return Answer(actions.Reboot(vm_id, host, true));
  if (action == "resize") return Answer(actions.Resize(*call.vm, host));
  if (action == "attach_nic") return Answer(actions.AttachNic(*call.vm, host, param(1)));
  if (action == "detach_nic") return Answer(actions.DetachNic(*call.vm, host, param(1)));
  if (action == "save") return Answer(actions.Save(*call.vm, host));
  if (action == "restore") {
    auto r = actions.Restore(*call.vm, host);
    return r.ok() ? Answer(Status::Ok()) : Answer(r.status());
  }
  if (action == "snapshot_create") return Answer(actions.SnapshotCreate(*call.vm, host, param(1)));
  if (action == "snapshot_revert") return Answer(actions.SnapshotRevert(*call.vm, host, param(1)));
  if (action == "snapshot_delete") return Answer(actions.SnapshotDelete(vm_id, host, param(1)));
  // The context lives in the container and is rewritten at every start; a running container
  // keeps what it booted with, as a VM keeps its mounted context ISO until it re-reads it.
  if (action == "prereconfigure" || action == "reconfigure") return Answer(Status::Ok());
  return Refuse(action + " is not a VMM action onedock knows");
}

// TM scripts get "<src or dst…> <vmid> <dsid>"; paths are "<host>:<path>" (reference §5.2).
DriverAnswer Tm(VmActions& actions, const DriverCall& call) {
  const auto& a = call.argv;
  if (call.action == "delete") {
    if (a.size() != 3 || !IsNumber(a[1])) return Refuse("onedock tm delete: expected \"<host>:<path> <vmid> <dsid>\"");
    const auto colon = a[0].find(':');
    if (colon == std::string::npos) return Refuse("onedock tm delete: \"" + a[0] + "\" is not <host>:<path>");
    const std::string host = a[0].substr(0, colon);
    const std::string path = a[0].substr(colon + 1);
    // Only the VM directory's deletion ends the VM; disk files have nothing behind them.
    std::string tail = path;
    while (!tail.empty() && tail.back() == '/') tail.pop_back();
    tail = tail.substr(tail.find_last_of('/') + 1);
    if (tail != a[1]) return Answer(Status::Ok());
    return Answer(actions.Remove(std::stoi(a[1]), host));
  }
  if (call.action == "mkswap") {
    return Refuse("onedock tm mkswap: swap disks are not supported: a container has no swap device, and MEMORY "
                  "sets its memory and memory+swap limits equal; remove the swap DISK from the template");
  }
  // Container hosts have no disk files to clone, link, move or build a context ISO for: the
  // image is pulled at deploy, data disks become volumes at deploy (a persistent image's volume
  // keeps its data where it is, so mvds has nothing to save) and the context is uploaded into the
  // container.
  static const std::set<std::string> kNothingToDo = {"clone", "ln", "mv", "mvds", "context", "premigrate",
                                                     "postmigrate", "failmigrate", "mkimage"};
  if (kNothingToDo.count(call.action) != 0) return Answer(Status::Ok());
  const std::string& action = call.action;
  if (action.rfind("snap_", 0) == 0) {
    return Refuse("onedock tm " + action + ": disk snapshots are not supported: data disks are Docker volumes, "
                  "which have no snapshots; take a system snapshot (onevm snapshot-create) of the container instead");
  }
  if (action == "cpds") {
    return Refuse("onedock tm cpds: saving a disk as a new image (disk-saveas) is not supported");
  }
  if (action == "resize") return Refuse("onedock tm resize: a volume has no size to change (SIZE is not enforced)");
  if (action == "restore" || action.rfind("prebackup", 0) == 0 || action.rfind("postbackup", 0) == 0) {
    return Refuse("onedock tm " + action + ": VM backups are not supported by onedock");
  }
  return Refuse("tm " + action + " is not supported by onedock");
}

// Network driver steps of a vnet with VN_MAD onedock (reference §3.7): one_vmm_exec runs pre, post
// and clean around deploy, save, restore, migration and NIC hotplug, update_sg when a security
// group changes and update_nic when a vnet does; oned's IPAM driver runs vnet_create and
// vnet_delete. None changes anything on the front-end: a vnet's Docker network is made on a host
// by the deploy that first needs it there.
DriverAnswer Vnm(const DriverCall& call) {
  const std::string& action = call.action;
  if (action == "pre") {
    // The step sees every NIC of the VM: another driver's steps (bridge, say) would change the
    // front-end's own network, since onedock's VM_MAD runs network steps locally.
    if (call.vm) {
      for (const Nic& nic : call.vm->nics) {
        if (!nic.vn_mad.empty() && nic.vn_mad != "onedock" && nic.vn_mad != "dummy") {
          return Refuse("onedock vnm pre vm " + std::to_string(call.vm->id) + ": NIC " + std::to_string(nic.nic_id) +
                        " is on a vnet with VN_MAD " + nic.vn_mad + "; onedock hosts take vnets with VN_MAD onedock");
        }
      }
    }
    return Answer(Status::Ok());
  }
  if (action == "update_sg") {
    NamedLogger("actions")->info("vnm update_sg {}: security group rules are not applied to containers",
                                 call.argv.empty() ? std::string("-") : call.argv[0]);
    return Answer(Status::Ok());
  }
  static const std::set<std::string> kNothingToDo = {"post", "clean", "update_nic", "vnet_create", "vnet_delete"};
  if (kNothingToDo.count(action) != 0) return Answer(Status::Ok());
  return Refuse("vnm " + action + " is not a network driver action onedock knows");
}

// TM clone/ln: "<SOURCE> <host>:<path> <vmid> <dsid>"; SOURCE is used as oned recorded it.
DriverAnswer PrePull(ImageStore& images, EngineProvider& engines, const DriverCall& call) {
  const auto& a = call.argv;
  if (a.size() != 4 || !IsNumber(a[2])) {
    return Refuse("onedock tm " + call.action + ": expected \"<source> <host>:<path> <vmid> <dsid>\"");
  }
  const auto colon = a[1].find(':');
  if (colon == std::string::npos || colon == 0) return Refuse("onedock tm " + call.action + ": \"" + a[1] + "\" is not <host>:<path>");
  const std::string host = a[1].substr(0, colon);
  if (VolumeImageId(a[0])) return Answer(Status::Ok());  // a data volume: made at deploy
  const std::string what = "tm " + call.action + " vm " + a[2] + " on host " + host;
  // The pull is ahead of time only: the deploy pulls what is missing and fails with the reason,
  // so a pull that fails here (an engine that is down, say) does not fail the prolog.
  auto engine = engines.Acquire(host);
  Status s = engine.ok() ? images.PrePull(**engine, a[0]) : engine.status();
  if (!s.ok()) NamedLogger("actions")->warn("{}: image not pulled ahead of the deploy: {}", what, s.message());
  return Answer(Status::Ok());
}

// Datastore scripts get "<image or datastore id>" and the action data on stdin (reference §5.1).
// Images whose SOURCE is a volume (bridge/volume_plan.h) have nothing in the registry.
DriverAnswer Datastore(VmActions& actions, ImageStore& images, OneApi& one, const DriverCall& call) {
  const std::string& action = call.action;
  if (call.argv.size() != 1 || !IsNumber(call.argv[0])) return Refuse("onedock ds " + action + ": expected \"<id>\"");
  if (action == "monitor") {
    auto c = images.Monitor();
    if (!c.ok()) return Answer(c.status().WithContext("monitor"));
    return {0, CapacityLines(*c), ""};
  }
  if (!call.image) return Refuse("onedock ds " + action + ": stdin holds no <IMAGE>");
  Image image = *call.image;
  // oned runs stat inside one.image.allocate, before the image exists: its argument is the number
  // of oned's waiting request and its <IMAGE> holds PATH and SIZE only.
  if (action == "stat") {
    auto size = images.Stat(image);
    return size.ok() ? DriverAnswer{0, std::to_string(*size), ""} : Answer(size.status());
  }
  image.id = std::stoi(call.argv[0]);
  const bool volume = VolumeImageId(image.source).has_value();
  if (action == "cp") {
    auto copied = images.Copy(image);
    return copied.ok() ? DriverAnswer{0, copied->source + " " + copied->format, ""} : Answer(copied.status());
  }
  // oned takes mkfs's whole reply as the SOURCE: nothing but the source is printed.
  if (action == "mkfs") {
    auto source = EmptyVolumeSource(image);
    return source.ok() ? DriverAnswer{0, *source, ""} : Answer(source.status().WithContext("mkfs"));
  }
  if (action == "rm") {
    if (volume) return Answer(actions.RemoveImageVolume(image.id).WithContext("rm image " + std::to_string(image.id)));
    return Answer(images.Remove(image));
  }
  if (action == "clone") {
    if (image.cloning_id < 0) return Refuse("onedock ds clone: the image names no CLONING_ID");
    auto original = one.ImageInfo(image.cloning_id);
    if (!original.ok()) return Answer(original.status().WithContext("clone: read image " + std::to_string(image.cloning_id) + " from oned"));
    if (const auto data = VolumeImageId(original->source)) {
      auto home = actions.ImageVolumeHome(*data);
      if (!home.ok()) return Answer(home.status().WithContext("clone"));
      if (*home) {
        return Refuse("onedock ds clone: the data of image " + std::to_string(image.cloning_id) + " is in volume " +
                      ImageVolumeName(*data) + " on host " + **home + "; cloning a volume that holds data is not "
                      "supported");
      }
      return {0, VolumeSource(image.id) + " " + original->format, ""};
    }
    auto cloned = images.Clone(image, original->source);
    return cloned.ok() ? DriverAnswer{0, cloned->source + " " + cloned->format, ""}
                       : Answer(cloned.status().WithContext("clone of image " + std::to_string(image.cloning_id)));
  }
  if (action == "snap_delete" || action == "snap_revert" || action == "snap_flatten") {
    return Refuse("onedock datastore: " + action + ": images in the onedock datastore have no snapshots "
                  "(a Docker image is immutable; VM snapshots are taken with onevm snapshot-create)");
  }
  if (action == "restore" || action == "increment_flatten") {
    return Refuse("onedock datastore: " + action + " is a backup action; the onedock datastore is not a backup datastore");
  }
  if (action == "export") {
    return Refuse("onedock datastore: export to a marketplace is not supported; the image is " + image.source +
                  " in the private registry");
  }
  return Refuse("onedock ds: unknown action \"" + action + "\"");
}

}  // namespace

DriverAnswer Dispatch(VmActions& actions, ImageStore& images, EngineProvider& engines, OneApi& one,
                      const DriverCall& call) {
  if (call.kind == "ds") return Datastore(actions, images, one, call);
  if (call.kind == "tm" && (call.action == "clone" || call.action == "ln")) return PrePull(images, engines, call);
  return Dispatch(actions, call);
}

DriverAnswer Dispatch(VmActions& actions, const DriverCall& call) {
  if (call.kind == "vmm") return Vmm(actions, call);
  if (call.kind == "tm") return Tm(actions, call);
  if (call.kind == "vnm") return Vnm(call);
  return Refuse("onedockd does not handle \"" + call.kind + "\" driver calls");
}

}  // namespace onedock::bridge
