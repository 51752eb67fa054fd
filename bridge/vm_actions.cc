#include "bridge/vm_actions.h"

#include <algorithm>
#include <cctype>

#include "bridge/container_exit.h"
#include "bridge/log.h"
#include "bridge/output_tail.h"
#include "bridge/ownership.h"

namespace onedock {
namespace {

bool Is(const Status& s, Status::Code code) { return s.code() == code; }

bool SameMac(const std::string& a, const std::string& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// The NIC carrying `mac` and its position among the VM's NICs in NIC_ID order.
std::optional<std::pair<Nic, size_t>> NicByMac(const Vm& vm, const std::string& mac) {
  std::vector<Nic> nics = vm.nics;
  std::sort(nics.begin(), nics.end(),
            [](const Nic& a, const Nic& b) { return a.nic_id < b.nic_id; });
  for (size_t i = 0; i < nics.size(); ++i) {
    if (SameMac(nics[i].mac, mac)) return std::make_pair(nics[i], i);
  }
  return std::nullopt;
}

}  // namespace

VmActions::VmActions(EngineProvider& engines, OneApi& one, SqliteStore& journal,
                     ActionSettings settings)
    : engines_(engines), one_(one), journal_(journal), settings_(std::move(settings)) {}

std::unique_lock<std::mutex> VmActions::LockVm(int vm_id) {
  std::shared_ptr<std::mutex> mu;
  {
    std::lock_guard lock(locks_mu_);
    if (locks_.size() > kPruneLocksAbove) {
      std::erase_if(locks_, [](const auto& item) { return item.second.use_count() == 1; });
    }
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
    if (!vnet.ok())
      return vnet.status().WithContext("read vnet " + std::to_string(nic.network_id) +
                                       " from oned");
    vnets.emplace(nic.network_id, std::move(*vnet));
  }
  return vnets;
}

Result<ContainerInfo> VmActions::OurContainer(Engine& engine, int vm_id) {
  const std::string name = ContainerName(vm_id);
  auto c = engine.InspectContainer(name);
  if (!c.ok()) return c.status();
  if (!IsOurs(c->labels, vm_id, settings_.plan.instance))
    return NotOurs("container " + name, c->labels);
  return c;
}

// Whether the VM has nothing on the host: no container of its name, or only someone else's.
bool VmActions::NothingOfTheVm(const Status& s, const std::string& action, int vm_id,
                               const std::string& host) {
  if (!Is(s, Status::Code::kNotFound) && !Is(s, Status::Code::kConflict)) return false;
  NamedLogger("actions")->warn("{} vm {} on host {}: nothing of this VM there: {}", action, vm_id,
                               host, s.message());
  return true;
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
  {
    std::lock_guard live(live_mu_);
    live_intents_.insert(*intent);
  }
  const Status s = body().WithContext(what);
  {
    std::lock_guard live(live_mu_);
    live_intents_.erase(*intent);
  }
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
  // The engine refuses a subnet that overlaps one of its networks without saying which. A create
  // that raced another of the same name passes the engine's name check and is refused for the
  // pool the other one just took: the network is then there, as this deploy wants it.
  if (Is(created.status(), Status::Code::kFailedPrecondition)) {
    auto raced = engine.InspectNetwork(network.name);
    if (raced.ok() && raced->subnet == network.subnet) return Status::Ok();
    auto all = engine.ListNetworks();
    const auto overlapping =
        all.ok() ? OverlappingNetworks(network.subnet, *all) : std::vector<std::string>{};
    if (!overlapping.empty()) {
      std::string names;
      for (const auto& n : overlapping) names += (names.empty() ? "" : ", ") + n;
      return FailedPrecondition("network " + network.name + " (" + network.subnet +
                                ") overlaps network " + names +
                                " on the host: " + created.status().message());
    }
  }
  return created.status();
}

Status VmActions::ConvergeContainer(Engine& engine, const ContainerPlan& plan, bool* created,
                                    const std::function<Status(Engine&)>& seed, StepTimer* steps) {
  const auto mark = [steps](std::string_view step) {
    if (steps != nullptr) steps->Mark(step);
  };
  const ContainerSpec& spec = plan.spec;
  const std::string vm_label = spec.labels.at(kLabelVmId);
  bool seeded = false;
  for (int round = 0; round < 8; ++round) {
    auto c = engine.InspectContainer(spec.name);
    mark("inspect");
    if (!c.ok() && !Is(c.status(), Status::Code::kNotFound)) return c.status();
    if (!c.ok()) {
      auto image = engine.InspectImage(spec.image);
      if (!image.ok() && !Is(image.status(), Status::Code::kNotFound)) return image.status();
      if (!image.ok()) {
        if (Status s = engine.PullImage(spec.image, settings_.registry_auth, nullptr); !s.ok())
          return s;
      }
      mark("image");
      for (const auto& nic : plan.nics) {
        if (Status s = EnsureNetwork(engine, nic.network); !s.ok()) return s;
      }
      mark("networks");
      for (const auto& volume : plan.volumes) {
        if (Status s = EnsureVolume(engine, volume); !s.ok()) return s;
      }
      mark("volumes");
      auto id = engine.CreateContainer(spec);
      mark("create");
      if (!id.ok() && !Is(id.status(), Status::Code::kConflict)) return id.status();
      if (id.ok()) *created = true;
      continue;  // adopt what is there now
    }
    if (!IsOurs(c->labels, std::stoi(vm_label), settings_.plan.instance)) {
      return NotOurs("container " + spec.name, c->labels);
    }
    if (c->nano_cpus != spec.nano_cpus || c->memory_bytes != spec.memory_bytes ||
        c->memory_swap_bytes != spec.memory_bytes) {
      if (Status s = engine.UpdateContainer(spec.name, {spec.nano_cpus, spec.memory_bytes});
          !s.ok())
        return s;
    }
    if (c->running) return Status::Ok();
    for (size_t i = 1; i < plan.nics.size(); ++i) {
      const PlannedNic& nic = plan.nics[i];
      if (c->networks.count(nic.network.name) != 0) continue;
      if (Status s = EnsureNetwork(engine, nic.network); !s.ok()) return s;
      if (Status s = engine.ConnectNetwork(nic.network.name, spec.name, nic.attachment); !s.ok())
        return s;
    }
    if (*created && !seeded && seed) {
      if (Status s = seed(engine); !s.ok()) {
        engine.RemoveContainer(spec.name, true, false);  // the next attempt creates and seeds again
        return s;
      }
      seeded = true;
      mark("seed");
    }
    if (Status s = engine.PutArchive(spec.name, "/", plan.context_tar); !s.ok()) return s;
    mark("archive");
    auto started = engine.StartContainer(spec.name);
    mark("start");
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

Status VmActions::SettleStart(Engine& engine, const std::string& name, bool fresh) {
  const long settle_ms = settings_.start_settle_ms;
  if (settle_ms <= 0) return Status::Ok();
  auto stopped = engine.WaitStopped(name, settle_ms);
  if (!stopped.ok()) {
    // The start itself succeeded; what a failed wait cannot tell, the monitor reports.
    NamedLogger("actions")->warn("{}: could not watch the start: {}", name,
                                 stopped.status().ToString());
    return Status::Ok();
  }
  if (!*stopped) return Status::Ok();
  auto info = engine.InspectContainer(name);
  if (!info.ok() || info->running) return Status::Ok();
  auto log = engine.LogTail(name, static_cast<int>(kExitLogLines), info->tty);
  const ContainerExit exit = ExitOf(*info, log.ok() ? *log : "");
  if (!IsFailure(exit)) {
    NamedLogger("actions")->info("{}: the container's command ended with 0 right after its start",
                                 name);
    return Status::Ok();
  }
  const std::string message = StartFailureMessage(exit, settle_ms);
  NamedLogger("actions")->warn("{}: {}", name, message);
  // A container made by this deploy holds nothing yet: removed, the next attempt creates it from
  // the template as it is then. A stopped VM's container keeps the VM's files.
  if (fresh) engine.RemoveContainer(name, true, true);
  return FailedPrecondition(message);
}

Result<std::string> VmActions::Deploy(const Vm& vm, const std::string& host,
                                      const std::string& image) {
  auto lock = LockVm(vm.id);
  return DeployLocked(vm, host, image);
}

VmActions::ScriptRun VmActions::RunStartScript(Engine& engine, int vm_id,
                                               const std::vector<std::string>& command) {
  auto ran = engine.Exec(ContainerName(vm_id), command, {}, 120000);
  if (!ran.ok()) {
    NamedLogger("actions")->warn("vm {}: START_SCRIPT could not run: {}", vm_id,
                                 ran.status().ToString());
    // 404 and 409 come before the exec exists; anything later may have left it running.
    const bool never_started =
        Is(ran.status(), Status::Code::kNotFound) || Is(ran.status(), Status::Code::kConflict);
    return never_started ? ScriptRun::kNotStarted : ScriptRun::kUnknown;
  }
  if (ran->exit_code != 0) {
    NamedLogger("actions")->warn("vm {}: START_SCRIPT exited {} ({} bytes on stderr; last: {})",
                                 vm_id, ran->exit_code, ran->err_bytes, OneLineTail(ran->err));
  }
  return ScriptRun::kRan;
}

Result<std::string> VmActions::DeployLocked(const Vm& vm, const std::string& host,
                                            const std::string& image) {
  const std::string name = ContainerName(vm.id);
  StepTimer steps(activity_.clock());
  Status s = Journaled(vm.id, "deploy", host, [&]() -> Status {
    steps.Mark("intent");
    auto vnets = VnetsOf(vm);
    if (!vnets.ok()) return vnets.status();
    steps.Mark("vnets");
    auto plan = PlanContainer(vm, host, *vnets, settings_.plan);
    if (!plan.ok()) return plan.status();
    if (!image.empty()) plan->spec.image = image;
    steps.Mark("plan");
    auto previous = journal_.PlacementOf(vm.id);
    if (!previous.ok()) return previous.status();
    auto sources = VolumeSourcesOf(plan->volumes, *previous, host);
    if (!sources.ok()) return sources.status();
    std::vector<std::string> volume_names;
    for (const auto& v : plan->volumes) volume_names.push_back(v.name);
    if (Status l = SettleLeftovers(host, vm.id, volume_names); !l.ok()) return l;
    steps.Mark("journal");
    auto engine = engines_.Acquire(host);
    if (!engine.ok()) return engine.status();
    steps.Mark("engine");
    auto seed = [&](Engine& dest) -> Status {
      // Until the Place below, what is copied here is not the VM's data, only a copy in progress:
      // a crash in the middle leaves it marked for removal, not adopted half-filled.
      std::vector<Leftover> copies = {{host, "container", name, vm.id}};
      for (const auto& origin : sources->origins) {
        if (origin.moves && origin.source_image >= 0)  // the VM's own go with its container
          copies.push_back({host, "volume", plan->volumes[origin.volume].name, vm.id});
      }
      if (Status a = journal_.AddLeftovers(copies); !a.ok()) return a;
      for (const auto& origin : sources->origins) {
        const PlannedVolume& volume = plan->volumes[origin.volume];
        if (Status c = CopyVolume(vm.id, volume, origin, dest, name, plan->spec.image); !c.ok())
          return c;
      }
      return Status::Ok();
    };
    bool created = false;
    if (Status c = ConvergeContainer(**engine, *plan, &created, seed, &steps); !c.ok()) {
      // A refusal for labels is about the container, not the engine: it keeps the first 100
      // characters, which oned shows, for the labels.
      return Is(c, Status::Code::kConflict) ? c
                                            : c.WithContext("engine " + engines_.Describe(host));
    }
    // oned shows the first 100 characters or so of a deploy's error: the exit code and output
    // come first, without the engine's address.
    if (Status started = SettleStart(**engine, name, created); !started.ok()) return started;
    steps.Mark("settle");
    Placement placement{vm.id, host, false, "", false};
    if (*previous) {
      placement = **previous;
      placement.host = host;
    }
    // The images whose volume is on this host from now on: made here, or moved here.
    std::vector<int> images_here = sources->homeless;
    // What the move leaves behind, recorded in the same transaction that moves the VM here.
    std::vector<Leftover> left_behind;
    if (*previous && (*previous)->host != host)
      left_behind.push_back({(*previous)->host, "container", name, vm.id});
    for (const auto& origin : sources->origins) {
      if (origin.moves && origin.source_image >= 0) {
        images_here.push_back(origin.source_image);
        left_behind.push_back({origin.host, "volume", origin.source, vm.id});
      }
    }
    if (!plan->start_command.empty() && placement.start_script_started &&
        !placement.start_script_done) {
      NamedLogger("actions")->warn(
          "vm {}: START_SCRIPT was started by a run of onedockd that ended before it finished; it "
          "runs at most once and is not run again",
          vm.id);
      placement.start_script_done = true;
    }
    if (!plan->start_command.empty() && !placement.start_script_started) {
      // Journaled before the exec: a crash while it runs must not run it a second time.
      placement.start_script_started = true;
      if (Status p = journal_.Place(placement, images_here, left_behind); !p.ok()) return p;
      placement.start_script_started =
          RunStartScript(**engine, vm.id, plan->start_command) != ScriptRun::kNotStarted;
      placement.start_script_done = placement.start_script_started;
      steps.Mark("start_script");
    }
    if (Status p = journal_.Place(placement, images_here, left_behind); !p.ok()) return p;
    RemoveLeftBehind(vm.id, host, *previous, sources->origins);
    steps.Mark("place");
    return Status::Ok();
  });
  steps.Mark("finish");
  if (!s.ok()) return s;
  // The summary is only built when someone reads it.
  if (auto log = NamedLogger("actions"); log->should_log(spdlog::level::debug)) {
    log->debug("deploy vm {} on {} steps: {}", vm.id, host, steps.Summary());
  }
  return name;
}

Status VmActions::Shutdown(int vm_id, const std::string& host) {
  auto lock = LockVm(vm_id);
  return Journaled(vm_id, "shutdown", host, [&]() -> Status {
    auto engine = engines_.Acquire(host);
    if (!engine.ok()) return engine.status();
    // A container of another installation (or no container) means nothing of this VM runs
    // there: the stop succeeds without touching it, so that oned can end the VM.
    auto c = OurContainer(**engine, vm_id);
    if (!c.ok())
      return NothingOfTheVm(c.status(), "shutdown", vm_id, host) ? Status::Ok() : c.status();
    auto r = (*engine)->StopContainer(ContainerName(vm_id), settings_.plan.stop_timeout_s);
    if (!r.ok() && Is(r.status(), Status::Code::kNotFound)) return Status::Ok();
    return r.ok() ? Status::Ok() : r.status();
  });
}

Status VmActions::Cancel(int vm_id, const std::string& host) {
  auto lock = LockVm(vm_id);
  return Journaled(vm_id, "cancel", host, [&]() -> Status {
    auto engine = engines_.Acquire(host);
    if (!engine.ok()) return engine.status();
    auto c = OurContainer(**engine, vm_id);
    if (!c.ok())
      return NothingOfTheVm(c.status(), "cancel", vm_id, host) ? Status::Ok() : c.status();
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
    if (auto c = OurContainer(**engine, vm_id); !c.ok()) return c.status();
    auto r =
        (*engine)->RestartContainer(ContainerName(vm_id), hard ? 0 : settings_.plan.stop_timeout_s);
    return r.ok() ? Status::Ok() : r.status();
  });
}

Status VmActions::Resize(const Vm& vm, const std::string& host) {
  auto lock = LockVm(vm.id);
  return Journaled(vm.id, "resize", host, [&]() -> Status {
    const auto limits = LimitsOf(vm);
    if (!limits.ok()) return limits.status();
    auto engine = engines_.Acquire(host);
    if (!engine.ok()) return engine.status();
    if (auto c = OurContainer(**engine, vm.id); !c.ok()) return c.status();
    return (*engine)->UpdateContainer(ContainerName(vm.id), *limits);
  });
}

Status VmActions::AttachNic(const Vm& vm, const std::string& host, const std::string& mac) {
  auto lock = LockVm(vm.id);
  return Journaled(vm.id, "attach_nic", host, [&]() -> Status {
    auto nic = NicByMac(vm, mac);
    if (!nic) return InvalidArgument("the VM has no NIC with MAC " + mac);
    auto vnet = one_.VnetInfo(nic->first.network_id);
    if (!vnet.ok())
      return vnet.status().WithContext("read vnet " + std::to_string(nic->first.network_id));
    auto planned = PlanNic(nic->first, nic->second, *vnet, vm.context);
    if (!planned.ok()) return planned.status();
    auto engine = engines_.Acquire(host);
    if (!engine.ok()) return engine.status();
    if (auto ours = OurContainer(**engine, vm.id); !ours.ok()) return ours.status();
    if (Status s = EnsureNetwork(**engine, planned->network); !s.ok()) return s;
    Status s =
        (*engine)->ConnectNetwork(planned->network.name, ContainerName(vm.id), planned->attachment);
    if (s.code() != Status::Code::kConflict) return s;
    // Already on that network: done if with this NIC's address (a repeated call), refused if
    // another NIC holds it, since a container has one endpoint per network.
    auto c = OurContainer(**engine, vm.id);
    if (!c.ok()) return c.status();
    auto endpoint = c->networks.find(planned->network.name);
    if (endpoint != c->networks.end() && endpoint->second.ipv4 == planned->attachment.ipv4)
      return Status::Ok();
    return FailedPrecondition("the container already has a NIC on network " +
                              planned->network.name + " (vnet " +
                              std::to_string(nic->first.network_id) +
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
    auto c = OurContainer(**engine, vm.id);
    if (!c.ok()) return Is(c.status(), Status::Code::kNotFound) ? Status::Ok() : c.status();
    Status s = (*engine)->DisconnectNetwork(network, ContainerName(vm.id), false);
    if (s.code() == Status::Code::kNotFound) return Status::Ok();
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
  // Someone else's container of that name is left as it is; the VM's own volumes still go.
  auto c = OurContainer(**engine, vm_id);
  if (!c.ok() && !NothingOfTheVm(c.status(), "remove", vm_id, host)) return c.status();
  if (c.ok()) {
    Status s = (*engine)->RemoveContainer(name, true, true);
    if (!s.ok() && !Is(s, Status::Code::kNotFound)) return s;
  }
  // The VM's own volumes go with it; a persistent image's volume stays for the image.
  auto volumes =
      (*engine)->ListVolumes({std::string(kLabelVmId) + "=" + std::to_string(vm_id),
                              std::string(kLabelInstance) + "=" + settings_.plan.instance});
  if (!volumes.ok()) return volumes.status();
  for (const auto& v : *volumes) {
    Status s = (*engine)->RemoveVolume(v.name);
    if (!s.ok() && !Is(s, Status::Code::kNotFound)) return s;
  }
  return Status::Ok();
}

}  // namespace onedock
