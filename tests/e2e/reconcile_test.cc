// The reconcile loop on real oned and the real engines: what happens outside any driver call (a
// VM dropped while its host was down, a twin, limits changed by hand) is repaired by the passes.
// The worlds here run passes every 2 s with a 3 s orphan grace.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>

#include "bridge/container_plan.h"
#include "docker/registry_client.h"
#include "tests/e2e/world.h"
#include "tests/integration/bed.h"

namespace onedock::e2e {
namespace {

constexpr char kFastPasses[] = "[reconcile]\nperiod = 2\norphan_grace = 3\n";

std::string Id(int n) { return std::to_string(n); }

std::vector<std::string> VolumesOf(World& w, const std::string& engine, int vm) {
  auto list = w.Engine(engine).ListVolumes(
      {"one.vmid=" + Id(vm), std::string(kLabelInstance) + "=" + w.instance()});
  REQUIRE_MESSAGE(list.ok(), list.status().ToString());
  std::vector<std::string> names;
  for (const auto& v : *list) names.push_back(v.name);
  return names;
}

// Polls `done` every 250 ms for up to `seconds`; true when it held.
bool Within(double seconds, const std::function<bool()>& done) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  return done();
}

// Whether the private registry answers 404 for the manifest `digest` of `repository`.
bool ManifestGone(docker::RegistryClient& registry, const std::string& repository,
                  const std::string& digest) {
  auto m = registry.GetManifest(repository, digest);
  return !m.ok() && m.status().code() == Status::Code::kNotFound;
}

// A container named and labelled as onedock names its own, on `engine`, for VM `vm` of
// `instance`: what a run of onedock left, or another instance's.
std::string Plant(World& w, const std::string& engine, const std::string& name, int vm,
                  const std::string& instance) {
  ContainerSpec spec;
  spec.name = name;
  spec.image = w.image_reference();
  spec.labels = {{kLabelVmId, Id(vm)}, {kLabelInstance, instance}, {kLabelHost, engine}};
  auto made = w.Engine(engine).CreateContainer(spec);
  REQUIRE_MESSAGE(made.ok(), made.status().ToString());
  REQUIRE(w.Engine(engine).StartContainer(name).ok());
  return *made;
}

TEST_CASE(
    "onevm recover --delete of a VM whose engine was stopped: its container, volumes and "
    "checkpoint image go once the engine is back, and another instance's container of that name "
    "pattern stays") {
  World w(kFastPasses);
  // The scheduler places it again after the resume below: on h2 only.
  const int id = w.CreateVm(
      "dropped", 0.25, 64,
      "DISK = [ TYPE = fs, SIZE = 16 ]\nSCHED_REQUIREMENTS = \"ID = " + Id(w.host("h2")) + "\"");
  w.Deploy(id, "h2");
  w.WaitFor(id, kVmActive, kLcmRunning, 90);
  w.Action("stop", id);  // save: the checkpoint is pushed
  w.WaitFor(id, kVmStopped, 0, 90);
  w.Action("resume", id);
  const Vm back = w.WaitFor(id, kVmActive, kLcmRunning, 120);
  REQUIRE(back.CurrentHistory()->hostname == "h2");
  REQUIRE(w.ContainersOf("h2", id).size() == 1);
  docker::RegistryClient private_registry("private", ThisSlot().Registry());
  const std::string checkpoints = "onedock-checkpoint/one-" + Id(id);
  auto checkpoint = private_registry.TagDigest(checkpoints, "latest");
  REQUIRE_MESSAGE(checkpoint.ok(), checkpoint.status().ToString());
  REQUIRE(VolumesOf(w, "h2", id).size() == 1);
  const std::string foreign = "one-" + Id(id) + "-other";
  Plant(w, "h2", foreign, id, w.instance() + "-other");

  w.StopEngine("h2");
  const auto recovered = w.Cli("onevm recover --delete " + Id(id));
  REQUIRE_MESSAGE(recovered.exit_code == 0, recovered.output);
  w.WaitFor(id, kVmDone, 0, 60);
  // The passes while the engine is away skip it.
  std::this_thread::sleep_for(std::chrono::seconds(5));
  w.StartEngine("h2");
  REQUIRE(w.ContainersOf("h2", id).size() == 1);  // nothing reached it while it was down

  // Two passes at least the grace apart: about 4 s after the engine answers again.
  CHECK(Within(30, [&] { return w.ContainersOf("h2", id).empty(); }));
  CHECK(Within(10, [&] { return VolumesOf(w, "h2", id).empty(); }));
  CHECK(Within(10, [&] { return ManifestGone(private_registry, checkpoints, *checkpoint); }));
  auto other = w.Engine("h2").InspectContainer(foreign);
  CHECK_MESSAGE(other.ok(), other.status().ToString());
  w.Engine("h2").RemoveContainer(foreign, true, true);
}

TEST_CASE(
    "a cold migration cut short while the old host's engine is away leaves a twin there, which the "
    "reconcile pass removes once the engine is back, and the VM keeps running on the new host") {
  // A SIGKILL of onedockd alone leaves no twin (tried in PROLOG_MIGRATE and half-way through the
  // restore on h2): oned's stubs retry their calls, the restart's recovery settles the journal,
  // and the restore, retried or finished, removes h1's container. One is left when the old
  // host's engine is away while the migration ends there, which this case does. Passes far
  // enough apart that the twin can be seen on h1 before one reaches it.
  World w("[reconcile]\nperiod = 6\norphan_grace = 3\n");
  const int id = w.CreateVm("twinned", 0.25, 64);
  w.Deploy(id, "h1");
  w.WaitFor(id, kVmActive, kLcmRunning, 90);
  w.Call("one.vm.migrate", {xmlrpc_c::value_int(id), xmlrpc_c::value_int(w.host("h2")),
                            xmlrpc_c::value_boolean(false)});
  // Cut once the save on h1 has answered (oned moves on to PROLOG_MIGRATE, then BOOT_MIGRATE for
  // the restore on h2): the rest of the migration waits in the stubs' retries.
  int lcm = -1;
  bool moved_on = false;  // RUNNING on h2 already: the cut came too late
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < end) {
    const Vm vm = w.Info(id);
    lcm = vm.lcm_state;
    // oned adds the h2 record at once and says RUNNING until the save starts: running there is
    // known by the record's RSTIME.
    const History* h = vm.CurrentHistory();
    moved_on = lcm == kLcmRunning && h->hostname == "h2" && h->running_since > 0;
    if (lcm == kLcmPrologMigrate || lcm == kLcmBootMigrate || moved_on) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  w.KillOnedockd();
  REQUIRE_MESSAGE((lcm == kLcmPrologMigrate || lcm == kLcmBootMigrate),
                  "the migration was not caught: lcm " << lcm);
  REQUIRE(w.ContainersOf("h1", id).size() == 1);  // saved and stopped, not removed yet
  // The old host's engine goes away; the migration ends on h2 without reaching it.
  w.StopEngine("h1");
  w.StartOnedockd();
  const Vm moved = w.WaitUntilRunningOn(id, "h2");
  REQUIRE(moved.nics.size() == 1);
  w.StartEngine("h1");
  auto twin = w.ContainersOf("h1", id);
  REQUIRE(twin.size() == 1);  // what oned no longer names: the VM runs on h2
  CHECK(twin[0].state != "running");

  CHECK(Within(30, [&] { return w.ContainersOf("h1", id).empty(); }));
  CHECK(VolumesOf(w, "h1", id).empty());
  const Vm after = w.Info(id);
  CHECK(after.lcm_state == kLcmRunning);
  CHECK(after.CurrentHistory()->hostname == "h2");
  auto here = w.ContainersOf("h2", id);
  REQUIRE(here.size() == 1);
  CHECK(here[0].state == "running");
  CHECK_FALSE(World::HttpGet(moved.nics[0].ip).empty());
  // And it goes on working there: powered off and resumed on h2.
  w.Action("poweroff", id);
  w.WaitFor(id, kVmPoweroff, 0);
  w.Action("resume", id);
  w.WaitFor(id, kVmActive, kLcmRunning);
  CHECK(w.ContainersOf("h2", id).size() == 1);
  CHECK(w.ContainersOf("h1", id).empty());
  CHECK_FALSE(World::HttpGet(moved.nics[0].ip).empty());
}

TEST_CASE("docker update --memory behind OpenNebula's back is undone") {
  World w(kFastPasses);
  const int id = w.CreateVm("squeezed", 0.5, 96);
  w.Deploy(id, "h1");
  const Vm vm = w.WaitFor(id, kVmActive, kLcmRunning, 90);
  const int64_t memory = int64_t{96} << 20;
  auto before = w.Engine("h1").InspectContainer(vm.deploy_id);
  REQUIRE(before.ok());
  REQUIRE(before->memory_bytes == memory);
  const int64_t cpus = before->nano_cpus;
  REQUIRE(w.Engine("h1").UpdateContainer(vm.deploy_id, {0, memory * 3}).ok());
  REQUIRE(w.Engine("h1").InspectContainer(vm.deploy_id)->memory_bytes == memory * 3);
  CHECK(Within(30, [&] {
    auto c = w.Engine("h1").InspectContainer(vm.deploy_id);
    return c.ok() && c->memory_bytes == memory && c->memory_swap_bytes == memory;
  }));
  auto after = w.Engine("h1").InspectContainer(vm.deploy_id);
  REQUIRE(after.ok());
  CHECK(after->nano_cpus == cpus);
  CHECK(after->running);
}

// The lines of onedockd's log holding `text`.
int LogLines(World& w, const std::string& text) {
  std::ifstream log(w.root() + "/od/onedockd.log");
  int n = 0;
  for (std::string line; std::getline(log, line);) n += line.find(text) != std::string::npos;
  return n;
}

TEST_CASE(
    "journal deleted while VMs run on both hosts: after the restart, poweroff and resume, a cold "
    "migration with the data disk and the next VM of the persistent image all find their data") {
  World w(kFastPasses);
  const int kept = w.CreateImage(
      "NAME = kept\nTYPE = DATABLOCK\nSIZE = 20\nPERSISTENT = YES\nDOCKER_MOUNT = /www/kept");
  w.WaitForImage(kept, 1);
  const int data =
      w.CreateVm("journal-data", 0.25, 64,
                 "DISK = [ IMAGE_ID = " + Id(kept) + " ]\nDISK = [ TYPE = fs, SIZE = 16 ]");
  const int plain = w.CreateVm("journal-plain", 0.25, 64);
  w.Deploy(data, "h1");
  w.Deploy(plain, "h2");
  const Vm d = w.WaitFor(data, kVmActive, kLcmRunning, 90);
  w.WaitFor(plain, kVmActive, kLcmRunning, 90);
  w.ExecOut("h1", d.deploy_id, "echo kept-data > /www/kept/f && echo own-data > /mnt/disk2/f");

  w.KillOnedockd();
  REQUIRE(std::filesystem::remove(w.root() + "/od/journal.db"));
  std::filesystem::remove(w.root() + "/od/journal.db-wal");
  std::filesystem::remove(w.root() + "/od/journal.db-shm");
  w.StartOnedockd();
  // The first pass comes once the recovery pass is done: two placements and one volume home.
  CHECK(Within(30, [&] { return LogLines(w, "recorded in the journal") >= 3; }));

  w.Action("poweroff", plain);
  w.WaitFor(plain, kVmPoweroff, 0);
  w.Action("resume", plain);
  w.WaitFor(plain, kVmActive, kLcmRunning);
  CHECK(w.ContainersOf("h2", plain).size() == 1);

  w.Call("one.vm.migrate", {xmlrpc_c::value_int(data), xmlrpc_c::value_int(w.host("h2")),
                            xmlrpc_c::value_boolean(false)});
  const Vm moved = w.WaitUntilRunningOn(data, "h2");
  CHECK(w.ExecOut("h2", moved.deploy_id, "cat /www/kept/f /mnt/disk2/f") ==
        "kept-data\nown-data\n");
  CHECK(w.ContainersOf("h1", data).empty());
  CHECK(VolumesOf(w, "h1", data).empty());

  w.Action("terminate", data);
  w.WaitFor(data, kVmDone, 0);
  const int next = w.CreateVm("journal-next", 0.25, 64, "DISK = [ IMAGE_ID = " + Id(kept) + " ]");
  w.Deploy(next, "h1");
  const Vm second = w.WaitFor(next, kVmActive, kLcmRunning, 90);
  CHECK(w.ExecOut("h1", second.deploy_id, "cat /www/kept/f") == "kept-data\n");
  for (const int vm : {plain, next}) w.Action("terminate", vm);
  for (const int vm : {plain, next}) w.WaitFor(vm, kVmDone, 0);
  w.Call("one.image.delete", {xmlrpc_c::value_int(kept)});
}

TEST_CASE(
    "a snapshot deleted from a running VM loses its manifest, and terminate of the VM takes its "
    "checkpoint and other snapshot from the private registry") {
  World w(kFastPasses);
  const int id = w.CreateVm("pushed", 0.25, 64);
  w.Deploy(id, "h1");
  w.WaitFor(id, kVmActive, kLcmRunning, 90);
  w.Action("stop", id);  // save: the checkpoint is pushed
  w.WaitFor(id, kVmStopped, 0, 90);
  w.Action("resume", id);
  const Vm back = w.WaitFor(id, kVmActive, kLcmRunning, 120);
  const std::string host = back.CurrentHistory()->hostname;
  const std::string registry = ThisSlot().RegistryHost();
  const std::string snapshots = "onedock-snapshot/one-" + Id(id);
  for (const char* name : {"s0", "s1"}) {
    w.Call("one.vm.snapshotcreate", {xmlrpc_c::value_int(id), xmlrpc_c::value_string(name)});
    const std::string tag = std::string(":s") + (name[1] == '0' ? "0" : "1");
    w.WaitUntil(
        id,
        [&](const Vm&) {
          return w.Engine(host).InspectImage(registry + "/" + snapshots + tag).ok();
        },
        std::string("snapshot ") + name);
  }
  docker::RegistryClient private_registry("private", ThisSlot().Registry());
  const std::vector<std::pair<std::string, std::string>> pushed = {
      {"onedock-checkpoint/one-" + Id(id), "latest"}, {snapshots, "s0"}, {snapshots, "s1"}};
  std::vector<std::pair<std::string, std::string>> digests;
  for (const auto& [repository, tag] : pushed) {
    auto digest = private_registry.TagDigest(repository, tag);
    REQUIRE_MESSAGE(digest.ok(), repository << ":" << tag << ": " << digest.status().ToString());
    digests.emplace_back(repository, *digest);
  }
  // s0 deleted while the VM runs: oned stops listing it, and the passes delete its manifest; the
  // listed s1 and the checkpoint of the live VM stay.
  w.Call("one.vm.snapshotdelete", {xmlrpc_c::value_int(id), xmlrpc_c::value_int(0)});
  const Vm listing = w.WaitUntil(
      id, [](const Vm& vm) { return vm.snapshots.size() == 1; }, "s0 no longer listed");
  REQUIRE(listing.snapshots.size() == 1);
  CHECK(listing.snapshots[0].hypervisor_id == registry + "/" + snapshots + ":s1");
  CHECK(Within(30, [&] { return ManifestGone(private_registry, snapshots, digests[1].second); }));
  for (const size_t kept : {0, 2}) {
    CAPTURE(digests[kept].first);
    CHECK(private_registry.GetManifest(digests[kept].first, digests[kept].second).ok());
  }
  w.Action("terminate", id);
  w.WaitFor(id, kVmDone, 0, 60);
  for (const auto& [repository, digest] : digests) {
    CAPTURE(repository);
    CHECK(Within(30, [&, &repository = repository, &digest = digest] {
      return ManifestGone(private_registry, repository, digest);
    }));
  }
}

// The bridges (0, 1) and the subnet of this case's vnets, each slot's own: a run that failed half
// way leaves its bridge on the front-end, holding its subnet's gateway.
std::string ReconcileBridge(int n) { return "odkrc" + std::to_string(ThisSlot().index * 2 + n); }
std::string ReconcileSubnet() { return ThisSlot().index == 0 ? "10.233.0." : "10.236.0."; }

// A vnet on its own Linux bridge, on the case's subnet whatever the bridge.
int ReconcileVnet(World& w, const std::string& bridge) {
  const std::string net = ReconcileSubnet();
  const int id = w.one().Allocate(
      "one.vn.allocate",
      {xmlrpc_c::value_string("NAME = " + bridge + "\nBRIDGE = " + bridge +
                              "\nVN_MAD = onedock\nNETWORK_ADDRESS = " + net +
                              "0\nNETWORK_MASK = 255.255.255.0\nGATEWAY = " + net +
                              "1\nAR = [ TYPE = IP4, IP = " + net + "10, SIZE = 20 ]"),
       xmlrpc_c::value_int(w.cluster())});
  const Status ready = w.one().AwaitVnetReady(id);
  REQUIRE_MESSAGE(ready.ok(), ready.ToString());
  return id;
}

bool HasNetwork(World& w, const std::string& engine, const std::string& name) {
  auto n = w.Engine(engine).InspectNetwork(name);
  const bool known = n.ok() || n.status().code() == Status::Code::kNotFound;
  REQUIRE_MESSAGE(known, n.status().ToString());
  return n.ok();
}

TEST_CASE(
    "a vnet deleted after its VMs ended: its Docker networks go from both engines, and a new vnet "
    "reusing the subnet deploys") {
  World w(kFastPasses);
  // What an earlier run of this case left, unused, would make the subnet overlap.
  const std::string first_bridge = ReconcileBridge(0), second_bridge = ReconcileBridge(1);
  for (const char* engine : {"h1", "h2"}) {
    for (const auto& name : {first_bridge, second_bridge}) w.Engine(engine).RemoveNetwork(name);
  }
  const int first = ReconcileVnet(w, first_bridge);
  const std::string nic = "NIC = [ NETWORK_ID = " + Id(first) + " ]";
  const int a = w.CreateVm("net-a", 0.25, 64, nic), b = w.CreateVm("net-b", 0.25, 64, nic);
  w.Deploy(a, "h1");
  w.Deploy(b, "h2");
  w.WaitFor(a, kVmActive, kLcmRunning, 90);
  w.WaitFor(b, kVmActive, kLcmRunning, 90);
  REQUIRE(HasNetwork(w, "h1", first_bridge));
  REQUIRE(HasNetwork(w, "h2", first_bridge));
  for (const int vm : {a, b}) w.Action("terminate", vm);
  for (const int vm : {a, b}) w.WaitFor(vm, kVmDone, 0);
  std::this_thread::sleep_for(std::chrono::seconds(3));
  CHECK(HasNetwork(w, "h1", first_bridge));  // its vnet is still there
  w.Call("one.vn.delete", {xmlrpc_c::value_int(first)});
  CHECK(Within(30, [&] {
    return !HasNetwork(w, "h1", first_bridge) && !HasNetwork(w, "h2", first_bridge);
  }));

  const int second = ReconcileVnet(w, second_bridge);
  const int c = w.CreateVm("net-c", 0.25, 64, "NIC = [ NETWORK_ID = " + Id(second) + " ]");
  w.Deploy(c, "h1");
  const Vm vm = w.WaitFor(c, kVmActive, kLcmRunning, 90);
  CHECK(w.ExecOut("h1", vm.deploy_id, "ip -4 addr").find(ReconcileSubnet()) != std::string::npos);
  w.Action("terminate", c);
  w.WaitFor(c, kVmDone, 0);
  w.Call("one.vn.delete", {xmlrpc_c::value_int(second)});
  CHECK(Within(30, [&] { return !HasNetwork(w, "h1", second_bridge); }));
}

}  // namespace
}  // namespace onedock::e2e
