#include "rpc/one_parse.h"

#include <doctest/doctest.h>

#include "rpc/stub_server.h"
#include "tests/unit/fixtures.h"

namespace onedock::rpc {

TEST_CASE("the deployment file a real oned 7.4 passed to deploy parses") {
  const std::string xml = fixtures::CapturedDocument("vmm-deploy.txt");
  CHECK(xml.rfind("<VM>", 0) == 0);  // one line, no declaration
  auto vm = ParseVmXml(xml);
  REQUIRE_MESSAGE(vm.ok(), vm.status().ToString());
  CHECK(vm->id == 1);
  CHECK(vm->name == "odvm1");
  CHECK(vm->state == kVmActive);
  CHECK(vm->lcm_state == kLcmBoot);
  CHECK(vm->deploy_id.empty());
  CHECK(vm->cpu == doctest::Approx(0.1));
  CHECK(vm->vcpu == 1);
  CHECK(vm->memory_mb == 64);
  REQUIRE(vm->disks.size() == 1);
  CHECK(vm->disks[0].source == "docker://busybox:latest");
  CHECK(vm->disks[0].format == "docker");
  CHECK(vm->disks[0].datastore_id == 101);
  CHECK(vm->nics.empty());
  CHECK(vm->context.at("SET_HOSTNAME") == "odvm1");
  CHECK(vm->context.at("ONEDOCK_TEST") == "hello");
  CHECK(vm->user_template.at("SCHED_REQUIREMENTS") == "ID=\"1\"");
  REQUIRE(vm->CurrentHistory() != nullptr);
  CHECK(vm->CurrentHistory()->hostname == "onedock-host");
  CHECK(vm->CurrentHistory()->hid == 1);
  CHECK(vm->CurrentHistory()->ds_id == 100);
  CHECK(vm->CurrentHistory()->seq == 0);

  // The resume after poweroff: same VM, next history sequence, deploy id kept.
  auto resumed = ParseVmXml(fixtures::CapturedDocument("vmm-deploy.txt", 1));
  REQUIRE(resumed.ok());
  CHECK(resumed->deploy_id == "onedock-1");
  CHECK(resumed->CurrentHistory()->seq == 1);
}

TEST_CASE("the action data of shutdown cancel reboot and reset carries VM and system datastore") {
  for (const char* capture :
       {"vmm-shutdown.txt", "vmm-cancel.txt", "vmm-reboot.txt", "vmm-reset.txt"}) {
    CAPTURE(capture);
    auto doc = ParseXml(fixtures::CapturedDocument(capture));
    REQUIRE_MESSAGE(doc.ok(), doc.status().ToString());
    CHECK(doc->name == "VMM_DRIVER_ACTION_DATA");
    CHECK(doc->Get("HOST") == "onedock-host");
    CHECK(doc->Get("DEPLOY_ID") == "onedock-1");
    REQUIRE(doc->Child("VM") != nullptr);
    auto vm = ParseVm(*doc->Child("VM"));
    REQUIRE(vm.ok());
    CHECK(vm->id == 1);
    auto ds = ParseDatastore(*doc->Child("DATASTORE"));
    REQUIRE(ds.ok());
    CHECK(ds->type == 1);  // system datastore
    CHECK(ds->tm_mad == "onedock");
  }
}

TEST_CASE("the datastore action data of cp parses into image and datastore") {
  auto doc = ParseXml(fixtures::CapturedDocument("ds-cp.txt"));
  REQUIRE(doc.ok());
  CHECK(doc->name == "DS_DRIVER_ACTION_DATA");
  auto image = ParseImage(*doc->Child("IMAGE"));
  REQUIRE(image.ok());
  CHECK(image->id == 0);
  CHECK(image->path == "docker://busybox:latest");
  CHECK(image->source.empty());
  CHECK(image->state == kImageLocked);
  CHECK(image->datastore_id == 101);
  auto ds = ParseDatastore(*doc->Child("DATASTORE"));
  REQUIRE(ds.ok());
  CHECK(ds->ds_mad == "onedock");
  CHECK(ds->base_path == "/opt/one/var//datastores/101");
  CHECK(ds->type == 0);
}

TEST_CASE("a VM with two NICs a CONTEXT and two history records") {
  auto vm = ParseVmXml(fixtures::Read("vm_two_nics.xml"));
  REQUIRE_MESSAGE(vm.ok(), vm.status().ToString());
  CHECK(vm->deploy_id == "one-42");
  CHECK(vm->cpu == doctest::Approx(0.5));
  CHECK(vm->memory_mb == 128);
  REQUIRE(vm->nics.size() == 2);
  CHECK(vm->nics[0].ip == "10.42.0.42");
  CHECK(vm->nics[0].mac == "02:00:0a:2a:00:2a");
  CHECK(vm->nics[0].bridge == "onebr0");
  CHECK(vm->nics[0].gateway == "10.42.0.1");
  CHECK(vm->nics[0].network_id == 0);
  CHECK(vm->nics[1].vn_mad == "macvlan");
  CHECK(vm->nics[1].phydev == "eth1");
  CHECK(vm->nics[1].nic_id == 1);
  CHECK_FALSE(vm->nics[1].all.count("FUTURE_ATTRIBUTE"));  // vectors are not flattened
  CHECK(vm->context.at("START_SCRIPT") == "echo \"a < b & c\" > /tmp/x");
  CHECK(vm->context.at("ETH1_IP") == "10.43.0.7");
  CHECK(vm->disks[0].source.find("@sha256:") != std::string::npos);
  CHECK(vm->user_template.at("DOCKER_PRIVILEGED") == "NO");
  CHECK(vm->monitoring.at("CPU") == "1.5");
  REQUIRE(vm->history.size() == 2);
  CHECK(vm->CurrentHistory()->hostname == "h2");
  CHECK(vm->history[0].action == 19);
}

TEST_CASE("the system snapshots a VM's template lists are read with their hypervisor ids") {
  // Each <SNAPSHOT> as a real oned 7.4 keeps it under TEMPLATE once snapshot_create has
  // answered (read from its one.db after an e2e run): HYPERVISOR_ID is what the driver printed.
  auto vm = ParseVmXml(
      "<VM><ID>42</ID><STATE>3</STATE><LCM_STATE>3</LCM_STATE><TEMPLATE>"
      "<SNAPSHOT><HYPERVISOR_ID><![CDATA[reg/onedock-snapshot/one-42:s0]]></HYPERVISOR_ID>"
      "<NAME><![CDATA[before upgrade]]></NAME><SNAPSHOT_ID><![CDATA[0]]></SNAPSHOT_ID>"
      "<SYSTEM_DISK_SIZE><![CDATA[64]]></SYSTEM_DISK_SIZE><TIME><![CDATA[1796295767]]></TIME>"
      "</SNAPSHOT><SNAPSHOT><HYPERVISOR_ID><![CDATA[reg/onedock-snapshot/one-42:s2]]>"
      "</HYPERVISOR_ID><NAME><![CDATA[s2]]></NAME><SNAPSHOT_ID><![CDATA[2]]></SNAPSHOT_ID>"
      "<SYSTEM_DISK_SIZE><![CDATA[64]]></SYSTEM_DISK_SIZE><TIME><![CDATA[1796295768]]></TIME>"
      "</SNAPSHOT></TEMPLATE></VM>");
  REQUIRE_MESSAGE(vm.ok(), vm.status().ToString());
  REQUIRE(vm->snapshots.size() == 2);
  CHECK(vm->snapshots[0].snapshot_id == 0);
  CHECK(vm->snapshots[0].name == "before upgrade");
  CHECK(vm->snapshots[0].hypervisor_id == "reg/onedock-snapshot/one-42:s0");
  CHECK(vm->snapshots[1].snapshot_id == 2);
  CHECK(vm->snapshots[1].hypervisor_id == "reg/onedock-snapshot/one-42:s2");
  CHECK_FALSE(vm->template_attributes.count("SNAPSHOT"));  // a vector, not a flat attribute
  // A VM with none lists none.
  CHECK(ParseVmXml(fixtures::Read("vm_two_nics.xml"))->snapshots.empty());
}

TEST_CASE("a host pool and a vnet with leases") {
  auto hosts = ParseHostPoolXml(fixtures::Read("host_pool.xml"));
  REQUIRE(hosts.ok());
  REQUIRE(hosts->size() == 2);
  CHECK((*hosts)[0].name == "h1");
  CHECK((*hosts)[0].state == kHostMonitored);
  CHECK((*hosts)[0].total_cpu == 200);
  CHECK((*hosts)[0].free_disk_mb == 81920);
  CHECK((*hosts)[0].vm_ids == std::vector<int>{42});
  CHECK((*hosts)[0].template_attributes.at("HYPERVISOR") == "docker");
  CHECK((*hosts)[1].state == kHostInit);
  CHECK((*hosts)[1].vm_ids.empty());

  auto vnet = ParseVnetXml(fixtures::Read("vnet.xml"));
  REQUIRE(vnet.ok());
  CHECK(vnet->bridge == "onebr0");
  CHECK(vnet->template_attributes.at("NETWORK_MASK") == "255.255.255.0");
  REQUIRE(vnet->ranges.size() == 1);
  CHECK(vnet->ranges[0].size == 100);
  REQUIRE(vnet->ranges[0].leases.size() == 2);
  CHECK(vnet->ranges[0].leases[1].vm_id == 41);
}

TEST_CASE("wrong roots missing IDs and malformed XML are refused") {
  CHECK(ParseVmXml("<HOST><ID>1</ID></HOST>").status().code() == Status::Code::kInvalidArgument);
  CHECK(ParseVmXml("<VM><NAME>x</NAME></VM>").status().code() == Status::Code::kInvalidArgument);
  CHECK(ParseVmXml("<VM><ID>abc</ID></VM>").status().code() == Status::Code::kInvalidArgument);
  CHECK(ParseVmXml("<VM><ID>1</ID>").status().code() == Status::Code::kInvalidArgument);
  CHECK(ParseHostPoolXml("<VM_POOL/>").status().code() == Status::Code::kInvalidArgument);
  CHECK(ParseHostPoolXml("<HOST_POOL><HOST><NAME>x</NAME></HOST></HOST_POOL>").status().code() ==
        Status::Code::kInvalidArgument);
  auto empty = ParseVmPoolXml("<VM_POOL></VM_POOL>");
  REQUIRE(empty.ok());
  CHECK(empty->empty());
  auto minimal = ParseVmXml("<VM><ID>3</ID><TEMPLATE/><USER_TEMPLATE/><HISTORY_RECORDS/></VM>");
  REQUIRE(minimal.ok());
  CHECK(minimal->CurrentHistory() == nullptr);
}

TEST_CASE("ids that do not fit an int are refused, never narrowed into another object's id") {
  // 4294968196 is 2^32 + 900: narrowed, it would act as VM 900.
  for (const char* id : {"4294968196", "2147483648", "-1", "99999999999999999999"}) {
    CAPTURE(id);
    CHECK(ParseVmXml(std::string("<VM><ID>") + id + "</ID></VM>").status().code() ==
          Status::Code::kInvalidArgument);
    CHECK(ParseImageXml(std::string("<IMAGE><ID>") + id + "</ID></IMAGE>").status().code() ==
          Status::Code::kInvalidArgument);
  }
  auto top = ParseVmXml("<VM><ID>2147483647</ID></VM>");
  REQUIRE(top.ok());
  CHECK(top->id == 2147483647);
  auto disk = ParseVmXml(
      "<VM><ID>1</ID><TEMPLATE><DISK><DISK_ID>4294967296</DISK_ID><IMAGE_ID>4294967303</IMAGE_ID>"
      "</DISK></TEMPLATE></VM>");
  REQUIRE(disk.ok());
  REQUIRE(disk->disks.size() == 1);
  CHECK(disk->disks[0].disk_id == -1);   // absent, not disk 0
  CHECK(disk->disks[0].image_id == -1);  // absent, not image 7
}

TEST_CASE(
    "the datastore stat a real oned sends before the image exists decodes without an image id") {
  // oned runs stat inside one.image.allocate: its <IMAGE> holds PATH and SIZE, and no ID.
  auto call = DecodeDriverCall("ds", "stat", {"0"}, fixtures::CapturedStdin("ds-stat.txt"));
  REQUIRE_MESSAGE(call.ok(), call.status().ToString());
  REQUIRE(call->image.has_value());
  CHECK(call->image->id == -1);
  CHECK(call->image->path == "docker://busybox:latest");
  REQUIRE(call->datastore.has_value());
  CHECK(call->datastore->id == 101);
  // A record read from oned (one.image.info) must still have its ID.
  CHECK(ParseImageXml("<IMAGE><PATH>docker://busybox</PATH></IMAGE>").status().code() ==
        Status::Code::kInvalidArgument);
  // cp's stdin names the image.
  auto cp = DecodeDriverCall("ds", "cp", {"0"}, fixtures::CapturedStdin("ds-cp.txt"));
  REQUIRE_MESSAGE(cp.ok(), cp.status().ToString());
  CHECK(cp->image->id >= 0);
}

}  // namespace onedock::rpc
