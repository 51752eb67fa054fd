#include "bridge/vm_actions.h"

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "bridge/log.h"
#include "bridge/spool.h"

namespace onedock::bridge {
namespace {

bool Is(const Status& s, Status::Code code) { return s.code() == code; }

bool SameMac(const std::string& a, const std::string& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// The NIC carrying `mac` and its position among the VM's NICs in NIC_ID order.
std::optional<std::pair<Nic, size_t>> NicByMac(const Vm& vm, const std::string& mac) {
  std::vector<Nic> nics = vm.nics;
  std::sort(nics.begin(), nics.end(), [](const Nic& a, const Nic& b) { return a.nic_id < b.nic_id; });
  for (size_t i = 0; i < nics.size(); ++i) {
    if (SameMac(nics[i].mac, mac)) return std::make_pair(nics[i], i);
  }
  return std::nullopt;
}

// The directory an archive of `path` is extracted into so that it lands at `path`.
std::string ParentOf(const std::string& path) {
  const auto slash = path.find_last_of('/');
  return slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
}

}  // namespace

VmActions::VmActions(EngineProvider& engines, OneApi& one, SqliteJournal& journal, ActionSettings settings)
    : engines_(engines), one_(one), journal_(journal), settings_(std::move(settings)) {}

std::unique_lock<std::mutex> VmActions::LockVm(int vm_id) {
  std::shared_ptr<std::mutex> mu;
  {
    std::lock_guard lock(locks_mu_);
    auto& slot = locks_[vm_id];
    if (!slot) slot = std::make_shared<std::mutex>();
    mu = slot;
  }
  return std::unique_lock<std::mutex>(*mu);
}

Result<std::map<int, Vnet>> VmActions::VnetsOf(const Vm& vm) {
  std::map<int, Vnet> vnets;
  for (const auto& nic : vm.nics) {
    if (vnets.count(nic.network_id) != 0) continue;
    auto vnet = one_.VnetInfo(nic.network_id);
    if (!vnet.ok()) return vnet.status().WithContext("read vnet " + std::to_string(nic.network_id) + " from oned");
    vnets.emplace(nic.network_id, std::move(*vnet));
  }
  return vnets;
}

Status VmActions::Journaled(int vm_id, const std::string& action, const std::string& host,
                            const std::function<Status()>& body) {
  const std::string what = action + " vm " + std::to_string(vm_id) + " on host " + host;
  auto log = NamedLogger("actions");
  auto intent = journal_.Begin(vm_id, action, host);
  if (!intent.ok()) {
    log->error("{}: {}", what, intent.status().ToString());
    return intent.status().WithContext(what);
  }
  activity_.Begin(vm_id, host);
  const Status s = body().WithContext(what);
  activity_.End(vm_id);
  if (Status f = journal_.Finish(*intent, s.ok() ? "" : s.message()); !f.ok()) {
    log->error("{}: {}", what, f.ToString());
  }
  if (s.ok()) {
    log->info("{}: done", what);
  } else {
    log->error("{}", s.message());
  }
  return s;
}

Status VmActions::EnsureNetwork(Engine& engine, const NetworkSpec& network) {
  auto existing = engine.InspectNetwork(network.name);
  if (existing.ok()) {
    if (existing->subnet != network.subnet) {
      return FailedPrecondition("network " + network.name + " has subnet " + existing->subnet +
                                " on the host, the vnet wants " + network.subnet);
    }
    return Status::Ok();
  }
  if (!Is(existing.status(), Status::Code::kNotFound)) return existing.status();
  auto created = engine.CreateNetwork(network);
  // A concurrent deploy on the same host may have created it first.
  if (created.ok() || Is(created.status(), Status::Code::kConflict)) return Status::Ok();
  // The engine refuses a subnet that overlaps one of its networks without saying which.
  if (Is(created.status(), Status::Code::kFailedPrecondition)) {
    auto all = engine.ListNetworks();
    const auto overlapping = all.ok() ? OverlappingNetworks(network.subnet, *all) : std::vector<std::string>{};
    if (!overlapping.empty()) {
      std::string names;
      for (const auto& n : overlapping) names += (names.empty() ? "" : ", ") + n;
      return FailedPrecondition("network " + network.name + " (" + network.subnet + ") overlaps network " + names +
                                " on the host: " + created.status().message());
    }
  }
  return created.status();
}

Status VmActions::EnsureVolume(Engine& engine, const PlannedVolume& volume) {
  auto got = engine.CreateVolume(volume.name, volume.labels);
  if (!got.ok()) return got.status();
  // A name that was taken comes back as it was: it must carry this VM's (or image's) labels.
  for (const char* key : {kLabelInstance, kLabelVmId, kLabelImageId}) {
    auto want = volume.labels.find(key);
    if (want == volume.labels.end()) continue;
    auto have = got->labels.find(key);
    if (have == got->labels.end() || have->second != want->second) {
      return Conflict("volume " + volume.name + " exists on the host and is not " +
                      (volume.image_id >= 0 ? "image " + std::to_string(volume.image_id) + "'s" : "this VM's") +
                      " (label " + key + "=" + (have == got->labels.end() ? "<none>" : have->second) + ")");
    }
  }
  return Status::Ok();
}

Status VmActions::CopyVolume(int vm_id, const VolumeOrigin& origin, Engine& dest, const std::string& container,
                             const std::string& image) {
  const PlannedVolume& volume = *origin.volume;
  const std::string what = "copy volume " + origin.source + " from host " + origin.host;
  auto src = engines_.Acquire(origin.host);
  if (!src.ok()) return src.status().WithContext(what);
  Engine& source = **src;
  std::string holder = ContainerName(vm_id);
  bool helper = false;
  if (origin.source_image < 0) {
    auto c = source.InspectContainer(holder);
    if (!c.ok() && !Is(c.status(), Status::Code::kNotFound)) return c.status().WithContext(what);
    if (!c.ok()) {
      auto left = source.ListVolumes({std::string(kLabelVmId) + "=" + std::to_string(vm_id),
                                      std::string(kLabelInstance) + "=" + settings_.plan.instance});
      if (!left.ok()) return left.status().WithContext(what);
      for (const auto& v : *left) {
        if (v.name == origin.source) {
          return FailedPrecondition("the VM's volume " + origin.source + " is on host " + origin.host +
                                    " without its container " + holder + "; onedock moves a VM's volumes through it");
        }
      }
      NamedLogger("actions")->info("vm {}: nothing to copy for {}: host {} has neither the container nor the volume",
                                   vm_id, origin.source, origin.host);
      return Status::Ok();
    }
  } else {
    auto present = source.ListVolumes({std::string(kLabelImageId) + "=" + std::to_string(origin.source_image)});
    if (!present.ok()) return present.status().WithContext(what);
    if (std::none_of(present->begin(), present->end(), [&](const VolumeInfo& v) { return v.name == origin.source; })) {
      NamedLogger("actions")->warn("vm {}: volume {} of image {} is no longer on host {}: {} starts empty", vm_id,
                                   origin.source, origin.source_image, origin.host, volume.name);
      return Status::Ok();
    }
    auto have = source.InspectImage(image);
    if (!have.ok() && !Is(have.status(), Status::Code::kNotFound)) return have.status().WithContext(what);
    if (!have.ok()) {
      if (Status p = source.PullImage(image, settings_.registry_auth, nullptr); !p.ok()) return p.WithContext(what);
    }
    // One helper per VM: VMs made from the same image may be deployed at the same time.
    holder = origin.source + "-copy-" + std::to_string(vm_id);
    ContainerSpec spec;
    spec.name = holder;
    spec.image = image;
    spec.cmd = {"/bin/true"};  // never started: the engine only needs the volume mounted
    spec.network_mode = "none";
    spec.labels = {{kLabelInstance, settings_.plan.instance}, {kLabelImageId, std::to_string(origin.source_image)}};
    spec.volumes = {origin.source + ":" + volume.mount};
    source.RemoveContainer(holder, true, false);  // a helper a crash left behind
    auto made = source.CreateContainer(spec);
    if (!made.ok()) return made.status().WithContext(what);
    helper = true;
  }
  const std::string file = SpoolFile(settings_.spool_dir, "volume", origin.source);
  Status s = source.GetArchiveToFile(holder, volume.mount, file);
  if (helper) {
    if (Status r = source.RemoveContainer(holder, true, false); !r.ok()) {
      NamedLogger("actions")->warn("host {}: helper container {} left: {}", origin.host, holder, r.ToString());
    }
  }
  if (s.ok()) s = dest.PutArchiveFromFile(container, ParentOf(volume.mount), file);
  std::error_code size_error, remove_error;
  const auto bytes = std::filesystem::file_size(file, size_error);
  std::filesystem::remove(file, remove_error);
  if (s.ok()) {
    NamedLogger("actions")->info("vm {}: {} into {}: {} bytes of archive", vm_id, what, volume.name,
                                 size_error ? 0 : bytes);
  }
  return s.WithContext(what);
}

Status VmActions::ConvergeContainer(Engine& engine, const ContainerPlan& plan, bool* created,
                                    const std::function<Status(Engine&)>& seed) {
  const ContainerSpec& spec = plan.spec;
  const std::string vm_label = spec.labels.at(kLabelVmId);
  bool seeded = false;
  for (int round = 0; round < 8; ++round) {
    auto c = engine.InspectContainer(spec.name);
    if (!c.ok() && !Is(c.status(), Status::Code::kNotFound)) return c.status();
    if (!c.ok()) {
      auto image = engine.InspectImage(spec.image);
      if (!image.ok() && !Is(image.status(), Status::Code::kNotFound)) return image.status();
      if (!image.ok()) {
        if (Status s = engine.PullImage(spec.image, settings_.registry_auth, nullptr); !s.ok()) return s;
      }
      for (const auto& nic : plan.nics) {
        if (Status s = EnsureNetwork(engine, nic.network); !s.ok()) return s;
      }
      for (const auto& volume : plan.volumes) {
        if (Status s = EnsureVolume(engine, volume); !s.ok()) return s;
      }
      auto id = engine.CreateContainer(spec);
      if (!id.ok() && !Is(id.status(), Status::Code::kConflict)) return id.status();
      if (id.ok()) *created = true;
      continue;  // adopt what is there now
    }
    auto label = [&](const char* key) {
      auto it = c->labels.find(key);
      return it == c->labels.end() ? std::string() : it->second;
    };
    if (label(kLabelVmId) != vm_label || label(kLabelInstance) != spec.labels.at(kLabelInstance)) {
      return Conflict("container " + spec.name + " exists on the host and is not this VM's (labels " +
                      kLabelVmId + "=" + label(kLabelVmId) + ", " + kLabelInstance + "=" + label(kLabelInstance) + ")");
    }
    if (c->nano_cpus != spec.nano_cpus || c->memory_bytes != spec.memory_bytes ||
        c->memory_swap_bytes != spec.memory_bytes) {
      if (Status s = engine.UpdateContainer(spec.name, {spec.nano_cpus, spec.memory_bytes}); !s.ok()) return s;
    }
    if (c->running) return Status::Ok();
    for (size_t i = 1; i < plan.nics.size(); ++i) {
      const PlannedNic& nic = plan.nics[i];
      if (c->networks.count(nic.network.name) != 0) continue;
      if (Status s = EnsureNetwork(engine, nic.network); !s.ok()) return s;
      if (Status s = engine.ConnectNetwork(nic.network.name, spec.name, nic.attachment); !s.ok()) return s;
    }
    if (*created && !seeded && seed) {
      if (Status s = seed(engine); !s.ok()) {
        engine.RemoveContainer(spec.name, true, false);  // the next attempt creates and seeds again
        return s;
      }
      seeded = true;
    }
    if (Status s = engine.PutArchive(spec.name, "/", plan.context_tar); !s.ok()) return s;
    auto started = engine.StartContainer(spec.name);
    if (!started.ok()) {
      // A container that never ran keeps its name taken and holds nothing: remove it, so the
      // next attempt starts clean. A stopped VM's container keeps the VM's files: keep it.
      if (c->status == "created") engine.RemoveContainer(spec.name, true, true);
      return started.status();
    }
    // Limits and NICs were settled above in this round; a successful start is the end state.
    return Status::Ok();
  }
  return Internal("container " + spec.name + " did not reach running after 8 rounds");
}

Result<std::string> VmActions::Deploy(const Vm& vm, const std::string& host, const std::string& image) {
  auto lock = LockVm(vm.id);
  return DeployLocked(vm, host, image);
}

Result<std::string> VmActions::DeployLocked(const Vm& vm, const std::string& host, const std::string& image) {
  const std::string name = ContainerName(vm.id);
  Status s = Journaled(vm.id, "deploy", host, [&]() -> Status {
    auto vnets = VnetsOf(vm);
    if (!vnets.ok()) return vnets.status();
    auto plan = PlanContainer(vm, host, *vnets, settings_.plan);
    if (!plan.ok()) return plan.status();
    if (!image.empty()) plan->spec.image = image;
    auto previous = journal_.PlacementOf(vm.id);
    if (!previous.ok()) return previous.status();
    const bool moved = *previous && (*previous)->host != host;
    // The data new volumes start with: the VM's own volumes follow the VM when it moved; on its
    // first deploy they are copies of their image's volume when it has one; a persistent image's
    // volume follows the image when its last VM ran elsewhere.
    std::vector<VolumeOrigin> origins;
    std::vector<int> homeless;  // persistent images whose volume is created here for the first time
    for (const auto& v : plan->volumes) {
      const int image_id = v.image_id >= 0 ? v.image_id : v.from_image;
      auto home = image_id >= 0 ? journal_.VolumeHome(image_id) : Result<std::optional<std::string>>(std::nullopt);
      if (!home.ok()) return home.status();
      if (v.image_id < 0 && moved) {
        origins.push_back({&v, (*previous)->host, v.name, -1, true});
      } else if (v.image_id < 0 && !*previous && *home) {
        origins.push_back({&v, **home, ImageVolumeName(image_id), image_id, false});
      } else if (v.image_id >= 0 && !*home) {
        homeless.push_back(v.image_id);
      } else if (v.image_id >= 0 && **home != host) {
        origins.push_back({&v, **home, v.name, v.image_id, true});
      }
    }
    auto engine = engines_.Acquire(host);
    if (!engine.ok()) return engine.status();
    auto seed = [&](Engine& dest) -> Status {
      for (const auto& origin : origins) {
        if (Status c = CopyVolume(vm.id, origin, dest, name, plan->spec.image); !c.ok()) return c;
      }
      return Status::Ok();
    };
    bool created = false;
    if (Status c = ConvergeContainer(**engine, *plan, &created, seed); !c.ok()) {
      return c.WithContext("engine " + engines_.Describe(host));
    }
    Placement placement{vm.id, host, false, ""};
    if (*previous) placement = {vm.id, host, (*previous)->start_script_done, (*previous)->checkpoint};
    if (!plan->start_command.empty() && !placement.start_script_done) {
      auto ran = (*engine)->Exec(name, plan->start_command, {}, 120000);
      if (!ran.ok()) {
        NamedLogger("actions")->warn("vm {}: START_SCRIPT could not run: {}", vm.id, ran.status().ToString());
      } else {
        if (ran->exit_code != 0) {
          NamedLogger("actions")->warn("vm {}: START_SCRIPT exited {}: {}", vm.id, ran->exit_code, ran->err);
        }
        placement.start_script_done = true;
      }
    }
    if (Status p = journal_.Place(placement); !p.ok()) return p;
    for (int image_id : homeless) {
      if (Status h = journal_.SetVolumeHome(image_id, host); !h.ok()) return h;
    }
    if (moved) {
      // The VM moved: the container it left behind must not survive as a twin; its own volumes
      // were copied and go with it.
      if (Status r = RemoveLocked(vm.id, (*previous)->host); !r.ok()) {
        NamedLogger("actions")->error("vm {}: container left on host {}: {}", vm.id, (*previous)->host, r.ToString());
      }
    }
    for (const auto& origin : origins) {
      if (!origin.moves || origin.source_image < 0) continue;  // a VM's own went with its container
      if (Status h = journal_.SetVolumeHome(origin.source_image, host); !h.ok()) return h;
      auto old = engines_.Acquire(origin.host);
      Status r = old.ok() ? (*old)->RemoveVolume(origin.source) : old.status();
      if (!r.ok() && !Is(r, Status::Code::kNotFound)) {
        NamedLogger("actions")->error("image {}: old copy of volume {} left on host {}: {}", origin.source_image,
                                      origin.source, origin.host, r.ToString());
      }
    }
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return name;
}

Status VmActions::Shutdown(int vm_id, const std::string& host) {
  auto lock = LockVm(vm_id);
  return Journaled(vm_id, "shutdown", host, [&]() -> Status {
    auto engine = engines_.Acquire(host);
    if (!engine.ok()) return engine.status();
    auto r = (*engine)->StopContainer(ContainerName(vm_id), settings_.plan.stop_timeout_s);
    if (!r.ok() && Is(r.status(), Status::Code::kNotFound)) {
      NamedLogger("actions")->warn("shutdown vm {}: no container on host {}: nothing to stop", vm_id, host);
      return Status::Ok();
    }
    return r.ok() ? Status::Ok() : r.status();
  });
}

Status VmActions::Cancel(int vm_id, const std::string& host) {
  auto lock = LockVm(vm_id);
  return Journaled(vm_id, "cancel", host, [&]() -> Status {
    auto engine = engines_.Acquire(host);
    if (!engine.ok()) return engine.status();
    Status s = (*engine)->KillContainer(ContainerName(vm_id), "SIGKILL");
    // 409: not running; 404: no container. Either way nothing runs.
    if (Is(s, Status::Code::kConflict) || Is(s, Status::Code::kNotFound)) return Status::Ok();
    return s;
  });
}

Status VmActions::Reboot(int vm_id, const std::string& host, bool hard) {
  auto lock = LockVm(vm_id);
  return Journaled(vm_id, hard ? "reset" : "reboot", host, [&]() -> Status {
    auto engine = engines_.Acquire(host);
    if (!engine.ok()) return engine.status();
    auto r = (*engine)->RestartContainer(ContainerName(vm_id), hard ? 0 : settings_.plan.stop_timeout_s);
    return r.ok() ? Status::Ok() : r.status();
  });
}

Status VmActions::Resize(const Vm& vm, const std::string& host) {
  auto lock = LockVm(vm.id);
  return Journaled(vm.id, "resize", host, [&]() -> Status {
    if (vm.cpu <= 0 || vm.memory_mb <= 0) return InvalidArgument("the VM template needs CPU and MEMORY above 0");
    auto engine = engines_.Acquire(host);
    if (!engine.ok()) return engine.status();
    return (*engine)->UpdateContainer(ContainerName(vm.id), LimitsOf(vm));
  });
}

Status VmActions::AttachNic(const Vm& vm, const std::string& host, const std::string& mac) {
  auto lock = LockVm(vm.id);
  return Journaled(vm.id, "attach_nic", host, [&]() -> Status {
    auto nic = NicByMac(vm, mac);
    if (!nic) return InvalidArgument("the VM has no NIC with MAC " + mac);
    auto vnet = one_.VnetInfo(nic->first.network_id);
    if (!vnet.ok()) return vnet.status().WithContext("read vnet " + std::to_string(nic->first.network_id));
    auto planned = PlanNic(nic->first, nic->second, *vnet, vm.context);
    if (!planned.ok()) return planned.status();
    auto engine = engines_.Acquire(host);
    if (!engine.ok()) return engine.status();
    if (Status s = EnsureNetwork(**engine, planned->network); !s.ok()) return s;
    Status s = (*engine)->ConnectNetwork(planned->network.name, ContainerName(vm.id), planned->attachment);
    if (s.code() != Status::Code::kConflict) return s;
    // Already on that network: done if with this NIC's address (a repeated call), refused if
    // another NIC holds it, since a container has one endpoint per network.
    auto c = (*engine)->InspectContainer(ContainerName(vm.id));
    if (!c.ok()) return c.status();
    auto endpoint = c->networks.find(planned->network.name);
    if (endpoint != c->networks.end() && endpoint->second.ipv4 == planned->attachment.ipv4) return Status::Ok();
    return FailedPrecondition("the container already has a NIC on network " + planned->network.name +
                              " (vnet " + std::to_string(nic->first.network_id) +
                              "); Docker allows one NIC per network in a container");
  });
}

Status VmActions::DetachNic(const Vm& vm, const std::string& host, const std::string& mac) {
  auto lock = LockVm(vm.id);
  return Journaled(vm.id, "detach_nic", host, [&]() -> Status {
    auto nic = NicByMac(vm, mac);
    if (!nic) return InvalidArgument("the VM has no NIC with MAC " + mac);
    const std::string network = NetworkNameOf(nic->first, "");
    auto engine = engines_.Acquire(host);
    if (!engine.ok()) return engine.status();
    Status s = (*engine)->DisconnectNetwork(network, ContainerName(vm.id), false);
    if (s.code() == Status::Code::kNotFound) return Status::Ok();
    return s;
  });
}

Result<std::string> VmActions::CommitAndPush(Engine& engine, int vm_id, const std::string& repo,
                                             const std::string& tag) {
  CommitRequest commit;
  commit.container = ContainerName(vm_id);
  commit.repo = repo;
  commit.tag = tag;
  commit.author = settings_.plan.instance;
  commit.labels = {{kLabelVmId, std::to_string(vm_id)}};
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
    auto reference = CommitAndPush(**engine, vm.id,
                                   settings_.plan.registry + "/onedock-checkpoint/" + ContainerName(vm.id), "latest");
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

Result<std::string> VmActions::SnapshotCreate(const Vm& vm, const std::string& host, const std::string& snap_id) {
  auto lock = LockVm(vm.id);
  std::string reference;
  Status s = Journaled(vm.id, "snapshot_create", host, [&]() -> Status {
    if (snap_id.empty() || !std::all_of(snap_id.begin(), snap_id.end(), ::isdigit)) {
      return InvalidArgument("snapshot id \"" + snap_id + "\" is not a number");
    }
    auto engine = engines_.Acquire(host);
    if (!engine.ok()) return engine.status();
    auto r = CommitAndPush(**engine, vm.id, settings_.plan.registry + "/onedock-snapshot/" + ContainerName(vm.id),
                           "s" + snap_id);
    if (!r.ok()) return r.status();
    reference = r->substr(0, r->find('@'));  // the HYPERVISOR_ID names the tag
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return reference;
}

Status VmActions::SnapshotRevert(const Vm& vm, const std::string& host, const std::string& reference) {
  auto lock = LockVm(vm.id);
  const std::string prefix = settings_.plan.registry + "/onedock-snapshot/" + ContainerName(vm.id) + ":";
  if (reference.rfind(prefix, 0) != 0) {
    return InvalidArgument("snapshot_revert vm " + std::to_string(vm.id) + ": \"" + reference +
                           "\" is not one of this VM's snapshots");
  }
  Status s = Journaled(vm.id, "snapshot_revert", host, [&]() -> Status {
    auto engine = engines_.Acquire(host);
    if (!engine.ok()) return engine.status();
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

Status VmActions::Remove(int vm_id, const std::string& host) {
  auto lock = LockVm(vm_id);
  return Journaled(vm_id, "remove", host, [&]() -> Status {
    auto placement = journal_.PlacementOf(vm_id);
    if (!placement.ok()) return placement.status();
    if (Status s = RemoveLocked(vm_id, host); !s.ok()) return s;
    if (*placement && (*placement)->host != host) {
      if (Status s = RemoveLocked(vm_id, (*placement)->host); !s.ok()) return s;
    }
    return journal_.Forget(vm_id);
  });
}

Status VmActions::RemoveLocked(int vm_id, const std::string& host) {
  auto engine = engines_.Acquire(host);
  if (!engine.ok()) return engine.status();
  const std::string name = ContainerName(vm_id);
  auto c = (*engine)->InspectContainer(name);
  if (!c.ok() && !Is(c.status(), Status::Code::kNotFound)) return c.status();
  if (c.ok()) {
    auto vm_label = c->labels.find(kLabelVmId);
    if (vm_label == c->labels.end() || vm_label->second != std::to_string(vm_id)) {
      NamedLogger("actions")->warn("host {}: container {} is not onedock's (no {} label): left alone", host, name,
                                   kLabelVmId);
      return Status::Ok();
    }
    Status s = (*engine)->RemoveContainer(name, true, true);
    if (!s.ok() && !Is(s, Status::Code::kNotFound)) return s;
  }
  // The VM's own volumes go with it; a persistent image's volume stays for the image.
  auto volumes = (*engine)->ListVolumes({std::string(kLabelVmId) + "=" + std::to_string(vm_id),
                                         std::string(kLabelInstance) + "=" + settings_.plan.instance});
  if (!volumes.ok()) return volumes.status();
  for (const auto& v : *volumes) {
    Status s = (*engine)->RemoveVolume(v.name);
    if (!s.ok() && !Is(s, Status::Code::kNotFound)) return s;
  }
  return Status::Ok();
}

Result<std::optional<std::string>> VmActions::ImageVolumeHome(int image_id) { return journal_.VolumeHome(image_id); }

Status VmActions::RemoveImageVolume(int image_id) {
  const std::string name = ImageVolumeName(image_id);
  auto home = journal_.VolumeHome(image_id);
  if (!home.ok()) return home.status();
  if (!*home) return Status::Ok();  // never deployed: no volume was made
  const std::string what = "remove volume " + name + " on host " + **home;
  auto engine = engines_.Acquire(**home);
  if (!engine.ok()) return engine.status().WithContext(what);
  Status s = (*engine)->RemoveVolume(name);
  if (!s.ok() && !Is(s, Status::Code::kNotFound)) return s.WithContext(what);
  NamedLogger("actions")->info("{}: done", what);
  return journal_.ForgetVolumeHome(image_id);
}

int VmActions::Recover() {
  auto log = NamedLogger("recovery");
  auto pending = journal_.Pending();
  if (!pending.ok()) {
    log->error("{}", pending.status().ToString());
    return 1;
  }
  int open = 0;
  for (const Intent& intent : *pending) {
    const std::string what = intent.action + " vm " + std::to_string(intent.vm_id) + " on host " + intent.host;
    if (intent.action != "deploy") {
      journal_.Finish(intent.id, "interrupted by a restart of onedockd; the stub retries the call");
      log->info("{}: interrupted; left to the stub's retry", what);
      continue;
    }
    auto vm = one_.VmInfo(intent.vm_id);
    if (!vm.ok() && !Is(vm.status(), Status::Code::kNotFound)) {
      log->warn("{}: oned did not answer ({}); will retry", what, vm.status().ToString());
      ++open;
      continue;
    }
    auto lock = LockVm(intent.vm_id);
    const History* h = vm.ok() ? vm->CurrentHistory() : nullptr;
    const bool gone = !vm.ok() || vm->state == kVmDone;
    const int lcm = vm.ok() ? vm->lcm_state : 0;
    const bool deploying_here = vm.ok() && vm->state == kVmActive && h != nullptr && h->hostname == intent.host &&
                                (lcm == kLcmBoot || lcm == kLcmRunning || lcm == kLcmBootPoweroff ||
                                 lcm == kLcmBootSuspended || lcm == kLcmBootStopped || lcm == kLcmBootUndeploy);
    if (gone) {
      Status s = RemoveLocked(intent.vm_id, intent.host);
      journal_.Finish(intent.id, "rolled back at restart: the VM is gone");
      log->info("{}: rolled back (the VM is gone): {}", what, s.ok() ? "container removed" : s.ToString());
      if (s.ok()) journal_.Forget(intent.vm_id);
    } else if (deploying_here) {
      auto done = DeployLocked(*vm, intent.host, "");
      journal_.Finish(intent.id, done.ok() ? "" : done.status().message());
      log->info("{}: finished at restart: {}", what, done.ok() ? "running" : done.status().ToString());
    } else {
      journal_.Finish(intent.id, "closed at restart: oned no longer deploys the VM on this host");
      log->info("{}: closed (VM state {}/{})", what, vm->state, lcm);
    }
  }
  return open;
}

}  // namespace onedock::bridge
