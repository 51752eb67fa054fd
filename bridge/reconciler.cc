#include "bridge/reconciler.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <set>
#include <thread>
#include <vector>

#include "bridge/container_plan.h"
#include "bridge/image_reference.h"
#include "bridge/log.h"
#include "bridge/volume_plan.h"

namespace onedock {
namespace {

std::string LabelOf(const std::map<std::string, std::string>& labels, const char* key) {
  auto it = labels.find(key);
  return it == labels.end() ? "" : it->second;
}

// The id a label holds (one.vmid, one.image_id, one.vnet_id); -1 when absent or not an id.
int IdLabel(const std::map<std::string, std::string>& labels, const char* key) {
  const std::string text = LabelOf(labels, key);
  int id = -1;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  return ec == std::errc() && end == text.data() + text.size() && id >= 0 ? id : -1;
}

std::string Joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

}  // namespace

Reconciler::Reconciler(EngineProvider& engines, OneApi& one, VmActions& actions,
                       SqliteStore& journal, RegistryAccess* registries, ReconcileSettings settings,
                       const Clock& clock)
    : engines_(engines),
      one_(one),
      actions_(actions),
      journal_(journal),
      registries_(registries),
      settings_(std::move(settings)),
      clock_(clock),
      planner_(settings_.policy) {}

HostView Reconciler::Look(const std::string& host, const std::map<int, WantedVm>& vms) {
  HostView view;
  view.host = host;
  auto log = NamedLogger("reconcile");
  auto engine = engines_.Acquire(host);
  if (!engine.ok()) {
    log->warn("host {} skipped: {}", host, engine.status().ToString());
    return view;
  }
  const std::string ours = std::string(kLabelInstance) + "=" + settings_.policy.instance;
  auto containers = (*engine)->ListContainers({ours}, true);
  auto volumes = containers.ok() ? (*engine)->ListVolumes({ours})
                                 : Result<std::vector<VolumeInfo>>(containers.status());
  if (!volumes.ok()) {
    log->warn("host {} skipped: its engine does not answer: {}", host, volumes.status().ToString());
    return view;
  }
  for (const ContainerSummary& c : *containers) {
    SeenContainer seen{c.name, IdLabel(c.labels, kLabelVmId), LabelOf(c.labels, kLabelInstance),
                       c.state};
    auto wanted = vms.find(seen.vm_id);
    const bool runs_here = wanted != vms.end() && wanted->second.host == host &&
                           wanted->second.state == kVmActive &&
                           wanted->second.lcm_state == kLcmRunning && c.state == "running";
    if (runs_here) {
      auto info = (*engine)->InspectContainer(c.name);
      if (info.ok()) {
        seen.inspected = true;
        seen.nano_cpus = info->nano_cpus;
        seen.memory_bytes = info->memory_bytes;
        seen.memory_swap_bytes = info->memory_swap_bytes;
      }
    }
    view.containers.push_back(std::move(seen));
  }
  // Networks this instance made, and whether any container of the host (any instance, any state)
  // is on them.
  auto networks = (*engine)->ListNetworks();
  auto everyone = networks.ok() ? (*engine)->ListContainers({}, true)
                                : Result<std::vector<ContainerSummary>>(networks.status());
  if (everyone.ok()) {
    std::set<std::string> named;
    for (const ContainerSummary& c : *everyone) {
      for (const auto& [network, endpoint] : c.networks) named.insert(network);
    }
    for (const NetworkInfo& n : *networks) {
      if (LabelOf(n.labels, kLabelInstance) != settings_.policy.instance) continue;
      const int vnet = IdLabel(n.labels, "one.vnet_id");
      if (vnet < 0) continue;
      view.networks.push_back({n.name, vnet, settings_.policy.instance, n.subnet,
                               !n.containers.empty() || named.count(n.name) != 0});
    }
  } else {
    log->warn("host {}: networks not listed: {}", host, everyone.status().ToString());
  }
  for (const VolumeInfo& v : *volumes) {
    view.volumes.push_back({v.name, IdLabel(v.labels, kLabelVmId),
                            LabelOf(v.labels, kLabelInstance), IdLabel(v.labels, kLabelImageId)});
  }
  view.answered = true;
  return view;
}

void Reconciler::Apply(const ReconcileStep& step) {
  auto log = NamedLogger("reconcile");
  const std::string what =
      (step.host == ReconcilePlanner::kRegistry ? "private registry" : "host " + step.host) + ": " +
      Joined(step.names);
  const auto grace = settings_.policy.orphan_grace;
  Status s;
  switch (step.action) {
    case ReconcileAction::kReportOrphan: {
      log->warn("{}: orphaned ({}); left in place ([reconcile] orphans = report)", what, step.why);
      std::lock_guard lock(counts_mu_);
      counts_.orphans_reported += static_cast<int64_t>(step.names.size());
      return;
    }
    case ReconcileAction::kRemoveOrphan:
    case ReconcileAction::kRemoveTwin: {
      const bool orphan = step.action == ReconcileAction::kRemoveOrphan;
      s = actions_.RemoveUnwanted(step.vm_id, step.host, orphan, grace);
      if (s.ok()) {
        log->info("{}: removed, {}: {}", what, orphan ? "orphaned" : "a twin", step.why);
        std::lock_guard lock(counts_mu_);
        (orphan ? counts_.orphans_removed : counts_.twins_removed) +=
            static_cast<int64_t>(step.names.size());
        return;
      }
      break;
    }
    case ReconcileAction::kRecordPlacement:
    case ReconcileAction::kRecordVolumeHome: {
      const bool placement = step.action == ReconcileAction::kRecordPlacement;
      auto added = placement ? actions_.AdoptPlacement(step.vm_id, step.host, grace)
                             : journal_.AdoptVolumeHome(step.image_id, step.host);
      if (added.ok()) {
        if (*added) {
          log->info("{}: recorded in the journal as {}: {}", what,
                    placement ? "VM " + std::to_string(step.vm_id) + "'s placement"
                              : "image " + std::to_string(step.image_id) + "'s volume home",
                    step.why);
          std::lock_guard lock(counts_mu_);
          ++counts_.journal_rebuilt;
        }
        return;
      }
      s = added.status();
      break;
    }
    case ReconcileAction::kDeleteImages: {
      if (registries_ == nullptr) return;
      int deleted = 0;
      for (const std::string& name : step.names) {
        // "repo:tag@digest", as the push reported it: deleted by that digest.
        const auto at = name.rfind('@');
        auto reference = ParseImageReference(name.substr(0, at));
        if (reference.ok() && at != std::string::npos) reference->digest = name.substr(at + 1);
        s = !reference.ok() ? reference.status()
            : reference->digest.empty()
                ? InvalidArgument(name + " has no digest")
                : registries_->DeleteManifest(*reference, settings_.registry_auth);
        if (s.code() == Status::Code::kNotFound) s = Status::Ok();  // deleted already
        if (s.ok()) s = journal_.ForgetPushed(name);
        if (!s.ok()) break;
        ++deleted;
      }
      if (deleted > 0) {
        log->info("{}: {} image(s) deleted: {}", what, deleted, step.why);
        std::lock_guard lock(counts_mu_);
        counts_.images_deleted += deleted;
      }
      if (s.ok()) return;
      break;
    }
    case ReconcileAction::kRemoveNetwork: {
      auto engine = engines_.Acquire(step.host);
      s = engine.ok() ? (*engine)->RemoveNetwork(step.names.front()) : engine.status();
      if (s.ok() || s.code() == Status::Code::kNotFound) {
        log->info("{}: network removed: {}", what, step.why);
        std::lock_guard lock(counts_mu_);
        ++counts_.networks_removed;
        return;
      }
      break;
    }
    case ReconcileAction::kRestoreLimits:
      s = actions_.RestoreLimits(step.vm_id, step.host, step.limits, grace);
      if (s.ok()) {
        log->info("{}: limits restored to NanoCpus {}, Memory {}: {}", what, step.limits.nano_cpus,
                  step.limits.memory_bytes, step.why);
        std::lock_guard lock(counts_mu_);
        ++counts_.limits_restored;
        return;
      }
      break;
  }
  log->warn("{}: not repaired ({}), tried again at the next pass: {}", what, step.why,
            s.ToString());
  std::lock_guard lock(counts_mu_);
  ++counts_.repairs_failed;
}

ReconcileCounts Reconciler::Pass() {
  auto log = NamedLogger("reconcile");
  {
    std::lock_guard lock(counts_mu_);
    ++counts_.passes;
  }
  auto hosts = one_.Hosts();
  auto pool = hosts.ok() ? one_.LiveVms() : Result<std::vector<Vm>>(hosts.status());
  if (!pool.ok()) {
    log->warn("pass skipped: oned's pools could not be read: {}", pool.status().ToString());
    std::lock_guard lock(counts_mu_);
    ++counts_.failed_passes;
    return counts_;
  }
  ReconcileInput input;
  std::set<std::string> names;
  for (const Host& h : *hosts) {
    if (h.vm_mad == settings_.vm_mad) names.insert(h.name);
  }
  for (const Vm& vm : *pool) {
    WantedVm w{vm.state, vm.lcm_state, "", {}, {}};
    for (const Snapshot& snapshot : vm.snapshots) w.snapshots.insert(snapshot.hypervisor_id);
    if (const History* h = vm.CurrentHistory(); h != nullptr) {
      w.host = h->hostname;
      if (h->vm_mad == settings_.vm_mad) names.insert(h->hostname);
    }
    if (auto limits = LimitsOf(vm); limits.ok()) w.limits = *limits;
    input.vms.emplace(vm.id, std::move(w));
  }

  // Engines are listed in parallel, a few at a time.
  const std::vector<std::string> order(names.begin(), names.end());
  input.hosts.resize(order.size());
  std::atomic<size_t> next{0};
  std::vector<std::thread> listers;
  const size_t threads = std::min<size_t>(kListers, order.size());
  for (size_t t = 0; t < threads; ++t) {
    listers.emplace_back([&] {
      for (size_t i = next++; i < order.size(); i = next++) {
        input.hosts[i] = Look(order[i], input.vms);
      }
    });
  }
  for (auto& t : listers) t.join();

  int skipped = 0;
  for (const HostView& h : input.hosts) {
    if (!h.answered) ++skipped;
    for (const SeenContainer& c : h.containers) {
      if (actions_.activity().Busy(c.vm_id, settings_.policy.orphan_grace))
        input.busy.insert(c.vm_id);
    }
    for (const SeenVolume& v : h.volumes) {
      if (v.vm_id >= 0 && actions_.activity().Busy(v.vm_id, settings_.policy.orphan_grace))
        input.busy.insert(v.vm_id);
    }
  }
  auto placed = journal_.PlacedVms();
  auto homed = journal_.HomedImages();
  if (!placed.ok() || !homed.ok()) {
    log->warn("pass skipped: the journal cannot be read: {}",
              (placed.ok() ? homed.status() : placed.status()).ToString());
    std::lock_guard lock(counts_mu_);
    ++counts_.failed_passes;
    return counts_;
  }
  auto pushed = journal_.PushedImages();
  auto snapshots = pushed.ok()
                       ? journal_.Snapshots()
                       : Result<std::map<int, std::map<std::string, std::string>>>(pushed.status());
  if (snapshots.ok()) {
    input.pushed = std::move(*pushed);
    input.snapshots = std::move(*snapshots);
  } else {
    log->warn("pushed images not read: {}", snapshots.status().ToString());
  }
  // What oned says of the vnets the networks were made for.
  for (const HostView& h : input.hosts) {
    for (const SeenNetwork& n : h.networks) {
      if (input.vnets.count(n.vnet_id) != 0) continue;
      auto vnet = one_.VnetInfo(n.vnet_id);
      if (vnet.ok()) {
        input.vnets[n.vnet_id] = VnetSubnet(*vnet);
      } else if (vnet.status().code() == Status::Code::kNotFound) {
        input.vnets[n.vnet_id] = std::nullopt;
      }
    }
  }
  input.placed = std::move(*placed);
  input.homed = std::move(*homed);
  input.now = clock_.Now();
  for (const ReconcileStep& step : planner_.NextSteps(input)) Apply(step);

  auto pruned = journal_.PruneFinished(clock_.UnixSeconds() - settings_.keep_intents.count());
  if (!pruned.ok()) log->warn("journal not pruned: {}", pruned.status().ToString());
  std::lock_guard lock(counts_mu_);
  if (pruned.ok()) counts_.intents_pruned += *pruned;
  counts_.hosts_skipped = skipped;
  return counts_;
}

}  // namespace onedock
