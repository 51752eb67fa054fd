// VmActions against a fake engine and a fake oned: what reaches the engine for each action, and
// how a deploy converges from every state a crash or a retry can leave behind.
#include "bridge/vm_actions.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include "bridge/output_tail.h"
#include "bridge/ownership.h"
#include "tests/support/actions_rig.h"

namespace onedock {
namespace {

using Rig = ActionsRig;
using fakes::FakeEngine;

TEST_CASE("a deploy whose vnet overlaps a network the host already has fails naming that network") {
  Rig r;
  r.h1().networks["leftover"] = {"n-leftover", "leftover", "bridge", "10.42.0.0/24",
                                 "10.42.0.1",  {},         {},       {}};
  auto id = r.actions->Deploy(r.vm, "h1");
  REQUIRE_FALSE(id.ok());
  CHECK_MESSAGE(id.status().message().find(
                    "overlaps network leftover (10.42.0.0/24) on the host") != std::string::npos,
                id.status().message());
  CHECK(r.h1().containers.empty());
}

TEST_CASE("a deploy whose network another deploy created at the same moment uses that network") {
  Rig r;
  // The concurrent deploy's create lands between this one's inspect and create.
  r.h1().on_call = [&r](const std::string& call) {
    if (call == "network onebr0 10.42.0.0/24" && r.h1().networks.count("onebr0") == 0)
      r.h1().networks["onebr0"] = {"n-onebr0",  "onebr0", "bridge", "10.42.0.0/24",
                                   "10.42.0.1", {},       {},       {}};
  };
  auto id = r.actions->Deploy(r.vm, "h1");
  REQUIRE_MESSAGE(id.ok(), id.status().ToString());
  CHECK(r.h1().containers["one-42"].running);
  CHECK(r.h1().networks.count("onebr0") == 1);
}

TEST_CASE(
    "a first deploy pulls creates networks connects uploads starts and runs the start script "
    "once") {
  Rig r;
  auto id = r.actions->Deploy(r.vm, "h1");
  REQUIRE_MESSAGE(id.ok(), id.status().ToString());
  CHECK(*id == "one-42");
  const std::string image =
      "127.0.0.1:5000/"
      "httpd:3@sha256:6db7e5c9a3b0d86f0a2e3c1b7f6a5d4c3b2a19080706050403020100ffeeddcc";
  CHECK(r.h1().calls == std::vector<std::string>{"pull " + image, "network onebr0 10.42.0.0/24",
                                                 "network onebr1 10.43.0.0/24", "create one-42",
                                                 "connect one-42 onebr1", "archive one-42 /",
                                                 "start one-42", "exec one-42"});
  CHECK(r.h1().containers["one-42"].running);
  CHECK(r.journal->Pending()->empty());

  // Resume after poweroff: the same container is started again; nothing is recreated or re-run.
  REQUIRE(r.actions->Shutdown(42, "h1").ok());
  r.h1().calls.clear();
  REQUIRE(r.actions->Deploy(r.vm, "h1").ok());
  CHECK(r.h1().calls == std::vector<std::string>{"archive one-42 /", "start one-42"});
  CHECK(r.h1().execs == 1);
}

TEST_CASE(
    "a deploy adopts the container a crashed run created and applies a resize made while off") {
  Rig r;
  REQUIRE(r.actions->Deploy(r.vm, "h1").ok());
  REQUIRE(r.actions->Shutdown(42, "h1").ok());
  r.vm.cpu = 1.0;
  r.vm.memory_mb = 256;
  r.h1().calls.clear();
  REQUIRE(r.actions->Deploy(r.vm, "h1").ok());
  CHECK(r.h1().calls ==
        std::vector<std::string>{"update one-42", "archive one-42 /", "start one-42"});
  CHECK(r.h1().containers["one-42"].nano_cpus == 1000000000);
  CHECK(r.h1().containers.size() == 1);
}

TEST_CASE("a start failure removes a never-started container but keeps a stopped VM's one") {
  Rig r;
  r.h1().fail_start = true;
  auto first = r.actions->Deploy(r.vm, "h1");
  REQUIRE_FALSE(first.ok());
  CHECK(first.status().message().rfind("deploy vm 42 on host h1: engine fake://h1: start one-42",
                                       0) == 0);
  CHECK(r.h1().containers.empty());  // the name is free for the next attempt

  r.h1().fail_start = false;
  REQUIRE(r.actions->Deploy(r.vm, "h1").ok());
  REQUIRE(r.actions->Shutdown(42, "h1").ok());
  r.h1().fail_start = true;
  CHECK_FALSE(r.actions->Deploy(r.vm, "h1").ok());
  CHECK(r.h1().containers.count("one-42") == 1);  // the VM's files are still there
}

TEST_CASE("a deploy whose command fails at once fails with why, and frees the name") {
  Rig r;
  r.h1().on_started = [](ContainerInfo& c) {
    c.running = false;
    c.status = "exited";
    c.exit_code = 3;
  };
  r.h1().logs["one-42"] = "reading config\nno such file: /etc/app.conf\n";
  auto failed = r.actions->Deploy(r.vm, "h1");
  REQUIRE_FALSE(failed.ok());
  CHECK(failed.status().message().rfind(
            "deploy vm 42 on host h1: command exited 3 at its start: reading config | no such "
            "file: /etc/app.conf",
            0) == 0);
  CHECK(r.h1().containers.empty());  // a retry creates it from the template as it is then

  r.h1().on_started = [](ContainerInfo& c) {  // ends with 0: a VM that powered itself off
    c.running = false;
    c.status = "exited";
    c.exit_code = 0;
  };
  REQUIRE(r.actions->Deploy(r.vm, "h1").ok());
  CHECK(r.h1().containers.count("one-42") == 1);
}

TEST_CASE("how the image runs comes from the template: a TTY by default, command, user, env") {
  Rig r;
  r.vm.user_template["DOCKER_CMD"] = R"(["sh", "-c", "echo $A; sleep 9"])";
  r.vm.user_template["DOCKER_USER"] = "1000";
  r.vm.user_template["DOCKER_ENV"] = "A='x y'";
  r.vm.user_template["DOCKER_LABELS"] = "team=web";
  REQUIRE(r.actions->Deploy(r.vm, "h1").ok());
  const ContainerInfo& c = r.h1().containers["one-42"];
  CHECK(c.tty);
  CHECK(c.open_stdin);
  CHECK(c.cmd == std::vector<std::string>{"sh", "-c", "echo $A; sleep 9"});
  CHECK(c.user == "1000");
  CHECK(std::count(c.env.begin(), c.env.end(), "A=x y") == 1);
  CHECK(c.labels.at("team") == "web");
  CHECK(c.labels.at("one.vmid") == "42");

  Rig refused;
  refused.vm.user_template["DOCKER_LABELS"] = "one.vmid=7";
  auto bad = refused.actions->Deploy(refused.vm, "h1");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("DOCKER_LABELS: one.vmid") != std::string::npos);
  CHECK(refused.h1().calls.empty());  // nothing reached the engine
}

TEST_CASE("a container of the same name that is not this VM's is never adopted or removed") {
  Rig r;
  ContainerInfo foreign;
  foreign.id = "x";
  foreign.name = "one-42";
  foreign.labels = {{"one.vmid", "42"}, {"one.instance", "someone-else"}};
  r.h1().containers["one-42"] = foreign;
  auto d = r.actions->Deploy(r.vm, "h1");
  REQUIRE_FALSE(d.ok());
  CHECK(d.status().code() == Status::Code::kConflict);
  r.h1().containers["one-42"].labels.erase("one.vmid");
  CHECK(r.actions->Remove(42, "h1").ok());
  CHECK(r.h1().containers.count("one-42") == 1);
}

TEST_CASE("ownership: a container is ours only when both its VM and instance labels say so") {
  CHECK(IsOurs({{"one.vmid", "42"}, {"one.instance", "test"}}, 42, "test"));
  CHECK_FALSE(IsOurs({{"one.vmid", "42"}, {"one.instance", "other"}}, 42, "test"));
  CHECK_FALSE(IsOurs({{"one.vmid", "43"}, {"one.instance", "test"}}, 42, "test"));
  CHECK_FALSE(IsOurs({{"one.vmid", "42"}}, 42, "test"));
  CHECK_FALSE(IsOurs({{"one.instance", "test"}}, 42, "test"));
  CHECK_FALSE(IsOurs({}, 42, "test"));
  CHECK_FALSE(IsOurs({{"one.vmid", "042"}, {"one.instance", "test"}}, 42, "test"));
  const Status s = NotOurs("container one-42", {{"one.vmid", "42"}, {"one.instance", "other"}});
  CHECK(s.code() == Status::Code::kConflict);
  CHECK(s.message() ==
        "container one-42 is not this VM's (one.instance=other, one.vmid=42): left alone");
}

TEST_CASE(
    "another installation's one-42 is never touched: terminate succeeds around it, the rest are "
    "refused naming its labels") {
  Rig r;
  r.AddDataDisks();
  ContainerSpec spec;
  spec.name = "one-42";
  spec.image = "their/image";
  spec.nano_cpus = 123;
  spec.memory_bytes = 456;
  spec.labels = {{"one.vmid", "42"}, {"one.instance", "someone-else"}};
  spec.volumes = {"their-data:/data"};
  REQUIRE(r.h1().CreateContainer(spec).ok());
  REQUIRE(r.h1().StartContainer("one-42").ok());
  // A volume of this VM's (left by an earlier run) goes with terminate; theirs stays.
  REQUIRE(r.h1().CreateVolume("one-42-disk2", {{"one.vmid", "42"}, {"one.instance", "test"}}).ok());
  // A snapshot this VM took before its container was replaced: its revert is refused too.
  REQUIRE(r.journal
              ->RecordSnapshot(42, "127.0.0.1:5000/onedock-snapshot/one-42:s0",
                               "127.0.0.1:5000/onedock-snapshot/one-42@sha256:d1")
              .ok());
  r.h1().calls.clear();
  const ContainerInfo before = r.h1().containers["one-42"];

  auto deploy = r.actions->Deploy(r.vm, "h1");
  REQUIRE_FALSE(deploy.ok());
  CHECK(
      deploy.status().message().rfind(
          "deploy vm 42 on host h1: container one-42 is not this VM's (one.instance=someone-else, "
          "one.vmid=42)",
          0) == 0);
  // What must act on the VM's container is refused, naming it and its labels.
  for (const Status& refused :
       {r.actions->Reboot(42, "h1", false), r.actions->Reboot(42, "h1", true),
        r.actions->Resize(r.vm, "h1"), r.actions->AttachNic(r.vm, "h1", "02:00:0a:2b:00:07"),
        r.actions->DetachNic(r.vm, "h1", "02:00:0a:2b:00:07"), r.actions->Save(r.vm, "h1"),
        r.actions->SnapshotCreate(r.vm, "h1", "0").status(),
        r.actions->SnapshotRevert(r.vm, "h1", "127.0.0.1:5000/onedock-snapshot/one-42:s0")}) {
    CHECK(refused.code() == Status::Code::kConflict);
    CHECK_MESSAGE(refused.message().find("one.instance=someone-else") != std::string::npos,
                  refused.message());
  }
  // What ends the VM succeeds: nothing of this VM runs there, so oned can delete it.
  CHECK(r.actions->Shutdown(42, "h1").ok());
  CHECK(r.actions->Cancel(42, "h1").ok());
  CHECK(r.actions->Remove(42, "h1").ok());

  const ContainerInfo& after = r.h1().containers["one-42"];
  CHECK(after.running);
  CHECK(after.id == before.id);
  CHECK(after.labels == before.labels);
  CHECK(after.nano_cpus == 123);
  CHECK(after.memory_bytes == 456);
  CHECK(after.networks.size() == before.networks.size());
  CHECK(r.h1().volumes.count("their-data") == 1);
  CHECK(r.h1().volumes.count("one-42-disk2") == 0);
  for (const auto& call : r.h1().calls) {
    for (const char* verb : {"stop ", "kill ", "restart ", "update ", "remove ", "commit ",
                             "connect ", "disconnect ", "exec ", "archive ", "start "}) {
      CHECK_MESSAGE(call.rfind(std::string(verb) + "one-42", 0) != 0, call);
    }
  }
  CHECK(r.h1().execs == 0);
  CHECK(r.journal->Pending()->empty());
  CHECK_FALSE(r.journal->PlacementOf(42)->has_value());
}

TEST_CASE("a VM moving away never copies data out of someone else's container of its name") {
  Rig r;
  r.AddDataDisks();
  REQUIRE(r.actions->Deploy(r.vm, "h1").ok());
  REQUIRE(r.actions->Shutdown(42, "h1").ok());
  // Behind onedock's back, one-42 on h1 became another installation's container.
  r.h1().containers["one-42"].labels["one.instance"] = "someone-else";
  r.h1().volume_data["one-42-disk1"] = "theirs";
  auto moved = r.actions->Deploy(r.vm, "h2");
  REQUIRE_FALSE(moved.ok());  // this VM's volume is there without its container
  CHECK(std::count(r.h1().calls.begin(), r.h1().calls.end(), "get-archive one-42 /data") == 0);
  CHECK(r.h1().containers.count("one-42") == 1);
  CHECK(r.h2().volume_data["one-42-disk1"].empty());
}

// Stands for onedockd being killed: thrown by a fake, it unwinds the action half done.
struct Killed {};

Vm Deploying(const Vm& vm, const std::string& host) {
  Vm wanted = vm;
  wanted.state = kVmActive;
  wanted.lcm_state = kLcmBoot;
  wanted.history = {History{0, host, 0, 0, "onedock", "onedock", 0}};
  return wanted;
}

TEST_CASE("START_SCRIPT runs at most once when onedockd is killed while it runs") {
  Rig r;
  r.one.vms[42] = Deploying(r.vm, "h1");
  r.h1().on_exec = [](const std::string&) -> Result<ExecResult> { throw Killed{}; };
  CHECK_THROWS_AS(r.actions->Deploy(r.vm, "h1"), Killed);
  REQUIRE(r.h1().execs == 1);
  auto placement = r.journal->PlacementOf(42);
  REQUIRE(placement->has_value());
  CHECK((*placement)->start_script_started);
  CHECK_FALSE((*placement)->start_script_done);
  REQUIRE(r.journal->Pending()->size() == 1);  // the deploy the crash left open

  // onedockd starts again over the same journal: recovery finishes the deploy, the stub retries.
  r.h1().on_exec = nullptr;
  VmActions restarted(r.engines, r.one, *r.journal, ActionSettings{r.actions_settings});
  CHECK(restarted.Recover() == 0);
  REQUIRE(restarted.Deploy(r.vm, "h1").ok());
  REQUIRE(restarted.Shutdown(42, "h1").ok());
  REQUIRE(restarted.Deploy(r.vm, "h1").ok());
  CHECK(r.h1().execs == 1);
  CHECK(r.h1().containers["one-42"].running);
  CHECK((*r.journal->PlacementOf(42))->start_script_done);
  CHECK(r.journal->Pending()->empty());
}

TEST_CASE("a START_SCRIPT the engine refused before it existed runs at the next deploy, once") {
  Rig r;
  r.h1().on_exec = [](const std::string& id) -> Result<ExecResult> {
    return Conflict("container " + id + " is not running");
  };
  REQUIRE(r.actions->Deploy(r.vm, "h1").ok());
  CHECK_FALSE((*r.journal->PlacementOf(42))->start_script_started);
  r.h1().on_exec = nullptr;
  REQUIRE(r.actions->Shutdown(42, "h1").ok());
  REQUIRE(r.actions->Deploy(r.vm, "h1").ok());
  REQUIRE(r.actions->Shutdown(42, "h1").ok());
  REQUIRE(r.actions->Deploy(r.vm, "h1").ok());
  CHECK(r.h1().execs == 2);
  CHECK((*r.journal->PlacementOf(42))->start_script_done);
}

TEST_CASE("a START_SCRIPT writing far more than the bound leaves the deploy and the VM alone") {
  Rig r;
  // The engine's contract: the tail of each stream and their full sizes.
  r.h1().on_exec = [](const std::string&) -> Result<ExecResult> {
    ExecResult e;
    e.exit_code = 3;
    e.out = std::string(kExecTailBytes, 'o');
    e.err = std::string(kExecTailBytes - 1, 'e') + "\n";
    e.out_bytes = int64_t{1} << 30;
    e.err_bytes = 30 << 20;
    return e;
  };
  REQUIRE(r.actions->Deploy(r.vm, "h1").ok());
  CHECK(r.h1().containers["one-42"].running);
  CHECK((*r.journal->PlacementOf(42))->start_script_done);
  CHECK(r.h1().execs == 1);
}

TEST_CASE(
    "killed between moving an image volume's home and removing its old copy, the stale copy is "
    "never revived") {
  Rig r;
  r.AddDataDisks();
  REQUIRE(r.actions->Deploy(r.vm, "h1").ok());
  r.h1().volume_data["one-image-8"] = "v1";
  REQUIRE(r.actions->Save(r.vm, "h1").ok());
  r.h1().on_call = [](const std::string& call) {
    if (call == "rmvol one-image-8") throw Killed{};
  };
  CHECK_THROWS_AS(r.actions->Restore(r.vm, "h2"), Killed);
  r.h1().on_call = nullptr;
  CHECK(**r.journal->VolumeHome(8) == "h2");
  CHECK(r.h1().volume_data["one-image-8"] == "v1");  // the stale copy is still on h1
  REQUIRE(r.journal->Leftovers("h1")->size() == 1);

  // onedockd comes back; oned no longer answers for VM 42, so recovery decides nothing for it.
  VmActions restarted(r.engines, r.one, *r.journal, ActionSettings{r.actions_settings});
  r.h1().on_call = [](const std::string& call) {
    if (call == "rmvol one-image-8") throw Killed{};  // and is killed again at the same point
  };
  r.one.down = true;
  CHECK_THROWS_AS(restarted.Recover(), Killed);
  r.h1().on_call = nullptr;
  r.one.down = false;
  r.h2().volume_data["one-image-8"] = "v2";  // written on h2
  REQUIRE(restarted.Remove(42, "h2").ok());
  // A new VM of image 8 on h1: the old copy is removed first, the data comes from h2.
  VmActions again(r.engines, r.one, *r.journal, ActionSettings{r.actions_settings});
  Vm next = r.vm;
  next.id = 43;
  auto deployed = again.Deploy(next, "h1");
  REQUIRE_MESSAGE(deployed.ok(), deployed.status().ToString());
  CHECK(r.h1().volume_data["one-image-8"] == "v2");
  CHECK(**r.journal->VolumeHome(8) == "h1");
  CHECK(r.journal->Leftovers("")->empty());
  CHECK(r.h2().volumes.count("one-image-8") == 0);
}

TEST_CASE("killed while seeding a moved VM's volumes, the half-filled copy is never adopted") {
  Rig r;
  r.AddDataDisks();
  REQUIRE(r.actions->Deploy(r.vm, "h1").ok());
  r.h1().volume_data["one-42-disk1"] = "h1 data";
  r.h1().volume_data["one-image-8"] = "kept by image 8";
  REQUIRE(r.actions->Save(r.vm, "h1").ok());
  int puts = 0;
  r.h2().on_call = [&puts](const std::string& call) {
    if (call.rfind("put-archive", 0) == 0 && ++puts == 2) throw Killed{};
  };
  CHECK_THROWS_AS(r.actions->Restore(r.vm, "h2"), Killed);
  r.h2().on_call = nullptr;
  REQUIRE(r.h2().containers.count("one-42") == 1);  // created, half seeded
  CHECK((*r.journal->PlacementOf(42))->host == "h1");

  // onedockd comes back and oned still restores the VM on h2: recovery finishes it.
  r.one.vms[42] = Deploying(r.vm, "h2");
  r.one.vms[42].lcm_state = kLcmBootStopped;
  VmActions restarted(r.engines, r.one, *r.journal, ActionSettings{r.actions_settings});
  CHECK(restarted.Recover() == 0);
  CHECK(r.h2().containers["one-42"].running);
  CHECK(r.h2().volume_data["one-42-disk1"] == "h1 data");
  CHECK(r.h2().volume_data["one-image-8"] == "kept by image 8");
  CHECK(r.h2().containers["one-42"].image ==
        "127.0.0.1:5000/onedock-checkpoint/one-42:latest@sha256:d1");
  CHECK(r.h1().containers.empty());
  CHECK(r.h1().volumes.empty());
  CHECK((*r.journal->PlacementOf(42))->host == "h2");
  CHECK(**r.journal->VolumeHome(8) == "h2");
  CHECK(r.journal->Leftovers("")->empty());
  CHECK(r.journal->Pending()->empty());
}

TEST_CASE("output tails are bounded and a log line of one is a single line") {
  OutputTail tail(8);
  for (int n = 0; n < 100000; ++n) tail.Append("0123456789");
  tail.Append("abc");
  CHECK(tail.total() == 1000003);
  CHECK(tail.Tail().size() == 8);
  CHECK(tail.Tail() == std::string("56789abc"));
  tail.Append(std::string(100, 'z'));
  CHECK(tail.Tail() == "zzzzzzzz");
  CHECK(OneLineTail("a\nb\r\tc\x01\\", 100) == "a\\nb\\r\\tc\\x01\\\\");
  const std::string big(30 << 20, 'x');
  const std::string line = OneLineTail(big + "\nend", 64);
  CHECK(line.size() <= 64 * 4 + 3);
  CHECK(line.find('\n') == std::string::npos);
  CHECK(line.substr(line.size() - 5) == "\\nend");
}

TEST_CASE("snapshot_delete removes only a snapshot onedock took of this VM, and nothing else") {
  Rig r;
  REQUIRE(r.actions->Deploy(r.vm, "h1").ok());
  auto s0 = r.actions->SnapshotCreate(r.vm, "h1", "0");
  REQUIRE_MESSAGE(s0.ok(), s0.status().ToString());
  CHECK(*s0 == "127.0.0.1:5000/onedock-snapshot/one-42:s0");
  const std::string vm_image = r.h1().containers["one-42"].image;
  const std::vector<std::string> others = {
      vm_image,                                           // the VM's own image
      "127.0.0.1:5000/onedock-snapshot/one-43:s0",        // another VM's snapshot
      "127.0.0.1:5000/onedock-snapshot/one-42:s7",        // named like one, never taken here
      "127.0.0.1:5000/onedock-checkpoint/one-42:latest",  // a checkpoint
      "127.0.0.1:5000/onedock-snapshot/one-42:s0x",
      "busybox:latest"};
  for (const auto& ref : others) r.h1().images.insert(ref);
  for (const auto& ref : others) {
    const Status refused = r.actions->SnapshotDelete(42, "h1", ref);
    CHECK(refused.code() == Status::Code::kInvalidArgument);
    CHECK_MESSAGE(
        refused.message().find("is not a snapshot onedock took of this VM") != std::string::npos,
        refused.message());
    CHECK(r.h1().images.count(ref) == 1);
  }
  CHECK(r.actions->SnapshotDelete(43, "h1", "127.0.0.1:5000/onedock-snapshot/one-43:s0").code() ==
        Status::Code::kInvalidArgument);
  // The tag onedock recorded now names another installation's image: refused too.
  r.h1().image_labels[*s0]["one.instance"] = "someone-else";
  CHECK(r.actions->SnapshotDelete(42, "h1", *s0).code() == Status::Code::kConflict);
  CHECK(r.h1().images.count(*s0) == 1);
  r.h1().image_labels[*s0]["one.instance"] = "test";

  REQUIRE(r.actions->SnapshotDelete(42, "h1", *s0).ok());
  CHECK(r.h1().images.count(*s0) == 0);
  CHECK(r.actions->SnapshotDelete(42, "h1", *s0).ok());  // a repeated call: done
  for (const auto& ref : others) CHECK(r.h1().images.count(ref) == 1);
  CHECK(r.h1().containers["one-42"].running);
}

TEST_CASE("a snapshot revert recreates from the pushed digest, never a local image of its tag") {
  Rig r;
  REQUIRE(r.actions->Deploy(r.vm, "h1").ok());
  auto s0 = r.actions->SnapshotCreate(r.vm, "h1", "0");
  REQUIRE(s0.ok());
  const std::string pinned = "127.0.0.1:5000/onedock-snapshot/one-42@sha256:d1";
  CHECK(**r.journal->SnapshotOf(42, *s0) == pinned);
  // The VM moved to h2, which holds an older image of that tag.
  REQUIRE(r.actions->Save(r.vm, "h1").ok());
  REQUIRE(r.actions->Restore(r.vm, "h2").ok());
  r.h2().images.insert(*s0);
  r.h2().calls.clear();
  REQUIRE(r.actions->SnapshotRevert(r.vm, "h2", *s0).ok());
  CHECK(std::count(r.h2().calls.begin(), r.h2().calls.end(), "pull " + pinned) == 1);
  CHECK(r.h2().containers["one-42"].image == pinned);
  CHECK(r.h2().containers["one-42"].running);
  // A reference onedock did not record is refused before anything is removed.
  CHECK(r.actions->SnapshotRevert(r.vm, "h2", "127.0.0.1:5000/onedock-snapshot/one-42:s9").code() ==
        Status::Code::kInvalidArgument);
  CHECK(r.h2().containers.count("one-42") == 1);
}

TEST_CASE("stop kill and remove of what is already gone succeed") {
  Rig r;
  CHECK(r.actions->Shutdown(42, "h1").ok());
  CHECK(r.actions->Cancel(42, "h1").ok());
  CHECK(r.actions->Remove(42, "h1").ok());
  REQUIRE(r.actions->Deploy(r.vm, "h1").ok());
  REQUIRE(r.actions->Cancel(42, "h1").ok());
  CHECK(r.actions->Cancel(42, "h1").ok());  // 409 not running
  CHECK(r.actions->Reboot(42, "h1", true).ok());
  CHECK(r.h1().calls.back() == "restart one-42 t=0");
  CHECK(r.actions->Remove(42, "h1").ok());
  CHECK(r.h1().containers.empty());
  CHECK_FALSE(r.journal->PlacementOf(42)->has_value());
}

TEST_CASE(
    "an unreachable engine fails the action with the host in the message and nothing journaled "
    "open") {
  Rig r;
  auto d = r.actions->Deploy(r.vm, "h9");
  REQUIRE_FALSE(d.ok());
  CHECK(d.status().message().find("deploy vm 42 on host h9") == 0);
  CHECK(d.status().IsRetryable());
  CHECK(r.journal->Pending()->empty());
}

TEST_CASE("save then restore on another host moves the container through the registry") {
  Rig r;
  REQUIRE(r.actions->Deploy(r.vm, "h1").ok());
  REQUIRE(r.actions->Save(r.vm, "h1").ok());
  const std::string checkpoint = "127.0.0.1:5000/onedock-checkpoint/one-42:latest";
  CHECK(std::find(r.h1().calls.begin(), r.h1().calls.end(), "push " + checkpoint) !=
        r.h1().calls.end());
  CHECK_FALSE(r.h1().containers["one-42"].running);
  // h2 holds an older image of the checkpoint's name: the restore pulls the one saved, by digest.
  FakeEngine& h2 = r.engines.hosts["h2"];
  h2.images.insert(checkpoint);
  auto restored = r.actions->Restore(r.vm, "h2");
  REQUIRE_MESSAGE(restored.ok(), restored.status().ToString());
  CHECK(h2.calls.front() == "pull " + checkpoint + "@sha256:d1");
  CHECK(h2.containers["one-42"].image == checkpoint + "@sha256:d1");
  CHECK(h2.containers["one-42"].running);
  CHECK(r.h1().containers.empty());  // no twin left behind
  CHECK(h2.execs == 0);              // the start script ran once, on h1
  CHECK((*r.journal->PlacementOf(42))->host == "h2");
}

TEST_CASE(
    "data disks become labelled volumes, and terminate removes the VM's own but keeps the "
    "image's") {
  Rig r;
  r.AddDataDisks();
  REQUIRE(r.actions->Deploy(r.vm, "h1").ok());
  CHECK(r.h1().mounts["one-42"] == std::vector<std::string>{"one-42-disk1:/data",
                                                            "one-42-disk2:/mnt/disk2",
                                                            "one-image-8:/mnt/disk3"});
  const auto& disk1 = r.h1().volumes.at("one-42-disk1").labels;
  CHECK(disk1.at("one.vmid") == "42");
  CHECK(disk1.at("one.instance") == "test");
  CHECK(disk1.at("one.disk_id") == "1");
  CHECK(disk1.at("one.size_mb") == "10");
  CHECK(r.h1().volumes.at("one-42-disk2").labels.at("one.size_mb") == "64");
  const auto& image = r.h1().volumes.at("one-image-8").labels;
  CHECK(image.at("one.image_id") == "8");
  CHECK(image.count("one.vmid") == 0);
  CHECK(**r.journal->VolumeHome(8) == "h1");

  // Poweroff and resume keep every volume; terminate removes the VM's own.
  REQUIRE(r.actions->Shutdown(42, "h1").ok());
  REQUIRE(r.actions->Deploy(r.vm, "h1").ok());
  CHECK(r.h1().volumes.size() == 3);
  REQUIRE(r.actions->Remove(42, "h1").ok());
  CHECK(r.h1().volumes.size() == 1);
  CHECK(r.h1().volumes.count("one-image-8") == 1);

  // Deleting the image removes its volume from the host that holds it.
  REQUIRE(r.actions->RemoveImageVolume(8).ok());
  CHECK(r.h1().volumes.empty());
  CHECK_FALSE(r.journal->VolumeHome(8)->has_value());
  CHECK(r.actions->RemoveImageVolume(8).ok());  // nothing left: done
}

TEST_CASE(
    "a VM restored on another host takes its volumes' data along, and the image's volume follows") {
  Rig r;
  r.AddDataDisks();
  REQUIRE(r.actions->Deploy(r.vm, "h1").ok());
  r.h1().volume_data["one-42-disk1"] = "written on h1";
  r.h1().volume_data["one-image-8"] = "kept by image 8";
  REQUIRE(r.actions->Save(r.vm, "h1").ok());
  auto restored = r.actions->Restore(r.vm, "h2");
  REQUIRE_MESSAGE(restored.ok(), restored.status().ToString());
  CHECK(r.h2().volume_data["one-42-disk1"] == "written on h1");
  CHECK(r.h2().volume_data["one-image-8"] == "kept by image 8");
  CHECK(std::count(r.h2().calls.begin(), r.h2().calls.end(), "put-archive one-42 /") ==
        1);  // /data
  CHECK(std::count(r.h2().calls.begin(), r.h2().calls.end(), "put-archive one-42 /mnt") == 2);
  // The data was in place before the first start.
  auto start = std::find(r.h2().calls.begin(), r.h2().calls.end(), "start one-42");
  CHECK(std::find(start, r.h2().calls.end(), "put-archive one-42 /mnt") == r.h2().calls.end());
  // Nothing is left on h1: the container, its volumes, the helper and the image's old copy.
  CHECK(r.h1().containers.empty());
  CHECK(r.h1().volumes.empty());
  CHECK(**r.journal->VolumeHome(8) == "h2");
}

TEST_CASE(
    "a persistent image's volume is copied through a helper container when a new VM runs "
    "elsewhere") {
  Rig r;
  r.AddDataDisks();
  REQUIRE(r.actions->Deploy(r.vm, "h1").ok());
  r.h1().volume_data["one-image-8"] = "kept by image 8";
  REQUIRE(r.actions->Remove(42, "h1").ok());
  Vm next = r.vm;
  next.id = 43;
  REQUIRE(r.actions->Deploy(next, "h2").ok());
  CHECK(r.h2().volume_data["one-image-8"] == "kept by image 8");
  CHECK(std::count(r.h1().calls.begin(), r.h1().calls.end(), "create one-image-8-copy-43") == 1);
  CHECK(std::count(r.h1().calls.begin(), r.h1().calls.end(), "start one-image-8-copy-43") == 0);
  CHECK(r.h1().containers.empty());
  CHECK(r.h1().volumes.empty());
  CHECK(r.h2().volumes.count("one-43-disk1") == 1);  // the clone is the new VM's own, empty
  CHECK(r.h2().volume_data["one-43-disk1"].empty());
}

TEST_CASE("a non-persistent copy of an image that holds data starts with that data, once") {
  Rig r;
  r.AddDataDisks();
  REQUIRE(r.actions->Deploy(r.vm, "h1").ok());
  r.h1().volume_data["one-image-8"] = "image 8's data";
  REQUIRE(r.actions->Remove(42, "h1").ok());
  // Image 8 made non-persistent: VM 44 gets its own copy of the image's data.
  Vm copy = r.vm;
  copy.id = 44;
  copy.disks[3].persistent = false;
  copy.disks[3].all = {{"CLONE", "YES"}};
  REQUIRE(r.actions->Deploy(copy, "h2").ok());
  CHECK(r.h2().volume_data["one-44-disk3"] == "image 8's data");
  CHECK(r.h2().volume_data["one-44-disk1"].empty());             // image 7 never held data
  CHECK(r.h1().volume_data["one-image-8"] == "image 8's data");  // the image keeps its volume
  CHECK(**r.journal->VolumeHome(8) == "h1");
  CHECK(r.h1().containers.empty());  // the helper is gone

  // Once the VM has its copy, a new container (a snapshot revert, say) keeps the VM's data.
  r.h2().volume_data["one-44-disk3"] = "changed by VM 44";
  REQUIRE(r.actions->Shutdown(44, "h2").ok());
  REQUIRE(r.h2().RemoveContainer("one-44", true, false).ok());
  REQUIRE(r.actions->Deploy(copy, "h2").ok());
  CHECK(r.h2().volume_data["one-44-disk3"] == "changed by VM 44");
}

TEST_CASE("volume data that cannot be moved fails the deploy and is left where it is") {
  Rig r;
  r.AddDataDisks();
  REQUIRE(r.actions->Deploy(r.vm, "h1").ok());
  r.h1().volume_data["one-42-disk1"] = "only copy";
  REQUIRE(r.actions->Shutdown(42, "h1").ok());
  // The container went away behind onedock's back; its volume did not.
  r.h1().containers.erase("one-42");
  r.h1().mounts.erase("one-42");
  auto moved = r.actions->Deploy(r.vm, "h2");
  REQUIRE_FALSE(moved.ok());
  CHECK(moved.status().message().find("without its container") != std::string::npos);
  CHECK(r.h1().volume_data["one-42-disk1"] == "only copy");
  CHECK(r.h2().containers.empty());  // created, then removed so a retry seeds again

  // A host that does not answer holds the data: the deploy fails and names it.
  r.engines.hosts.erase("h1");
  auto down = r.actions->Deploy(r.vm, "h2");
  REQUIRE_FALSE(down.ok());
  CHECK(down.status().message().find("from host h1") != std::string::npos);
}

TEST_CASE("a volume of that name that is not this VM's is refused, not adopted") {
  Rig r;
  r.AddDataDisks();
  REQUIRE(r.h1().CreateVolume("one-42-disk2", {{"owner", "someone"}}).ok());
  auto d = r.actions->Deploy(r.vm, "h1");
  REQUIRE_FALSE(d.ok());
  CHECK(d.status().code() == Status::Code::kConflict);
  CHECK(d.status().message().find("volume one-42-disk2 exists on the host and is not this VM's") !=
        std::string::npos);
}

TEST_CASE(
    "attach refuses a second NIC on a network the container is already on and detach is "
    "idempotent") {
  Rig r;
  REQUIRE(r.actions->Deploy(r.vm, "h1").ok());
  CHECK(r.actions->AttachNic(r.vm, "h1", "02:00:0a:2b:00:07")
            .ok());  // already connected with that IP
  CHECK(r.actions->DetachNic(r.vm, "h1", "02:00:0a:2b:00:07").ok());
  CHECK(r.actions->DetachNic(r.vm, "h1", "02:00:0a:2b:00:07").ok());
  CHECK(r.actions->AttachNic(r.vm, "h1", "02:00:0a:2b:00:07").ok());
  Vm twin = r.vm;
  twin.nics[1].ip = "10.43.0.8";
  auto refused = r.actions->AttachNic(twin, "h1", "02:00:0a:2b:00:07");
  CHECK(refused.code() == Status::Code::kFailedPrecondition);
  CHECK(r.actions->AttachNic(r.vm, "h1", "02:00:00:00:00:99").code() ==
        Status::Code::kInvalidArgument);
}

TEST_CASE("recovery finishes a deploy oned still wants and rolls back one whose VM is gone") {
  Rig r;
  // Two deploys were in flight when the previous run died: 42 had its container created, 43 too.
  REQUIRE(r.journal->Begin(42, "deploy", "h1").ok());
  REQUIRE(r.journal->Begin(43, "deploy", "h1").ok());
  REQUIRE(r.journal->Begin(44, "shutdown", "h1").ok());
  ContainerSpec half;
  half.name = "one-43";
  half.labels = {{"one.vmid", "43"}, {"one.instance", "test"}};
  REQUIRE(r.h1().CreateContainer(half).ok());
  Vm wanted = r.vm;
  wanted.state = kVmActive;
  wanted.lcm_state = kLcmBoot;
  wanted.history = {History{0, "h1", 0, 0, "onedock", "onedock", 0}};
  r.one.vms[42] = wanted;  // 43 is not in oned any more

  r.one.down = true;
  CHECK(r.actions->Recover() == 2);  // nothing decided while oned does not answer
  CHECK(r.h1().containers.count("one-43") == 1);
  r.one.down = false;
  CHECK(r.actions->Recover() == 0);
  CHECK(r.h1().containers["one-42"].running);
  CHECK(r.h1().containers.count("one-43") == 0);
  CHECK(r.journal->Pending()->empty());
}

TEST_CASE("a recovery pass never takes a deploy of this run for a past run's, nor its copy") {
  Rig r;
  // A past run died deploying VM 7 on h2; at restart, the stub's retry of VM 42 on h1 arrives
  // while the recovery pass runs, and is between its create and its start when the pass reads the
  // leftovers.
  Vm seven = r.vm;
  seven.id = 7;
  r.one.vms[7] = Deploying(seven, "h2");
  r.one.vms[42] = Deploying(r.vm, "h1");
  REQUIRE(r.journal->Begin(7, "deploy", "h2").ok());
  std::mutex mu;
  std::condition_variable cv;
  bool created = false, released = false;
  std::thread retry;
  r.h2().on_call = [&](const std::string& call) {
    if (call != "create one-7") return;
    retry = std::thread([&] { CHECK(r.actions->Deploy(r.vm, "h1").ok()); });
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return created; });
  };
  r.h1().on_call = [&](const std::string& call) {
    if (call != "start one-42") return;
    std::unique_lock lock(mu);
    created = true;
    cv.notify_all();
    cv.wait(lock, [&] { return released; });
  };
  // The retry goes on once the pass has had the time to wait for VM 42's lock.
  std::thread release([&] {
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return created; });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    std::lock_guard lock(mu);
    released = true;
    cv.notify_all();
  });
  CHECK(r.actions->Recover() == 0);
  release.join();
  retry.join();
  CHECK(r.h2().containers["one-7"].running);
  REQUIRE(r.h1().containers.count("one-42") == 1);
  CHECK(r.h1().containers["one-42"].running);
  CHECK(r.journal->Leftovers("")->empty());
  CHECK(r.journal->Pending()->empty());
}

}  // namespace
}  // namespace onedock
