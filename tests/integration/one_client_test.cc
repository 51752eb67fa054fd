// onedock's oned client against a real oned 7.4 (tests/support/opennebula_process.h): every call
// the client makes, the reply convention and oned's error codes; and the emulator's faults for an
// unknown method or a wrong parameter, checked against real oned's.
#include "rpc/one_client.h"

#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "rpc/one_client_pool.h"
#include "tests/integration/emulator_process.h"
#include "tests/support/opennebula_process.h"
#include "tests/support/temp_dir.h"

namespace onedock::rpc {
namespace {

using testing::EmulatorProcess;
using testing::OpenNebulaProcess;
using V = xmlrpc_c::value;

xmlrpc_c::value S(const std::string& s) { return xmlrpc_c::value_string(s); }
xmlrpc_c::value I(int i) { return xmlrpc_c::value_int(i); }

// oned with two hosts, the onedock datastores, an image, two vnets and a pending VM. No onedockd
// answers: the driver scripts fail at once (their stub.conf names no token file), so the image
// datastore and the vnets use the dummy drivers, which answer by themselves.
struct World {
  testing::TempDir dir{"client"};
  std::unique_ptr<OpenNebulaProcess> one;
  int host_a, host_b, system_ds, image_ds, image, vnet0, vnet1, vm;

