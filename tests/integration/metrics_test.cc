// onedockd's /metrics as an operator's Prometheus sees them: Debian's real prometheus server
// scrapes a real onedockd every second while deploys reach it through the real driver scripts and
// onedock-stub (the emulator supplies the VM documents), then its HTTP API is asked for the
// counters and gauges.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "bridge/base64.h"
#include "docker/engine_client.h"
#include "tests/emulator/driver_runner.h"
#include "tests/free_port.h"
#include "tests/integration/bed.h"
#include "tests/integration/emulator_process.h"
#include "tests/support/onedockd_process.h"
#include "tests/support/prometheus_process.h"
#include "tests/support/require_ok.h"
#include "tests/support/temp_dir.h"

namespace onedock {
namespace {

using Samples = std::vector<testing::PrometheusProcess::Sample>;

// The value of a query answering one sample; fails otherwise.
double One(const Result<Samples>& answer, const std::string& what) {
  REQUIRE_MESSAGE(answer.ok(), what << ": " << answer.status().ToString());
  REQUIRE_MESSAGE(answer->size() == 1, what << ": " << answer->size() << " samples");
  return answer->front().value;
}

std::function<bool(const Samples&)> Equals(double value) {
  return [value](const Samples& s) { return s.size() == 1 && s.front().value == value; };
}

std::function<bool(const Samples&)> AtLeast(double value) {
  return [value](const Samples& s) { return s.size() == 1 && s.front().value >= value; };
}

TEST_CASE("metrics: Prometheus scrapes onedockd and counts its deploys, engines and intents") {
  testing::TempDir root("metrics");
  testing::EmulatorProcess emu;
  const std::string instance = testbed::UniqueName("metrics");
  const int stub_port = testing::FreeLoopbackPort();
  const int metrics_port = testing::FreeLoopbackPort();
  const std::string certs = testbed::Get("ONEDOCK_CERTS");
  const std::string dir = root.path();
  std::ofstream(dir + "/one_auth") << emu.session() << "\n";
  std::ofstream(dir + "/stub.conf")
      << "endpoint = http://127.0.0.1:" << stub_port << "/RPC2\ntoken_file = " << dir << "/token\n";
  const std::string install = std::string(ONEDOCK_SOURCE_DIR) + "/drivers/install.sh " + dir +
                              "/remotes " + ONEDOCK_STUB_BIN + " " + dir + "/stub.conf";
  REQUIRE(std::system(install.c_str()) == 0);
  std::ofstream(dir + "/onedockd.conf")
      << "[oned]\nendpoint = " << emu.endpoint() << "\nauth_file = " << dir << "/one_auth\n"
      << "[stub]\nlisten = 127.0.0.1:" << stub_port << "\ntoken_file = " << dir << "/token\n"
      << "[engines]\nca = " << certs << "/ca.pem\ncert = " << certs << "/cert.pem\nkey = " << certs
      << "/key.pem\n[host h1]\nurl = https://" << testbed::Get("ONEDOCK_ENGINE_H1") << "\n"
      << "[registry]\naddress = " << testbed::RegistryHost("private") << "\n"
      << "[images]\nspool = " << dir << "/spool\n"
      << "[journal]\npath = " << dir << "/journal.db\n[containers]\ninstance = " << instance
      << "\nstop_timeout = 2\n[monitor]\nmonitord = 127.0.0.1:" << emu.monitord_port()
      << "\n[metrics]\nlisten = 127.0.0.1:" << metrics_port << "\n[log]\nlevel = warn\n";
  testing::OnedockdProcess onedockd(ONEDOCKD_BIN, dir + "/onedockd.conf", dir + "/onedockd.log",
                                    stub_port);
  REQUIRE_OK(onedockd.Start());
  testing::PrometheusProcess prometheus({"127.0.0.1:" + std::to_string(metrics_port)});
  REQUIRE_OK(prometheus.Start());

  // The test image in the private registry, and in the emulator an image naming it.
  docker::EngineClient h1("h1", testbed::Engine("h1"));
  // Whatever the test's end, the containers of its instance go.
  struct RemoveOnExit {
    docker::EngineClient& engine;
    std::string label;
    ~RemoveOnExit() {
      auto ours = engine.ListContainers({label}, true);
      for (const auto& c : ours.ok() ? *ours : std::vector<ContainerSummary>{})
        engine.RemoveContainer(c.id, true, true);
    }
  } remove_on_exit{h1, "one.instance=" + instance};
  const std::string image = testbed::RegistryHost("private") + "/onedock/httpd:1.0";
  REQUIRE_OK(h1.PullImage(testbed::TestImage()));
  REQUIRE_OK(h1.TagImage(testbed::TestImage(), testbed::RegistryHost("private") + "/onedock/httpd",
                         "1.0"));
  REQUIRE_OK(h1.PushImage(image));
  auto str = [](const std::string& v) { return xmlrpc_c::value(xmlrpc_c::value_string(v)); };
  auto num = [](int v) { return xmlrpc_c::value(xmlrpc_c::value_int(v)); };
  const int ds = emu.Allocate("one.datastore.allocate",
                              {str("NAME = img\nDS_MAD = onedock\nTM_MAD = onedock"), num(-1)});
  const int image_id =
      emu.Allocate("one.image.allocate",
                   {str("NAME = httpd\nSOURCE = " + image + "\nFORMAT = docker"), num(ds)});

  // oned's START_MONITOR of host h1 (id 0), as monitord runs the IM control script.
  const auto started =
      emulator::RunDriver(dir + "/remotes/im/onedock.d/monitord-client_control.sh",
                          {"onedock", "0", "h1"}, Base64Encode("<MONITOR_CONFIGURATION/>"));
  REQUIRE_MESSAGE(started.ok(), started.err);

  constexpr int kDeploys = 3;
  std::vector<std::string> names;
  for (int n = 0; n < kDeploys; ++n) {
    const int vm = emu.Allocate(
        "one.vm.allocate",
        {str("NAME = m" + std::to_string(n) +
             "\nCPU = 0.1\nMEMORY = 64\nDISK = [ IMAGE_ID = " + std::to_string(image_id) + " ]")});
    auto info = emu.Call("one.vm.info", {num(vm)});
    const std::string document = Base64Encode(std::string(xmlrpc_c::value_string(info[1])));
    const auto run = emulator::RunDriver(dir + "/remotes/vmm/onedock/deploy",
                                         {"/dev/null", "h1", std::to_string(vm), "h1"}, document);
    REQUIRE_MESSAGE(run.ok(), "deploy of vm " << vm << ": " << run.err);
    names.push_back("one-" + std::to_string(vm));
  }
  // A deploy whose argv names another VM than its document is refused: an error outcome.
  auto info = emu.Call("one.vm.info", {num(0)});
  const auto refused =
      emulator::RunDriver(dir + "/remotes/vmm/onedock/deploy", {"/dev/null", "h1", "77", "h1"},
                          Base64Encode(std::string(xmlrpc_c::value_string(info[1]))));
  CHECK_FALSE(refused.ok());

  const auto deploys = prometheus.QueryUntil(
      R"(onedock_driver_actions_total{job="onedock",kind="vmm",action="deploy",outcome="ok"})",
      Equals(kDeploys), std::chrono::seconds(30));
  CHECK(One(deploys, "deploys") == kDeploys);
  CHECK(One(prometheus.Query(
                R"(onedock_driver_actions_total{kind="vmm",action="deploy",outcome="error"})"),
            "refused deploys") == 1);
  CHECK(One(prometheus.Query(R"(onedock_driver_actions_total{kind="im",action="start"})"),
            "im start") == 1);
  CHECK(One(prometheus.Query(
                R"(onedock_driver_action_duration_seconds_count{kind="vmm",action="deploy"})"),
            "deploy latency count") == kDeploys + 1);
  const double took = One(
      prometheus.Query(R"(onedock_driver_action_duration_seconds_sum{kind="vmm",action="deploy"})"),
      "deploy latency sum");
  CHECK(took > 0);
  CHECK(took < 600);
  CHECK(
      One(prometheus.Query(
              R"(onedock_driver_action_duration_seconds_bucket{kind="vmm",action="deploy",le="+Inf"})"),
          "deploy +Inf bucket") == kDeploys + 1);

  CHECK(One(prometheus.Query(R"(onedock_engine_up{host="h1"})"), "engine up") == 1);
  // The state rounds (every 5 s, monitord's default STATE_VM period) list while onedock deploys.
  CHECK(One(prometheus.QueryUntil(R"(onedock_host_containers{host="h1"})", Equals(kDeploys),
                                  std::chrono::seconds(30)),
            "containers") == kDeploys);
  const double age =
      One(prometheus.Query(R"(onedock_monitor_round_age_seconds{host="h1",round="state"})"),
          "state round age");
  CHECK(age >= 0);
  CHECK(age < 15);
  const double round =
      One(prometheus.Query(R"(onedock_monitor_round_duration_seconds{host="h1",round="vm"})"),
          "vm round duration");
  CHECK(round >= 0);
  CHECK(round < 10);
  CHECK(One(prometheus.Query(R"(onedock_state_vm_syncs_total{host="h1"})"), "syncs") >= 1);
  CHECK(One(prometheus.Query(R"(onedock_state_vm_changes_total{host="h1"})"), "changes") >= 0);
  // Once the deploys are over, the engine's event stream stands in for the listings.
  CHECK(One(prometheus.QueryUntil(R"(onedock_state_rounds_unlisted_total{host="h1"})", AtLeast(1),
                                  std::chrono::seconds(40)),
            "state rounds without a listing") >= 1);
  CHECK(One(prometheus.Query("onedock_journal_open_intents"), "open intents") == 0);
  CHECK(One(prometheus.Query(R"(up{job="onedock"})"), "scrape target up") == 1);

  auto ours = h1.ListContainers({"one.instance=" + instance}, true);
  REQUIRE_OK(ours);
  CHECK(ours->size() == names.size());
}

}  // namespace
}  // namespace onedock
