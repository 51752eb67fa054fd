#include "bridge/driver_router.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <string_view>

#include "bridge/log.h"
#include "bridge/net_address.h"
#include "bridge/version.h"
#include "bridge/volume_plan.h"

namespace onedock {
namespace {

// How a route's argv is read before its handler runs.
enum class Shape {
  kNone,       // nothing to read
  kVmm,        // "<params…> <vmid> <host>"
  kVmmWithVm,  // the same, and stdin's <VM> is that VM
  kTmPath,     // "<host>:<path> <vmid> <dsid>"
  kTmSource,   // "<source> <host>:<path> <vmid> <dsid>"
  kDatastore,  // "<image or datastore id>"
  kDsImage,    // the same, and stdin's <IMAGE>
  kIm,         // "<im_mad> <host id> <host name>"
};

// A call with its argv read.
struct Args {
  const DriverCall& call;
  int vm_id = -1;
  int host_id = -1;  // kIm
  std::string host;
  std::string path;    // kTmPath, kTmSource: the part after "<host>:"
  std::string source;  // kTmSource
  Image image;         // kDsImage; its id from argv (stat: as oned sent it)
  const std::string& param(size_t i) const {
    static const std::string kNone;
    return i + 2 < call.argv.size() ? call.argv[i] : kNone;
  }
};

using Handler = DriverAnswer (*)(RouteTargets&, const Args&);

DriverAnswer Answer(const Status& s, const std::string& out = "") {
  if (s.ok()) return {0, out, ""};
  return {1, "", s.message()};
}
DriverAnswer Answer(const Result<std::string>& r) {
  return r.ok() ? Answer(Status::Ok(), *r) : Answer(r.status());
}
DriverAnswer Refuse(const std::string& message) { return {1, "", message}; }
DriverAnswer Done(RouteTargets&, const Args&) { return {0, "", ""}; }

bool IsNumber(const std::string& s) {
  return !s.empty() && s.size() < 10 &&
         std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(c); });
}

// --- VMM ---
DriverAnswer Deploy(RouteTargets& t, const Args& a) {
  return Answer(t.actions.Deploy(*a.call.vm, a.host));
}
DriverAnswer Shutdown(RouteTargets& t, const Args& a) {
  return Answer(t.actions.Shutdown(a.vm_id, a.host));
}
DriverAnswer Cancel(RouteTargets& t, const Args& a) {
  return Answer(t.actions.Cancel(a.vm_id, a.host));
}
DriverAnswer Reboot(RouteTargets& t, const Args& a) {
  return Answer(t.actions.Reboot(a.vm_id, a.host, false));
}
DriverAnswer Reset(RouteTargets& t, const Args& a) {
  return Answer(t.actions.Reboot(a.vm_id, a.host, true));
}
DriverAnswer Resize(RouteTargets& t, const Args& a) {
  return Answer(t.actions.Resize(*a.call.vm, a.host));
}
DriverAnswer AttachNic(RouteTargets& t, const Args& a) {
  return Answer(t.actions.AttachNic(*a.call.vm, a.host, a.param(1)));
}
DriverAnswer DetachNic(RouteTargets& t, const Args& a) {
  return Answer(t.actions.DetachNic(*a.call.vm, a.host, a.param(1)));
}
DriverAnswer Save(RouteTargets& t, const Args& a) {
  return Answer(t.actions.Save(*a.call.vm, a.host));
}
DriverAnswer Restore(RouteTargets& t, const Args& a) {
  auto r = t.actions.Restore(*a.call.vm, a.host);
  return Answer(r.ok() ? Status::Ok() : r.status());
}
DriverAnswer SnapshotCreate(RouteTargets& t, const Args& a) {
  return Answer(t.actions.SnapshotCreate(*a.call.vm, a.host, a.param(1)));
}
DriverAnswer SnapshotRevert(RouteTargets& t, const Args& a) {
  return Answer(t.actions.SnapshotRevert(*a.call.vm, a.host, a.param(1)));
}
DriverAnswer SnapshotDelete(RouteTargets& t, const Args& a) {
  return Answer(t.actions.SnapshotDelete(a.vm_id, a.host, a.param(1)));
}
DriverAnswer VmmNotSupported(RouteTargets&, const Args& a) {
  return Refuse(a.call.action +
                " is not supported by onedock: containers have no live migration, hot-plugged "
                "disks or guest exec channel; use cold migration and volumes at deploy");
}

