// The driver router: which argv each kind takes, where each action goes, and what is refused
// (and why) before anything reaches an engine, the image store or the monitor.
#include "bridge/driver_router.h"

#include <doctest/doctest.h>

#include "bridge/version.h"
#include "bridge/volume_plan.h"
#include "tests/support/actions_rig.h"

namespace onedock {
namespace {

using Rig = ActionsRig;

TEST_CASE(
    "TM calls for data disks: volatile ones are made at deploy, swap and disk snapshots are "
    "refused with why") {
  Rig r;
  auto tm = [&](const std::string& action, std::vector<std::string> argv) {
    return r.Route("tm", action, argv);
  };
  const std::string disk = "h1:/var/lib/one/datastores/100/42/disk.2";
  CHECK(tm("mkimage", {"64", "raw", disk, "42", "100"}).exit_code == 0);
  CHECK(tm("mvds", {disk, "onedock-volume://8", "42", "101"}).exit_code == 0);
  CHECK(tm("delete", {disk, "42", "100"}).exit_code ==
        0);  // the VM directory's delete removes volumes
  const std::vector<std::pair<std::string, std::string>> refused = {
      {"mkswap", "swap disks are not supported"},
      {"snap_create", "disk snapshots are not supported"},
      {"cpds", "disk-saveas) is not supported"},
      {"resize", "a volume has no size to change"},
      {"prebackup", "VM backups are not supported"},
  };
  for (const auto& [action, why] : refused) {
    const DriverAnswer a = tm(action, {disk, "42", "100"});
    CHECK(a.exit_code == 1);
    CHECK_MESSAGE(a.error.find(why) != std::string::npos, a.error);
  }
  CHECK(r.h1().calls.empty());  // nothing reached the engine
}

TEST_CASE(
    "network driver steps change nothing, and pre refuses a VM with a NIC of another network "
    "driver") {
  Rig r;
  auto vnm = [&](const std::string& action, std::vector<std::string> argv, std::optional<Vm> vm) {
    return r.Route("vnm", action, argv, vm);
  };
  for (auto& nic : r.vm.nics) nic.vn_mad = "onedock";
  CHECK(vnm("pre", {}, r.vm).exit_code == 0);
  CHECK(vnm("post", {"one-42", "h1"}, r.vm).exit_code == 0);
  CHECK(vnm("clean", {"h1"}, r.vm).exit_code == 0);
  CHECK(vnm("update_sg", {"one-42"}, r.vm).exit_code == 0);
  CHECK(vnm("update_nic", {"one-42", "0"}, r.vm).exit_code == 0);
  CHECK(vnm("vnet_create", {"0"}, std::nullopt).exit_code == 0);
  CHECK(vnm("vnet_delete", {"0"}, std::nullopt).exit_code == 0);
  r.vm.nics[1].vn_mad = "bridge";
  const DriverAnswer mixed = vnm("pre", {}, r.vm);
  CHECK(mixed.exit_code == 1);
  CHECK_MESSAGE(mixed.error.find("is on a vnet with VN_MAD bridge") != std::string::npos,
                mixed.error);
  CHECK(vnm("rename", {}, r.vm).exit_code == 1);
  CHECK(r.h1().calls.empty());
  CHECK(r.h2().calls.empty());
}

TEST_CASE("the actions the routing table names itself are told apart from what a wildcard takes") {
  CHECK(RoutesByName("vmm", "deploy"));
  CHECK(RoutesByName("tm", "delete"));
  CHECK(RoutesByName("ds", "cp"));
  CHECK(RoutesByName("im", "start"));
  CHECK(RoutesByName("vnm", "pre"));
  CHECK(RoutesByName("vmm", "migrate"));           // refused, but an action oned has
  CHECK_FALSE(RoutesByName("tm", "snap_create"));  // taken by "snap_*"
  CHECK_FALSE(RoutesByName("vmm", "*"));
  CHECK_FALSE(RoutesByName("vmm", "deploy; rm -rf /"));
  CHECK_FALSE(RoutesByName("xyz", "deploy"));
  CHECK_FALSE(RoutesByName("tm", "deploy"));
}

TEST_CASE("VMM calls: argv and stdin's VM must agree before an action runs") {
  Rig r;
  const DriverAnswer short_argv = r.Route("vmm", "deploy", {"42"}, r.vm);
  CHECK(short_argv.exit_code == 1);
  CHECK(short_argv.error.find("expected \"<params> <vmid> <host>\", got 1 arguments") !=
        std::string::npos);
  const DriverAnswer no_vm =
      r.Route("vmm", "deploy", {"/var/lib/one/vms/42/deployment.0", "42", "h1"});
  CHECK(no_vm.error.find("stdin carries no <VM> document") != std::string::npos);
  const DriverAnswer other_vm =
      r.Route("vmm", "deploy", {"/var/lib/one/vms/43/deployment.0", "43", "h1"}, r.vm);
  CHECK(other_vm.error.find("stdin describes vm 42, argv names vm 43") != std::string::npos);
  CHECK(r.h1().calls.empty());
  const DriverAnswer deployed =
      r.Route("vmm", "deploy", {"/var/lib/one/vms/42/deployment.0", "42", "h1"}, r.vm);
  CHECK_MESSAGE(deployed.exit_code == 0, deployed.error);
  CHECK(deployed.out == "one-42");
  CHECK(r.Route("vmm", "shutdown", {"one-42", "42", "h1"}).exit_code == 0);
  CHECK_FALSE(r.h1().containers["one-42"].running);
  const DriverAnswer migrate = r.Route("vmm", "migrate", {"one-42", "h2", "h1", "42", "h1"});
  CHECK(migrate.error.find("migrate is not supported by onedock") != std::string::npos);
  CHECK(r.Route("vmm", "frobnicate", {"42", "h1"}).error ==
        "frobnicate is not a VMM action onedock knows");
}

TEST_CASE("IM calls: bad host ids and names are refused, start and stop reach the monitoring") {
  Rig r;
  CHECK(r.Route("im", "start", {"onedock", "1x", "h1"})
            .error.find("host id \"1x\" is not a number") != std::string::npos);
  CHECK(r.Route("im", "start", {"onedock", "1", "h1;reboot"})
            .error.find("host name \"h1;reboot\" is not valid") != std::string::npos);
  CHECK(r.Route("im", "start", {"onedock"}).exit_code == 1);
  CHECK(r.Route("im", "restart", {"onedock", "1", "h1"}).error.find("unknown action") !=
        std::string::npos);
  CHECK(r.monitoring.started.empty());
  DriverCall start{
      "im",         "start",     {"onedock", "1", "h1"}, "<MONITOR_CONFIGURATION/>", std::nullopt,
      std::nullopt, std::nullopt};
  const DriverAnswer started = r.router->Route(start);
  CHECK(started.exit_code == 0);
  CHECK(started.out == "<MONITOR_MESSAGES/>");
  CHECK(r.monitoring.started.at(1) == "<MONITOR_CONFIGURATION/>");
  CHECK(r.Route("im", "stop", {"onedock", "1", "h1"}).exit_code == 0);
  CHECK(r.monitoring.started.empty());
}

TEST_CASE(
    "datastore calls: argv is one id and stdin an IMAGE, mkfs and clone answer with the SOURCE") {
  Rig r;
  CHECK(r.Route("ds", "cp", {"x"}).error == "onedock ds cp: expected \"<id>\"");
  CHECK(r.Route("ds", "cp", {"7"}).error == "onedock ds cp: stdin holds no <IMAGE>");
  Image datablock;
  datablock.type = kImageTypeDatablock;
  datablock.size_mb = 10;
  DriverCall mkfs{"ds", "mkfs", {"7"}, "", std::nullopt, datablock, std::nullopt};
  const DriverAnswer made = r.router->Route(mkfs);
  CHECK_MESSAGE(made.exit_code == 0, made.error);
  CHECK(made.out == "onedock-volume://7");
  Image original;
  original.id = 7;
  original.source = "onedock-volume://7";
  original.format = "raw";
  r.one.images[7] = original;
  Image copy;
  copy.cloning_id = 7;
  DriverCall clone{"ds", "clone", {"12"}, "", std::nullopt, copy, std::nullopt};
  const DriverAnswer cloned = r.router->Route(clone);
  CHECK_MESSAGE(cloned.exit_code == 0, cloned.error);
  CHECK(cloned.out == "onedock-volume://12 raw");
  CHECK(r.Route("ds", "export", {"7"}).exit_code == 1);
  CHECK(r.Route("tls", "start", {}).error == "onedockd does not handle \"tls\" driver calls");
}

TEST_CASE(
    "onedock version answers the release on the lifecycle lane, other onedock calls are refused") {
  Rig r;
  const DriverAnswer version = r.Route("onedock", "version", {});
  CHECK(version.exit_code == 0);
  CHECK(version.out == std::string(kVersion) + "\n");
  CHECK(LaneOf("onedock", "version") == DriverLane::kLifecycle);
  CHECK(r.Route("onedock", "shutdown", {"42", "h1"}).exit_code == 1);
}

}  // namespace
}  // namespace onedock
