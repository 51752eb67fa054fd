#include "bridge/reconcile_plan.h"

#include <algorithm>

#include "bridge/one_types.h"

namespace onedock {
namespace {

// What one answering host holds of one VM of this instance.
struct Held {
  const SeenContainer* container = nullptr;
  std::vector<std::string> names;  // the container's, then the volumes'
};

std::string StateText(const WantedVm& vm) {
  return "state " + std::to_string(vm.state) + "/" + std::to_string(vm.lcm_state);
}

// Whether no action of oned's is under way on the VM: running, or at rest. A snapshot being taken
// (HOTPLUG_SNAPSHOT) is pushed before oned lists it, so a VM in any other state is left alone.
bool AtRest(const WantedVm& vm) {
  if (vm.state == kVmActive) return vm.lcm_state == kLcmRunning;
  return vm.state == kVmPoweroff || vm.state == kVmStopped || vm.state == kVmUndeployed;
}

// Whether `pushed` ("repo:tag@digest") is a snapshot onedock took of VM `vm_id`: repository
// …/onedock-snapshot/one-<id>, tag s<n> (a checkpoint is …/onedock-checkpoint/one-<id>:latest).
bool IsSnapshotOf(const std::string& pushed, int vm_id) {
  const std::string name = pushed.substr(0, pushed.find('@'));
  const std::string marker = "/onedock-snapshot/one-" + std::to_string(vm_id) + ":s";
  const auto at = name.rfind(marker);
  if (at == std::string::npos) return false;
  const std::string id = name.substr(at + marker.size());
  return !id.empty() &&
         std::all_of(id.begin(), id.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Whether a live VM still has the snapshot image `pushed`: it lists the tag, and no later push of
// the tag replaced this one (the journal pins the tag to another digest).
bool StillListed(const std::string& pushed, const WantedVm& vm,
                 const std::map<std::string, std::string>* records) {
  const auto at = pushed.find('@');
  const std::string name = pushed.substr(0, at);
  if (vm.snapshots.count(name) == 0) return false;
  if (records == nullptr || at == std::string::npos) return true;
  const auto record = records->find(name);
  if (record == records->end()) return true;  // not known to be replaced
  const std::string& pinned = record->second;
  const std::string digest = pushed.substr(at);
  return pinned.size() >= digest.size() &&
         pinned.compare(pinned.size() - digest.size(), digest.size(), digest) == 0;
}

}  // namespace

bool LimitsDiffer(const SeenContainer& c, const ResourceUpdate& wanted) {
  if (wanted.nano_cpus > 0 && c.nano_cpus != wanted.nano_cpus) return true;
  if (wanted.memory_bytes > 0 &&
      (c.memory_bytes != wanted.memory_bytes || c.memory_swap_bytes != wanted.memory_bytes))
    return true;
  return false;
}

bool ReconcilePlanner::Sighted(const Watched& key, Clock::TimePoint now) {
  auto [seen, first] = first_seen_.try_emplace(key, Sighting{now, 0});
  ++seen->second.passes;
  return seen->second.passes >= 2 && now - seen->second.first >= policy_.orphan_grace;
}

std::vector<ReconcileStep> ReconcilePlanner::NextSteps(const ReconcileInput& input) {
  // By VM, then host: what each answering host holds.
  std::map<int, std::map<std::string, Held>> held;
  std::set<std::string> answered;
  for (const HostView& h : input.hosts) {
    if (!h.answered) continue;
    answered.insert(h.host);
    for (const SeenContainer& c : h.containers) {
      if (c.instance != policy_.instance || c.vm_id < 0) continue;
      Held& here = held[c.vm_id][h.host];
      here.container = &c;
      here.names.insert(here.names.begin(), c.name);
    }
    for (const SeenVolume& v : h.volumes) {
      if (v.instance != policy_.instance || v.vm_id < 0) continue;
      held[v.vm_id][h.host].names.push_back(v.name);
    }
  }

  std::vector<ReconcileStep> orphans, twins, limits, learned;
  std::set<Watched> still_orphaned;
  for (const auto& [vm_id, hosts] : held) {
    if (input.busy.count(vm_id) != 0) continue;  // onedock's own action: its sightings restart
    const auto wanted = input.vms.find(vm_id);
    if (wanted == input.vms.end()) {
      for (const auto& [host, here] : hosts) {
        const Watched key{host, vm_id, ""};
        still_orphaned.insert(key);
        if (!Sighted(key, input.now)) continue;
        orphans.push_back({policy_.remove_orphans ? ReconcileAction::kRemoveOrphan
                                                  : ReconcileAction::kReportOrphan,
                           host,
                           vm_id,
                           here.names,
                           {},
                           "VM " + std::to_string(vm_id) + " is DONE or unknown to oned"});
      }
      continue;
    }
    const WantedVm& vm = wanted->second;
    if (input.placed.count(vm_id) == 0) {
      // Where its container is: on the host oned names, else on the only host that has one.
      std::vector<std::string> with;
      for (const auto& [host, here] : hosts) {
        if (here.container != nullptr) with.push_back(host);
      }
      const bool home = std::find(with.begin(), with.end(), vm.host) != with.end();
      if (home || with.size() == 1) {
        const std::string host = home ? vm.host : with.front();
        learned.push_back({ReconcileAction::kRecordPlacement,
                           host,
                           vm_id,
                           {hosts.at(host).container->name},
                           {},
                           "the journal has no placement of VM " + std::to_string(vm_id)});
      }
    }
    if (vm.state != kVmActive || vm.lcm_state != kLcmRunning) continue;  // transitional, or not up
    const auto home = hosts.find(vm.host);
    if (home == hosts.end() || home->second.container == nullptr ||
        home->second.container->state != "running")
      continue;
    for (const auto& [host, here] : hosts) {
      if (host == vm.host) continue;
      twins.push_back({ReconcileAction::kRemoveTwin,
                       host,
                       vm_id,
                       here.names,
                       {},
                       "oned runs VM " + std::to_string(vm_id) + " on " + vm.host + " (" +
                           StateText(vm) + "), where its container runs"});
    }
    const SeenContainer& c = *home->second.container;
    if (c.inspected && LimitsDiffer(c, vm.limits)) {
      limits.push_back({ReconcileAction::kRestoreLimits,
                        vm.host,
                        vm_id,
                        {c.name},
                        vm.limits,
                        "limits NanoCpus " + std::to_string(c.nano_cpus) + ", Memory " +
                            std::to_string(c.memory_bytes) + ", MemorySwap " +
                            std::to_string(c.memory_swap_bytes) + " differ from the template's"});
    }
  }
  // The registry images of VMs that are gone, also once nothing of them is left on any host; and
  // the snapshot images a live VM no longer lists.
  answered.insert(kRegistry);
  const auto image_action =
      policy_.remove_orphans ? ReconcileAction::kDeleteImages : ReconcileAction::kReportOrphan;
  for (const auto& [vm_id, references] : input.pushed) {
    if (input.busy.count(vm_id) != 0 || references.empty()) continue;
    const auto wanted = input.vms.find(vm_id);
    if (wanted == input.vms.end()) {
      const Watched key{kRegistry, vm_id, ""};
      still_orphaned.insert(key);
      if (!Sighted(key, input.now)) continue;
      orphans.push_back({image_action,
                         kRegistry,
                         vm_id,
                         references,
                         {},
                         "VM " + std::to_string(vm_id) + " is DONE or unknown to oned"});
      continue;
    }
    if (!AtRest(wanted->second)) continue;
    const auto records = input.snapshots.find(vm_id);
    std::vector<std::string> unlisted;
    for (const std::string& pushed : references) {
      if (!IsSnapshotOf(pushed, vm_id) ||
          StillListed(pushed, wanted->second,
                      records == input.snapshots.end() ? nullptr : &records->second))
        continue;
      const Watched key{kRegistry, vm_id, pushed};
      still_orphaned.insert(key);
      if (Sighted(key, input.now)) unlisted.push_back(pushed);
    }
    if (unlisted.empty()) continue;
    orphans.push_back({image_action,
                       kRegistry,
                       vm_id,
                       unlisted,
                       {},
                       "VM " + std::to_string(vm_id) + " (" + StateText(wanted->second) +
                           ") no longer lists " +
                           (unlisted.size() == 1 ? "this snapshot" : "these snapshots")});
  }
  // A persistent image's volume on one answering host only: that host is its home. (A host that
  // does not answer could hold a stale copy, left by a move whose clean-up failed; a fleet with a
  // host down for good would otherwise never learn any home.)
  std::map<int, std::vector<std::pair<std::string, std::string>>> image_volumes;
  for (const HostView& h : input.hosts) {
    if (!h.answered) continue;
    for (const SeenVolume& v : h.volumes) {
      if (v.instance == policy_.instance && v.vm_id < 0 && v.image_id >= 0)
        image_volumes[v.image_id].emplace_back(h.host, v.name);
    }
  }
  for (const auto& [image, where] : image_volumes) {
    if (input.homed.count(image) != 0 || where.size() != 1) continue;
    ReconcileStep s{ReconcileAction::kRecordVolumeHome,
                    where[0].first,
                    -1,
                    {where[0].second},
                    {},
                    "the journal has no home of image " + std::to_string(image) + "'s volume"};
    s.image_id = image;
    learned.push_back(std::move(s));
  }
  std::vector<ReconcileStep> networks;
  for (const HostView& h : input.hosts) {
    if (!h.answered) continue;
    for (const SeenNetwork& n : h.networks) {
      if (n.instance != policy_.instance || n.vnet_id < 0 || n.used) continue;
      const auto vnet = input.vnets.find(n.vnet_id);
      if (vnet == input.vnets.end()) continue;
      const std::string id = std::to_string(n.vnet_id);
      std::string why;
      if (!vnet->second) {
        why = "vnet " + id + " is gone from oned";
      } else if (!vnet->second->empty() && *vnet->second != n.subnet) {
        why = "vnet " + id + "'s subnet is " + *vnet->second + " now, the network's " + n.subnet;
      } else {
        continue;
      }
      networks.push_back({ReconcileAction::kRemoveNetwork, h.host, -1, {n.name}, {}, why});
    }
  }
  // Sightings of what is no longer orphaned (or is busy) restart; those on hosts that did not
  // answer are kept.
  std::erase_if(first_seen_, [&](const auto& item) {
    return answered.count(std::get<0>(item.first)) != 0 && still_orphaned.count(item.first) == 0;
  });
  std::vector<ReconcileStep> steps = std::move(orphans);
  steps.insert(steps.end(), twins.begin(), twins.end());
  steps.insert(steps.end(), limits.begin(), limits.end());
  steps.insert(steps.end(), learned.begin(), learned.end());
  steps.insert(steps.end(), networks.begin(), networks.end());
  return steps;
}

}  // namespace onedock
