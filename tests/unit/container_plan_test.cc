#include "bridge/container_plan.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <functional>

#include "rpc/one_parse.h"
#include "tests/unit/fixtures.h"

namespace onedock {
namespace {

Vm TwoNicVm() {
  auto vm = rpc::ParseVmXml(fixtures::Read("vm_two_nics.xml"));
  REQUIRE_MESSAGE(vm.ok(), vm.status().ToString());
  return *vm;
}

std::map<int, Vnet> TwoVnets() {
  auto front = rpc::ParseVnetXml(fixtures::Read("vnet.xml"));
  REQUIRE(front.ok());
  Vnet back;
  back.id = 1;
  back.bridge = "onebr1";
  back.phydev = "eth1";
  back.template_attributes = {{"NETWORK_ADDRESS", "10.43.0.0"},
                              {"NETWORK_MASK", "255.255.255.0"},
                              {"GATEWAY", "10.43.0.1"},
                              {"DOCKER_NETWORK_DRIVER", "macvlan"}};
  return {{0, *front}, {1, back}};
}

PlanSettings Settings() {
  PlanSettings s;
  s.instance = "od-test";
  s.registry = "127.0.0.1:5000";
  s.stop_timeout_s = 7;
  return s;
}

TEST_CASE("the two-NIC VM document becomes a container with its leases limits and context") {
  auto plan = PlanContainer(TwoNicVm(), "node1", TwoVnets(), Settings());
  REQUIRE_MESSAGE(plan.ok(), plan.status().ToString());
  const ContainerSpec& spec = plan->spec;
  CHECK(spec.name == "one-42");
  CHECK(spec.image ==
        "127.0.0.1:5000/"
        "httpd:3@sha256:6db7e5c9a3b0d86f0a2e3c1b7f6a5d4c3b2a19080706050403020100ffeeddcc");
  CHECK(spec.labels == std::map<std::string, std::string>{
                           {"one.vmid", "42"}, {"one.host", "node1"}, {"one.instance", "od-test"}});
  CHECK(spec.hostname == "web-42");
  CHECK(spec.init);
  CHECK(spec.stop_timeout_s == 7);
  CHECK(spec.nano_cpus == 500000000);
  CHECK(spec.memory_bytes == 128ll * 1024 * 1024);
  CHECK(std::find(spec.env.begin(), spec.env.end(), "ETH0_IP=10.42.0.42") != spec.env.end());
  CHECK(spec.dns == std::vector<std::string>{"10.42.0.1"});
  CHECK(spec.network_mode == "onebr0");
  CHECK(spec.primary.ipv4 == "10.42.0.42");
  CHECK(spec.primary.mac == "02:00:0a:2a:00:2a");
  REQUIRE(plan->nics.size() == 2);
  CHECK(plan->nics[0].network.driver == "bridge");
  CHECK(plan->nics[0].network.subnet == "10.42.0.0/24");
  CHECK(plan->nics[0].network.gateway == "10.42.0.1");
  CHECK(plan->nics[0].network.options.at("com.docker.network.bridge.name") == "onebr0");
  CHECK(plan->nics[1].network.driver == "macvlan");
  CHECK(plan->nics[1].network.options.at("parent") == "eth1");
  CHECK(plan->nics[1].attachment.ipv4 == "10.43.0.7");
  auto vnets = TwoVnets();
  vnets[1].vlan_id = "4094";
  Vm mtu = TwoNicVm();
  mtu.nics[0].mtu = "9000";
  auto tagged = PlanContainer(mtu, "node1", vnets, Settings());
  REQUIRE_MESSAGE(tagged.ok(), tagged.status().ToString());
  CHECK(tagged->nics[1].network.options.at("parent") == "eth1.4094");
  CHECK(tagged->nics[0].network.options.at("com.docker.network.driver.mtu") == "9000");
  // The START_SCRIPT has no #!, so it runs under sh; the archive carries it, the context and the
  // key.
  CHECK(plan->start_command == std::vector<std::string>{"/bin/sh", "/context/start_script"});
  CHECK(plan->context_tar.find("context/context.sh") != std::string::npos);
  CHECK(plan->context_tar.find("SET_HOSTNAME='web-42'") != std::string::npos);
  CHECK(plan->context_tar.find("root/.ssh/authorized_keys") != std::string::npos);
  CHECK(plan->context_tar.find("ssh-ed25519 AAAAC3Nza user@fe\n") != std::string::npos);
  CHECK(plan->context_tar.find("echo \"a < b & c\" > /tmp/x") != std::string::npos);
}

TEST_CASE("the deployment file a real oned sent plans against a private registry it names") {
  auto vm = rpc::ParseVmXml(fixtures::CapturedDocument("vmm-deploy.txt"));
  REQUIRE(vm.ok());
  // Its image is docker://busybox:latest, which is not in the private registry.
  auto refused = PlanContainer(*vm, "onedock-host", {}, Settings());
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().message().find("not in the private registry 127.0.0.1:5000") !=
        std::string::npos);
  PlanSettings any = Settings();
  any.registry = "";
  auto plan = PlanContainer(*vm, "onedock-host", {}, any);
  REQUIRE_MESSAGE(plan.ok(), plan.status().ToString());
  CHECK(plan->spec.image == "busybox:latest");
  CHECK(plan->spec.hostname == "odvm1");
  CHECK(plan->spec.network_mode == "none");
  CHECK(plan->spec.nano_cpus == 100000000);
  CHECK(std::find(plan->spec.env.begin(), plan->spec.env.end(), "ONEDOCK_TEST=hello") !=
        plan->spec.env.end());
}

TEST_CASE("policy refuses privileged mode capabilities and binds unless allowed") {
  Vm vm = TwoNicVm();
  vm.user_template["DOCKER_PRIVILEGED"] = "yes";
  auto refused = PlanContainer(vm, "n", TwoVnets(), Settings());
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == Status::Code::kPermissionDenied);
  CHECK(refused.status().message().rfind("privileged container refused by policy", 0) == 0);

