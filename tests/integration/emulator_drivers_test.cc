// The emulator's information and datastore drivers and its placement step, with recording
// drivers: argv and stdin shapes against the captures of a real oned 7.4, and the host and image
// states that follow their replies.
#include <doctest/doctest.h>

#include "tests/integration/emulator_bed.h"

namespace onedock::rpc {

using namespace emulator_bed;  // NOLINT: test helpers

namespace {

template <typename F>
bool Eventually(F done) {
  for (int n = 0; n < 200; ++n) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  return false;
}

}  // namespace

TEST_CASE(
    "im: a new host starts monitoring through im/<im_mad>.d and its reply makes it MONITORED") {
  Bed bed("", {"im-system"});
  CHECK(Eventually([&] { return bed.client().HostInfo(bed.host())->state == kHostMonitored; }));
  auto host = bed.client().HostInfo(bed.host());
  CHECK(host->total_cpu == 200);
  CHECK(host->free_disk_mb == 5000);
  auto starts = bed.CallsOf("im/");
  REQUIRE(starts.size() == 1);
  CHECK(starts[0].script == "im/onedock.d/monitord-client_control.sh");
  const std::map<std::string, std::string> ours = {{"onedock-host", "<HOST>"}};
  CHECK(Shape(starts[0].args, ours) == Shape(CapturedArgv("im-start-monitor.txt"), kCaptureValues));
  auto conf = ParseXml(*Base64Decode(starts[0].stdin_text));
  REQUIRE(conf.ok());
  CHECK(conf->name == "MONITOR_CONFIGURATION");
  CHECK(conf->Get("HOST_ID") == std::to_string(bed.host()));
  CHECK(conf->Get("NETWORK/PORT") == std::to_string(bed.monitord_port()));

  // Offline stops monitoring: the control scripts run with "stop" first.
  bed.Forget();
  auto reply =
      bed.emu().Call("one.host.status", {xmlrpc_c::value_int(bed.host()), xmlrpc_c::value_int(2)});
  REQUIRE(static_cast<bool>(xmlrpc_c::value_boolean(reply[0])));
  CHECK(bed.client().HostInfo(bed.host())->state == kHostOffline);
  REQUIRE(Eventually([&] { return !bed.CallsOf("im/").empty(); }));
  auto stops = bed.CallsOf("im/");
  std::vector<std::string> expected = {"stop"};
  for (const auto& a : CapturedArgv("im-stop-monitor.txt")) expected.push_back(a);
  CHECK(Shape(stops[0].args, ours) == Shape(expected, kCaptureValues));
  // Enabling it again starts monitoring again.
  bed.emu().Call("one.host.status", {xmlrpc_c::value_int(bed.host()), xmlrpc_c::value_int(0)});
  CHECK(Eventually([&] { return bed.client().HostInfo(bed.host())->state == kHostMonitored; }));
}

TEST_CASE("im: an empty start reply is a failure and the host goes to ERROR") {
  Bed bed("", {"im-silent"});
  CHECK(Eventually([&] { return bed.client().HostInfo(bed.host())->state == kHostError; }));
  CHECK(
      bed.client().HostInfo(bed.host())->template_attributes.at("ERROR").find("MONITOR_MESSAGES") !=
      std::string::npos);
}

TEST_CASE("placement: a PENDING VM is deployed on a MONITORED host with room") {
  Bed bed("SCHED_INTERVAL = 0.2\n", {"im-system"});
  const int vm = bed.NewVm();
  Vm placed = bed.WaitFor(vm, 3, 3);
  CHECK(placed.CurrentHistory()->hid == bed.host());
  // A VM that does not fit (TOTALMEMORY 2000000 KB) stays PENDING.
  const int big =
      bed.emu().Allocate("one.vm.allocate", {xmlrpc_c::value_string("CPU = 0.1\nMEMORY = 4000")});
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  CHECK(bed.client().VmInfo(big)->state == kVmPending);
}

TEST_CASE("datastore: an image with a PATH is copied by stat and cp and becomes READY") {
  Bed bed;
  const int image = bed.emu().Allocate(
      "one.image.allocate",
      {xmlrpc_c::value_string("NAME = httpd\nPATH = \"docker://127.0.0.1:5001/onedock/httpd:1.0\""),
       xmlrpc_c::value_int(bed.image_datastore())});
  REQUIRE(Eventually([&] { return bed.client().ImageInfo(image)->state == kImageReady; }));
  auto ready = bed.client().ImageInfo(image);
  CHECK(ready->source == "127.0.0.1:5000/img:" + std::to_string(image));
  CHECK(ready->format == "docker");
  CHECK(ready->size_mb == 5);
  auto calls = bed.CallsOf("datastore/");
  REQUIRE(calls.size() == 2);
  CHECK(calls[0].script == "datastore/onedock/stat");
  CHECK(calls[1].script == "datastore/onedock/cp");
  CHECK(Shape(calls[1].args, {}) == Shape(CapturedArgv("ds-cp.txt"), {}));
  CHECK(ChildNames(calls[1].stdin_text) == ChildNames(fixtures::CapturedStdin("ds-cp.txt")));
  auto data = ParseXml(*Base64Decode(calls[1].stdin_text));
  CHECK(data->Get("IMAGE/PATH") == "docker://127.0.0.1:5001/onedock/httpd:1.0");
  CHECK(data->Get("DATASTORE/DS_MAD") == "onedock");

  // rm removes it once the driver agrees.
  bed.Forget();
  auto reply = bed.emu().Call("one.image.delete", {xmlrpc_c::value_int(image)});
  REQUIRE(static_cast<bool>(xmlrpc_c::value_boolean(reply[0])));
  CHECK(Eventually(
      [&] { return bed.client().ImageInfo(image).status().code() == Status::Code::kNotFound; }));
  REQUIRE(bed.CallsOf("datastore/").size() == 1);
  CHECK(bed.CallsOf("datastore/")[0].script == "datastore/onedock/rm");
}

TEST_CASE("datastore: an empty DATABLOCK is made by mkfs, whose whole reply becomes the SOURCE") {
  Bed bed;
  const int image = bed.emu().Allocate(
      "one.image.allocate", {xmlrpc_c::value_string("NAME = vol1\nTYPE = DATABLOCK\nSIZE = 10"),
                             xmlrpc_c::value_int(bed.image_datastore())});
  REQUIRE(Eventually([&] { return bed.client().ImageInfo(image)->state == kImageReady; }));
  auto ready = bed.client().ImageInfo(image);
  CHECK(ready->source == "onedock-volume://" + std::to_string(image));
  CHECK(ready->type == 2);
  CHECK(ready->size_mb == 10);
  CHECK(ready->format == "raw");
  auto calls = bed.CallsOf("datastore/");
  REQUIRE(calls.size() == 1);  // no stat: the size is the template's
  CHECK(calls[0].script == "datastore/onedock/mkfs");
  CHECK(Shape(calls[0].args, {}) == Shape(CapturedArgv("ds-mkfs.txt"), {}));
  CHECK(ChildNames(calls[0].stdin_text) == ChildNames(fixtures::CapturedStdin("ds-mkfs.txt")));
  auto data = ParseXml(*Base64Decode(calls[0].stdin_text));
  CHECK(data->Get("IMAGE/TYPE") == "2");
  CHECK(data->Get("IMAGE/SIZE") == "10");

  // A DATABLOCK without PATH needs a SIZE; other types need a PATH.
  auto refused =
      bed.emu().Call("one.image.allocate", {xmlrpc_c::value_string("NAME = v\nTYPE = DATABLOCK"),
                                            xmlrpc_c::value_int(bed.image_datastore())});
  CHECK_FALSE(static_cast<bool>(xmlrpc_c::value_boolean(refused[0])));
  refused = bed.emu().Call("one.image.allocate", {xmlrpc_c::value_string("NAME = v\nTYPE = OS"),
                                                  xmlrpc_c::value_int(bed.image_datastore())});
  CHECK(std::string(xmlrpc_c::value_string(refused[1])).find("No PATH in template.") !=
        std::string::npos);
}

TEST_CASE(
    "datastore: one.image.clone runs the datastore's clone with CLONING_ID and takes SOURCE "
    "FORMAT") {
  Bed bed;
  const int image = bed.emu().Allocate(
      "one.image.allocate",
      {xmlrpc_c::value_string("NAME = httpd\nPATH = \"docker://127.0.0.1:5001/onedock/httpd:1.0\""),
       xmlrpc_c::value_int(bed.image_datastore())});
  REQUIRE(Eventually([&] { return bed.client().ImageInfo(image)->state == kImageReady; }));
  bed.Forget();
  const int clone = bed.emu().Allocate(
      "one.image.clone", {xmlrpc_c::value_int(image), xmlrpc_c::value_string("httpd-copy")});
  REQUIRE(Eventually([&] { return bed.client().ImageInfo(clone)->state == kImageReady; }));
  auto ready = bed.client().ImageInfo(clone);
  CHECK(ready->name == "httpd-copy");
  CHECK(ready->source == "127.0.0.1:5000/clone:" + std::to_string(clone));
  CHECK(ready->format == "docker");
  CHECK(ready->cloning_id == -1);
  auto calls = bed.CallsOf("datastore/");
  REQUIRE(calls.size() == 1);
  CHECK(calls[0].script == "datastore/onedock/clone");
  CHECK(Shape(calls[0].args, {}) == Shape(CapturedArgv("ds-clone.txt"), {}));
  CHECK(ChildNames(calls[0].stdin_text) == ChildNames(fixtures::CapturedStdin("ds-clone.txt")));
  auto data = ParseXml(*Base64Decode(calls[0].stdin_text));
  CHECK(data->Get("IMAGE/CLONING_ID") == std::to_string(image));
  CHECK(data->Get("IMAGE/NAME") == "httpd-copy");

  auto missing =
      bed.emu().Call("one.image.clone", {xmlrpc_c::value_int(999), xmlrpc_c::value_string("x")});
  CHECK_FALSE(static_cast<bool>(xmlrpc_c::value_boolean(missing[0])));
}

TEST_CASE("datastore: a failing cp leaves the image in ERROR with the driver's message") {
  Bed bed("", {"fail-cp"});
  const int image = bed.emu().Allocate(
      "one.image.allocate",
      {xmlrpc_c::value_string("NAME = bad\nPATH = \"docker://127.0.0.1:5001/no/such:1\""),
       xmlrpc_c::value_int(bed.image_datastore())});
  REQUIRE(Eventually([&] { return bed.client().ImageInfo(image)->state == kImageError; }));
  CHECK(bed.client().ImageInfo(image)->template_attributes.at("ERROR").find(
            "registry refused: manifest unknown") != std::string::npos);
}

}  // namespace onedock::rpc

