// The emulator's life cycle and monitord with recording drivers: deploy, poweroff, resume,
// reboot, reset, poweroff-hard and terminate reproduce the argv and decoded stdin shape that a
// real oned 7.4 gave drivers (tests/fixtures/captures); failures end in the states and error
// messages oned shows; monitord messages move hosts and VMs as oned does.
#include <doctest/doctest.h>

#include "tests/integration/emulator_bed.h"

namespace onedock::rpc {

using namespace emulator_bed;  // NOLINT: test helpers

TEST_CASE("lifecycle: deploy poweroff resume reboot reset cancel and terminate as oned runs them") {
  Bed bed;
  const int vm = bed.NewVm();
  bed.Deploy(vm);
  Vm running = bed.WaitFor(vm, 3, 3);
  CHECK(running.deploy_id == "one-" + std::to_string(vm));
  const std::map<std::string, std::string> ours = {{bed.root() + "/datastores", "<DS>"},
                                                   {bed.root() + "/vms", "<VMS>"},
                                                   {"onedock-host", "<HOST>"},
                                                   {running.deploy_id, "<DEPLOY_ID>"}};
  auto same_shape = [&](const Recorded& call, const std::string& capture, int index = 0) {
    CHECK(Shape(call.args, ours) == Shape(CapturedArgv(capture, index), kCaptureValues));
    if (!call.stdin_text.empty()) {
      CHECK(ChildNames(call.stdin_text) == ChildNames(fixtures::CapturedStdin(capture, index)));
    }
  };

  auto calls = bed.Calls();
  REQUIRE(calls.size() == 3);  // TM clone, TM context, VMM deploy
  CHECK(calls[0].script == "tm/onedock/clone");
  same_shape(calls[0], "tm-clone.txt");
  CHECK(calls[1].script == "tm/onedock/context");
  same_shape(calls[1], "tm-context.txt");
  CHECK(calls[2].script == "vmm/onedock/deploy");
  same_shape(calls[2], "vmm-deploy.txt");
  CHECK(calls[2].args[0] == bed.root() + "/vms/" + std::to_string(vm) + "/deployment.0");
  // The deployment file holds the same VM document as stdin (TYPE = "xml").
  std::ifstream dfile(calls[2].args[0]);
  std::stringstream dtext;
  dtext << dfile.rdbuf();
  CHECK(*Base64Decode(calls[2].stdin_text) == dtext.str());
  CHECK(ParseVmXml(dtext.str())->context.at("SET_HOSTNAME") == "odvm");

  bed.Forget();
  bed.Action("poweroff", vm);
  bed.WaitFor(vm, 8, 0);
  bed.Action("resume", vm);
  Vm resumed = bed.WaitFor(vm, 3, 3);
  CHECK(resumed.CurrentHistory()->seq == 1);
  calls = bed.Calls();
  REQUIRE(calls.size() == 3);  // VMM shutdown, TM context, VMM deploy (deployment.1)
  CHECK(calls[0].script == "vmm/onedock/shutdown");
  same_shape(calls[0], "vmm-shutdown.txt");
  CHECK(calls[1].script == "tm/onedock/context");
  CHECK(calls[2].script == "vmm/onedock/deploy");
  same_shape(calls[2], "vmm-deploy.txt", 1);
  CHECK(ParseVmXml(*Base64Decode(calls[2].stdin_text))->deploy_id == running.deploy_id);

  bed.Forget();
  bed.Action("reboot", vm);
  bed.Action("reboot-hard", vm);
  for (int n = 0; n < 100 && bed.Calls().size() < 2; ++n)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  calls = bed.Calls();
  REQUIRE(calls.size() == 2);
  std::sort(calls.begin(), calls.end(),
            [](const Recorded& a, const Recorded& b) { return a.script < b.script; });
  CHECK(calls[0].script == "vmm/onedock/reboot");
  same_shape(calls[0], "vmm-reboot.txt");
  CHECK(calls[1].script == "vmm/onedock/reset");
  same_shape(calls[1], "vmm-reset.txt");
  bed.WaitFor(vm, 3, 3);

  bed.Forget();
  bed.Action("poweroff-hard", vm);
  bed.WaitFor(vm, 8, 0);
  calls = bed.Calls();
  REQUIRE(calls.size() == 1);
  CHECK(calls[0].script == "vmm/onedock/cancel");
  same_shape(calls[0], "vmm-cancel.txt");

  bed.Forget();
  bed.Action("resume", vm);
  bed.WaitFor(vm, 3, 3);
  bed.Forget();
  bed.Action("terminate", vm);
  bed.WaitFor(vm, 6, 0);
  calls = bed.Calls();
  REQUIRE(calls.size() == 3);  // VMM shutdown, TM delete disk.0, TM delete system dir
  CHECK(calls[0].script == "vmm/onedock/shutdown");
  CHECK(calls[1].script == "tm/onedock/delete");
  same_shape(calls[1], "tm-delete.txt", 0);
  CHECK(calls[2].script == "tm/onedock/delete");
  CHECK(Shape(calls[2].args, ours) == "[<HOST>:<DS>/<N>/<N>] [<N>] [<N>] ");
}

TEST_CASE(
    "lifecycle: volatile disks are made by MKIMAGE and MKSWAP, a persistent image is saved by "
    "MVDS") {
  Bed bed("INHERIT_IMAGE_ATTR = \"DOCKER_MOUNT\"\n");
  const int kept = bed.emu().Allocate(
      "one.image.allocate",
      {xmlrpc_c::value_string("NAME = kept\nSOURCE = onedock-volume://9\nFORMAT = raw\n"
                              "PERSISTENT = YES\nTYPE = DATABLOCK\nDOCKER_MOUNT = /srv"),
       xmlrpc_c::value_int(bed.image_datastore())});
  const int vm =
      bed.NewVm("DISK = [ IMAGE_ID = " + std::to_string(kept) +
                " ]\nDISK = [ TYPE = fs, SIZE = 64 ]\nDISK = [ TYPE = swap, SIZE = 32 ]");
  auto doc = bed.client().VmInfo(vm);
  REQUIRE(doc.ok());
  REQUIRE(doc->disks.size() == 4);
  CHECK(doc->disks[1].all.at("SAVE") == "YES");
  CHECK(doc->disks[1].all.at("DOCKER_MOUNT") == "/srv");  // inherited from the image
  CHECK(doc->disks[2].format == "raw");
  bed.Deploy(vm);
  bed.WaitFor(vm, 3, 3);
  const std::map<std::string, std::string> ours = {{bed.root() + "/datastores", "<DS>"},
                                                   {"onedock-host", "<HOST>"}};
  auto calls = bed.Calls();
  REQUIRE(calls.size() == 6);  // clone, ln, mkimage, mkswap, context, deploy
  CHECK(calls[0].script == "tm/onedock/clone");
  CHECK(calls[1].script == "tm/onedock/ln");
  CHECK(calls[1].args[0] == "onedock-volume://9");
  CHECK(calls[2].script == "tm/onedock/mkimage");
  CHECK(Shape(calls[2].args, ours) == "[<N>] [raw] [<HOST>:<DS>/<N>/<N>/disk.2] [<N>] [<N>] ");
  CHECK(calls[2].args[0] == "64");
  CHECK(calls[3].script == "tm/onedock/mkswap");
  CHECK(Shape(calls[3].args, ours) == "[<N>] [<HOST>:<DS>/<N>/<N>/disk.3] [<N>] [<N>] ");

  bed.Forget();
  bed.Action("terminate", vm);
  bed.WaitFor(vm, 6, 0);
  calls = bed.Calls();
  REQUIRE(calls.size() ==
          6);  // shutdown, delete disk.0, mvds disk.1, delete disk.2 and .3, delete dir
  CHECK(calls[1].script == "tm/onedock/delete");
  CHECK(calls[2].script == "tm/onedock/mvds");
  // As captured ("<host>:<sysdir>/disk.0 docker://busybox:latest <vmid> <image ds>"), for disk 1.
  CHECK(Shape(CapturedArgv("tm-mvds.txt"), kCaptureValues) ==
        "[<HOST>:<DS>/<N>/<N>/disk.0] [docker://busybox:latest] [<N>] [<N>] ");
  CHECK(Shape(calls[2].args, ours) ==
        "[<HOST>:<DS>/<N>/<N>/disk.1] [onedock-volume://<N>] [<N>] [<N>] ");
  CHECK(calls[3].script == "tm/onedock/delete");
  CHECK(calls[4].script == "tm/onedock/delete");
  // Volatile disks belong to the system datastore: its id, not an image datastore's.
  const std::string system_ds = calls[5].args[2];
  CHECK(calls[3].args[2] == system_ds);
  CHECK(calls[1].args[2] != system_ds);
}

TEST_CASE("lifecycle: a failing deploy ends in BOOT_FAILURE with the plain stderr as the error") {
  Bed bed;
  bed.Touch("fail-deploy");
  const int vm = bed.NewVm();
  bed.Deploy(vm);
  Vm failed = bed.WaitFor(vm, 3, 36);
  const std::string error = failed.user_template.at("ERROR");
  INFO(error);
  CHECK(error.find("DEPLOY: simulated deploy failure detail") != std::string::npos);
  CHECK(error.find("ERROR:") == std::string::npos);  // log lines are not the message

  // terminate from BOOT_FAILURE cleans up through the TM.
  bed.Forget();
  bed.Action("terminate", vm);
  bed.WaitFor(vm, 6, 0);
  auto calls = bed.Calls();
  REQUIRE_FALSE(calls.empty());
  CHECK(calls.back().script == "tm/onedock/delete");
}

TEST_CASE(
    "lifecycle: an empty deploy id is a failure and a failing shutdown leaves the VM RUNNING") {
  Bed bed;
  bed.Touch("empty-deploy-id");
  const int first = bed.NewVm();
  bed.Deploy(first);
  Vm failed = bed.WaitFor(first, 3, 36);
  CHECK(failed.user_template.at("ERROR").find("Empty deploy ID") != std::string::npos);

  std::filesystem::remove(bed.root() + "/empty-deploy-id");
  bed.Touch("fail-shutdown");
  const int second = bed.NewVm();
  bed.Deploy(second);
  bed.WaitFor(second, 3, 3);
  bed.Action("poweroff", second);
  Vm still = bed.WaitFor(second, 3, 3);
  CHECK(still.user_template.at("ERROR").find("SHUTDOWN: simulated shutdown failure") !=
        std::string::npos);
}

TEST_CASE("lifecycle: actions outside their states are refused with ACTION") {
  Bed bed;
  const int vm = bed.NewVm();
  for (const char* action : {"poweroff", "resume", "reboot", "release"}) {
    CAPTURE(action);
    auto reply = bed.Refusal(action, vm);
    CHECK(reply.first == 0x0800);
    CHECK(reply.second.find("[one.vm.action] ") == 0);
  }
  CHECK(bed.Refusal("undeploy", vm).second.find("not supported by the emulator") !=
        std::string::npos);
  CHECK(bed.client().VmInfo(vm)->state == kVmPending);
  CHECK(bed.Calls().empty());
}

}  // namespace onedock::rpc