  PlanSettings open = Settings();
  open.policy = {true, true, true};
  vm.user_template["DOCKER_CAP_ADD"] = "NET_ADMIN, SYS_TIME";
  vm.user_template["DOCKER_BINDS"] = "/srv/data:/data:ro";
  auto allowed = PlanContainer(vm, "n", TwoVnets(), open);
  REQUIRE_MESSAGE(allowed.ok(), allowed.status().ToString());
  CHECK(allowed->spec.privileged);
  CHECK(allowed->spec.cap_add == std::vector<std::string>{"NET_ADMIN", "SYS_TIME"});
  CHECK(allowed->spec.binds == std::vector<std::string>{"/srv/data:/data:ro"});

  for (const char* bad : {"relative:/x", "/a/../etc:/x", "/a", "/a:relative"}) {
    vm.user_template["DOCKER_BINDS"] = bad;
    auto r = PlanContainer(vm, "n", TwoVnets(), open);
    CHECK_MESSAGE(r.status().code() == Status::Code::kInvalidArgument, bad);
  }
  vm.user_template["DOCKER_BINDS"] = "";
  vm.user_template["DOCKER_CAP_ADD"] = "$(reboot)";
  CHECK(PlanContainer(vm, "n", TwoVnets(), open).status().code() == Status::Code::kInvalidArgument);
}

TEST_CASE("hostile or inconsistent documents are refused with the part that is wrong") {
  struct Case {
    const char* what;
    std::function<void(Vm&, std::map<int, Vnet>&)> mutate;
    const char* expect;
  };
  const std::vector<Case> cases = {
      {"ip outside subnet", [](Vm& v, auto&) { v.nics[0].ip = "10.99.0.5"; },
       "is outside 10.42.0.0/24"},
      {"malformed ip", [](Vm& v, auto&) { v.nics[0].ip = "10.42.0.300"; },
       "is not an IPv4 address"},
      {"malformed mac", [](Vm& v, auto&) { v.nics[0].mac = "zz:00"; }, "is malformed"},
      {"ip is gateway", [](Vm& v, auto&) { v.nics[0].ip = "10.42.0.1"; }, "is the vnet's gateway"},
      {"bridge with shell", [](Vm& v, auto&) { v.nics[0].bridge = "br0;rm -rf"; },
       "is not an interface name"},
      {"two nics one network",
       [](Vm& v, auto&) {
         v.nics[1].bridge = "onebr0";
         v.nics[1].network_id = 0;
         v.nics[1].ip = "10.42.0.43";
       },
       "one NIC per network"},
      {"no subnet",
       [](Vm& v, auto& n) {
         n[0].template_attributes.clear();
         v.context.clear();
       },
       "needs NETWORK_ADDRESS and NETWORK_MASK"},
      {"bad mask", [](Vm&, auto& n) { n[0].template_attributes["NETWORK_MASK"] = "255.0.255.0"; },
       "needs NETWORK_ADDRESS and NETWORK_MASK"},
      {"unknown vnet", [](Vm&, auto& n) { n.erase(1); }, "vnet unknown"},
      {"no image", [](Vm& v, auto&) { v.disks.clear(); }, "no DISK 0"},
      {"source with shell", [](Vm& v, auto&) { v.disks[0].source = "127.0.0.1:5000/x;reboot"; },
       "DISK 0 SOURCE"},
      {"source elsewhere", [](Vm& v, auto&) { v.disks[0].source = "docker.io/library/busybox"; },
       "not in the private registry"},
      {"bad start script", [](Vm& v, auto&) { v.context["START_SCRIPT_BASE64"] = "%%%"; },
       "START_SCRIPT_BASE64"},
      {"bad dns", [](Vm& v, auto&) { v.context["DNS"] = "8.8.8.8 `id`"; },
       "is not an IPv4 address"},
      {"zero memory", [](Vm& v, auto&) { v.memory_mb = 0; }, "CPU and MEMORY"},
      {"CPU that rounds to no limit", [](Vm& v, auto&) { v.cpu = 0.0000000001; }, "CPU"},
      {"CPU below the engine's least", [](Vm& v, auto&) { v.cpu = 0.005; }, "outside 0.01"},
      {"CPU NaN", [](Vm& v, auto&) { v.cpu = std::nan(""); }, "CPU and MEMORY"},
      {"CPU infinite", [](Vm& v, auto&) { v.cpu = HUGE_VAL; }, "CPU and MEMORY"},
      {"CPU huge", [](Vm& v, auto&) { v.cpu = 1e300; }, "outside 0.01"},
      {"memory below the engine's least", [](Vm& v, auto&) { v.memory_mb = 5; }, "MEMORY 5 MB"},
      {"memory that overflows bytes", [](Vm& v, auto&) { v.memory_mb = int64_t{1} << 50; },
       "is outside"},
      {"MTU not a number", [](Vm& v, auto&) { v.nics[0].mtu = "1500;x"; }, "MTU"},
      {"MTU too small", [](Vm& v, auto&) { v.nics[0].mtu = "10"; }, "MTU"},
      {"MTU too big", [](Vm& v, auto&) { v.nics[0].mtu = "99999999"; }, "MTU"},
      {"VLAN_ID that adds to the parent", [](Vm&, auto& n) { n[1].vlan_id = "7 eth0"; }, "VLAN_ID"},
      {"VLAN_ID out of range", [](Vm&, auto& n) { n[1].vlan_id = "4095"; }, "VLAN_ID"},
  };
  for (const auto& c : cases) {
    Vm vm = TwoNicVm();
    auto vnets = TwoVnets();
    c.mutate(vm, vnets);
    auto plan = PlanContainer(vm, "n", vnets, Settings());
    CHECK_MESSAGE(!plan.ok(), c.what);
    if (!plan.ok())
      CHECK_MESSAGE(plan.status().message().find(c.expect) != std::string::npos,
                    c.what << ": " << plan.status().message());
  }
}