namespace onedock::rpc {

TEST_CASE("hotplug: NIC attach and detach and live resize run the VMM actions of the reference") {
  Bed bed;
  const int vnet = bed.emu().Allocate(
      "one.vn.allocate", {xmlrpc_c::value_string("NAME = back\nVN_MAD = onedock\nBRIDGE = onebr1\n"
                                                 "AR = [ TYPE = IP4, IP = 10.43.0.5, SIZE = 4 ]"),
                          xmlrpc_c::value_int(-1)});
  const int vm = bed.NewVm();
  bed.Deploy(vm);
  Vm running = bed.WaitFor(vm, 3, 3);
  bed.Forget();

  auto ok = [&](const std::string& method, std::vector<xmlrpc_c::value> params) {
    auto reply = bed.emu().Call(method, std::move(params));
    REQUIRE_MESSAGE(static_cast<bool>(xmlrpc_c::value_boolean(reply[0])),
                    std::string(xmlrpc_c::value_string(reply[1])));
  };
  ok("one.vm.attachnic",
     {xmlrpc_c::value_int(vm),
      xmlrpc_c::value_string("NIC = [ NETWORK_ID = " + std::to_string(vnet) + " ]")});
  Vm with_nic = bed.WaitFor(vm, 3, 3);
  REQUIRE(with_nic.nics.size() == 1);
  CHECK(with_nic.nics[0].ip == "10.43.0.5");
  auto calls = bed.Calls();
  REQUIRE(calls.size() == 1);
  CHECK(calls[0].script == "vmm/onedock/attach_nic");
  CHECK(calls[0].args == std::vector<std::string>{running.deploy_id, "02:00:0a:2b:00:05", "onebr1",
                                                  "-", "onedock",
                                                  "one-" + std::to_string(vm) + "-0",
                                                  std::to_string(vm), "onedock-host"});

  bed.Forget();
  ok("one.vm.detachnic", {xmlrpc_c::value_int(vm), xmlrpc_c::value_int(0)});
  Vm without = bed.WaitFor(vm, 3, 3);
  for (int n = 0; n < 100 && !without.nics.empty(); ++n) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
    without = *bed.client().VmInfo(vm);
  }
  CHECK(without.nics.empty());
  CHECK(bed.client().VnetInfo(vnet)->ranges[0].leases.empty());
  calls = bed.Calls();
  REQUIRE(calls.size() == 1);
  CHECK(calls[0].args == std::vector<std::string>{running.deploy_id, "02:00:0a:2b:00:05",
                                                  std::to_string(vm), "onedock-host"});