namespace onedock::rpc {

TEST_CASE("monitord: SYSTEM_HOST MONITOR_VM STATE_VM failures stale and malformed messages") {
  Bed bed("STATE_VM_GUARD = 0\n");
  const int port = bed.monitord_port();
  const int host = bed.host();
  CHECK(bed.client().HostInfo(host)->state == kHostInit);

  Send(SOCK_DGRAM, port,
       Wire("SYSTEM_HOST", host, 100,
            "HYPERVISOR=docker\nTOTALCPU=200\nTOTALMEMORY=24683620\nDS_LOCATION_FREE_MB=80000\n"));
  Host monitored;
  for (int n = 0; n < 100; ++n) {
    monitored = *bed.client().HostInfo(host);
    if (monitored.state == kHostMonitored) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(monitored.state == kHostMonitored);
  CHECK(monitored.total_cpu == 200);
  CHECK(monitored.total_mem == 24683620);
  CHECK(monitored.free_disk_mb == 80000);
  CHECK(monitored.template_attributes.at("HYPERVISOR") == "docker");
  CHECK(monitored.template_attributes.count("DS_LOCATION_FREE_MB") == 0);

  const int vm = bed.NewVm();
  bed.Deploy(vm);
  bed.WaitFor(vm, 3, 3);

  // MONITOR_VM over UDP fills the VM's monitoring.
  const std::string record = Base64Encode("CPU=\"1.5\"\nMEMORY=\"65536\"\nNETRX=\"10\"\n");
  Send(SOCK_DGRAM, port,
       Wire("MONITOR_VM", host, 101,
            "VM = [ ID=\"" + std::to_string(vm) + "\", DEPLOY_ID=\"one-" + std::to_string(vm) +
                "\", MONITOR=\"" + record + "\" ]\n"));
  // A malformed message and garbage are dropped without harm.
  Send(SOCK_DGRAM, port, "MONITOR_VM SUCCESS " + std::to_string(host) + " 102 !!!not-base64");
  Send(SOCK_STREAM, port, "complete garbage");
  Send(SOCK_STREAM, port, Wire("STATE_VM", host, 103, "VM = [ ID=\"unterminated"));
  Vm monitored_vm;
  for (int n = 0; n < 100; ++n) {
    monitored_vm = *bed.client().VmInfo(vm);
    if (monitored_vm.monitoring.count("CPU")) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(monitored_vm.monitoring["CPU"] == "1.5");
  CHECK(monitored_vm.monitoring["MEMORY"] == "65536");
  CHECK(bed.client().VmInfo(vm)->state == kVmActive);

  // STATE_VM over TCP: the container died -> POWEROFF.
  Send(SOCK_STREAM, port,
       Wire("STATE_VM", host, 110,
            "VM = [ ID=\"" + std::to_string(vm) + "\", DEPLOY_ID=\"one-" + std::to_string(vm) +
                "\", STATE=\"POWEROFF\" ]\n"));
  bed.WaitFor(vm, 8, 0);
  // A stale STATE_VM (older timestamp) is dropped: the VM stays POWEROFF.
  Send(SOCK_STREAM, port,
       Wire("STATE_VM", host, 105,
            "VM = [ ID=\"" + std::to_string(vm) + "\", STATE=\"RUNNING\" ]\n"));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK(bed.client().VmInfo(vm)->state == kVmPoweroff);
  // A newer RUNNING report brings it back ("found again").
  Send(SOCK_STREAM, port,
       Wire("STATE_VM", host, 111,
            "VM = [ ID=\"" + std::to_string(vm) + "\", STATE=\"RUNNING\" ]\n"));
  bed.WaitFor(vm, 3, 3);

  // A failing host probe puts the host in ERROR and its running VMs in UNKNOWN.
  Send(SOCK_DGRAM, port, Wire("MONITOR_HOST", host, 120, "engine unreachable", false));
  bed.WaitFor(vm, 3, 16);
  CHECK(bed.client().HostInfo(host)->state == kHostError);
  // SYSTEM_HOST brings the host back; a RUNNING report brings the VM back without a redeploy.
  bed.Forget();
  Send(SOCK_DGRAM, port, Wire("SYSTEM_HOST", host, 121, "TOTALCPU=200\nTOTALMEMORY=24683620\n"));
  Send(SOCK_STREAM, port,
       Wire("STATE_VM", host, 122,
            "SYNC_STATE=yes\nMISSING_STATE=POWEROFF\nVM = [ ID=\"" + std::to_string(vm) +
                "\", STATE=\"RUNNING\" ]\n"));
  bed.WaitFor(vm, 3, 3);
  CHECK(bed.client().HostInfo(host)->state == kHostMonitored);
  CHECK(bed.Calls().empty());  // no driver ran
  // SYNC_STATE with the VM missing applies MISSING_STATE.
  Send(SOCK_STREAM, port, Wire("STATE_VM", host, 130, "SYNC_STATE=yes\nMISSING_STATE=POWEROFF\n"));
  bed.WaitFor(vm, 8, 0);
  // Messages for unknown hosts are ignored.
  Send(SOCK_DGRAM, port, Wire("SYSTEM_HOST", 99, 1, "TOTALCPU=1\n"));
  CHECK(bed.client().HostPool()->size() == 1);
}

TEST_CASE("monitord: STATE_VM is ignored inside the guard after a VM starts running") {
  Bed bed("STATE_VM_GUARD = 30\n");
  const int vm = bed.NewVm();
  bed.Deploy(vm);
  bed.WaitFor(vm, 3, 3);
  Send(SOCK_STREAM, bed.monitord_port(),
       Wire("STATE_VM", bed.host(), 10,
            "VM = [ ID=\"" + std::to_string(vm) + "\", STATE=\"POWEROFF\" ]\n"));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK(bed.client().VmInfo(vm)->state == kVmActive);
}

}  // namespace onedock::rpc

namespace onedock::rpc {

TEST_CASE("lifecycle: a failing TM clone ends in PROLOG_FAILURE and deploy never runs") {
  Bed bed("", {"fail-clone"});
  const int vm = bed.NewVm();
  bed.Deploy(vm);
  Vm failed = bed.WaitFor(vm, 3, 39);
  CHECK(failed.user_template.at("ERROR").find("image not in the private registry") !=
        std::string::npos);
  for (const auto& call : bed.Calls()) CHECK(call.script != "vmm/onedock/deploy");
}

}  // namespace onedock::rpc

namespace onedock::rpc {

TEST_CASE("lifecycle: cold migration runs save on the source, TM mv, restore on the destination") {
  Bed bed;
  const int other = bed.emu().Allocate(
      "one.host.allocate", {xmlrpc_c::value_string("other-host"), xmlrpc_c::value_string("onedock"),
                            xmlrpc_c::value_string("onedock"), xmlrpc_c::value_int(-1)});
  const int vm = bed.NewVm();
  bed.Deploy(vm);
  Vm running = bed.WaitFor(vm, 3, 3);
  bed.Forget();
  auto reply = bed.emu().Call(
      "one.vm.migrate",
      {xmlrpc_c::value_int(vm), xmlrpc_c::value_int(other), xmlrpc_c::value_boolean(false)});
  REQUIRE(static_cast<bool>(xmlrpc_c::value_boolean(reply[0])));
  Vm moved = bed.WaitFor(vm, 3, 3);
  for (int n = 0; n < 100 && moved.CurrentHistory()->hid != other; ++n) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
    moved = *bed.client().VmInfo(vm);
  }
  CHECK(moved.CurrentHistory()->hostname == "other-host");
  CHECK(moved.CurrentHistory()->seq == 1);
  CHECK(moved.deploy_id == running.deploy_id);
  auto calls = bed.Calls();
  REQUIRE(calls.size() == 4);  // save, mv disk.0, mv system dir, restore
  CHECK(calls[0].script == "vmm/onedock/save");
  CHECK(calls[0].args[0] == running.deploy_id);
  CHECK(calls[0].args[2] == "onedock-host");
  CHECK(calls[1].script == "tm/onedock/mv");
  CHECK(calls[1].args[0].rfind("onedock-host:", 0) == 0);
  CHECK(calls[1].args[1].rfind("other-host:", 0) == 0);
  CHECK(calls[3].script == "vmm/onedock/restore");
  CHECK(calls[3].args[1] == "other-host");
  CHECK(calls[3].args[2] == running.deploy_id);
  CHECK(ParseXml(*Base64Decode(calls[3].stdin_text))->Get("HOST") == "other-host");
}

TEST_CASE("lifecycle: system snapshots keep the hypervisor id snapshot_create printed") {
  Bed bed;
  const int vm = bed.NewVm();
  bed.Deploy(vm);
  Vm running = bed.WaitFor(vm, 3, 3);
  bed.Forget();
  auto reply = bed.emu().Call("one.vm.snapshotcreate",
                              {xmlrpc_c::value_int(vm), xmlrpc_c::value_string("before-upgrade")});
  REQUIRE(static_cast<bool>(xmlrpc_c::value_boolean(reply[0])));
  CHECK(static_cast<int>(xmlrpc_c::value_int(reply[1])) == 0);
  bed.WaitFor(vm, 3, 3);
  auto doc = ParseXml(std::string(
      xmlrpc_c::value_string(bed.emu().Call("one.vm.info", {xmlrpc_c::value_int(vm)})[1])));
  CHECK(doc->Get("TEMPLATE/SNAPSHOT/HYPERVISOR_ID") == "snap-0");
  CHECK(doc->Get("TEMPLATE/SNAPSHOT/NAME") == "before-upgrade");
  bed.emu().Call("one.vm.snapshotrevert", {xmlrpc_c::value_int(vm), xmlrpc_c::value_int(0)});
  bed.WaitFor(vm, 3, 3);
  bed.emu().Call("one.vm.snapshotdelete", {xmlrpc_c::value_int(vm), xmlrpc_c::value_int(0)});
  for (int n = 0; n < 100 && bed.Calls().size() < 3; ++n)
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  bed.WaitFor(vm, 3, 3);
  auto calls = bed.Calls();
  REQUIRE(calls.size() == 3);
  CHECK(calls[0].args ==
        std::vector<std::string>{running.deploy_id, "0", std::to_string(vm), "onedock-host"});
  CHECK(calls[1].script == "vmm/onedock/snapshot_revert");
  CHECK(calls[1].args ==
        std::vector<std::string>{running.deploy_id, "snap-0", std::to_string(vm), "onedock-host"});
  CHECK(calls[2].script == "vmm/onedock/snapshot_delete");
  CHECK(calls[2].args ==
        std::vector<std::string>{running.deploy_id, "snap-0", std::to_string(vm), "onedock-host"});
  auto after = ParseXml(std::string(
      xmlrpc_c::value_string(bed.emu().Call("one.vm.info", {xmlrpc_c::value_int(vm)})[1])));
  CHECK(after->Find("TEMPLATE/SNAPSHOT") == nullptr);
}

}  // namespace onedock::rpc

namespace onedock::rpc {

TEST_CASE("lifecycle: suspend saves and resume restores on the same host") {
  Bed bed;
  const int vm = bed.NewVm();
  bed.Deploy(vm);
  Vm running = bed.WaitFor(vm, 3, 3);
  bed.Forget();
  bed.Action("suspend", vm);
  bed.WaitFor(vm, 5, 0);
  bed.Action("resume", vm);
  bed.WaitFor(vm, 3, 3);
  auto calls = bed.Calls();
  REQUIRE(calls.size() == 2);
  CHECK(calls[0].script == "vmm/onedock/save");
  CHECK(Shape(calls[0].args, {{running.deploy_id, "<DEPLOY_ID>"}}) ==
        "[<DEPLOY_ID>] [" + bed.root() +
            "/datastores/<N>/<N>/checkpoint] [onedock-host] [<N>] [onedock-host] ");
  CHECK(calls[1].script == "vmm/onedock/restore");
  CHECK(calls[1].args[2] == running.deploy_id);
  bed.Action("suspend", vm);
  bed.WaitFor(vm, 5, 0);
  bed.Action("terminate", vm);
  bed.WaitFor(vm, 6, 0);
}

}  // namespace onedock::rpc
