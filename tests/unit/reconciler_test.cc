// Reconcile passes over fake engines and a fake oned: what a pass reads, removes and repairs, and
// what it leaves alone when a peer does not answer.
#include "bridge/reconciler.h"

#include <doctest/doctest.h>

#include <algorithm>

#include "tests/support/actions_rig.h"

namespace onedock {
namespace {

using std::chrono::seconds;

// The rig with VM 42 deployed and running on h1 with its data disks, both hosts in oned's pool,
// and a reconciler with no grace (two passes make an orphan due).
struct ReconcileRig : ActionsRig {
  ReconcileRig() {
    AddDataDisks();
    vm.state = kVmActive;
    vm.lcm_state = kLcmRunning;
    vm.history = {History{0, "h1", 0, 0, "onedock", "onedock", 0}};
    one.vms[42] = vm;
    one.hosts[0] = HostNamed(0, "h1");
    one.hosts[1] = HostNamed(1, "h2");
    one.hosts[2] = HostNamed(2, "kvm1", "kvm");
    REQUIRE(actions->Deploy(vm, "h1").ok());
    REQUIRE(h1().containers.count("one-42") == 1);
  }
  static Host HostNamed(int id, const std::string& name, const std::string& mad = "onedock") {
    Host h;
    h.id = id;
    h.name = name;
    h.vm_mad = h.im_mad = mad;
    return h;
  }
  // Snapshots s0 and s1 of VM 42 on h1, as snapshot_create takes them; their references.
  std::pair<std::string, std::string> TwoSnapshots() {
    auto s0 = actions->SnapshotCreate(vm, "h1", "0");
    auto s1 = actions->SnapshotCreate(vm, "h1", "1");
    REQUIRE(s0.ok());
    REQUIRE(s1.ok());
    return {*s0, *s1};
  }
  // A container of VM `vm_id` on `host`, labelled as onedock labels its own (of `instance`).
  void Plant(fakes::FakeEngine& e, int vm_id, const std::string& instance = "test") {
    ContainerSpec spec;
    spec.name = "one-" + std::to_string(vm_id);
    spec.labels = {{"one.vmid", std::to_string(vm_id)}, {"one.instance", instance}};
    REQUIRE(e.CreateContainer(spec).ok());
    REQUIRE(e.StartContainer(spec.name).ok());
  }
  ReconcileSettings settings{ReconcilePolicy{"test", seconds(0), true}};
  Reconciler reconciler{engines, one, *actions, *journal, &registries, settings};
};

TEST_CASE("a VM oned dropped while its host was unreachable loses its container and volumes") {
  ReconcileRig r;
  const size_t volumes_before = r.h1().volumes.size();
  REQUIRE(volumes_before >= 2);  // the VM's own two, and image 8's
  r.Plant(r.h2(), 42, "other");  // another onedock instance's VM 42
  r.h2().down = true;
  r.one.vms.erase(42);  // onevm recover --delete
  r.reconciler.Pass();
  CHECK(r.reconciler.counts().hosts_skipped == 1);
  CHECK(r.reconciler.counts().orphans_removed == 0);  // a first sighting
  CHECK(r.h1().containers.count("one-42") == 1);
  r.h2().down = false;
  // Seen on two passes: due.
  auto counts = r.reconciler.Pass();
  CHECK(r.h1().containers.count("one-42") == 0);
  CHECK(r.h1().volumes.count("one-42-disk1") == 0);
  CHECK(r.h1().volumes.count("one-42-disk2") == 0);
  CHECK(r.h1().volumes.count("one-image-8") == 1);  // the persistent image's data stays
  CHECK(counts.orphans_removed == 3);
  CHECK(counts.hosts_skipped == 0);
  CHECK_FALSE(r.journal->PlacementOf(42)->has_value());
  // The other instance's container is never touched.
  r.reconciler.Pass();
  CHECK(r.h2().containers.count("one-42") == 1);
  CHECK(r.reconciler.counts().orphans_removed == 3);
  CHECK(r.one.pool_reads == 3);  // one pool read per pass
}

TEST_CASE("report mode leaves an orphan in place and counts it") {
  ReconcileRig r;
  Reconciler reporting(r.engines, r.one, *r.actions, *r.journal, &r.registries,
                       ReconcileSettings{ReconcilePolicy{"test", seconds(0), false}});
  r.one.vms.erase(42);
  reporting.Pass();
  const auto counts = reporting.Pass();
  CHECK(counts.orphans_reported == 3);
  CHECK(counts.orphans_removed == 0);
  CHECK(r.h1().containers.count("one-42") == 1);
}

TEST_CASE("a twin left on the old host by a cold migration cut short is removed") {
  ReconcileRig r;
  r.Plant(r.h2(), 42);
  r.h2().volumes["one-42-disk1"] = {"one-42-disk1", {{"one.vmid", "42"}, {"one.instance", "test"}}};
  r.reconciler.Pass();
  CHECK(r.h2().containers.count("one-42") == 0);
  CHECK(r.h2().volumes.count("one-42-disk1") == 0);
  CHECK(r.h1().containers["one-42"].running);
  CHECK(r.h1().volumes.count("one-42-disk1") == 1);
  CHECK(r.reconciler.counts().twins_removed == 2);
  CHECK((*r.journal->PlacementOf(42))->host == "h1");
}

TEST_CASE("limits changed behind OpenNebula's back are restored with a live update") {
  ReconcileRig r;
  ContainerInfo& c = r.h1().containers["one-42"];
  const int64_t memory = c.memory_bytes;
  const int64_t cpus = c.nano_cpus;
  REQUIRE(memory > 0);
  r.reconciler.Pass();
  CHECK(r.reconciler.counts().limits_restored == 0);  // nothing differs
  c.memory_bytes = c.memory_swap_bytes = memory * 4;  // docker update --memory
  r.h1().calls.clear();
  r.reconciler.Pass();
  CHECK(r.h1().calls == std::vector<std::string>{"update one-42"});
  CHECK(c.memory_bytes == memory);
  CHECK(c.memory_swap_bytes == memory);
  CHECK(c.nano_cpus == cpus);
  CHECK(r.reconciler.counts().limits_restored == 1);
}

TEST_CASE("a pass whose pools oned does not give touches nothing") {
  ReconcileRig r;
  r.one.vms.erase(42);
  r.one.down = true;
  r.reconciler.Pass();
  r.reconciler.Pass();
  CHECK(r.reconciler.counts().failed_passes == 2);
  CHECK(r.h1().containers.count("one-42") == 1);
  // oned back: the first pass that reads it is the first sighting.
  r.one.down = false;
  r.reconciler.Pass();
  CHECK(r.h1().containers.count("one-42") == 1);
  r.reconciler.Pass();
  CHECK(r.h1().containers.count("one-42") == 0);
}

TEST_CASE(
    "a lost journal is rebuilt from the engines' labels, and the VM then moves with its data") {
  ReconcileRig r;
  r.h1().volume_data["one-42-disk1"] = "own data";
  r.h1().volume_data["one-image-8"] = "kept by image 8";
  // A new front-end: an empty journal, and onedockd started over it.
  testing::TempDir fresh("journal");
  auto journal = testing::OpenJournal(fresh.path() + "/journal.db");
  VmActions actions(r.engines, r.one, *journal, ActionSettings{r.actions_settings});
  Reconciler reconciler(r.engines, r.one, actions, *journal, &r.registries, r.settings);
  REQUIRE_FALSE(journal->PlacementOf(42)->has_value());
  const auto counts = reconciler.Pass();
  CHECK(counts.journal_rebuilt == 2);
  auto placed = journal->PlacementOf(42);
  REQUIRE(placed->has_value());
  CHECK((*placed)->host == "h1");
  CHECK((*placed)->start_script_done);
  CHECK(**journal->VolumeHome(8) == "h1");
  CHECK(r.h1().containers["one-42"].running);     // nothing else was touched
  CHECK(reconciler.Pass().journal_rebuilt == 2);  // known now: not recorded twice

  // A cold migration to h2 finds the data where the journal says it is.
  REQUIRE(actions.Save(r.vm, "h1").ok());
  REQUIRE(actions.Restore(r.vm, "h2").ok());
  CHECK(r.h2().volume_data["one-42-disk1"] == "own data");
  CHECK(r.h2().volume_data["one-image-8"] == "kept by image 8");
  CHECK(r.h1().containers.count("one-42") == 0);
  CHECK(**journal->VolumeHome(8) == "h2");
}

TEST_CASE("a terminated VM's checkpoint and snapshots are deleted from the registry by digest") {
  ReconcileRig r;
  REQUIRE(r.actions->Save(r.vm, "h1").ok());
  REQUIRE(r.actions->Restore(r.vm, "h1").ok());
  const auto [s0, s1] = r.TwoSnapshots();
  auto pushed = r.journal->PushedImages();
  REQUIRE(pushed.ok());
  REQUIRE((*pushed)[42].size() == 3);
  r.one.vms[42].snapshots = {{0, "s0", s0}, {1, "s1", s1}};  // as oned lists them
  r.reconciler.Pass();
  r.reconciler.Pass();
  CHECK(r.registries.deleted.empty());  // the VM is live and lists them
  REQUIRE(r.actions->Remove(42, "h1").ok());
  r.one.vms.erase(42);  // terminated: DONE
  r.reconciler.Pass();
  CHECK(r.registries.deleted.empty());  // a first sighting
  const auto counts = r.reconciler.Pass();
  CHECK(counts.repairs_failed == 0);
  CHECK(counts.orphans_reported == 0);
  CHECK(counts.images_deleted == 3);
  CHECK(r.registries.deleted.size() == 3);
  for (const auto& d : r.registries.deleted) {
    CAPTURE(d);
    CHECK(d.find("@sha256:") != std::string::npos);
    CHECK(d.find("/onedock-") != std::string::npos);
  }
  CHECK(r.journal->PushedImages()->empty());
  r.reconciler.Pass();
  CHECK(r.registries.deleted.size() == 3);
}

TEST_CASE(
    "a snapshot a live VM no longer lists is deleted from the registry and the journal forgets "
    "it") {
  ReconcileRig r;
  const auto [s0, s1] = r.TwoSnapshots();
  auto pushed = r.journal->PushedImages();
  REQUIRE(pushed.ok());
  REQUIRE((*pushed)[42].size() == 2);
  const std::string s0_pushed = (*pushed)[42][0];
  REQUIRE(s0_pushed.rfind(s0 + "@sha256:", 0) == 0);
  r.one.vms[42].snapshots = {{1, "s1", s1}};  // s0 deleted in oned
  r.reconciler.Pass();
  CHECK(r.registries.deleted.empty());  // a first sighting
  const auto counts = r.reconciler.Pass();
  CHECK(counts.repairs_failed == 0);
  CHECK(counts.images_deleted == 1);
  const auto at = s0_pushed.find('@');
  const std::string repository = s0_pushed.substr(0, s0_pushed.rfind(':', at));
  CHECK(r.registries.deleted == std::vector<std::string>{repository + s0_pushed.substr(at)});
  CHECK(r.journal->PushedImages()->at(42).size() == 1);
  CHECK_FALSE(r.journal->SnapshotOf(42, s0)->has_value());
  CHECK(r.journal->SnapshotOf(42, s1)->has_value());
  // The one it lists can still be reverted to; the deleted one is refused.
  CHECK(r.actions->SnapshotRevert(r.vm, "h1", s1).ok());
  CHECK(r.actions->SnapshotRevert(r.vm, "h1", s0).code() == Status::Code::kInvalidArgument);
  r.reconciler.Pass();
  CHECK(r.registries.deleted.size() == 1);
}

TEST_CASE("the networks of a vnet deleted in oned go once the last container on them is gone") {
  ReconcileRig r;
  REQUIRE(r.h1().networks.size() == 2);  // the VM's two vnets
  for (const auto& [name, n] : r.h1().networks) {
    CAPTURE(name);
    CHECK(n.labels.at("one.instance") == "test");
  }
  r.one.vnets.erase(1);
  r.reconciler.Pass();
  CHECK(r.h1().networks.size() == 2);  // VM 42's container is still on it
  REQUIRE(r.actions->Remove(42, "h1").ok());
  r.one.vms.erase(42);
  const auto counts = r.reconciler.Pass();
  CHECK(counts.networks_removed == 1);
  REQUIRE(r.h1().networks.size() == 1);
  CHECK(r.h1().networks.begin()->second.labels.at("one.vnet_id") == "0");
}

TEST_CASE("only the hosts of onedock's drivers are listed") {
  ReconcileRig r;
  r.engines.hosts["kvm1"];  // it would answer, but oned's kvm1 is not an onedock host
  r.Plant(r.engines.hosts["kvm1"], 50);
  r.one.vms.erase(42);
  r.reconciler.Pass();
  r.reconciler.Pass();
  CHECK(r.h1().containers.count("one-42") == 0);
  CHECK(r.engines.hosts["kvm1"].containers.count("one-50") == 1);
}

}  // namespace
}  // namespace onedock
