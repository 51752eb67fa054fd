// fleet_bench: a smoke benchmark of the fake fleet itself (tests/fleet), so that a benchmark of
// onedockd against it knows what the fake costs. Starts fake_fleet with H hosts of C containers,
// then, one thread and one EngineClient per host as onedockd's monitor has, lists each host's
// running containers and asks all their stats together (C connections per host), for R rounds.
// Connections are opened host by host first (the warm-up); then every host at once, per round.
// Prints the wall time of each round and the CPU the fake used: per handshake in the warm-up,
// and per round over the kept connections.
//
//   fleet_bench [HOSTS [CONTAINERS [ROUNDS]]]     (default 50 200 5; needs the bed's certs)
#include <curl/curl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>
#include <vector>

#include "docker/engine_client.h"
#include "tests/integration/bed.h"
#include "tests/support/fake_fleet_process.h"
#include "tests/support/onedockd_process.h"

using onedock::docker::EngineClient;
using onedock::testing::FakeFleetProcess;

namespace {

struct Round {
  double wall_s = 0;
  double fake_cpu_s = 0;
  long samples = 0;
  long failures = 0;
};

// The first failure of a run, printed once: the rest are usually the same.
void Report(const onedock::Status& s) {
  static std::atomic<bool> reported{false};
  if (!reported.exchange(true)) std::fprintf(stderr, "fleet_bench: %s\n", s.message().c_str());
}

}  // namespace

int main(int argc, char** argv) {
  const int hosts = argc > 1 ? std::atoi(argv[1]) : 50;
  const int containers = argc > 2 ? std::atoi(argv[2]) : 200;
  const int rounds = argc > 3 ? std::atoi(argv[3]) : 5;
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  const std::string dir = "/tmp/onedock-fleet-bench-" + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  int status = 0;
  {
    FakeFleetProcess fleet(ONEDOCK_FAKE_FLEET_BIN, onedock::testbed::Get("ONEDOCK_CERTS"), dir);
    if (auto s = fleet.Start(hosts, containers, "fleet-bench"); !s.ok()) {
      std::fprintf(stderr, "fleet_bench: %s\n", s.message().c_str());
      return 1;
    }
    const double idle_cpu = fleet.CpuSeconds();
    std::vector<std::unique_ptr<EngineClient>> clients;
    for (int h = 0; h < hosts; ++h) {
      clients.push_back(
          std::make_unique<EngineClient>(FakeFleetProcess::HostName(h), fleet.EndpointOf(h)));
    }
    // One host after another first: opened all at once, ten thousand handshakes (client and
    // fake on the same two CPUs) would outlast the client's 5 s connect timeout.
    const double warm_before = fleet.CpuSeconds();
    const auto warm_began = std::chrono::steady_clock::now();
    long warm_failures = 0;
    for (int h = 0; h < hosts; ++h) {
      EngineClient& client = *clients[static_cast<size_t>(h)];
      auto listed = client.ListContainers(
          {"one.instance=fleet-bench", "one.host=" + FakeFleetProcess::HostName(h)}, false);
      if (!listed.ok()) {
        Report(listed.status());
        warm_failures += containers;
        continue;
      }
      std::vector<std::string> ids;
      for (const auto& c : *listed) ids.push_back(c.id);
      for (const auto& s : client.StatsOfMany(ids, static_cast<size_t>(containers))) {
        if (!s.ok()) {
          Report(s.status());
          ++warm_failures;
        }
      }
    }
    const double warm_cpu = fleet.CpuSeconds() - warm_before;
    std::printf(
        "warm-up, host by host: %d connections, %ld failed, %.1f s wall, fake CPU %.2f s "
        "(%.2f ms a connection)\n",
        hosts * containers, warm_failures,
        std::chrono::duration<double>(std::chrono::steady_clock::now() - warm_began).count(),
        warm_cpu, 1000 * warm_cpu / std::max(1, hosts * containers));
    std::vector<Round> results;
    for (int r = 0; r < rounds; ++r) {
      const double cpu_before = fleet.CpuSeconds();
      std::atomic<long> samples{0}, failures{0};
      const auto began = std::chrono::steady_clock::now();
      std::vector<std::thread> threads;
      for (int h = 0; h < hosts; ++h) {
        threads.emplace_back([&, h] {
          EngineClient& client = *clients[static_cast<size_t>(h)];
          const std::string host = FakeFleetProcess::HostName(h);
          auto listed = client.ListContainers({"one.instance=fleet-bench", "one.host=" + host},
                                              /*all=*/false);
          if (!listed.ok()) {
            failures += containers;
            Report(listed.status());
            return;
          }
          std::vector<std::string> ids;
          for (const auto& c : *listed) ids.push_back(c.id);
          for (const auto& s : client.StatsOfMany(ids, static_cast<size_t>(containers))) {
            (s.ok() ? samples : failures) += 1;
            if (!s.ok()) Report(s.status());
          }
        });
      }
      for (auto& t : threads) t.join();
      Round round;
      round.wall_s =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
      round.fake_cpu_s = fleet.CpuSeconds() - cpu_before;
      round.samples = samples;
      round.failures = failures;
      results.push_back(round);
      std::printf("round %d: %ld samples, %ld failed, %.2f s wall, fake CPU %.2f s\n", r + 1,
                  round.samples, round.failures, round.wall_s, round.fake_cpu_s);
      if (round.failures > 0) status = 1;
    }
    double steady = 0;
    for (const Round& r : results) steady += r.fake_cpu_s;
    if (!results.empty()) steady /= static_cast<double>(results.size());
    std::printf(
        "fake_fleet %d hosts x %d containers: start-up CPU %.2f s, then %.3f s CPU per round "
        "of %d stats over kept connections; resident %ld kB (peak %ld kB)\n",
        hosts, containers, idle_cpu, steady, hosts * containers,
        onedock::testing::ProcStatusKb(fleet.pid(), "VmRSS"),
        onedock::testing::ProcStatusKb(fleet.pid(), "VmHWM"));
  }
  std::filesystem::remove_all(dir);
  curl_global_cleanup();
  return status;
}
