// Data disks end to end: empty DATABLOCK images made by the datastore's mkfs and volatile fs disks
// become Docker volumes on the host that runs the VM; their data survives poweroff, follows the VM
// (and a persistent image) to another host, and goes when the VM or the image goes.
#include <algorithm>
#include <chrono>
#include <string>
#include <thread>

#include "bridge/container_plan.h"
#include "tests/e2e/world.h"

namespace onedock::e2e {
namespace {

constexpr int kImageReady = 1;

// Names of the volumes on `engine` carrying `label` ("key=value") and the world's instance.
std::vector<std::string> Volumes(World& w, const std::string& engine, const std::string& label) {
  auto list =
      w.Engine(engine).ListVolumes({label, std::string(kLabelInstance) + "=" + w.instance()});
  REQUIRE_MESSAGE(list.ok(), list.status().ToString());
  std::vector<std::string> names;
  for (const auto& v : *list) names.push_back(v.name);
  std::sort(names.begin(), names.end());
  return names;
}

std::string Id(int n) { return std::to_string(n); }

TEST_CASE(
    "data disks are volumes that keep their data through poweroff and migration and go with the "
    "VM") {
  World w;
  const int scratch = w.CreateImage("NAME = scratch\nTYPE = DATABLOCK\nSIZE = 10");
  const int kept = w.CreateImage(
      "NAME = kept\nTYPE = DATABLOCK\nSIZE = 20\nPERSISTENT = YES\nDOCKER_MOUNT = /www/kept");
  CHECK(w.WaitForImage(scratch, kImageReady).source == "onedock-volume://" + Id(scratch));
  CHECK(w.WaitForImage(kept, kImageReady).source == "onedock-volume://" + Id(kept));

  const int id = w.CreateVm("vols", 0.25, 64,
                            "DISK = [ IMAGE_ID = " + Id(scratch) +
                                ", DOCKER_MOUNT = \"/data\" ]\n"
                                "DISK = [ IMAGE_ID = " +
                                Id(kept) + " ]\nDISK = [ TYPE = fs, SIZE = 64 ]");
  w.Deploy(id, "h1");
  const Vm vm = w.WaitFor(id, kVmActive, kLcmRunning, 90);
  const std::string own1 = "one-" + Id(id) + "-disk1", own3 = "one-" + Id(id) + "-disk3";
  const std::string image_volume = "one-image-" + Id(kept);
  auto c = w.Engine("h1").InspectContainer(vm.deploy_id);
  REQUIRE(c.ok());
  std::vector<std::string> binds = c->binds;
  std::sort(binds.begin(), binds.end());
  std::string listed;
  for (const auto& b : binds) listed += b + " ";
  INFO("binds: " << listed);
  CHECK(binds == std::vector<std::string>{own1 + ":/data", own3 + ":/mnt/disk3",
                                          image_volume + ":/www/kept"});
  CHECK(Volumes(w, "h1", "one.vmid=" + Id(id)) == std::vector<std::string>{own1, own3});
  CHECK(Volumes(w, "h1", "one.size_mb=64") == std::vector<std::string>{own3});
  CHECK(Volumes(w, "h1", "one.image_id=" + Id(kept)) == std::vector<std::string>{image_volume});

  w.ExecOut(
      "h1", vm.deploy_id,
      "echo scratch-data > /data/f && echo kept-data > /www/kept/f && echo tmp > /mnt/disk3/f");
  // The persistent image's volume is under the web root: the page is served from it.
  CHECK(World::HttpGet(vm.nics.front().ip, 10, "/kept/f") == "kept-data\n");

  w.Action("poweroff", id);
  w.WaitFor(id, kVmPoweroff, 0);
  w.Action("resume", id);
  const Vm resumed = w.WaitFor(id, kVmActive, kLcmRunning);
  CHECK(w.ExecOut("h1", resumed.deploy_id, "cat /data/f /www/kept/f /mnt/disk3/f") ==
        "scratch-data\nkept-data\ntmp\n");

  // Cold migration: the data moves with the VM and nothing of it is left on h1.
  w.Call("one.vm.migrate", {xmlrpc_c::value_int(id), xmlrpc_c::value_int(w.host("h2")),
                            xmlrpc_c::value_boolean(false)});
  const Vm moved = w.WaitUntilRunningOn(id, "h2");
  CHECK(w.ExecOut("h2", moved.deploy_id, "cat /data/f /www/kept/f /mnt/disk3/f") ==
        "scratch-data\nkept-data\ntmp\n");
  CHECK(Volumes(w, "h1", "one.instance").empty());
  CHECK(Volumes(w, "h2", "one.vmid=" + Id(id)) == std::vector<std::string>{own1, own3});

  // Terminate removes the VM's own volumes; the persistent image keeps its volume and its data.
  w.Action("terminate", id);
  w.WaitFor(id, kVmDone, 0);
  CHECK(Volumes(w, "h2", "one.vmid=" + Id(id)).empty());
  CHECK(Volumes(w, "h2", "one.image_id=" + Id(kept)) == std::vector<std::string>{image_volume});

  // The next VM using the persistent image runs on h1: the image's data comes along.
  const int next = w.CreateVm("vols-next", 0.25, 64, "DISK = [ IMAGE_ID = " + Id(kept) + " ]");
  w.Deploy(next, "h1");
  const Vm second = w.WaitFor(next, kVmActive, kLcmRunning, 90);
  CHECK(w.ExecOut("h1", second.deploy_id, "cat /www/kept/f") == "kept-data\n");
  CHECK(Volumes(w, "h2", "one.instance").empty());
  w.Action("terminate", next);
  w.WaitFor(next, kVmDone, 0);

  // Made non-persistent, the image gives each new VM its own copy of its data, and keeps its own.
  w.Call("one.image.persistent", {xmlrpc_c::value_int(kept), xmlrpc_c::value_boolean(false)});
  const int third = w.CreateVm("vols-copy", 0.25, 64, "DISK = [ IMAGE_ID = " + Id(kept) + " ]");
  w.Deploy(third, "h2");
  const Vm copy = w.WaitFor(third, kVmActive, kLcmRunning, 90);
  CHECK(w.ExecOut("h2", copy.deploy_id, "cat /www/kept/f && echo changed > /www/kept/f") ==
        "kept-data\n");
  CHECK(Volumes(w, "h2", "one.vmid=" + Id(third)) ==
        std::vector<std::string>{"one-" + Id(third) + "-disk1"});
  w.Action("terminate", third);
  w.WaitFor(third, kVmDone, 0);
  CHECK(Volumes(w, "h2", "one.instance").empty());
  CHECK(Volumes(w, "h1", "one.image_id=" + Id(kept)) == std::vector<std::string>{image_volume});

  // Deleting the image removes its volume.
  w.Call("one.image.delete", {xmlrpc_c::value_int(kept)});
  for (int n = 0; n < 100 && !Volumes(w, "h1", "one.image_id=" + Id(kept)).empty(); ++n) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  CHECK(Volumes(w, "h1", "one.instance").empty());
}

TEST_CASE(
    "a swap disk or an unusable mount point fails the VM with the reason and leaves nothing "
    "behind") {
  World w;
  const int swap = w.CreateVm("swap", 0.25, 64, "DISK = [ TYPE = swap, SIZE = 32 ]");
  w.Deploy(swap, "h1");
  const Vm refused = w.WaitFor(swap, kVmActive, kLcmPrologFailure);
  CHECK(refused.user_template.at("ERROR").find("swap disks are not supported") !=
        std::string::npos);

  const int mount = w.CreateVm("badmount", 0.25, 64,
                               "DISK = [ TYPE = fs, SIZE = 8, DOCKER_MOUNT = \"/context/x\" ]");
  w.Deploy(mount, "h1");
  const Vm failed = w.WaitFor(mount, kVmActive, kLcmBootFailure);
  CHECK(failed.user_template.at("ERROR").find(
            "DISK 1: DOCKER_MOUNT \"/context/x\" is inside /context") != std::string::npos);
  CHECK(w.ContainersOf("h1", mount).empty());
  CHECK(Volumes(w, "h1", "one.instance").empty());

  const int empty = w.CreateImage("NAME = nosize\nTYPE = DATABLOCK\nSIZE = 0");
  const Image error = w.WaitForImage(empty, 5);
  CHECK(error.template_attributes.at("ERROR").find("needs a SIZE above 0 MB") != std::string::npos);
}

}  // namespace
}  // namespace onedock::e2e