  World() {
    std::ofstream(dir.path() + "/stub.conf")
        << "endpoint = http://127.0.0.1:1/RPC2\ntoken_file = " << dir.path()
        << "/none\nretry_seconds = 0\n";
    one = std::make_unique<OpenNebulaProcess>(dir.path() + "/one", dir.path() + "/stub.conf");
    host_a = one->Allocate("one.host.allocate", {S("h1"), S("onedock"), S("onedock"), I(-1)});
    host_b = one->Allocate("one.host.allocate", {S("h2"), S("onedock"), S("onedock"), I(-1)});
    system_ds =
        one->Allocate("one.datastore.allocate",
                      {S("NAME = onedock_system\nTYPE = SYSTEM_DS\nTM_MAD = onedock"), I(-1)});
    // DS_MAD dummy reports a capacity without a driver behind it (oned refuses images in a
    // datastore it has not monitored yet).
    image_ds = one->Allocate("one.datastore.allocate",
                             {S("NAME = onedock_images\nDS_MAD = dummy\nTM_MAD = onedock"), I(-1)});
    REQUIRE(one->AwaitDatastoreMonitored(image_ds).ok());
    // With a SOURCE and SIZE oned registers the image without its datastore driver.
    image = one->Allocate(
        "one.image.allocate",
        {S("NAME = httpd\nSOURCE = \"127.0.0.1:5000/httpd:0\"\nFORMAT = docker\nSIZE = 2"),
         I(image_ds)});
    vnet0 = one->Allocate("one.vn.allocate",
                          {S("NAME = front\nVN_MAD = dummy\nBRIDGE = onebr0\nGATEWAY = 10.42.0.1\n"
                             "NETWORK_MASK = 255.255.255.0\nDNS = 10.42.0.1\n"
                             "AR = [ TYPE = IP4, IP = 10.42.0.10, SIZE = 50 ]"),
                           I(-1)});
    vnet1 =
        one->Allocate("one.vn.allocate", {S("NAME = back\nVN_MAD = dummy\nBRIDGE = onebr1\nPHYDEV "
                                            "= eth1\nDOCKER_NETWORK_DRIVER = macvlan\n"
                                            "AR = [ TYPE = IP4, IP = 10.43.0.5, SIZE = 10 ]"),
                                          I(-1)});
    for (int vnet : {vnet0, vnet1}) REQUIRE(one->AwaitVnetReady(vnet).ok());
    vm = one->Allocate(
        "one.vm.allocate",
        {S("NAME = web\nCPU = 0.5\nVCPU = 1\nMEMORY = 128\n"
           "DISK = [ IMAGE_ID = " +
           std::to_string(image) +
           " ]\n"
           "NIC = [ NETWORK_ID = " +
           std::to_string(vnet0) +
           " ]\n"
           "NIC = [ NETWORK = back ]\n"
           "CONTEXT = [ NETWORK = YES, SET_HOSTNAME = web, START_SCRIPT = \"echo hi\" ]\n"
           "DOCKER_PRIVILEGED = NO\nDESCRIPTION = \"a web server\"")});
  }
  XmlRpcOneClient Client() const { return XmlRpcOneClient({one->endpoint(), one->session()}); }
};

}  // namespace

TEST_CASE("client: system version and config") {
  World w;
  XmlRpcOneClient client = w.Client();
  auto version = client.SystemVersion();
  REQUIRE_MESSAGE(version.ok(), version.status().ToString());
  CHECK(*version == "7.4.0");
  auto config = client.SystemConfig();
  REQUIRE(config.ok());
  CHECK(config->find("<OPENNEBULA_CONFIGURATION>") == 0);
  CHECK(config->find("onedock") != std::string::npos);
}

TEST_CASE("client: VM info and extended pool carry NICs leases CONTEXT and USER_TEMPLATE") {
  World w;
  XmlRpcOneClient client = w.Client();
  auto vm = client.VmInfo(w.vm);
  REQUIRE_MESSAGE(vm.ok(), vm.status().ToString());
  CHECK(vm->name == "web");
  CHECK(vm->state == kVmPending);
  CHECK(vm->memory_mb == 128);
  CHECK(vm->cpu == doctest::Approx(0.5));
  REQUIRE(vm->nics.size() == 2);
  CHECK(vm->nics[0].ip == "10.42.0.10");
  CHECK(vm->nics[0].mac == "02:00:0a:2a:00:0a");
  CHECK(vm->nics[0].bridge == "onebr0");
  CHECK(vm->nics[0].gateway == "10.42.0.1");
  CHECK(vm->nics[1].network_id == w.vnet1);
  CHECK(vm->nics[1].phydev == "eth1");
  CHECK(vm->nics[1].ip == "10.43.0.5");
  REQUIRE(vm->disks.size() == 1);
  CHECK(vm->disks[0].image_id == w.image);
  CHECK(vm->disks[0].datastore_id == w.image_ds);
  CHECK(vm->context.at("ETH0_IP") == "10.42.0.10");
  CHECK(vm->context.at("ETH0_MASK") == "255.255.255.0");
  CHECK(vm->context.at("ETH1_MAC") == "02:00:0a:2b:00:05");
  CHECK(vm->context.at("START_SCRIPT") == "echo hi");
  CHECK(vm->user_template.at("DOCKER_PRIVILEGED") == "NO");

  auto pool = client.VmPool();
  REQUIRE(pool.ok());
  REQUIRE(pool->size() == 1);
  CHECK(pool->at(0).user_template.at("DESCRIPTION") == "a web server");  // extended body

  // The lease is visible in the vnet.
  auto vnet = client.VnetInfo(w.vnet0);
  REQUIRE(vnet.ok());
  REQUIRE(vnet->ranges.size() == 1);
  REQUIRE(vnet->ranges[0].leases.size() == 1);
  CHECK(vnet->ranges[0].leases[0].vm_id == w.vm);
  CHECK(vnet->bridge == "onebr0");
}

TEST_CASE("client pool: many threads read oned at once, each call on a client of its own") {
  World w;
  OneClientPool pool({w.one->endpoint(), w.one->session()}, 4);
  std::atomic<int> answered{0}, right{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20; ++i) {
        auto vm = pool.VmInfo(w.vm);
        auto vnet = pool.VnetInfo(w.vnet1);
        auto missing = pool.ImageInfo(999);
        answered += 3;
        right += (vm.ok() && vm->name == "web") + (vnet.ok() && vnet->id == w.vnet1) +
                 (missing.status().code() == Status::Code::kNotFound);
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(answered == 480);
  CHECK(right == 480);
}

TEST_CASE("client: VM update replaces or merges the user template") {
  World w;
  XmlRpcOneClient client = w.Client();
  REQUIRE(client.VmUpdate(w.vm, "ONEDOCK_NOTE = \"first\"", true).ok());
  auto merged = client.VmInfo(w.vm);
  CHECK(merged->user_template.at("ONEDOCK_NOTE") == "first");
  CHECK(merged->user_template.count("DESCRIPTION") == 1);
  REQUIRE(client.VmUpdate(w.vm, "ONLY = yes", false).ok());
  auto replaced = client.VmInfo(w.vm);
  CHECK(replaced->user_template.count("DESCRIPTION") == 0);
  CHECK(replaced->user_template.at("ONLY") == "yes");
  // oned's template parser keeps an unterminated quote as part of the value.
  REQUIRE(client.VmUpdate(w.vm, "BROKEN = \"unterminated", true).ok());
  CHECK(client.VmInfo(w.vm)->user_template.at("BROKEN") == "\"unterminated");
  CHECK(client.VmUpdate(999, "A = b", true).code() == Status::Code::kNotFound);
}

TEST_CASE("client: hosts images and datastores") {
  World w;
  XmlRpcOneClient client = w.Client();
  auto host = client.HostInfo(w.host_b);
  REQUIRE(host.ok());
  CHECK(host->name == "h2");
  // No IM driver is installed in this world: START_MONITOR fails and the host goes to ERROR.
  CHECK(host->im_mad == "onedock");
  auto hosts = client.HostPool();
  REQUIRE(hosts.ok());
  CHECK(hosts->size() == 2);
  auto image = client.ImageInfo(w.image);
  REQUIRE(image.ok());
  CHECK(image->source == "127.0.0.1:5000/httpd:0");
  CHECK(image->size_mb == 2);
  CHECK(image->datastore_id == w.image_ds);
  auto ds = client.DatastoreInfo(w.system_ds);
  REQUIRE(ds.ok());
  CHECK(ds->type == 1);
  CHECK(ds->tm_mad == "onedock");
  CHECK(ds->id == 100);
}

TEST_CASE("client: oned's errors arrive typed with oned's message") {
  World w;
  XmlRpcOneClient client = w.Client();
  auto missing = client.VmInfo(999);
  CHECK(missing.status().code() == Status::Code::kNotFound);
  CHECK(missing.status().message().find("[one.vm.info] Error getting virtual machine [999]") !=
        std::string::npos);
  CHECK(client.HostInfo(77).status().code() == Status::Code::kNotFound);
  CHECK(client.ImageInfo(77).status().code() == Status::Code::kNotFound);
  CHECK(client.DatastoreInfo(77).status().code() == Status::Code::kNotFound);
  CHECK(client.VnetInfo(77).status().code() == Status::Code::kNotFound);

  XmlRpcOneClient stranger({w.one->endpoint(), "oneadmin:wrong"});
  auto denied = stranger.SystemVersion();
  CHECK(denied.status().code() == Status::Code::kUnauthenticated);
  CHECK(denied.status().message().find("couldn't be authenticated") != std::string::npos);

  XmlRpcOneClient nobody({"http://127.0.0.1:1/RPC2", w.one->session(), 2000});
  CHECK(nobody.SystemVersion().status().code() == Status::Code::kUnavailable);
}

TEST_CASE("emulator: unknown methods and wrong parameter types are XML-RPC faults as in oned") {
  // The same calls to real oned and to the emulator, which must answer alike.
  testing::TempDir dir{"client"};
  std::ofstream(dir.path() + "/stub.conf") << "retry_seconds = 0\n";
  OpenNebulaProcess real(dir.path() + "/one", dir.path() + "/stub.conf");
  EmulatorProcess emu;
  auto check = [](const auto& oned, const std::string& who) {
    CAPTURE(who);
    CHECK_THROWS_WITH_AS(oned.Call("one.vm.nosuch", {}), doctest::Contains("not defined"),
                         girerr::error);
    CHECK_THROWS_AS(oned.Call("one.vm.info", {S("not an int")}), girerr::error);
    // The reply convention of a refused allocation: [false, "[method] …", code, -1, 0]. oned 7.4
    // answers a template its pool refuses with INTERNAL (SharedAPI::allocate), not ALLOCATE.
    auto reply = oned.Call("one.vm.allocate", {S("NAME = x\nCPU = 1")});
    REQUIRE(reply.size() == 5);
    CHECK_FALSE(static_cast<bool>(xmlrpc_c::value_boolean(reply[0])));
    CHECK(std::string(xmlrpc_c::value_string(reply[1])).find("[one.vm.allocate] ") == 0);
    CHECK(static_cast<int>(xmlrpc_c::value_int(reply[2])) == 0x2000);
    auto ds = oned.Call("one.datastore.allocate",
                        {S("NAME = x\nDS_MAD = nope\nTM_MAD = onedock"), I(-1)});
    CHECK(std::string(xmlrpc_c::value_string(ds[1])).find("DS_MAD named \"nope\" is not defined") !=
          std::string::npos);
  };
  check(real, "real oned");
  check(emu, "emulator");
}

TEST_CASE("client: session and endpoint come from the standard places") {
  char dir[] = "/tmp/onedock-auth-XXXXXX";
  REQUIRE(mkdtemp(dir) != nullptr);
  const std::string auth = std::string(dir) + "/one_auth";
  std::ofstream(auth) << "oneadmin:from-file\n";
  setenv("ONE_AUTH", auth.c_str(), 1);
  setenv("ONE_XMLRPC", "http://127.0.0.1:2999/RPC2", 1);
  auto e = ResolveOneEndpoint("", "");
  REQUIRE(e.ok());
  CHECK(e->session == "oneadmin:from-file");
  CHECK(e->endpoint == "http://127.0.0.1:2999/RPC2");
  auto configured = ResolveOneEndpoint("http://fe:2633/RPC2", "u:p");
  CHECK(configured->session == "u:p");
  CHECK(configured->endpoint == "http://fe:2633/RPC2");
  std::ofstream(auth) << "no-colon\n";
  CHECK(ResolveOneEndpoint("", "").status().code() == Status::Code::kInvalidArgument);
  setenv("ONE_AUTH", (std::string(dir) + "/absent").c_str(), 1);
  CHECK(ResolveOneEndpoint("", "").status().code() == Status::Code::kNotFound);
  unsetenv("ONE_AUTH");
  unsetenv("ONE_XMLRPC");
  std::filesystem::remove_all(dir);
}

}  // namespace onedock::rpc