  bed.Forget();
  ok("one.vm.resize", {xmlrpc_c::value_int(vm), xmlrpc_c::value_string("CPU = 0.5\nMEMORY = 256"),
                       xmlrpc_c::value_boolean(true)});
  Vm resized = bed.WaitFor(vm, 3, 3);
  for (int n = 0; n < 100 && resized.memory_mb != 256; ++n) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
    resized = *bed.client().VmInfo(vm);
  }
  CHECK(resized.memory_mb == 256);
  calls = bed.Calls();
  REQUIRE(calls.size() == 1);
  CHECK(calls[0].script == "vmm/onedock/resize");
  CHECK(calls[0].args ==
        std::vector<std::string>{running.deploy_id, std::to_string(vm), "onedock-host"});
  auto data = ParseXml(*Base64Decode(calls[0].stdin_text));
  CHECK(data->Get("VM/TEMPLATE/MEMORY") == "256");

  // In POWEROFF, COLD_NIC_ATTACH (etc/oned-onedock.conf says yes) makes the attach run
  // attach_nic on the stopped container, from HOTPLUG_NIC_POWEROFF back to POWEROFF; a resize
  // only changes the database.
  bed.Action("poweroff", vm);
  bed.WaitFor(vm, 8, 0);
  bed.Forget();
  ok("one.vm.attachnic",
     {xmlrpc_c::value_int(vm), xmlrpc_c::value_string("NIC = [ NETWORK = back ]")});
  bed.WaitFor(vm, 8, 0);
  calls = bed.Calls();
  REQUIRE(calls.size() == 1);
  CHECK(calls[0].script == "vmm/onedock/attach_nic");
  bed.Forget();
  ok("one.vm.resize", {xmlrpc_c::value_int(vm), xmlrpc_c::value_string("MEMORY = 128"),
                       xmlrpc_c::value_boolean(true)});
  Vm cold = *bed.client().VmInfo(vm);
  CHECK(cold.nics.size() == 1);
  CHECK(cold.memory_mb == 128);
  std::string called;
  for (const auto& c : bed.Calls()) called += c.script + " ";
  CHECK_MESSAGE(called.empty(), called);
}

}  // namespace onedock::rpc