// --- TM ---
// Only the VM directory's deletion ends the VM; disk files have nothing behind them.
DriverAnswer TmDelete(RouteTargets& t, const Args& a) {
  std::string tail = a.path;
  while (!tail.empty() && tail.back() == '/') tail.pop_back();
  tail = tail.substr(tail.find_last_of('/') + 1);
  if (tail != std::to_string(a.vm_id)) return Answer(Status::Ok());
  return Answer(t.actions.Remove(a.vm_id, a.host));
}
// clone/ln: the pull is ahead of time only. The deploy pulls what is missing and fails with the
// reason, so a pull that fails here (an engine that is down, say) does not fail the prolog; a data
// volume is made at deploy.
DriverAnswer PrePull(RouteTargets& t, const Args& a) {
  if (VolumeImageId(a.source)) return Answer(Status::Ok());
  auto engine = t.engines.Acquire(a.host);
  Status s = engine.ok() ? t.images.PrePull(**engine, a.source) : engine.status();
  if (!s.ok()) {
    NamedLogger("actions")->warn("tm {} vm {} on host {}: image not pulled ahead of the deploy: {}",
                                 a.call.action, a.vm_id, a.host, s.message());
  }
  return Answer(Status::Ok());
}
DriverAnswer TmMkswap(RouteTargets&, const Args&) {
  return Refuse(
      "onedock tm mkswap: swap disks are not supported: a container has no swap device, and MEMORY "
      "sets its memory and memory+swap limits equal; remove the swap DISK from the template");
}
DriverAnswer TmDiskSnapshot(RouteTargets&, const Args& a) {
  return Refuse(
      "onedock tm " + a.call.action +
      ": disk snapshots are not supported: data disks are Docker volumes, which have no snapshots; "
      "take a system snapshot (onevm snapshot-create) of the container instead");
}
DriverAnswer TmCpds(RouteTargets&, const Args&) {
  return Refuse("onedock tm cpds: saving a disk as a new image (disk-saveas) is not supported");
}
DriverAnswer TmResize(RouteTargets&, const Args&) {
  return Refuse("onedock tm resize: a volume has no size to change (SIZE is not enforced)");
}
DriverAnswer TmBackup(RouteTargets&, const Args& a) {
  return Refuse("onedock tm " + a.call.action + ": VM backups are not supported by onedock");
}

// --- datastore ---
DriverAnswer DsMonitor(RouteTargets& t, const Args&) {
  auto c = t.images.Monitor();
  if (!c.ok()) return Answer(c.status().WithContext("monitor"));
  return {0, CapacityLines(*c), ""};
}
// oned runs stat inside one.image.allocate, before the image exists: its argument is the number
// of oned's waiting request and its <IMAGE> holds PATH and SIZE only.
DriverAnswer DsStat(RouteTargets& t, const Args& a) {
  auto size = t.images.Stat(a.image, a.call.datastore ? &*a.call.datastore : nullptr);
  return size.ok() ? DriverAnswer{0, std::to_string(*size), ""} : Answer(size.status());
}
DriverAnswer Copied(const Result<CopyResult>& r) {
  return r.ok() ? DriverAnswer{0, r->source + " " + r->format, ""} : Answer(r.status());
}
DriverAnswer DsCp(RouteTargets& t, const Args& a) {
  return Copied(t.images.Copy(a.image, a.call.datastore ? &*a.call.datastore : nullptr));
}
DriverAnswer DsClone(RouteTargets& t, const Args& a) { return Copied(t.images.Clone(a.image)); }
// oned takes mkfs's whole reply as the SOURCE: nothing but the source is printed.
DriverAnswer DsMkfs(RouteTargets& t, const Args& a) { return Answer(t.images.Mkfs(a.image)); }
// Images whose SOURCE is a volume (bridge/volume_plan.h) have nothing in the registry.
DriverAnswer DsRm(RouteTargets& t, const Args& a) {
  if (VolumeImageId(a.image.source)) {
    return Answer(t.actions.RemoveImageVolume(a.image.id)
                      .WithContext("rm image " + std::to_string(a.image.id)));
  }
  return Answer(t.images.Remove(a.image));
}
DriverAnswer DsSnapshot(RouteTargets&, const Args& a) {
  return Refuse("onedock datastore: " + a.call.action +
                ": images in the onedock datastore have no snapshots "
                "(a Docker image is immutable; VM snapshots are taken with onevm snapshot-create)");
}
DriverAnswer DsBackup(RouteTargets&, const Args& a) {
  return Refuse("onedock datastore: " + a.call.action +
                " is a backup action; the onedock datastore is not a backup datastore");
}
DriverAnswer DsExport(RouteTargets&, const Args& a) {
  return Refuse("onedock datastore: export to a marketplace is not supported; the image is " +
                a.image.source + " in the private registry");
}

