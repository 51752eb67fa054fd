// What an OpenNebula user does beyond the happy path, typed with the stock CLI on the real oned:
// recover in its four forms, undeploy and stop, live and cold migration, system snapshots, NIC
// hotplug, host disable/flush, a template with two NICs and two kinds of data disk, and a user
// other than oneadmin under oned's ACLs and quotas. Each ends in a state oned can continue from.
#include <chrono>
#include <fstream>
#include <thread>

#include "tests/e2e/world.h"
#include "tests/integration/bed.h"

namespace onedock::e2e {
namespace {

constexpr char kPage[] = "onedock test page";

std::string Id(int n) { return std::to_string(n); }

// Runs a CLI command line that must succeed; returns what it printed.
std::string Ok(World& w, const std::string& command, const std::string& auth_file = "") {
  auto r = w.Cli(command, "", auth_file);
  REQUIRE_MESSAGE(r.exit_code == 0, command << " exited " << r.exit_code << ": " << r.output);
  return r.output;
}

// Runs a CLI command line that must fail; returns what it printed.
std::string Refused(World& w, const std::string& command, const std::string& auth_file = "") {
  auto r = w.Cli(command, "", auth_file);
  CHECK_MESSAGE(r.exit_code != 0, command << " succeeded: " << r.output);
  return r.output;
}

// The id a "ID: 7" or "VM ID: 7" line names.
int IdOf(const std::string& output) {
  const auto colon = output.rfind(':');
  REQUIRE(colon != std::string::npos);
  return std::stoi(output.substr(colon + 1));
}

// Writes `text` to a file of the world's and returns its path.
std::string File(World& w, const std::string& name, const std::string& text) {
  const std::string path = w.root() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

// oned marks a VM DONE on `recover --delete` before the driver's cleanup has run
// (LifeCycleManager::clean_up_vm), so its container goes a moment later.
bool GoneWithin(World& w, const std::string& engine, int vm, double seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (!w.ContainersOf(engine, vm).empty()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return true;
}

std::string ErrorOf(const Vm& vm) {
  auto e = vm.user_template.find("ERROR");
  return e == vm.user_template.end() ? "" : e->second;
}

TEST_CASE(
    "onevm recover on BOOT_FAILURE: --failure keeps it, --retry deploys again, --success trusts "
    "the driver, --delete leaves nothing") {
  World w;
  // A privileged container is refused by onedock's policy: the deploy ends in BOOT_FAILURE.
  const int fixed = w.CreateVm("fixed", 0.25, 64, "DOCKER_PRIVILEGED = \"YES\"\n");
  const int trusted = w.CreateVm("trusted", 0.25, 64, "DOCKER_PRIVILEGED = \"YES\"\n");
  const int deleted = w.CreateVm("deleted", 0.25, 64, "DOCKER_PRIVILEGED = \"YES\"\n");
  for (int vm : {fixed, trusted, deleted}) Ok(w, "onevm deploy " + Id(vm) + " h1");
  for (int vm : {fixed, trusted, deleted}) w.WaitFor(vm, kVmActive, kLcmBootFailure);

  Ok(w, "onevm recover --failure " + Id(fixed));
  CHECK(ErrorOf(w.WaitFor(fixed, kVmActive, kLcmBootFailure)).find("refused by policy") !=
        std::string::npos);
  // The user drops the attribute and retries: the deploy reads the VM again and runs it.
  Ok(w, "onevm update " + Id(fixed) + " " +
            File(w, "user.tpl", "DESCRIPTION = \"no longer privileged\"\n"));
  Ok(w, "onevm recover --retry " + Id(fixed));
  const Vm running = w.WaitFor(fixed, kVmActive, kLcmRunning);
  REQUIRE(w.ContainersOf("h1", fixed).size() == 1);
  CHECK(World::HttpGet(running.nics.front().ip).find(kPage) != std::string::npos);

  // --success: oned takes the deploy as done (deploy id one-<id>) although no container exists;
  // terminating it from there works (the container's absence counts as removed).
  Ok(w, "onevm recover --success " + Id(trusted));
  w.WaitFor(trusted, kVmActive, kLcmRunning);
  CHECK(w.ContainersOf("h1", trusted).empty());
  Ok(w, "onevm terminate --hard " + Id(trusted));
  w.WaitFor(trusted, kVmDone, kLcmInit);

  Ok(w, "onevm recover --delete " + Id(deleted));
  w.WaitFor(deleted, kVmDone, kLcmInit);
  CHECK(w.ContainersOf("h1", deleted).empty());
  Ok(w, "onevm recover --delete " + Id(fixed));
  w.WaitFor(fixed, kVmDone, kLcmInit);
  CHECK(GoneWithin(w, "h1", fixed, 20));
}

TEST_CASE(
    "onevm recover on UNKNOWN: --retry does nothing, --success sets RUNNING, --delete drops it "
    "while its host is down") {
  World w;
  w.WaitForHost("h2", 2);
  const int kept = w.CreateVm("kept", 0.25, 64), dropped = w.CreateVm("dropped", 0.25, 64);
  w.Deploy(kept, "h2");
  w.Deploy(dropped, "h2");
  w.WaitFor(kept, kVmActive, kLcmRunning);
  w.WaitFor(dropped, kVmActive, kLcmRunning);
  w.StopEngine("h2");
  w.WaitFor(kept, kVmActive, kLcmUnknown, 30);
  w.WaitFor(dropped, kVmActive, kLcmUnknown, 30);

  // oned accepts --retry for UNKNOWN and does nothing (LifeCycleManager::retry has no UNKNOWN
  // case).
  Ok(w, "onevm recover --retry " + Id(kept));
  std::this_thread::sleep_for(std::chrono::seconds(2));
  CHECK(w.Info(kept).lcm_state == kLcmUnknown);
  // --success (like --failure) sets RUNNING; oned leaves it there while the host is in ERROR.
  Ok(w, "onevm recover --success " + Id(kept));
  w.WaitFor(kept, kVmActive, kLcmRunning, 10);
  Ok(w, "onevm recover --delete " + Id(dropped));
  w.WaitFor(dropped, kVmDone, kLcmInit, 60);

  w.StartEngine("h2");
  w.WaitForHost("h2", 2, 30);
  const Vm back = w.WaitFor(kept, kVmActive, kLcmRunning, 60);
  CHECK(World::HttpGet(back.nics.front().ip).find(kPage) != std::string::npos);
  // The dropped VM's container outlived its host's outage: no driver action reached it
  // (onedockd does not reconcile oned's pool with the engines yet).
  MESSAGE("containers of the VM deleted while its host was down: "
          << w.ContainersOf("h2", dropped).size());
}

TEST_CASE(
    "onevm undeploy and stop free the host and resume runs the VM again with its files, wherever "
    "the scheduler puts it") {
  World w;
  w.WaitForHost("h1", 2);
  w.WaitForHost("h2", 2);
  const int id = IdOf(Ok(w, "onevm create " + File(w, "vm.tpl", w.VmTemplate("roamer", 0.25, 64))));
  const Vm first = w.WaitFor(id, kVmActive, kLcmRunning, 90);  // placed by the scheduler
  const std::string host = first.CurrentHistory()->hostname;
  w.ExecOut(host, first.deploy_id, "echo still-here > /www/kept.txt");

  Ok(w, "onevm undeploy " + Id(id));
  w.WaitFor(id, kVmUndeployed, kLcmInit);
  auto undeployed = w.ContainersOf(host, id);
  REQUIRE(undeployed.size() == 1);
  CHECK(undeployed[0].state != "running");
  Ok(w, "onevm resume " + Id(id));
  Vm again = w.WaitFor(id, kVmActive, kLcmRunning, 90);
  const std::string second_host = again.CurrentHistory()->hostname;
  CHECK(w.ExecOut(second_host, again.deploy_id, "cat /www/kept.txt") == "still-here\n");

  Ok(w, "onevm stop " + Id(id));
  w.WaitFor(id, kVmStopped, kLcmInit, 60);
  Ok(w, "onevm resume " + Id(id));
  again = w.WaitFor(id, kVmActive, kLcmRunning, 120);
  const std::string third_host = again.CurrentHistory()->hostname;
  CHECK(w.ExecOut(third_host, again.deploy_id, "cat /www/kept.txt") == "still-here\n");
  CHECK(World::HttpGet(again.nics.front().ip).find(kPage) != std::string::npos);
  const std::string other = third_host == "h1" ? "h2" : "h1";
  CHECK(w.ContainersOf(other, id).empty());
  MESSAGE("placed on " << host << ", after undeploy on " << second_host << ", after stop on "
                       << third_host);
}

TEST_CASE(
    "onevm migrate --live is refused with the reason, a cold migrate moves it, and system "
    "snapshots are created reverted and deleted") {
  World w;
  const int id = w.CreateVm("mover", 0.25, 64);
  w.Deploy(id, "h1");
  const Vm vm = w.WaitFor(id, kVmActive, kLcmRunning);
  w.ExecOut("h1", vm.deploy_id, "echo v1 > /www/v.txt");

  Ok(w, "onevm migrate --live " + Id(id) + " h2");
  // oned runs the driver's migrate, which refuses; the VM stays RUNNING on h1.
  const Vm refused = w.WaitUntil(
      id, [](const Vm& v) { return !ErrorOf(v).empty(); }, "refused");
  CHECK_MESSAGE(ErrorOf(refused).find("migrate is not supported by onedock") != std::string::npos,
                ErrorOf(refused));
  CHECK(refused.CurrentHistory()->hostname == "h1");
  REQUIRE(w.ContainersOf("h1", id).size() == 1);

  Ok(w, "onevm migrate " + Id(id) + " h2");
  const Vm moved = w.WaitUntilRunningOn(id, "h2");
  CHECK(w.ExecOut("h2", moved.deploy_id, "cat /www/v.txt") == "v1\n");

  Ok(w, "onevm snapshot-create " + Id(id) + " first");
  const std::string prefix = ThisSlot().RegistryHost() + "/onedock-snapshot/one-" + Id(id);
  w.WaitUntil(
      id, [&](const Vm&) { return w.Engine("h2").InspectImage(prefix + ":s0").ok(); },
      "snapshotted");
  w.ExecOut("h2", moved.deploy_id, "echo v2 > /www/v.txt");
  Ok(w, "onevm snapshot-create " + Id(id) + " second");
  w.WaitUntil(
      id, [&](const Vm&) { return w.Engine("h2").InspectImage(prefix + ":s1").ok(); },
      "snapshotted again");
  auto before = w.Engine("h2").InspectContainer(moved.deploy_id);
  REQUIRE(before.ok());
  Ok(w, "onevm snapshot-revert " + Id(id) + " 0");
  w.WaitUntil(
      id,
      [&](const Vm&) {
        auto c = w.Engine("h2").InspectContainer(moved.deploy_id);
        return c.ok() && c->id != before->id && c->running;
      },
      "reverted");
  CHECK(w.ExecOut("h2", moved.deploy_id, "cat /www/v.txt") == "v1\n");
  // The snapshot the container now runs from stays on the host; the other one goes.
  Ok(w, "onevm snapshot-delete " + Id(id) + " 1");
  w.WaitUntil(
      id, [&](const Vm&) { return !w.Engine("h2").InspectImage(prefix + ":s1").ok(); },
      "without snapshot 1");
  const std::string xml = Ok(w, "onevm show " + Id(id) + " -x");
  size_t snapshots = 0;
  for (size_t at = xml.find("<SNAPSHOT>"); at != std::string::npos;
       at = xml.find("<SNAPSHOT>", at + 1))
    ++snapshots;
  CHECK(snapshots == 1);
  CHECK(w.Engine("h2").InspectImage(prefix + ":s0").ok());
}

TEST_CASE(
    "onehost disable keeps new VMs off a host and onehost flush moves its VMs to the others") {
  World w;
  w.WaitForHost("h1", 2);
  w.WaitForHost("h2", 2);
  const int on_h1 = w.CreateVm("flushed", 0.25, 64);
  w.Deploy(on_h1, "h1");
  const Vm before = w.WaitFor(on_h1, kVmActive, kLcmRunning);
  w.ExecOut("h1", before.deploy_id, "echo moved > /www/m.txt");

  Ok(w, "onehost disable h1");
  for (int n = 0; n < 2; ++n) {
    const int vm =
        IdOf(Ok(w, "onevm create " + File(w, "new.tpl", w.VmTemplate("new" + Id(n), 0.1, 32))));
    CHECK(w.WaitFor(vm, kVmActive, kLcmRunning, 90).CurrentHistory()->hostname == "h2");
  }
  Ok(w, "onehost flush h1");
  const Vm after = w.WaitUntilRunningOn(on_h1, "h2", 120);
  CHECK(w.ExecOut("h2", after.deploy_id, "cat /www/m.txt") == "moved\n");
  CHECK(w.ContainersOf("h1", on_h1).empty());
  Ok(w, "onehost enable h1");
  w.WaitForHost("h1", 2);
}

TEST_CASE(
    "a template with two NICs, a DATABLOCK and a volatile disk, instantiated and hot-plugged with "
    "the CLI") {
  World w;
  const int data = IdOf(Ok(w, "oneimage create -d " + Id(w.image_datastore()) +
                                  " --name notes --type DATABLOCK --size 8 --persistent"));
  w.WaitForImage(data, 1);
  const std::string tpl =
      "NAME = two-nics\nCPU = 0.25\nMEMORY = 64\nDISK = [ IMAGE = httpd ]\n"
      "DISK = [ IMAGE = notes, DOCKER_MOUNT = \"/www/notes\" ]\nDISK = [ TYPE = fs, SIZE = 16 ]\n"
      "NIC = [ NETWORK_ID = " +
      Id(w.vnet(0)) + " ]\nNIC = [ NETWORK_ID = " + Id(w.vnet(1)) +
      " ]\n"
      "CONTEXT = [ NETWORK = YES, SET_HOSTNAME = \"$NAME\" ]\n";
  Ok(w, "onetemplate create " + File(w, "two.tpl", tpl));
  const int id = IdOf(Ok(w, "onetemplate instantiate two-nics --hold"));
  Ok(w, "onevm deploy " + Id(id) + " h2");
  const Vm vm = w.WaitFor(id, kVmActive, kLcmRunning, 90);
  REQUIRE(vm.nics.size() == 2);
  auto c = w.Engine("h2").InspectContainer(vm.deploy_id);
  REQUIRE(c.ok());
  CHECK(c->networks.count(w.vnet_def(0).bridge) == 1);
  CHECK(c->networks.count(w.vnet_def(1).bridge) == 1);
  CHECK(c->binds.size() == 2);  // the image's volume and the volatile disk's
  w.ExecOut("h2", vm.deploy_id, "echo noted > /www/notes/n.txt");
  for (const auto& nic : vm.nics) {
    CHECK_MESSAGE(World::HttpGet(nic.ip, 10, "/notes/n.txt") == "noted\n", nic.ip);
  }

  // nic-detach and nic-attach as a user types them.
  Ok(w, "onevm nic-detach " + Id(id) + " 1");
  w.WaitUntil(
      id, [](const Vm& v) { return v.nics.size() == 1; }, "with one NIC");
  Ok(w, "onevm nic-attach " + Id(id) + " --network " + Id(w.vnet(1)));
  const Vm attached = w.WaitUntil(
      id,
      [&](const Vm& v) {
        auto now = w.Engine("h2").InspectContainer(vm.deploy_id);
        return v.nics.size() == 2 && now.ok() && now->networks.count(w.vnet_def(1).bridge) == 1;
      },
      "on the second vnet again");
  const Nic& second =
      attached.nics[1].network_id == w.vnet(1) ? attached.nics[1] : attached.nics[0];
  CHECK(World::HttpGet(second.ip).find(kPage) != std::string::npos);
}

TEST_CASE("a user other than oneadmin works under oned's ACLs and quotas") {
  World w;
  const std::string auth = File(w, "alice_auth", "alice:alice-password\n");
  Ok(w, "oneuser create alice alice-password");
  // oneadmin's objects are private (oned's DEFAULT_UMASK 177): alice cannot use them yet.
  const std::string tpl = File(w, "web.tpl", w.VmTemplate("alice-web", 0.25, 64));
  const std::string denied = Refused(w, "onevm create " + tpl, auth);
  CHECK_MESSAGE(denied.find("Not authorized") != std::string::npos, denied);
  Ok(w, "oneimage chmod httpd 644");
  Ok(w, "onevnet chmod " + Id(w.vnet(0)) + " 644");
  Ok(w, "oneuser quota alice " + File(w, "quota.tpl", "VM = [ VMS = 1, CPU = 1, MEMORY = 256 ]\n"));

  const int id = IdOf(Ok(w, "onevm create " + tpl + " --hold", auth));
  Ok(w, "onevm deploy " + Id(id) + " h1");  // deploy is an admin action (VM_ADMIN_OPERATIONS)
  const Vm vm = w.WaitFor(id, kVmActive, kLcmRunning);
  CHECK(vm.uname == "alice");
  CHECK(World::HttpGet(vm.nics.front().ip).find(kPage) != std::string::npos);
  // A second VM is over alice's quota; oneadmin's VM is not hers to terminate.
  const std::string over = Refused(w, "onevm create " + tpl, auth);
  CHECK_MESSAGE(over.find("quota") != std::string::npos, over);
  const int admins = w.CreateVm("admins", 0.25, 64);
  const std::string foreign = Refused(w, "onevm terminate " + Id(admins), auth);
  CHECK_MESSAGE(foreign.find("Not authorized") != std::string::npos, foreign);
  Ok(w, "onevm poweroff " + Id(id), auth);
  w.WaitFor(id, kVmPoweroff, kLcmInit);
  Ok(w, "onevm terminate " + Id(id), auth);
  w.WaitFor(id, kVmDone, kLcmInit);
  CHECK(w.ContainersOf("h1", id).empty());
}

// One VM id among those the <VMS_KIND> list of an SG or vnet document names.
bool Lists(const std::string& xml, const std::string& list, int vm) {
  const auto open = xml.find("<" + list + ">"), close = xml.find("</" + list + ">");
  if (open == std::string::npos || close == std::string::npos) return false;
  return xml.substr(open, close - open).find("<ID>" + Id(vm) + "</ID>") != std::string::npos;
}

TEST_CASE(
    "security group and vnet updates run the network driver's update_sg and update_nic on the "
    "front-end and end UPDATED") {
  World w;
  const int id = w.CreateVm("sg", 0.25, 64);
  w.Deploy(id, "h1");
  const Vm vm = w.WaitFor(id, kVmActive, kLcmRunning);
  // Every vnet carries the default security group 0; a new rule makes oned update its VMs.
  Ok(w, "onesecgroup update 0 --append " +
            File(w, "rule.tpl",
                 "RULE = [ PROTOCOL = \"TCP\", RULE_TYPE = \"inbound\", RANGE = \"8080\" ]\n"));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  std::string sg;
  while (std::chrono::steady_clock::now() < deadline) {
    sg = Ok(w, "onesecgroup show 0 -x");
    if (Lists(sg, "UPDATED_VMS", id) && !Lists(sg, "UPDATING_VMS", id)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  CHECK_MESSAGE(Lists(sg, "UPDATED_VMS", id), sg);
  CHECK_FALSE(Lists(sg, "ERROR_VMS", id));
  // A bandwidth attribute is one of those oned pushes to the VMs' NICs (update_nic).
  Ok(w, "onevnet update " + Id(w.vnet(0)) + " --append " +
            File(w, "qos.tpl", "INBOUND_AVG_BW = \"1000\"\n"));
  std::string vnet;
  while (std::chrono::steady_clock::now() < deadline + std::chrono::seconds(30)) {
    vnet = Ok(w, "onevnet show " + Id(w.vnet(0)) + " -x");
    if (Lists(vnet, "UPDATED_VMS", id) && !Lists(vnet, "UPDATING_VMS", id) &&
        !Lists(vnet, "OUTDATED_VMS", id))
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  CHECK_MESSAGE(Lists(vnet, "UPDATED_VMS", id), vnet);
  CHECK_FALSE(Lists(vnet, "ERROR_VMS", id));
  CHECK(w.Info(id).lcm_state == kLcmRunning);
  CHECK(World::HttpGet(vm.nics.front().ip).find(kPage) != std::string::npos);
}

}  // namespace
}  // namespace onedock::e2e
