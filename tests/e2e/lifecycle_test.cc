// VM lifecycle end to end: the emulator runs the real onedock scripts, onedockd drives the real
// engines h1 and h2, and the assertions read the engines and the front-end's view of the network.
#include <signal.h>

#include <chrono>
#include <set>
#include <thread>

#include "tests/e2e/world.h"
#include "tests/integration/bed.h"

namespace onedock::e2e {
namespace {

constexpr char kPage[] = "onedock test page";

const Nic& FirstNic(const Vm& vm) {
  REQUIRE_FALSE(vm.nics.empty());
  return vm.nics.front();
}

// The cgroup limits the kernel applies to the container, read from inside it (v2, else v1).
std::pair<std::string, std::string> CgroupLimits(World& w, const std::string& engine,
                                                 const std::string& name) {
  std::string cpu = w.ExecOut(
      engine, name,
      "cat /sys/fs/cgroup/cpu.max 2>/dev/null || cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us");
  std::string mem = w.ExecOut(engine, name,
                              "cat /sys/fs/cgroup/memory.max 2>/dev/null || cat "
                              "/sys/fs/cgroup/memory/memory.limit_in_bytes");
  return {cpu.substr(0, cpu.find_first_of(" \n")), mem.substr(0, mem.find('\n'))};
}

TEST_CASE("ten VMs on two hosts run with their leased IP and MAC and template limits") {
  World w;
  std::vector<int> vms;
  for (int n = 0; n < 10; ++n) {
    const int vm =
        w.CreateVm("web" + std::to_string(n), n % 2 == 0 ? 0.25 : 0.5, 64 + 32 * (n % 3));
    w.Deploy(vm, n % 2 == 0 ? "h1" : "h2");
    vms.push_back(vm);
  }
  for (size_t n = 0; n < vms.size(); ++n) {
    const std::string engine = n % 2 == 0 ? "h1" : "h2";
    const Vm vm = w.WaitFor(vms[n], kVmActive, kLcmRunning);
    CHECK(vm.deploy_id == "one-" + std::to_string(vm.id));
    auto c = w.Engine(engine).InspectContainer(vm.deploy_id);
    REQUIRE_MESSAGE(c.ok(), c.status().ToString());
    CHECK(c->running);
    CHECK(c->labels["one.vmid"] == std::to_string(vm.id));
    CHECK(c->labels["one.host"] == engine);
    CHECK(c->hostname == vm.name);
    const Nic& nic = FirstNic(vm);
    REQUIRE(c->networks.count(w.vnet_def(0).bridge) == 1);
    CHECK(c->networks[w.vnet_def(0).bridge].ipv4 == nic.ip);
    CHECK(c->networks[w.vnet_def(0).bridge].mac == nic.mac);
    CHECK(c->nano_cpus == static_cast<int64_t>(vm.cpu * 1e9 + 0.5));
    CHECK(c->memory_bytes == vm.memory_mb * 1024 * 1024);
    CHECK(c->memory_swap_bytes == vm.memory_mb * 1024 * 1024);
    CHECK(c->init);
    CHECK(World::HttpGet(nic.ip).find(kPage) != std::string::npos);
  }
}

TEST_CASE("context variables DNS SSH key and START_SCRIPT reach the container") {
  World w;
  // oned replaces $NAME-style references in CONTEXT values when the VM is created, so a script
  // that reads its own environment comes base64-encoded: "echo $GREETING > /www/started.txt".
  const int id =
      w.CreateVm("ctx", 0.25, 64, "",
                 ", DNS = \"10.231.0.1\", SSH_PUBLIC_KEY = \"ssh-ed25519 AAAAC3Nza e2e@fe\", "
                 "GREETING = \"it's here\", START_SCRIPT_BASE64 = "
                 "\"ZWNobyAkR1JFRVRJTkcgPiAvd3d3L3N0YXJ0ZWQudHh0\"");
  w.Deploy(id, "h2");
  const Vm vm = w.WaitFor(id, kVmActive, kLcmRunning);
  CHECK(w.ExecOut("h2", vm.deploy_id, "echo $GREETING") == "it's here\n");
  CHECK(w.ExecOut("h2", vm.deploy_id, ". /context/context.sh; echo $ETH0_IP") ==
        FirstNic(vm).ip + "\n");
  // On a user-defined network the engine's resolver (127.0.0.11 in resolv.conf) forwards to these.
  auto c = w.Engine("h2").InspectContainer(vm.deploy_id);
  REQUIRE(c.ok());
  CHECK(c->dns == std::vector<std::string>{"10.231.0.1"});
  CHECK(w.ExecOut("h2", vm.deploy_id, "cat /root/.ssh/authorized_keys") ==
        "ssh-ed25519 AAAAC3Nza e2e@fe\n");
  CHECK(w.ExecOut("h2", vm.deploy_id, "cat /www/started.txt") == "it's here\n");
  // The start script runs once: not again when the VM is powered off and resumed.
  w.ExecOut("h2", vm.deploy_id, "rm /www/started.txt");
  w.Action("poweroff", id);
  w.WaitFor(id, kVmPoweroff, 0);
  w.Action("resume", id);
  w.WaitFor(id, kVmActive, kLcmRunning);
  CHECK(w.ExecOut("h2", vm.deploy_id, "test -e /www/started.txt && echo again || echo once") ==
        "once\n");
}

TEST_CASE("poweroff keeps the container and resume starts it again with the same IP") {
  World w;
  const int id = w.CreateVm("pwr", 0.25, 64);
  w.Deploy(id, "h1");
  const Vm before = w.WaitFor(id, kVmActive, kLcmRunning);
  w.ExecOut("h1", before.deploy_id, "echo kept > /marker");

  w.Action("poweroff", id);
  w.WaitFor(id, kVmPoweroff, 0);
  auto stopped = w.Engine("h1").InspectContainer(before.deploy_id);
  REQUIRE_MESSAGE(stopped.ok(), stopped.status().ToString());
  CHECK_FALSE(stopped->running);
  CHECK(World::HttpGet(FirstNic(before).ip, 0.5).empty());

  w.Action("resume", id);
  const Vm after = w.WaitFor(id, kVmActive, kLcmRunning);
  CHECK(FirstNic(after).ip == FirstNic(before).ip);
  auto c = w.Engine("h1").InspectContainer(after.deploy_id);
  REQUIRE(c.ok());
  CHECK(c->id == stopped->id);  // the same container, not a new one
  CHECK(c->running);
  CHECK(w.ExecOut("h1", after.deploy_id, "cat /marker") == "kept\n");
  CHECK(World::HttpGet(FirstNic(after).ip).find(kPage) != std::string::npos);
}

TEST_CASE("reboot and reset restart the container") {
  World w;
  const int id = w.CreateVm("rbt", 0.25, 64);
  w.Deploy(id, "h2");
  const Vm vm = w.WaitFor(id, kVmActive, kLcmRunning);
  auto first = w.Engine("h2").InspectContainer(vm.deploy_id);
  REQUIRE(first.ok());
  // The StartedAt of the running container once it differs from `previous` (bounded wait).
  auto started_again = [&](const std::string& previous) {
    for (int n = 0; n < 100; ++n) {
      auto c = w.Engine("h2").InspectContainer(vm.deploy_id);
      REQUIRE(c.ok());
      if (c->running && c->started_at != previous) return c->started_at;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return std::string();
  };
  w.Action("reboot", id);
  w.WaitFor(id, kVmActive, kLcmRunning);
  const std::string after_reboot = started_again(first->started_at);
  CHECK_FALSE(after_reboot.empty());
  w.Action("reboot-hard", id);
  w.WaitFor(id, kVmActive, kLcmRunning);
  CHECK_FALSE(started_again(after_reboot).empty());
  CHECK(World::HttpGet(FirstNic(vm).ip).find(kPage) != std::string::npos);
}

TEST_CASE("resize changes the cgroup limits of the running container") {
  World w;
  const int id = w.CreateVm("rsz", 0.5, 128);
  w.Deploy(id, "h1");
  const Vm vm = w.WaitFor(id, kVmActive, kLcmRunning);
  auto [cpu_before, mem_before] = CgroupLimits(w, "h1", vm.deploy_id);
  CHECK(cpu_before == "50000");
  CHECK(mem_before == std::to_string(128 * 1024 * 1024));

  w.Call("one.vm.resize",
         {xmlrpc_c::value_int(id), xmlrpc_c::value_string("CPU = 1.5\nMEMORY = 256"),
          xmlrpc_c::value_boolean(false)});
  w.WaitFor(id, kVmActive, kLcmRunning);
  std::pair<std::string, std::string> after;
  for (int n = 0; n < 50; ++n) {
    after = CgroupLimits(w, "h1", vm.deploy_id);
    if (after.first == "150000") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  CHECK(after.first == "150000");
  CHECK(after.second == std::to_string(256 * 1024 * 1024));
  auto c = w.Engine("h1").InspectContainer(vm.deploy_id);
  REQUIRE(c.ok());
  CHECK(c->id.size() > 0);
  CHECK(c->nano_cpus == 1500000000);
  CHECK(c->memory_swap_bytes == 256 * 1024 * 1024);
}

TEST_CASE("a NIC attached on a second vnet answers on its lease and is gone after detach") {
  World w;
  const int id = w.CreateVm("nic", 0.25, 64);
  w.Deploy(id, "h2");
  const Vm vm = w.WaitFor(id, kVmActive, kLcmRunning);
  w.Call("one.vm.attachnic",
         {xmlrpc_c::value_int(id),
          xmlrpc_c::value_string("NIC = [ NETWORK_ID = " + std::to_string(w.vnet(1)) + " ]")});
  auto on_second_vnet = [&](const Vm&) {
    auto c = w.Engine("h2").InspectContainer(vm.deploy_id);
    return c.ok() && c->networks.count(w.vnet_def(1).bridge) == 1;
  };
  const Vm attached = w.WaitUntil(id, on_second_vnet, "on the second vnet");
  REQUIRE(attached.nics.size() == 2);
  const Nic& second =
      attached.nics[1].network_id == w.vnet(1) ? attached.nics[1] : attached.nics[0];
  auto c = w.Engine("h2").InspectContainer(vm.deploy_id);
  REQUIRE(c.ok());
  REQUIRE(c->networks.count(w.vnet_def(1).bridge) == 1);
  CHECK(c->networks[w.vnet_def(1).bridge].ipv4 == second.ip);
  CHECK(World::HttpGet(second.ip).find(kPage) != std::string::npos);

  w.Call("one.vm.detachnic", {xmlrpc_c::value_int(id), xmlrpc_c::value_int(second.nic_id)});
  const Vm detached = w.WaitUntil(
      id, [](const Vm& v) { return v.nics.size() == 1; }, "with one NIC");
  c = w.Engine("h2").InspectContainer(vm.deploy_id);
  REQUIRE(c.ok());
  CHECK(c->networks.count(w.vnet_def(1).bridge) == 0);
  CHECK(World::HttpGet(second.ip, 0.5).empty());
  CHECK(World::HttpGet(FirstNic(vm).ip).find(kPage) != std::string::npos);
}

TEST_CASE("cold migration to the other host keeps the files written inside") {
  World w;
  const int id = w.CreateVm("mig", 0.25, 64);
  w.Deploy(id, "h1");
  const Vm vm = w.WaitFor(id, kVmActive, kLcmRunning);
  w.ExecOut("h1", vm.deploy_id, "echo moved-with-me > /www/note.txt");

  w.Call("one.vm.migrate", {xmlrpc_c::value_int(id), xmlrpc_c::value_int(w.host("h2")),
                            xmlrpc_c::value_boolean(false)});
  const Vm moved = w.WaitUntilRunningOn(id, "h2");
  CHECK(w.ContainersOf("h1", id).empty());
  REQUIRE(w.ContainersOf("h2", id).size() == 1);
  CHECK(w.ExecOut("h2", moved.deploy_id, "cat /www/note.txt") == "moved-with-me\n");
  CHECK(World::HttpGet(FirstNic(moved).ip).find(kPage) != std::string::npos);
}

TEST_CASE("a VM migrated h1 to h2 and back to h1 keeps the files written on h2") {
  World w;
  const int id = w.CreateVm("mig2", 0.25, 64);
  w.Deploy(id, "h1");
  const Vm vm = w.WaitFor(id, kVmActive, kLcmRunning);
  w.ExecOut("h1", vm.deploy_id, "echo from-h1 > /www/h1.txt");
  w.Call("one.vm.migrate", {xmlrpc_c::value_int(id), xmlrpc_c::value_int(w.host("h2")),
                            xmlrpc_c::value_boolean(false)});
  w.WaitUntilRunningOn(id, "h2");
  w.ExecOut("h2", vm.deploy_id, "echo from-h2 > /www/h2.txt; echo changed-on-h2 > /www/h1.txt");

  // h1 still holds the image of the first checkpoint under the checkpoint's name.
  const std::string checkpoint =
      ThisSlot().RegistryHost() + "/onedock-checkpoint/one-" + std::to_string(id) + ":latest";
  CHECK(w.Engine("h1").InspectImage(checkpoint).ok());
  w.Call("one.vm.migrate", {xmlrpc_c::value_int(id), xmlrpc_c::value_int(w.host("h1")),
                            xmlrpc_c::value_boolean(false)});
  const Vm back = w.WaitUntilRunningOn(id, "h1");
  CHECK(w.ContainersOf("h2", id).empty());
  REQUIRE(w.ContainersOf("h1", id).size() == 1);
  CHECK(w.ExecOut("h1", back.deploy_id, "cat /www/h2.txt") == "from-h2\n");
  CHECK(w.ExecOut("h1", back.deploy_id, "cat /www/h1.txt") == "changed-on-h2\n");
  auto c = w.Engine("h1").InspectContainer(back.deploy_id);
  REQUIRE(c.ok());
  CHECK(c->image.find("@sha256:") != std::string::npos);  // by the digest h2's push reported
  CHECK(World::HttpGet(FirstNic(back).ip).find(kPage) != std::string::npos);
}

TEST_CASE(
    "another installation's one-<id> on the host is refused at deploy and survives terminate "
    "untouched") {
  World w;
  const int id = w.CreateVm("foreign", 0.25, 64);
  const std::string name = "one-" + std::to_string(id);
  auto& h1 = w.Engine("h1");
  REQUIRE(h1.PullImage(w.image_reference(), {}, nullptr).ok());
  ContainerSpec spec;
  spec.name = name;
  spec.image = w.image_reference();
  spec.labels = {{"one.vmid", std::to_string(id)}, {"one.instance", "another-onedock"}};
  spec.network_mode = "none";
  auto foreign = h1.CreateContainer(spec);
  REQUIRE_MESSAGE(foreign.ok(), foreign.status().ToString());
  // Not labelled with the world's instance, so the world does not remove it: this does.
  struct Cleanup {
    docker::EngineClient& engine;
    std::string name;
    ~Cleanup() { engine.RemoveContainer(name, true, true); }
  } cleanup{h1, name};
  REQUIRE(h1.StartContainer(name).ok());
  auto before = h1.InspectContainer(name);
  REQUIRE(before.ok());

  w.Deploy(id, "h1");
  const Vm failed = w.WaitFor(id, kVmActive, kLcmBootFailure);
  const std::string error = failed.user_template.at("ERROR");
  CHECK_MESSAGE(error.find(name + " is not this VM's") != std::string::npos, error);
  CHECK(error.find("one.instance=another-onedock") != std::string::npos);

  w.Action("terminate", id);
  w.WaitFor(id, kVmDone, 0);
  auto after = h1.InspectContainer(name);
  CHECK_MESSAGE(after.ok(), after.status().ToString());
  if (after.ok()) {
    CHECK(after->id == before->id);
    CHECK(after->running);
    CHECK(after->started_at == before->started_at);
    CHECK(after->labels.at("one.instance") == "another-onedock");
  }
  // The daemon still serves other VMs.
  const int next = w.CreateVm("after-foreign", 0.25, 64);
  w.Deploy(next, "h2");
  w.WaitFor(next, kVmActive, kLcmRunning);
}

TEST_CASE(
    "a system snapshot is committed to the private registry and revert brings its files back") {
  World w;
  const int id = w.CreateVm("snap", 0.25, 64);
  w.Deploy(id, "h1");
  const Vm vm = w.WaitFor(id, kVmActive, kLcmRunning);
  w.ExecOut("h1", vm.deploy_id, "echo before > /www/state.txt");
  w.Call("one.vm.snapshotcreate", {xmlrpc_c::value_int(id), xmlrpc_c::value_string("s0")});
  // The reference the driver printed is the snapshot's HYPERVISOR_ID; the image is on the engine.
  const std::string reference =
      ThisSlot().RegistryHost() + "/onedock-snapshot/one-" + std::to_string(id) + ":s0";
  const Vm snapped = w.WaitUntil(
      id, [&](const Vm&) { return w.Engine("h1").InspectImage(reference).ok(); }, "snapshotted");
  auto before_revert = w.Engine("h1").InspectContainer(vm.deploy_id);
  REQUIRE(before_revert.ok());

  w.ExecOut("h1", vm.deploy_id, "echo after > /www/state.txt");
  w.Call("one.vm.snapshotrevert", {xmlrpc_c::value_int(id), xmlrpc_c::value_int(0)});
  // A revert recreates the container from the snapshot's image.
  const Vm reverted = w.WaitUntil(
      id,
      [&](const Vm&) {
        auto c = w.Engine("h1").InspectContainer(vm.deploy_id);
        return c.ok() && c->id != before_revert->id && c->running;
      },
      "reverted");
  REQUIRE(w.ContainersOf("h1", id).size() == 1);
  CHECK(w.ExecOut("h1", reverted.deploy_id, "cat /www/state.txt") == "before\n");
  CHECK(World::HttpGet(FirstNic(reverted).ip).find(kPage) != std::string::npos);
  CHECK(snapped.deploy_id == reverted.deploy_id);
}

TEST_CASE("terminate removes the container and leaves nothing of it on the engine") {
  World w;
  const int id = w.CreateVm("term", 0.25, 64);
  w.Deploy(id, "h1");
  const Vm vm = w.WaitFor(id, kVmActive, kLcmRunning);
  REQUIRE(w.ContainersOf("h1", id).size() == 1);
  w.Action("terminate", id);
  w.WaitFor(id, kVmDone, 0);
  auto gone = w.Engine("h1").InspectContainer(vm.deploy_id);
  CHECK(gone.status().code() == Status::Code::kNotFound);
  CHECK(w.ContainersOf("h1", id).empty());
  CHECK(w.ContainersOf("h2", id).empty());
  CHECK(World::HttpGet(FirstNic(vm).ip, 0.5).empty());
}

TEST_CASE("a deploy to a host whose engine is down ends in BOOT_FAILURE naming the host") {
  World w;
  const int id = w.CreateVm("dead", 0.25, 64);
  w.Deploy(id, "dead");
  const Vm vm = w.WaitFor(id, kVmActive, kLcmBootFailure, 60);
  const std::string error = vm.user_template.at("ERROR");
  CHECK(error.find("host dead") != std::string::npos);
}

TEST_CASE("a VM asking for a privileged container is refused with a message") {
  World w;
  const int id = w.CreateVm("priv", 0.25, 64, "DOCKER_PRIVILEGED = \"YES\"\n");
  w.Deploy(id, "h1");
  const Vm vm = w.WaitFor(id, kVmActive, kLcmBootFailure);
  CHECK(vm.user_template.at("ERROR").find("privileged container refused by policy") !=
        std::string::npos);
  CHECK(w.ContainersOf("h1", id).empty());
}

TEST_CASE(
    "added capabilities and host binds are refused by default and applied when the policy allows") {
  const std::string wants = "DOCKER_CAP_ADD = \"NET_ADMIN\"\nDOCKER_BINDS = \"/tmp:/hosttmp:ro\"\n";
  {
    World w;
    const int id = w.CreateVm("caps", 0.25, 64, wants);
    w.Deploy(id, "h1");
    const Vm vm = w.WaitFor(id, kVmActive, kLcmBootFailure);
    CHECK(vm.user_template.at("ERROR").find("capability NET_ADMIN refused by policy") !=
          std::string::npos);
    CHECK(w.ContainersOf("h1", id).empty());
  }
  World w("[policy]\nallow_cap_add = yes\nallow_host_binds = yes\n");
  const int id = w.CreateVm("caps", 0.25, 64, wants);
  w.Deploy(id, "h1");
  const Vm vm = w.WaitFor(id, kVmActive, kLcmRunning);
  auto c = w.Engine("h1").InspectContainer(vm.deploy_id);
  REQUIRE(c.ok());
  CHECK(c->cap_add == std::vector<std::string>{"NET_ADMIN"});
  CHECK(c->binds == std::vector<std::string>{"/tmp:/hosttmp:ro"});
  CHECK_FALSE(c->privileged);
}

TEST_CASE(
    "onedockd killed during ten concurrent deploys leaves every VM RUNNING with one container") {
  World w;
  std::vector<int> vms;
  for (int n = 0; n < 10; ++n) vms.push_back(w.CreateVm("crash" + std::to_string(n), 0.1, 64));
  for (size_t n = 0; n < vms.size(); ++n) w.Deploy(vms[n], n % 2 == 0 ? "h1" : "h2");
  // Kill once the first containers exist, so some deploys are past create and others not yet.
  for (int n = 0; n < 400; ++n) {
    if (!w.ContainersOf("h1", vms[0]).empty() || !w.ContainersOf("h2", vms[1]).empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  w.KillOnedockd();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  w.StartOnedockd();
  for (size_t n = 0; n < vms.size(); ++n) {
    const Vm vm = w.WaitFor(vms[n], kVmActive, kLcmRunning, 120);
    const std::string engine = n % 2 == 0 ? "h1" : "h2";
    const std::string other = n % 2 == 0 ? "h2" : "h1";
    auto here = w.ContainersOf(engine, vm.id);
    CHECK_MESSAGE(here.size() == 1,
                  "vm " << vm.id << " has " << here.size() << " containers on " << engine);
    CHECK(w.ContainersOf(other, vm.id).empty());
    if (!here.empty()) CHECK(here[0].state == "running");
  }
}

}  // namespace
}  // namespace onedock::e2e