TEST_CASE("context.sh quotes values the way a shell reads them back") {
  const std::string script = ContextScript({{"A", "it's"}, {"B", "$(x) `y` \"z\""}});
  CHECK(script ==
        "# Context variables generated by OpenNebula\nA='it'\\''s'\nB='$(x) `y` \"z\"'\n");
}

TEST_CASE("hostnames are cut to one DNS label and fall back to the container name") {
  Vm vm = TwoNicVm();
  vm.context["SET_HOSTNAME"] = "my host_name!";
  CHECK(PlanContainer(vm, "n", TwoVnets(), Settings())->spec.hostname == "my-host-name");
  vm.context["SET_HOSTNAME"] = "---";
  CHECK(PlanContainer(vm, "n", TwoVnets(), Settings())->spec.hostname == "one-42");
  vm.context["SET_HOSTNAME"] = std::string(100, 'a');
  CHECK(PlanContainer(vm, "n", TwoVnets(), Settings())->spec.hostname.size() == 63);
}

TEST_CASE("overlapping networks are those whose subnet shares addresses with the vnet's") {
  auto net = [](const std::string& name, const std::string& subnet) {
    NetworkInfo n;
    n.name = name;
    n.subnet = subnet;
    return n;
  };
  const std::vector<NetworkInfo> host = {net("same", "10.42.0.0/24"),
                                         net("wider", "10.0.0.0/8"),
                                         net("inside", "10.42.0.128/25"),
                                         net("apart", "10.43.0.0/24"),
                                         net("host", ""),
                                         net("garbage", "10.42.0.0/33")};
  CHECK(OverlappingNetworks("10.42.0.0/24", host) ==
        std::vector<std::string>{"same (10.42.0.0/24)", "wider (10.0.0.0/8)",
                                 "inside (10.42.0.128/25)"});
  CHECK(OverlappingNetworks("192.168.0.0/16", host).empty());
  CHECK(OverlappingNetworks("not a subnet", host).empty());
}

TEST_CASE("a real-time ulimit reaches no engine unless the policy allows it") {
  Vm vm = TwoNicVm();
  vm.user_template["DOCKER_ULIMITS"] = "rtprio=50";
  auto refused = PlanContainer(vm, "node1", TwoVnets(), Settings());
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == Status::Code::kPermissionDenied);
  PlanSettings allowed = Settings();
  allowed.policy.allow_realtime_ulimits = true;
  auto plan = PlanContainer(vm, "node1", TwoVnets(), allowed);
  REQUIRE(plan.ok());
  CHECK(plan->spec.ulimits == std::vector<Ulimit>{{"rtprio", 50, 50}});
}

}  // namespace
}  // namespace onedock