// --- IM ---
DriverAnswer ImRefuse(const std::string& message) {
  NamedLogger("monitor")->error("{}", message);
  return Refuse(message);
}
DriverAnswer ImStart(RouteTargets& t, const Args& a) {
  auto report = t.monitoring.StartMonitoring(a.host_id, a.host, a.call.document);
  return report.ok() ? DriverAnswer{0, *report, ""} : ImRefuse(report.status().message());
}
DriverAnswer ImStop(RouteTargets& t, const Args& a) {
  Status s = t.monitoring.StopMonitoring(a.host_id, a.host);
  return s.ok() ? DriverAnswer{0, "", ""} : ImRefuse(s.message());
}

// --- network driver (VN_MAD onedock) ---
// one_vmm_exec runs pre, post and clean around deploy, save, restore, migration and NIC hotplug,
// update_sg when a security group changes and update_nic when a vnet does; oned's IPAM driver runs
// vnet_create and vnet_delete. None changes anything on the front-end: a vnet's Docker network is
// made on a host by the deploy that first needs it there.
//
// pre sees every NIC of the VM: another driver's steps (bridge, say) would change the front-end's
// own network, since onedock's VM_MAD runs network steps locally.
DriverAnswer VnmPre(RouteTargets&, const Args& a) {
  if (!a.call.vm) return Answer(Status::Ok());
  for (const Nic& nic : a.call.vm->nics) {
    if (!nic.vn_mad.empty() && nic.vn_mad != "onedock" && nic.vn_mad != "dummy") {
      return Refuse("onedock vnm pre vm " + std::to_string(a.call.vm->id) + ": NIC " +
                    std::to_string(nic.nic_id) + " is on a vnet with VN_MAD " + nic.vn_mad +
                    "; onedock hosts take vnets with VN_MAD onedock");
    }
  }
  return Answer(Status::Ok());
}
DriverAnswer VnmUpdateSg(RouteTargets&, const Args& a) {
  NamedLogger("actions")->info(
      "vnm update_sg {}: security group rules are not applied to containers",
      a.call.argv.empty() ? std::string("-") : a.call.argv[0]);
  return Answer(Status::Ok());
}

// --- onedock's own ---
// `onedock-stub onedock version`: the doctor's proof that the path a driver script takes (the
// installed stub, its stub.conf and token, onedockd's endpoint) works, and of which release.
DriverAnswer OnedockVersion(RouteTargets&, const Args&) {
  return {0, std::string(kVersion) + "\n", ""};
}

// Unknown actions of a kind.
DriverAnswer UnknownVmm(RouteTargets&, const Args& a) {
  return Refuse(a.call.action + " is not a VMM action onedock knows");
}
DriverAnswer UnknownTm(RouteTargets&, const Args& a) {
  return Refuse("tm " + a.call.action + " is not supported by onedock");
}
DriverAnswer UnknownDs(RouteTargets&, const Args& a) {
  return Refuse("onedock ds: unknown action \"" + a.call.action + "\"");
}
DriverAnswer UnknownIm(RouteTargets&, const Args& a) {
  return ImRefuse("onedock im: unknown action \"" + a.call.action + "\"");
}
DriverAnswer UnknownVnm(RouteTargets&, const Args& a) {
  return Refuse("vnm " + a.call.action + " is not a network driver action onedock knows");
}

struct RouteEntry {
  std::string_view kind;
  std::string_view action;  // "prefix*" matches by prefix; "*" any action of the kind
  Shape shape;
  Handler handle;
};

