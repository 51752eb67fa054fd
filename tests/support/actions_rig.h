// ActionsRig: the unit tier's fixture for VM actions and driver routing.
#ifndef ONEDOCK_TESTS_SUPPORT_ACTIONS_RIG_H_
#define ONEDOCK_TESTS_SUPPORT_ACTIONS_RIG_H_

#include <doctest/doctest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bridge/driver_router.h"
#include "bridge/image_store.h"
#include "bridge/log.h"
#include "bridge/vm_actions.h"
#include "rpc/one_parse.h"
#include "tests/fakes/fake_engines.h"
#include "tests/fakes/fake_monitoring.h"
#include "tests/fakes/fake_one.h"
#include "tests/fakes/fake_staging.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/fixtures.h"

namespace onedock {

// VmActions on two fake hosts (h1, h2) and a fake oned holding two vnets, with VM 42 of the
// captured two-NIC VM document; the driver router over them, the image store and a fake
// monitoring.
struct ActionsRig {
  ActionsRig() {
    ConfigureLogging("off", "");  // assertions read state, not logs
    engines.hosts["h1"];
    engines.hosts["h2"];
    auto parsed = rpc::ParseVmXml(fixtures::Read("vm_two_nics.xml"));
    REQUIRE(parsed.ok());
    vm = *parsed;
    auto front = rpc::ParseVnetXml(fixtures::Read("vnet.xml"));
    REQUIRE(front.ok());
    one.vnets[0] = *front;
    Vnet back;
    back.id = 1;
    back.bridge = "onebr1";
    back.template_attributes = {{"NETWORK_ADDRESS", "10.43.0.0"},
                                {"NETWORK_MASK", "255.255.255.0"}};
    one.vnets[1] = back;
    actions_settings.plan.instance = "test";
    actions_settings.plan.registry = "127.0.0.1:5000";
    actions_settings.spool_dir = dir.path() + "/spool";
    actions = std::make_unique<VmActions>(engines, one, *journal, actions_settings);
    images = std::make_unique<ImageStore>(
        [this]() -> Result<std::unique_ptr<ImageStaging>> { return staging.Lease(); }, registries,
        one, *journal, ImageStoreSettings{"127.0.0.1:5000", {}, {}, dir.path() + "/spool", "/"});
    router = std::make_unique<DriverRouter>(RouteTargets{*actions, *images, engines, monitoring});
  }
  // A call as the stub server decodes one, without stdin.
  DriverAnswer Route(const std::string& kind, const std::string& action,
                     std::vector<std::string> argv, std::optional<Vm> with_vm = std::nullopt) {
    return router->Route(DriverCall{kind, action, std::move(argv), "", std::move(with_vm),
                                    std::nullopt, std::nullopt});
  }
  fakes::FakeEngine& h1() { return engines.hosts["h1"]; }
  fakes::FakeEngine& h2() { return engines.hosts["h2"]; }
  // DISK 1: a non-persistent empty datablock mounted at /data; DISK 2: a volatile fs disk;
  // DISK 3: a persistent datablock (image 8).
  void AddDataDisks() {
    Disk clone;
    clone.disk_id = 1;
    clone.image_id = 7;
    clone.source = "onedock-volume://7";
    clone.size_mb = 10;
    clone.all = {{"CLONE", "YES"}, {"DOCKER_MOUNT", "/data/"}};
    Disk scratch;
    scratch.disk_id = 2;
    scratch.type = "fs";
    scratch.size_mb = 64;
    Disk kept;
    kept.disk_id = 3;
    kept.image_id = 8;
    kept.source = "onedock-volume://8";
    kept.persistent = true;
    kept.all = {{"CLONE", "NO"}};
    vm.disks.insert(vm.disks.end(), {clone, scratch, kept});
  }

  testing::TempDir dir{"actions"};
  std::unique_ptr<SqliteStore> journal = testing::OpenJournal(dir.path() + "/journal.db");
  fakes::FakeEngines engines;
  fakes::FakeOne one;
  fakes::FakeStaging staging;
  fakes::FakeRegistries registries;
  fakes::FakeMonitoring monitoring;
  Vm vm;
  ActionSettings actions_settings;  // what `actions` was made with (for a restarted VmActions)
  std::unique_ptr<VmActions> actions;
  std::unique_ptr<ImageStore> images;
  std::unique_ptr<DriverRouter> router;
};

}  // namespace onedock

#endif  // ONEDOCK_TESTS_SUPPORT_ACTIONS_RIG_H_
