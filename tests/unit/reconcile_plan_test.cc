// The reconcile planner pass after pass, without I/O: what it removes, repairs and reports, and
// everything it must never touch.
#include "bridge/reconcile_plan.h"

#include <doctest/doctest.h>

#include "bridge/one_types.h"

namespace onedock {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

constexpr int64_t kMem = 128 << 20;

ReconcilePolicy Policy(bool remove = true) { return {"test", minutes(5), remove}; }

WantedVm Running(const std::string& host) {
  return {kVmActive, kLcmRunning, host, ResourceUpdate{500'000'000, kMem}};
}

SeenContainer Container(int vm, const std::string& state = "running",
                        const std::string& instance = "test") {
  SeenContainer c{"one-" + std::to_string(vm), vm, instance, state};
  c.inspected = true;
  c.nano_cpus = 500'000'000;
  c.memory_bytes = c.memory_swap_bytes = kMem;
  return c;
}

SeenVolume Volume(int vm, int disk, const std::string& instance = "test") {
  return {"one-" + std::to_string(vm) + "-disk" + std::to_string(disk), vm, instance};
}

HostView Host(const std::string& name, std::vector<SeenContainer> containers,
              std::vector<SeenVolume> volumes = {}) {
  return {name, true, std::move(containers), std::move(volumes)};
}

// The input with every live VM's placement known to the journal, as in a journal never lost.
ReconcileInput Known(ReconcileInput in) {
  for (const auto& [id, vm] : in.vms) in.placed.insert(id);
  return in;
}

struct Passes {
  explicit Passes(ReconcilePolicy policy = Policy()) : planner(std::move(policy)) {}
  ReconcilePlanner planner;
  Clock::TimePoint now{};
  std::vector<ReconcileStep> At(Clock::Duration after, ReconcileInput input) {
    now += after;
    input.now = now;
    return planner.NextSteps(Known(std::move(input)));
  }
};

TEST_CASE("an orphan is removed once seen on two passes at least the grace apart") {
  Passes p;
  ReconcileInput in;
  in.hosts = {Host("h1", {Container(7, "exited")}, {Volume(7, 1), Volume(7, 2)})};
  CHECK(p.At(seconds(0), in).empty());  // first sighting
  CHECK(p.At(minutes(2), in).empty());  // inside the grace
  CHECK(p.planner.watched() == 1);
  const auto steps = p.At(minutes(3), in);  // 5 min after the first
  REQUIRE(steps.size() == 1);
  CHECK(steps[0].action == ReconcileAction::kRemoveOrphan);
  CHECK(steps[0].host == "h1");
  CHECK(steps[0].vm_id == 7);
  CHECK(steps[0].names == std::vector<std::string>{"one-7", "one-7-disk1", "one-7-disk2"});
  CHECK(steps[0].why.find("DONE or unknown to oned") != std::string::npos);
}

TEST_CASE("a grace of zero still takes two passes, and volumes alone are orphans too") {
  ReconcilePlanner planner({"test", seconds(0), true});
  ReconcileInput in;
  in.hosts = {Host("h1", {}, {Volume(9, 1)})};
  CHECK(planner.NextSteps(Known(in)).empty());
  const auto steps = planner.NextSteps(Known(in));
  REQUIRE(steps.size() == 1);
  CHECK(steps[0].names == std::vector<std::string>{"one-9-disk1"});
}

TEST_CASE("report mode reports a due orphan and removes nothing") {
  Passes p(Policy(false));
  ReconcileInput in;
  in.hosts = {Host("h1", {Container(7)})};
  p.At(seconds(0), in);
  const auto steps = p.At(minutes(5), in);
  REQUIRE(steps.size() == 1);
  CHECK(steps[0].action == ReconcileAction::kReportOrphan);
}

TEST_CASE("never an orphan: another instance's, an image's volume, or a VM oned still has") {
  Passes p;
  ReconcileInput in;
  in.vms[3] = {kVmPoweroff, kLcmInit, "h1", {}};
  in.vms[4] = {kVmActive, kLcmBootPoweroff, "h1", {}};
  SeenVolume image{"one-image-8", -1, "test"};
  in.hosts = {Host("h1", {Container(7, "running", "other"), Container(3, "exited"), Container(4)},
                   {Volume(7, 1, "other"), image, Volume(3, 1)})};
  CHECK(p.At(seconds(0), in).empty());
  CHECK(p.At(minutes(10), in).empty());
  CHECK(p.At(minutes(10), in).empty());
  CHECK(p.planner.watched() == 0);
}

TEST_CASE("never inside the grace after onedock's own action: the sightings start again") {
  Passes p;
  ReconcileInput in;
  in.hosts = {Host("h1", {Container(7)})};
  p.At(seconds(0), in);
  ReconcileInput busy = in;
  busy.busy = {7};
  CHECK(p.At(minutes(5), busy).empty());
  CHECK(p.planner.watched() == 0);
  CHECK(p.At(minutes(1), in).empty());  // seen afresh
  CHECK(p.At(minutes(4), in).empty());
  CHECK(p.At(minutes(1), in).size() == 1);
}

TEST_CASE("a host whose engine did not answer is skipped, never taken for empty") {
  Passes p;
  ReconcileInput in;
  in.hosts = {Host("h1", {Container(7)}), Host("h2", {Container(8)})};
  p.At(seconds(0), in);
  ReconcileInput down = in;
  down.hosts[1] = {"h2", false, {}, {}};
  // h1's orphan is due; h2 is not reached, and its orphan's first sighting is kept.
  auto steps = p.At(minutes(5), down);
  REQUIRE(steps.size() == 1);
  CHECK(steps[0].host == "h1");
  CHECK(p.planner.watched() == 2);
  steps = p.At(minutes(1), in);
  REQUIRE(steps.size() == 2);
  CHECK(steps[1].host == "h2");
  // A VM oned runs on a host that did not answer: its twin elsewhere stays.
  ReconcileInput twin;
  twin.vms[5] = Running("h2");
  twin.hosts = {Host("h1", {Container(5)}), {"h2", false, {}, {}}};
  CHECK(p.At(seconds(1), twin).empty());
}

TEST_CASE("a twin on another host is removed once the VM's container runs where oned says") {
  ReconcilePlanner planner(Policy());
  ReconcileInput in;
  in.vms[5] = Running("h2");
  in.hosts = {Host("h1", {Container(5, "exited")}, {Volume(5, 1)}),
              Host("h2", {Container(5, "created")}, {Volume(5, 1)})};
  CHECK(planner.NextSteps(Known(in)).empty());  // not running yet where oned says
  in.hosts[1].containers[0].state = "running";
  const auto steps = planner.NextSteps(Known(in));
  REQUIRE(steps.size() == 1);
  CHECK(steps[0].action == ReconcileAction::kRemoveTwin);
  CHECK(steps[0].host == "h1");
  CHECK(steps[0].names == std::vector<std::string>{"one-5", "one-5-disk1"});
}

TEST_CASE("a VM in a transitional state gets neither twin removal nor limit repair") {
  ReconcilePlanner planner(Policy());
  for (const auto& [state, lcm] : std::vector<std::pair<int, int>>{{kVmActive, kLcmMigrate},
                                                                   {kVmActive, kLcmPrologMigrate},
                                                                   {kVmActive, kLcmSaveMigrate},
                                                                   {kVmActive, kLcmBoot},
                                                                   {kVmActive, kLcmHotplug},
                                                                   {kVmActive, kLcmShutdown},
                                                                   {kVmPoweroff, kLcmInit}}) {
    CAPTURE(lcm);
    ReconcileInput in;
    in.vms[5] = {state, lcm, "h2", ResourceUpdate{1'000'000'000, kMem}};
    in.hosts = {Host("h1", {Container(5)}), Host("h2", {Container(5)})};
    CHECK(planner.NextSteps(Known(in)).empty());
  }
}

TEST_CASE("limits that differ from the template are restored, and equal ones left alone") {
  ReconcilePlanner planner(Policy());
  ReconcileInput in;
  in.vms[5] = Running("h1");
  in.hosts = {Host("h1", {Container(5)})};
  CHECK(planner.NextSteps(Known(in)).empty());
  for (auto drift : {+[](SeenContainer& c) { c.memory_bytes = 64 << 20; },
                     +[](SeenContainer& c) { c.memory_swap_bytes = -1; },
                     +[](SeenContainer& c) { c.nano_cpus = 2'000'000'000; }}) {
    ReconcileInput changed = in;
    drift(changed.hosts[0].containers[0]);
    const auto steps = planner.NextSteps(Known(changed));
    REQUIRE(steps.size() == 1);
    CHECK(steps[0].action == ReconcileAction::kRestoreLimits);
    CHECK(steps[0].limits.nano_cpus == 500'000'000);
    CHECK(steps[0].limits.memory_bytes == kMem);
  }
  // Limits not read (the inspect failed) are not taken for different.
  ReconcileInput unknown = in;
  unknown.hosts[0].containers[0].inspected = false;
  unknown.hosts[0].containers[0].memory_bytes = 0;
  CHECK(planner.NextSteps(Known(unknown)).empty());
  // A limit the template does not ask for is not enforced.
  SeenContainer free = Container(5);
  free.nano_cpus = 0;
  CHECK_FALSE(LimitsDiffer(free, ResourceUpdate{0, kMem}));
  CHECK(LimitsDiffer(free, ResourceUpdate{1, kMem}));
}

TEST_CASE("a journal that lost a VM's placement or an image's volume home learns them") {
  ReconcilePlanner planner(Policy());
  ReconcileInput in;
  in.vms[5] = Running("h2");
  in.vms[6] = {kVmPoweroff, kLcmInit, "h1", {}};
  in.vms[7] = {kVmActive, kLcmPrologMigrate, "h2", {}};  // container still on h1 only
  in.vms[8] = Running("h1");                             // placed already
  in.placed = {8};
  SeenVolume kept{"one-image-3", -1, "test", 3};
  SeenVolume homed{"one-image-4", -1, "test", 4};
  SeenVolume copied{"one-image-9", -1, "test", 9};
  in.homed = {4};
  in.hosts = {Host("h1", {Container(5), Container(6, "exited"), Container(7), Container(8)},
                   {kept, homed, copied}),
              Host("h2", {Container(5)}, {copied})};
  const auto steps = planner.NextSteps(in);
  std::vector<std::string> got;
  for (const auto& s : steps) {
    REQUIRE((s.action == ReconcileAction::kRecordPlacement ||
             s.action == ReconcileAction::kRemoveTwin ||
             s.action == ReconcileAction::kRecordVolumeHome));
    if (s.action == ReconcileAction::kRecordPlacement)
      got.push_back("vm " + std::to_string(s.vm_id) + " on " + s.host);
    if (s.action == ReconcileAction::kRecordVolumeHome)
      got.push_back("image " + std::to_string(s.image_id) + " on " + s.host);
  }
  // 5 where oned runs it (its twin on h1 goes too), 6 and 7 on the only host holding them; image
  // 9 is on two hosts, which one holds the data is not known.
  CHECK(got == std::vector<std::string>{"vm 5 on h2", "vm 6 on h1", "vm 7 on h1", "image 3 on h1"});

  // A host that does not answer does not hold the others back; what the journal has is kept.
  ReconcileInput partial = in;
  partial.hosts.push_back({"h3", false, {}, {}});
  partial.placed.insert(6);
  partial.homed.insert(3);
  got.clear();
  for (const auto& s : planner.NextSteps(partial)) {
    if (s.action == ReconcileAction::kRecordPlacement ||
        s.action == ReconcileAction::kRecordVolumeHome)
      got.push_back(std::to_string(s.vm_id) + "/" + std::to_string(s.image_id));
  }
  CHECK(got == std::vector<std::string>{"5/-1", "7/-1"});
}

TEST_CASE("a gone VM's pushed images are deleted after two sightings, a live or busy one's never") {
  Passes p;
  ReconcileInput in;
  in.vms[5] = Running("h1");
  in.pushed[5] = {"reg/onedock-checkpoint/one-5:latest@sha256:a"};
  in.pushed[6] = {"reg/onedock-checkpoint/one-6:latest@sha256:b",
                  "reg/onedock-snapshot/one-6:s0@sha256:c"};
  in.pushed[7] = {"reg/onedock-snapshot/one-7:s0@sha256:d"};
  in.busy = {7};
  in.hosts = {Host("h1", {Container(5)})};
  CHECK(p.At(seconds(0), in).empty());
  CHECK(p.At(minutes(4), in).empty());
  const auto steps = p.At(minutes(1), in);
  REQUIRE(steps.size() == 1);
  CHECK(steps[0].action == ReconcileAction::kDeleteImages);
  CHECK(steps[0].vm_id == 6);
  CHECK(steps[0].host == ReconcilePlanner::kRegistry);
  CHECK(steps[0].names == in.pushed[6]);
  // Report mode: reported, nothing deleted.
  Passes reporting(Policy(false));
  reporting.At(seconds(0), in);
  const auto reported = reporting.At(minutes(5), in);
  REQUIRE(reported.size() == 1);
  CHECK(reported[0].action == ReconcileAction::kReportOrphan);
}

// What onedock prints as a snapshot's HYPERVISOR_ID, what the journal records of its push, and
// the image that push pinned.
std::string Tag(int vm, int n) {
  return "reg/onedock-snapshot/one-" + std::to_string(vm) + ":s" + std::to_string(n);
}
std::string Pushed(int vm, int n, const std::string& digest) {
  return Tag(vm, n) + "@sha256:" + digest;
}
std::string Pinned(int vm, const std::string& digest) {
  return "reg/onedock-snapshot/one-" + std::to_string(vm) + "@sha256:" + digest;
}

// VM 5 running on h1 with a checkpoint and snapshots s0 and s1 pushed, of which it lists `listed`.
ReconcileInput Snapshotted(const std::set<std::string>& listed) {
  ReconcileInput in;
  in.vms[5] = Running("h1");
  in.vms[5].snapshots = listed;
  in.pushed[5] = {"reg/onedock-checkpoint/one-5:latest@sha256:0a", Pushed(5, 0, "0b"),
                  Pushed(5, 1, "0c")};
  in.snapshots[5] = {{Tag(5, 0), Pinned(5, "0b")}, {Tag(5, 1), Pinned(5, "0c")}};
  in.hosts = {Host("h1", {Container(5)})};
  return in;
}

TEST_CASE(
    "a snapshot a running VM no longer lists is deleted after two sightings, the listed one and "
    "the checkpoint are kept") {
  Passes p;
  const ReconcileInput in = Snapshotted({Tag(5, 1)});  // s0 deleted in oned
  CHECK(p.At(seconds(0), in).empty());                 // first sighting
  CHECK(p.At(minutes(4), in).empty());                 // inside the grace
  CHECK(p.planner.watched() == 1);
  const auto steps = p.At(minutes(1), in);
  REQUIRE(steps.size() == 1);
  CHECK(steps[0].action == ReconcileAction::kDeleteImages);
  CHECK(steps[0].host == ReconcilePlanner::kRegistry);
  CHECK(steps[0].vm_id == 5);
  CHECK(steps[0].names == std::vector<std::string>{Pushed(5, 0, "0b")});
  CHECK(steps[0].why == "VM 5 (state 3/3) no longer lists this snapshot");
  // Once the journal forgot it, nothing is left to delete and nothing is watched.
  ReconcileInput deleted = in;
  deleted.pushed[5].erase(deleted.pushed[5].begin() + 1);
  deleted.snapshots[5].erase(Tag(5, 0));
  CHECK(p.At(minutes(1), deleted).empty());
  CHECK(p.planner.watched() == 0);
  // Both listed: nothing, however many passes.
  Passes kept;
  const ReconcileInput both = Snapshotted({Tag(5, 0), Tag(5, 1)});
  for (int pass = 0; pass < 4; ++pass) CHECK(kept.At(minutes(5), both).empty());
  CHECK(kept.planner.watched() == 0);
}

TEST_CASE("a live VM's checkpoints are never deleted, even with no snapshot listed") {
  Passes p;
  ReconcileInput in = Snapshotted({});
  in.pushed[5].push_back("reg/onedock-checkpoint/one-5:latest@sha256:0d");  // saved again
  p.At(seconds(0), in);
  const auto steps = p.At(minutes(5), in);
  REQUIRE(steps.size() == 1);
  CHECK(steps[0].names == std::vector<std::string>{Pushed(5, 0, "0b"), Pushed(5, 1, "0c")});
  // An image of another VM's snapshot repository recorded under VM 5 is not one of its snapshots.
  Passes other;
  ReconcileInput stray;
  stray.vms[5] = Running("h1");
  stray.pushed[5] = {"reg/onedock-snapshot/one-50:s0@sha256:0e",
                     "reg/onedock-snapshot/one-5:latest@sha256:0f"};
  other.At(seconds(0), stray);
  CHECK(other.At(minutes(5), stray).empty());
}

TEST_CASE(
    "a tag pushed again for a later snapshot: the older push is deleted, the listed one kept") {
  Passes p;
  ReconcileInput in = Snapshotted({Tag(5, 0), Tag(5, 1)});
  in.pushed[5].push_back(Pushed(5, 0, "1b"));  // s0 taken again after the first was deleted
  in.snapshots[5][Tag(5, 0)] = Pinned(5, "1b");
  p.At(seconds(0), in);
  const auto steps = p.At(minutes(5), in);
  REQUIRE(steps.size() == 1);
  CHECK(steps[0].names == std::vector<std::string>{Pushed(5, 0, "0b")});
  // Without a snapshot record (a journal restored without it) a listed tag is never taken for
  // replaced.
  Passes unsure;
  ReconcileInput unrecorded = in;
  unrecorded.snapshots.clear();
  unsure.At(seconds(0), unrecorded);
  CHECK(unsure.At(minutes(5), unrecorded).empty());
}

TEST_CASE(
    "a VM at rest (powered off, stopped, undeployed) loses the snapshots it no longer lists") {
  for (const int state : {kVmPoweroff, kVmStopped, kVmUndeployed}) {
    CAPTURE(state);
    Passes p;
    ReconcileInput in = Snapshotted({Tag(5, 1)});
    in.vms[5].state = state;
    in.vms[5].lcm_state = kLcmInit;
    in.hosts[0].containers[0].state = "exited";
    if (state != kVmPoweroff) in.hosts[0].containers.clear();  // kept on no host, or moved
    p.At(seconds(0), in);
    const auto steps = p.At(minutes(5), in);
    REQUIRE(steps.size() == 1);
    CHECK(steps[0].action == ReconcileAction::kDeleteImages);
    CHECK(steps[0].names == std::vector<std::string>{Pushed(5, 0, "0b")});
  }
}

TEST_CASE(
    "a live VM's unlisted snapshot is never deleted while the VM is busy or in a transitional "
    "state, and its sightings start again") {
  const ReconcileInput in = Snapshotted({Tag(5, 1)});
  for (const auto& [state, lcm] :
       std::vector<std::pair<int, int>>{{kVmActive, kLcmHotplugSnapshot},
                                        {kVmActive, kLcmMigrate},
                                        {kVmActive, kLcmSaveMigrate},
                                        {kVmActive, kLcmPrologMigrate},
                                        {kVmActive, kLcmSaveStop},
                                        {kVmActive, kLcmBoot},
                                        {kVmActive, kLcmUnknown},
                                        {kVmActive, kLcmShutdownPoweroff},
                                        {kVmActive, kLcmEpilog},
                                        {kVmPending, kLcmInit},
                                        {kVmHold, kLcmInit}}) {
    CAPTURE(state);
    CAPTURE(lcm);
    Passes p;
    ReconcileInput moving = in;
    moving.vms[5].state = state;
    moving.vms[5].lcm_state = lcm;
    CHECK(p.At(seconds(0), in).empty());      // seen while running
    CHECK(p.At(minutes(5), moving).empty());  // would be due: not while this
    CHECK(p.At(minutes(5), moving).empty());
    CHECK(p.planner.watched() == 0);
    CHECK(p.At(minutes(1), in).empty());  // running again: a first sighting
    CHECK(p.At(minutes(5), in).size() == 1);
  }
  Passes p;
  ReconcileInput busy = in;
  busy.busy = {5};
  CHECK(p.At(seconds(0), in).empty());
  CHECK(p.At(minutes(5), busy).empty());
  CHECK(p.planner.watched() == 0);
  CHECK(p.At(minutes(1), in).empty());
  CHECK(p.At(minutes(5), in).size() == 1);
}

TEST_CASE("report mode reports a live VM's unlisted snapshot and deletes nothing") {
  Passes p(Policy(false));
  const ReconcileInput in = Snapshotted({});
  p.At(seconds(0), in);
  const auto steps = p.At(minutes(5), in);
  REQUIRE(steps.size() == 1);
  CHECK(steps[0].action == ReconcileAction::kReportOrphan);
  CHECK(steps[0].names == std::vector<std::string>{Pushed(5, 0, "0b"), Pushed(5, 1, "0c")});
  CHECK(steps[0].why == "VM 5 (state 3/3) no longer lists these snapshots");
}

TEST_CASE("a network of a vnet gone or changed is removed once nothing uses it, and only then") {
  ReconcilePlanner planner(Policy());
  ReconcileInput in;
  in.vnets = {{1, std::nullopt},   // deleted in oned
              {2, "10.2.0.0/24"},  // its subnet changed
              {3, "10.3.0.0/24"},  // as it was
              {4, ""},             // the template says nothing of its subnet
              {5, std::nullopt}};
  in.hosts = {Host("h1", {})};
  in.hosts[0].networks = {
      {"gone", 1, "test", "10.1.0.0/24", false},  {"moved", 2, "test", "10.20.0.0/24", false},
      {"same", 3, "test", "10.3.0.0/24", false},  {"unsaid", 4, "test", "10.4.0.0/24", false},
      {"used", 5, "test", "10.5.0.0/24", true},   {"theirs", 1, "other", "10.1.0.0/24", false},
      {"unread", 6, "test", "10.6.0.0/24", false}};
  std::vector<std::string> removed;
  for (const auto& s : planner.NextSteps(in)) {
    REQUIRE(s.action == ReconcileAction::kRemoveNetwork);
    removed.push_back(s.names.front() + ": " + s.why);
  }
  CHECK(removed ==
        std::vector<std::string>{"gone: vnet 1 is gone from oned",
                                 "moved: vnet 2's subnet is 10.2.0.0/24 now, the network's "
                                 "10.20.0.0/24"});
  // A host that did not answer: nothing is known of its networks.
  in.hosts[0].answered = false;
  CHECK(planner.NextSteps(in).empty());
}

TEST_CASE("orphans come first, then twins, then limits") {
  Passes p;
  ReconcileInput in;
  in.vms[5] = Running("h2");
  in.vms[6] = Running("h2");
  SeenContainer drifted = Container(6);
  drifted.memory_bytes = 1;
  in.hosts = {Host("h1", {Container(5), Container(7)}), Host("h2", {Container(5), drifted})};
  p.At(seconds(0), in);
  const auto steps = p.At(minutes(5), in);
  REQUIRE(steps.size() == 3);  // 5's twin and 6's limits at every pass, 7 once it is due
  CHECK(steps[0].action == ReconcileAction::kRemoveOrphan);
  CHECK(steps[1].action == ReconcileAction::kRemoveTwin);
  CHECK(steps[2].action == ReconcileAction::kRestoreLimits);
}

}  // namespace
}  // namespace onedock
