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

}  // namespace

bool LimitsDiffer(const SeenContainer& c, const ResourceUpdate& wanted) {
  if (wanted.nano_cpus > 0 && c.nano_cpus != wanted.nano_cpus) return true;
  if (wanted.memory_bytes > 0 &&
      (c.memory_bytes != wanted.memory_bytes || c.memory_swap_bytes != wanted.memory_bytes))
    return true;
  return false;
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
  std::set<std::pair<std::string, int>> still_orphaned;
  for (const auto& [vm_id, hosts] : held) {
    if (input.busy.count(vm_id) != 0) continue;  // onedock's own action: its sightings restart
    const auto wanted = input.vms.find(vm_id);
    if (wanted == input.vms.end()) {
      for (const auto& [host, here] : hosts) {
        const auto key = std::make_pair(host, vm_id);
        still_orphaned.insert(key);
        auto [seen, first] = first_seen_.try_emplace(key, Sighting{input.now, 0});
        ++seen->second.passes;
        if (seen->second.passes < 2 || input.now - seen->second.first < policy_.orphan_grace)
          continue;
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
  // The registry images of VMs that are gone, also once nothing of them is left on any host.
  answered.insert(kRegistry);
  for (const auto& [vm_id, references] : input.pushed) {
    if (input.vms.count(vm_id) != 0 || input.busy.count(vm_id) != 0 || references.empty()) continue;
    const auto key = std::make_pair(std::string(kRegistry), vm_id);
    still_orphaned.insert(key);
    auto [seen, first] = first_seen_.try_emplace(key, Sighting{input.now, 0});
    ++seen->second.passes;
    if (seen->second.passes < 2 || input.now - seen->second.first < policy_.orphan_grace) continue;
    orphans.push_back(
        {policy_.remove_orphans ? ReconcileAction::kDeleteImages : ReconcileAction::kReportOrphan,
         kRegistry,
         vm_id,
         references,
         {},
         "VM " + std::to_string(vm_id) + " is DONE or unknown to oned"});
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
    return answered.count(item.first.first) != 0 && still_orphaned.count(item.first) == 0;
  });
  std::vector<ReconcileStep> steps = std::move(orphans);
  steps.insert(steps.end(), twins.begin(), twins.end());
  steps.insert(steps.end(), limits.begin(), limits.end());
  steps.insert(steps.end(), learned.begin(), learned.end());
  steps.insert(steps.end(), networks.begin(), networks.end());
  return steps;
}

}  // namespace onedock
