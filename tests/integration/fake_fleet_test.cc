// The fake fleet of tests/fleet answers what onedock's own EngineClient asks, the way the
// monitor asks it: its listing under onedock's labels, /info, /system/df, stats held until the
// fake's tick, the event stream, and inspect and logs after a kill. Integration tier: the fake's
// certificate is issued by the bed's CA and the client uses the bed's client certificate.
#include <doctest/doctest.h>

#include <chrono>
#include <ctime>
#include <thread>

#include "docker/engine_client.h"
#include "tests/integration/bed.h"
#include "tests/support/fake_fleet_process.h"
#include "tests/support/require_ok.h"
#include "tests/support/temp_dir.h"

namespace onedock::testing {
namespace {

constexpr char kInstance[] = "fleet-test";

std::vector<std::string> OwnLabels(int host) {
  return {std::string("one.instance=") + kInstance, "one.host=" + FakeFleetProcess::HostName(host)};
}

double SecondsSince(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

TEST_CASE("fake fleet: listing info disk usage and stats as EngineClient reads them") {
  TempDir dir("fake-fleet");
  FakeFleetProcess fleet(ONEDOCK_FAKE_FLEET_BIN, testbed::Get("ONEDOCK_CERTS"), dir.path());
  REQUIRE_OK(fleet.Start(2, 3, kInstance));
  REQUIRE(fleet.hosts() == 2);
  docker::EngineClient h0("fleet0", fleet.EndpointOf(0));

  auto info = h0.Info();
  REQUIRE_OK(info);
  CHECK(info->name == "fleet0");
  CHECK(info->ncpu > 0);
  CHECK(info->mem_total > 0);
  CHECK(info->containers == 3);
  CHECK(info->containers_running == 3);
  auto df = h0.SystemDiskUsage();
  REQUIRE_OK(df);
  CHECK(df->layers > 0);
  CHECK(df->containers > 0);

  auto listed = h0.ListContainers(OwnLabels(0), true);
  REQUIRE_OK(listed);
  REQUIRE(listed->size() == 3);
  std::vector<std::string> ids;
  for (size_t j = 0; j < listed->size(); ++j) {
    const auto& c = (*listed)[j];
    CHECK(c.id.size() == 64);
    CHECK(c.name == "one-" + std::to_string(j));
    CHECK(c.state == "running");
    CHECK(c.status_text.rfind("Up ", 0) == 0);
    CHECK(c.labels.at("one.vmid") == std::to_string(j));
    CHECK(c.labels.at("one.host") == "fleet0");
    ids.push_back(c.id);
  }
  // The label filters are honoured: another instance or host has none of these.
  auto other_instance = h0.ListContainers({"one.instance=someone-else"}, true);
  REQUIRE_OK(other_instance);
  CHECK(other_instance->empty());
  auto other_host = h0.ListContainers(OwnLabels(1), true);
  REQUIRE_OK(other_host);
  CHECK(other_host->empty());
  docker::EngineClient h1("fleet1", fleet.EndpointOf(1));
  auto second = h1.ListContainers(OwnLabels(1), false);
  REQUIRE_OK(second);
  REQUIRE(second->size() == 3);
  CHECK(second->front().labels.at("one.vmid") == "3");

  // Stats wait for the fake's next tick, all of them together: the first round within a tick,
  // the next one, asked right after a tick, most of a second later.
  auto began = std::chrono::steady_clock::now();
  const auto first = h0.StatsOfMany(ids, 8);
  const double first_s = SecondsSince(began);
  began = std::chrono::steady_clock::now();
  const auto next = h0.StatsOfMany(ids, 8);
  const double next_s = SecondsSince(began);
  MESSAGE("stats rounds took " << first_s << " s and " << next_s << " s");
  CHECK(first_s < 1.5);
  CHECK(next_s > 0.5);
  CHECK(next_s < 1.5);
  REQUIRE(first.size() == 3);
  REQUIRE(next.size() == 3);
  for (size_t i = 0; i < ids.size(); ++i) {
    REQUIRE_OK(first[i]);
    REQUIRE_OK(next[i]);
    CHECK(first[i]->online_cpus > 0);
    CHECK(first[i]->memory_usage > 0);
    CHECK(first[i]->memory_limit > first[i]->memory_usage);
    CHECK(first[i]->pids > 0);
    CHECK(next[i]->cpu_total_ns > first[i]->cpu_total_ns);
    CHECK(next[i]->system_cpu_ns > first[i]->system_cpu_ns);
    CHECK(next[i]->net_rx_bytes > first[i]->net_rx_bytes);
  }
  CHECK(h0.Stats("one-999").status().code() == Status::Code::kNotFound);
}

TEST_CASE("fake fleet: a kill makes a die event and an exited container with exit code 137") {
  TempDir dir("fake-fleet");
  FakeFleetProcess fleet(ONEDOCK_FAKE_FLEET_BIN, testbed::Get("ONEDOCK_CERTS"), dir.path());
  REQUIRE_OK(fleet.Start(2, 3, kInstance));
  docker::EngineClient h1("fleet1", fleet.EndpointOf(1));
  auto listed = h1.ListContainers(OwnLabels(1), true);
  REQUIRE_OK(listed);
  REQUIRE(listed->size() == 3);
  const std::string victim = (*listed)[1].id;  // one-4

  // The stream replays from a second ago, so a kill sent before it is open still arrives.
  std::vector<Event> seen;
  Status streamed;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  std::thread reader([&] {
    docker::EngineClient events("fleet1", fleet.EndpointOf(1));
    streamed = events.StreamEvents(
        {.since = std::time(nullptr) - 1, .types = {"container"}, .labels = OwnLabels(1)},
        [&](const Event& e) {
          seen.push_back(e);
          return e.action != "die";
        },
        [&] { return std::chrono::steady_clock::now() < deadline; });
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  CHECK_OK(fleet.Kill("one-4"));
  reader.join();
  CHECK_OK(streamed);
  REQUIRE(!seen.empty());
  const Event& die = seen.back();
  CHECK(die.action == "die");
  CHECK(die.type == "container");
  CHECK(die.id == victim);
  CHECK(die.attributes.at("exitCode") == "137");
  CHECK(die.attributes.at("name") == "one-4");
  CHECK(die.attributes.at("one.vmid") == "4");
  CHECK(die.time_nano > 0);

  auto inspected = h1.InspectContainer(victim);
  REQUIRE_OK(inspected);
  CHECK_FALSE(inspected->running);
  CHECK(inspected->exit_code == 137);
  CHECK_FALSE(inspected->oom_killed);
  CHECK(inspected->labels.at("one.vmid") == "4");
  CHECK(inspected->finished_at.rfind("0001-", 0) != 0);
  auto logs = h1.LogTail(victim, 20, inspected->tty);
  REQUIRE_OK(logs);
  CHECK(logs->empty());

  auto running = h1.ListContainers(OwnLabels(1), false);
  REQUIRE_OK(running);
  CHECK(running->size() == 2);
  auto all = h1.ListContainers(OwnLabels(1), true);
  REQUIRE_OK(all);
  REQUIRE(all->size() == 3);
  CHECK((*all)[1].state == "exited");
  CHECK((*all)[1].status_text.rfind("Exited (137) ", 0) == 0);
  auto info = h1.Info();
  REQUIRE_OK(info);
  CHECK(info->containers_running == 2);

  CHECK(fleet.Kill("one-4").code() == Status::Code::kConflict);
  CHECK(fleet.Kill("one-999").code() == Status::Code::kNotFound);
  CHECK_OK(fleet.StartContainer("one-4"));
  auto again = h1.InspectContainer(victim);
  REQUIRE_OK(again);
  CHECK(again->running);
}

TEST_CASE("fake fleet: refuses a client without a certificate of its CA") {
  TempDir dir("fake-fleet");
  FakeFleetProcess fleet(ONEDOCK_FAKE_FLEET_BIN, testbed::Get("ONEDOCK_CERTS"), dir.path());
  REQUIRE_OK(fleet.Start(1, 1, kInstance));
  docker::Endpoint anonymous = fleet.EndpointOf(0);
  anonymous.cert_file.clear();
  anonymous.key_file.clear();
  CHECK_FALSE(docker::EngineClient("fleet0", anonymous).Info().ok());
  docker::Endpoint foreign = fleet.EndpointOf(0);
  foreign.cert_file = testbed::Get("ONEDOCK_CERTS") + "/foreign/cert.pem";
  foreign.key_file = testbed::Get("ONEDOCK_CERTS") + "/foreign/key.pem";
  CHECK_FALSE(docker::EngineClient("fleet0", foreign).Info().ok());
  CHECK_OK(docker::EngineClient("fleet0", fleet.EndpointOf(0)).Info());
}

}  // namespace onedock::testing