// The whole routing, first match wins. Container hosts have no disk files to clone, link, move or
// build a context ISO for: the image is pulled at deploy, data disks become volumes at deploy (a
// persistent image's volume keeps its data where it is, so mvds has nothing to save) and the
// context is uploaded into the container, so those TM actions have nothing to do. The context
// lives in the container and is rewritten at every start; a running container keeps what it booted
// with, as a VM keeps its mounted context ISO until it re-reads it, so reconfigure has nothing to
// do either.
constexpr RouteEntry kRoutes[] = {
    {"vmm", "deploy", Shape::kVmmWithVm, Deploy},
    {"vmm", "shutdown", Shape::kVmm, Shutdown},
    {"vmm", "cancel", Shape::kVmm, Cancel},
    {"vmm", "reboot", Shape::kVmm, Reboot},
    {"vmm", "reset", Shape::kVmm, Reset},
    {"vmm", "resize", Shape::kVmmWithVm, Resize},
    {"vmm", "attach_nic", Shape::kVmmWithVm, AttachNic},
    {"vmm", "detach_nic", Shape::kVmmWithVm, DetachNic},
    {"vmm", "save", Shape::kVmmWithVm, Save},
    {"vmm", "restore", Shape::kVmmWithVm, Restore},
    {"vmm", "snapshot_create", Shape::kVmmWithVm, SnapshotCreate},
    {"vmm", "snapshot_revert", Shape::kVmmWithVm, SnapshotRevert},
    {"vmm", "snapshot_delete", Shape::kVmm, SnapshotDelete},
    {"vmm", "prereconfigure", Shape::kVmm, Done},
    {"vmm", "reconfigure", Shape::kVmm, Done},
    {"vmm", "migrate", Shape::kNone, VmmNotSupported},
    {"vmm", "attach_disk", Shape::kNone, VmmNotSupported},
    {"vmm", "detach_disk", Shape::kNone, VmmNotSupported},
    {"vmm", "resize_disk", Shape::kNone, VmmNotSupported},
    {"vmm", "exec", Shape::kNone, VmmNotSupported},
    {"vmm", "exec_cancel", Shape::kNone, VmmNotSupported},
    {"vmm", "poll", Shape::kNone, VmmNotSupported},
    {"vmm", "*", Shape::kVmm, UnknownVmm},

    {"tm", "delete", Shape::kTmPath, TmDelete},
    {"tm", "clone", Shape::kTmSource, PrePull},
    {"tm", "ln", Shape::kTmSource, PrePull},
    {"tm", "mv", Shape::kNone, Done},
    {"tm", "mvds", Shape::kNone, Done},
    {"tm", "context", Shape::kNone, Done},
    {"tm", "premigrate", Shape::kNone, Done},
    {"tm", "postmigrate", Shape::kNone, Done},
    {"tm", "failmigrate", Shape::kNone, Done},
    {"tm", "mkimage", Shape::kNone, Done},
    {"tm", "mkswap", Shape::kNone, TmMkswap},
    {"tm", "snap_*", Shape::kNone, TmDiskSnapshot},
    {"tm", "cpds", Shape::kNone, TmCpds},
    {"tm", "resize", Shape::kNone, TmResize},
    {"tm", "restore", Shape::kNone, TmBackup},
    {"tm", "prebackup*", Shape::kNone, TmBackup},
    {"tm", "postbackup*", Shape::kNone, TmBackup},
    {"tm", "*", Shape::kNone, UnknownTm},

    {"ds", "monitor", Shape::kDatastore, DsMonitor},
    {"ds", "stat", Shape::kDsImage, DsStat},
    {"ds", "cp", Shape::kDsImage, DsCp},
    {"ds", "clone", Shape::kDsImage, DsClone},
    {"ds", "mkfs", Shape::kDsImage, DsMkfs},
    {"ds", "rm", Shape::kDsImage, DsRm},
    {"ds", "snap_delete", Shape::kDsImage, DsSnapshot},
    {"ds", "snap_revert", Shape::kDsImage, DsSnapshot},
    {"ds", "snap_flatten", Shape::kDsImage, DsSnapshot},
    {"ds", "restore", Shape::kDsImage, DsBackup},
    {"ds", "increment_flatten", Shape::kDsImage, DsBackup},
    {"ds", "export", Shape::kDsImage, DsExport},
    {"ds", "*", Shape::kDsImage, UnknownDs},

    {"im", "start", Shape::kIm, ImStart},
    {"im", "stop", Shape::kIm, ImStop},
    {"im", "*", Shape::kIm, UnknownIm},

    {"vnm", "pre", Shape::kNone, VnmPre},
    {"vnm", "update_sg", Shape::kNone, VnmUpdateSg},
    {"vnm", "post", Shape::kNone, Done},
    {"vnm", "clean", Shape::kNone, Done},
    {"vnm", "update_nic", Shape::kNone, Done},
    {"vnm", "vnet_create", Shape::kNone, Done},
    {"vnm", "vnet_delete", Shape::kNone, Done},
    {"vnm", "*", Shape::kNone, UnknownVnm},

    {"onedock", "version", Shape::kNone, OnedockVersion},
};

bool Matches(const RouteEntry& r, const DriverCall& call) {
  if (r.kind != call.kind) return false;
  if (!r.action.empty() && r.action.back() == '*') {
    return call.action.rfind(r.action.substr(0, r.action.size() - 1), 0) == 0;
  }
  return r.action == call.action;
}

// "<host>:<path>" into `a`; false when it is not one.
bool HostAndPath(const std::string& text, Args& a) {
  const auto colon = text.find(':');
  if (colon == std::string::npos || colon == 0) return false;
  a.host = text.substr(0, colon);
  a.path = text.substr(colon + 1);
  return true;
}

// Reads the argv of `shape` into `a`; the refusal when it does not fit.
std::optional<DriverAnswer> Read(Shape shape, Args& a) {
  const DriverCall& call = a.call;
  const auto& v = call.argv;
  const std::string& action = call.action;
  switch (shape) {
    case Shape::kNone:
      return std::nullopt;
    case Shape::kVmm:
    case Shape::kVmmWithVm:
      if (v.size() < 2 || !IsNumber(v[v.size() - 2])) {
        return Refuse("onedock " + action + ": expected \"<params> <vmid> <host>\", got " +
                      std::to_string(v.size()) + " arguments");
      }
      a.vm_id = std::stoi(v[v.size() - 2]);
      a.host = v.back();
      if (shape == Shape::kVmm) return std::nullopt;
      if (!call.vm)
        return Refuse("onedock " + action + " vm " + std::to_string(a.vm_id) +
                      ": stdin carries no <VM> document");
      if (call.vm->id != a.vm_id) {
        return Refuse("onedock " + action + ": stdin describes vm " + std::to_string(call.vm->id) +
                      ", argv names vm " + std::to_string(a.vm_id));
      }
      return std::nullopt;
    case Shape::kTmPath:
      if (v.size() != 3 || !IsNumber(v[1]))
        return Refuse("onedock tm " + action + ": expected \"<host>:<path> <vmid> <dsid>\"");
      if (v[0].find(':') == std::string::npos)
        return Refuse("onedock tm " + action + ": \"" + v[0] + "\" is not <host>:<path>");
      HostAndPath(v[0], a);
      a.vm_id = std::stoi(v[1]);
      return std::nullopt;
    case Shape::kTmSource:
      if (v.size() != 4 || !IsNumber(v[2])) {
        return Refuse("onedock tm " + action +
                      ": expected \"<source> <host>:<path> <vmid> <dsid>\"");
      }
      if (!HostAndPath(v[1], a))
        return Refuse("onedock tm " + action + ": \"" + v[1] + "\" is not <host>:<path>");
      a.source = v[0];
      a.vm_id = std::stoi(v[2]);
      return std::nullopt;
    case Shape::kDatastore:
    case Shape::kDsImage:
      if (v.size() != 1 || !IsNumber(v[0]))
        return Refuse("onedock ds " + action + ": expected \"<id>\"");
      if (shape == Shape::kDatastore) return std::nullopt;
      if (!call.image) return Refuse("onedock ds " + action + ": stdin holds no <IMAGE>");
      a.image = *call.image;
      if (action != "stat") a.image.id = std::stoi(v[0]);
      return std::nullopt;
    case Shape::kIm:
      if (v.size() < 3)
        return ImRefuse("onedock im " + action + ": expected <im_mad> <host id> <host name>");
      if (!IsNumber(v[1]))
        return ImRefuse("onedock im " + action + ": host id \"" + v[1] + "\" is not a number");
      if (!IsHostName(v[2]))
        return ImRefuse("onedock im " + action + ": host name \"" + v[2] + "\" is not valid");
      a.host_id = std::stoi(v[1]);
      a.host = v[2];
      return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace

DriverAnswer DriverRouter::Route(const DriverCall& call) {
  for (const RouteEntry& r : kRoutes) {
    if (!Matches(r, call)) continue;
    Args args{call};
    if (auto refused = Read(r.shape, args)) return *refused;
    return r.handle(targets_, args);
  }
  return Refuse("onedockd does not handle \"" + call.kind + "\" driver calls");
}

bool RoutesByName(std::string_view kind, std::string_view action) {
  return std::any_of(std::begin(kRoutes), std::end(kRoutes), [&](const RouteEntry& r) {
    return r.kind == kind && r.action == action && !r.action.ends_with('*');
  });
}

DriverLane LaneOf(std::string_view kind, std::string_view action) {
  const bool copy = kind == "ds" && (action == "cp" || action == "clone" || action == "stat");
  return copy ? DriverLane::kTransfer : DriverLane::kLifecycle;
}

}  // namespace onedock
