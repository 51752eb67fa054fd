// Monitoring benchmark on engine h1 of the test bed, in one run:
//  - one full VM monitoring round (list the running containers, one stats sample each, the
//    MONITOR_VM text, sent to a monitord socket) through onedock's HostMonitor, for 1, 50 and 200
//    running containers, next to the same data fetched with the raw API all at once (every stats
//    request in flight together, which is the engine's limit: it answers them at its next
//    one-second collector tick) and one container at a time on one connection; wall time and the
//    CPU time this process spent, and the threads it had during onedock's round;
//  - the delay from `docker kill` (raw API) to the STATE_VM message reaching monitord.
//
//  - the fake fleet (tests/fleet, for scale only): H hosts of M running containers monitored
//    through MonitorService as onedockd runs it, three VM rounds with their span, CPU, threads and
//    memory, the raw API's round over the same fleet, and kill → STATE_VM. A phase's VMs are those
//    reported within it, its gap the longest time between two MONITOR_VMs of one VM ending in it
//    (a VM round comes 30 s after the last one began, so a gap is 30 s plus the later round's
//    growth in duration, and more when rounds wait for a round thread). The two MONITOR_VM
//    periods begin 15 s after the first rounds ended, so that their bounds fall between rounds.
//
//   monitor_bench [counts...] [--fleet=HxM | --fleet=0] [--fleet-only] [--stats-in-flight=N]
//                 [--stats-connections=N] [--round-threads=N]
//   default: 1 50 200, a fleet of 50x200, and the stats bounds of onedockd.conf's [monitor]
//   (--stats-in-flight applies to the real engine's rounds too)
#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include "bridge/container_plan.h"
#include "bridge/vm_activity.h"
#include "docker/engine_client.h"
#include "docker/engine_pool.h"
#include "docker/event_feed.h"
#include "monitor/host_monitor.h"
#include "monitor/monitor_service.h"
#include "monitor/round_scheduler.h"
#include "rpc/monitord_message.h"
#include "rpc/monitord_sender.h"
#include "rpc/one_parse.h"
#include "tests/bench/bench_util.h"
#include "tests/free_port.h"
#include "tests/integration/bed.h"
#include "tests/support/fake_fleet_process.h"
#include "tests/support/threads.h"

namespace onedock {
namespace {

using Clock = std::chrono::steady_clock;

double CpuSeconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

using bench::Ms;

// A monitord stand-in: UDP and TCP on one loopback port; keeps when each STATE_VM arrived.
class Listener {
 public:
  Listener() {
    for (int attempt = 0; attempt < 20; ++attempt) {
      tcp_ = Bind(SOCK_STREAM, 0);
      udp_ = Bind(SOCK_DGRAM, port_);
      if (udp_ >= 0) break;
      close(tcp_);
    }
    listen(tcp_, 64);
    tcp_thread_ = std::thread([this] { Tcp(); });
    udp_thread_ = std::thread([this] { Udp(); });
  }
  ~Listener() {
    stop_ = true;
    shutdown(tcp_, SHUT_RDWR);
    shutdown(udp_, SHUT_RDWR);
    tcp_thread_.join();
    udp_thread_.join();
    close(tcp_);
    close(udp_);
  }
  int port() const { return port_; }
  // Waits until a STATE_VM reports `vm` as `state`; returns when it arrived.
  bool WaitState(int vm, const std::string& state, Clock::time_point* at,
                 std::chrono::seconds limit) {
    const std::string needle = "ID=\"" + std::to_string(vm) + "\", DEPLOY_ID=";
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, limit, [&] {
      for (const auto& [when, text] : states_) {
        const auto pos = text.find(needle);
        if (pos != std::string::npos &&
            text.find("STATE=\"" + state + "\"", pos) != std::string::npos) {
          *at = when;
          return true;
        }
      }
      return false;
    });
  }
  size_t udp_messages() const { return udp_messages_; }
  // The VMs MONITOR_VM reported since the last call.
  std::set<int> TakeVmsReported() {
    std::lock_guard lock(mu_);
    return std::exchange(vms_reported_, {});
  }
  // The longest time between two MONITOR_VMs of one VM among the reports since the last call.
  Clock::duration TakeLongestGap() {
    std::lock_guard lock(mu_);
    return std::exchange(longest_gap_, {});
  }
  // Forgets when each VM was last reported (the fleet's VM ids repeat the real engine's).
  void ForgetReports() {
    std::lock_guard lock(mu_);
    last_report_.clear();
    vms_reported_.clear();
    longest_gap_ = {};
  }

 private:
  int Bind(int type, int port) { return testing::BindLoopback(type, port, &port_); }
  void Tcp() {
    while (!stop_) {
      const int c = accept(tcp_, nullptr, nullptr);
      if (c < 0) return;
      std::string wire;
      char buf[8192];
      for (ssize_t n; (n = read(c, buf, sizeof buf)) > 0;) wire.append(buf, static_cast<size_t>(n));
      close(c);
      const auto when = Clock::now();
      auto m = rpc::DecodeMonitordMessage(wire);
      if (!m.ok()) continue;
      std::lock_guard lock(mu_);
      states_.push_back({when, m->payload});
      cv_.notify_all();
    }
  }
  void Udp() {
    std::vector<char> buf(65536);
    while (!stop_) {
      const ssize_t n = recv(udp_, buf.data(), buf.size(), 0);
      if (n <= 0) return;
      ++udp_messages_;
      auto m = rpc::DecodeMonitordMessage(std::string(buf.data(), static_cast<size_t>(n)));
      if (!m.ok() || m->type != "MONITOR_VM") continue;
      const auto when = Clock::now();
      std::lock_guard lock(mu_);
      for (size_t at = 0; (at = m->payload.find("VM = [ ID=\"", at)) != std::string::npos;) {
        at += 11;
        const int vm = std::atoi(m->payload.c_str() + at);
        vms_reported_.insert(vm);
        auto [last, first] = last_report_.try_emplace(vm, when);
        if (!first) longest_gap_ = std::max(longest_gap_, when - std::exchange(last->second, when));
      }
    }
  }

  int tcp_ = -1, udp_ = -1, port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<size_t> udp_messages_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::pair<Clock::time_point, std::string>> states_;
  std::set<int> vms_reported_;
  std::map<int, Clock::time_point> last_report_;
  Clock::duration longest_gap_{};
  std::thread tcp_thread_, udp_thread_;
};

// Resident memory of this process, in MB (VmRSS of /proc/self/status).
double RssMb() {
  std::FILE* f = std::fopen("/proc/self/status", "r");
  if (f == nullptr) return 0;
  char line[256];
  double kb = 0;
  while (std::fgets(line, sizeof line, f) != nullptr) {
    if (std::sscanf(line, "VmRSS: %lf kB", &kb) == 1) break;
  }
  std::fclose(f);
  return kb / 1024;
}

// onedock's monitoring of the fake fleet (tests/fleet), as onedockd runs it: one MonitorService
// (its round threads, one event feed) over `hosts` fake hosts of `containers` running containers,
// monitord's default periods (MONITOR_VM every 30 s). Prints three VM rounds (the first opens the
// connections), the raw API's round over the same fleet, and docker kill → STATE_VM.
bool FleetRun(int hosts, int containers, int stats_in_flight, int stats_connections,
              int round_threads, Listener& monitord) {
  std::string made = "/tmp/onedock-monitor-bench-XXXXXX";
  if (mkdtemp(made.data()) == nullptr) return false;
  struct Removed {
    std::string path;
    ~Removed() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  } dir{made};
  testing::FakeFleetProcess fleet(ONEDOCK_FAKE_FLEET_BIN, testbed::Get("ONEDOCK_CERTS"), dir.path);
  const std::string instance = "fleetbench";
  if (Status s = fleet.Start(hosts, containers, instance); !s.ok()) {
    std::fprintf(stderr, "monitor_bench: fake fleet: %s\n", s.ToString().c_str());
    return false;
  }
  const auto resolve = [&fleet](const std::string& host) -> Result<docker::Endpoint> {
    for (int h = 0; h < fleet.hosts(); ++h) {
      if (testing::FakeFleetProcess::HostName(h) == host) return fleet.EndpointOf(h);
    }
    return InvalidArgument("no fake host " + host);
  };
  std::printf(
      "\nfleet: the fake Engine API (tests/fleet, for scale only), %d hosts x %d running "
      "containers, through MonitorService as onedockd runs it, stats in flight: %d per host, %d "
      "for all hosts, %d round threads\n",
      hosts, containers, stats_in_flight, stats_connections, round_threads);
  bool ok = true;
  {
    docker::EnginePool engines(resolve, 8);
    docker::MultiEventFeed events(resolve);
    rpc::MonitordSender sender;
    VmActivity activity;
    auto journal = SqliteStore::Open(dir.path + "/journal.db");
    if (!journal.ok()) {
      std::fprintf(stderr, "monitor_bench: %s\n", journal.status().ToString().c_str());
      return false;
    }
    const std::string configuration =
        "<MONITOR_CONFIGURATION><NETWORK><MONITOR_ADDRESS>127.0.0.1</MONITOR_ADDRESS><PORT>" +
        std::to_string(monitord.port()) + "</PORT></NETWORK></MONITOR_CONFIGURATION>";
    monitord.ForgetReports();
    const size_t threads_before = testing::ThreadsOfThisProcess();
    monitor::MonitorService service(
        {engines, activity, sender, onedock::Clock::Real(), &events}, **journal,
        {.instance = instance,
         .stats_in_flight = stats_in_flight,
         .stats_connections = stats_connections,
         .round_threads = round_threads},
        [](const std::string& xml) { return rpc::ParseMonitorConfiguration(xml, {}); });
    for (int h = 0; h < hosts; ++h) {
      auto first =
          service.StartMonitoring(h, testing::FakeFleetProcess::HostName(h), configuration);
      if (!first.ok()) {
        std::fprintf(stderr, "monitor_bench: %s\n", first.status().ToString().c_str());
        return false;
      }
    }
    const auto started = service.Snapshot();
    std::printf("each host's share: %d stats in flight\n",
                started.empty() ? 0 : started.front().stats_in_flight);
    // Each host's VM rounds, as its snapshot records them; a phase ends at `until` or, with
    // `until_all`, once every host has had a round.
    std::vector<onedock::Clock::TimePoint> seen(static_cast<size_t>(hosts));
    size_t most_threads = 0;
    const auto phase = [&](const char* name, std::chrono::seconds limit, bool until_all) {
      const double cpu0 = CpuSeconds(), fake_cpu0 = fleet.CpuSeconds();
      const auto began = Clock::now();
      std::vector<double> took;
      std::vector<bool> had(static_cast<size_t>(hosts), false);
      int hosts_done = 0;
      while (Clock::now() - began < limit && !(until_all && hosts_done == hosts)) {
        most_threads = std::max(most_threads, testing::ThreadsOfThisProcess());
        for (const auto& h : service.Snapshot()) {
          const auto i = static_cast<size_t>(h.host_id);
          if (!h.vm.ended || *h.vm.ended == seen[i]) continue;
          seen[i] = *h.vm.ended;
          took.push_back(Ms(h.vm.took));
          if (!had[i]) ++hosts_done;
          had[i] = true;
        }
        // This polling runs in the process measured, so it is counted in "CPU (this)": four
        // times a second, where a host's rounds are 30 s apart.
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
      }
      const double wall = Ms(Clock::now() - began);
      const double cpu = (CpuSeconds() - cpu0) * 1000, fake_cpu = fleet.CpuSeconds() - fake_cpu0;
      const size_t vms = monitord.TakeVmsReported().size();
      const double gap = Ms(monitord.TakeLongestGap()) / 1000;
      const bench::Figures f = bench::Summarize(took);
      std::printf(
          "%-26s | %8.0f ms | %6zu | %5.1f s | %5d | %7.0f / %7.0f ms | %8.0f ms | %7zu | %4.0f MB "
          "| %.2f s\n",
          name, wall, vms, gap, hosts_done, f.median, f.max, cpu, most_threads, RssMb(), fake_cpu);
      return hosts_done == hosts && vms == static_cast<size_t>(hosts * containers);
    };
    std::printf("%-26s | %-11s | %-6s | %-7s | %-5s | %-22s | %-11s | %-7s | %-7s | %s\n", "phase",
                "wall", "VMs", "gap", "hosts", "host's VM round med/max", "CPU (this)", "threads",
                "RSS", "fake CPU");
    // The first rounds open every TLS connection; then two whole MONITOR_VM periods. The first
    // VM rounds of hosts that start together wait for the last start, then fall within a spread
    // window (stats_share.h), so a period that began as the first rounds ended would end as the
    // next rounds do, and the later rounds' reports would fall after it: the periods begin half
    // a period later, between two rounds of every host.
    phase("first rounds (connecting)", std::chrono::seconds(180), true);
    std::this_thread::sleep_for(std::chrono::seconds(15));
    monitord.TakeVmsReported();
    const auto unlisted = [&service] {
      uint64_t n = 0;
      for (const auto& h : service.Snapshot()) n += h.state_rounds_unlisted;
      return n;
    };
    const uint64_t unlisted_before = unlisted();
    for (const char* name : {"one MONITOR_VM period", "another period"}) {
      if (!phase(name, std::chrono::seconds(30), false)) ok = false;
    }
    std::printf(
        "        state rounds without a listing (the event stream stood in): %llu in the two "
        "periods, of about %d\n",
        static_cast<unsigned long long>(unlisted() - unlisted_before), hosts * 12);
    std::printf(
        "        threads before the service: %zu (main, the monitord stand-in's two, the event "
        "feed's)\n",
        threads_before);
    // docker kill → STATE_VM at this size.
    const int victim = 7 % hosts * containers + 3 % containers;
    const auto killed = Clock::now();
    if (Status s = fleet.Kill("one-" + std::to_string(victim)); !s.ok()) {
      std::fprintf(stderr, "monitor_bench: kill: %s\n", s.ToString().c_str());
      ok = false;
    }
    Clock::time_point arrived;
    if (monitord.WaitState(victim, "POWEROFF", &arrived, std::chrono::seconds(10))) {
      std::printf("        kill (fake) -> STATE_VM POWEROFF at monitord: %.1f ms\n",
                  Ms(arrived - killed));
    } else {
      std::printf("        kill (fake) -> STATE_VM POWEROFF: not seen within 10 s\n");
      ok = false;
    }
  }
  // The raw API over the same fleet: a thread and a client per host, each listing its running
  // containers and asking all their stats at once, on connections a first pass opened host by host.
  std::vector<std::unique_ptr<docker::EngineClient>> clients;
  for (int h = 0; h < hosts; ++h) {
    clients.push_back(std::make_unique<docker::EngineClient>(testing::FakeFleetProcess::HostName(h),
                                                             fleet.EndpointOf(h)));
  }
  std::atomic<size_t> sampled{0};
  const auto sample = [&](int h) {
    const std::string host = testing::FakeFleetProcess::HostName(h);
    docker::EngineClient& c = *clients[static_cast<size_t>(h)];
    auto listed = c.ListContainers(
        {std::string(kLabelInstance) + "=" + instance, std::string(kLabelHost) + "=" + host},
        false);
    if (!listed.ok()) return;
    std::vector<std::string> ids;
    for (const auto& l : *listed) ids.push_back(l.id);
    for (const auto& r : c.StatsOfMany(ids, ids.size())) sampled += r.ok() ? 1 : 0;
  };
  for (int h = 0; h < hosts; ++h) sample(h);
  sampled = 0;
  const double cpu0 = CpuSeconds();
  const auto t0 = Clock::now();
  {
    std::vector<std::thread> each;
    for (int h = 0; h < hosts; ++h) each.emplace_back(sample, h);
    for (auto& t : each) t.join();
  }
  const double raw_wall = Ms(Clock::now() - t0);
  std::printf("%-26s | %8.0f ms | %6zu | %5d | %-22s | %8.0f ms | %7d |\n", "raw API, one round",
              raw_wall, sampled.load(), hosts, "(a thread per host, warm)",
              (CpuSeconds() - cpu0) * 1000, hosts);
  return ok;
}

int Main(int argc, char** argv) {
  std::vector<int> counts;
  int fleet_hosts = 50, fleet_containers = 200;
  const monitor::MonitorSettings defaults;
  int stats_in_flight = defaults.stats_in_flight, stats_connections = defaults.stats_connections;
  int round_threads = defaults.round_threads;
  bool real = true;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--stats-in-flight=", 0) == 0) {
      stats_in_flight = std::max(1, std::atoi(arg.c_str() + 18));
    } else if (arg.rfind("--stats-connections=", 0) == 0) {
      stats_connections = std::max(0, std::atoi(arg.c_str() + 20));
    } else if (arg.rfind("--round-threads=", 0) == 0) {
      round_threads = std::max(1, std::atoi(arg.c_str() + 16));
    } else if (arg == "--fleet-only") {
      real = false;
    } else if (arg.rfind("--fleet=", 0) == 0) {
      fleet_hosts = std::atoi(arg.c_str() + 8);
      const auto x = arg.find('x');
      fleet_containers = x == std::string::npos ? 0 : std::atoi(arg.c_str() + x + 1);
    } else {
      counts.push_back(std::atoi(argv[i]));
    }
  }
  if (counts.empty()) counts = {1, 50, 200};
  std::sort(counts.begin(), counts.end());
  if (!real) {
    Listener monitord;
    return FleetRun(fleet_hosts, fleet_containers, stats_in_flight, stats_connections,
                    round_threads, monitord)
               ? 0
               : 1;
  }

  const std::string instance = testbed::UniqueName("monbench");
  const docker::Endpoint endpoint = testbed::Engine("h1");
  docker::EngineClient raw("h1", endpoint);
  if (Status s = raw.PullImage(testbed::TestImage()); !s.ok()) {
    std::fprintf(stderr, "monitor_bench: %s\n", s.ToString().c_str());
    return 1;
  }
  auto version = raw.Negotiate();
  std::printf("monitor_bench on engine h1 (API %s), instance %s, onedock's stats in flight: %d\n",
              version.ok() ? version->ToString().c_str() : "?", instance.c_str(), stats_in_flight);
  Listener monitord;
  VmActivity activity;  // empty: nothing is onedock's own action here
  const std::vector<std::string> labels = {std::string(kLabelInstance) + "=" + instance,
                                           std::string(kLabelHost) + "=h1"};
  auto cleanup = [&] {
    auto ours = raw.ListContainers({labels[0]}, true);
    if (!ours.ok()) return;
    std::vector<std::thread> removers;
    std::atomic<size_t> next{0};
    for (int w = 0; w < 8; ++w) {
      removers.emplace_back([&] {
        docker::EngineClient c("h1", endpoint);
        for (size_t i; (i = next++) < ours->size();) c.RemoveContainer((*ours)[i].id, true, true);
      });
    }
    for (auto& t : removers) t.join();
  };

  std::printf("\n%-10s | %-26s | %-26s | %-26s | %s\n", "containers", "onedock round: wall / CPU",
              "raw API, all at once", "raw API, one by one", "onedock/raw all");
  int created = 0;
  std::vector<double> kill_delays;
  bool failed = false;
  for (int count : counts) {
    // Bring the number of running containers up to `count`, eight creations at a time.
    std::atomic<int> next{created};
    std::atomic<int> errors{0};
    std::vector<std::thread> creators;
    for (int w = 0; w < 8; ++w) {
      creators.emplace_back([&] {
        docker::EngineClient c("h1", endpoint);
        for (int i; (i = next++) < count;) {
          ContainerSpec spec;
          spec.name = instance + "-" + std::to_string(i);
          spec.image = testbed::TestImage();
          spec.network_mode = "none";
          spec.memory_bytes = 32 << 20;
          spec.labels = {
              {kLabelInstance, instance}, {kLabelHost, "h1"}, {kLabelVmId, std::to_string(i)}};
          if (!c.CreateContainer(spec).ok() || !c.StartContainer(spec.name).ok()) ++errors;
        }
      });
    }
    for (auto& t : creators) t.join();
    created = count;
    if (errors > 0) {
      std::fprintf(stderr, "monitor_bench: %d containers did not start\n", errors.load());
      failed = true;
      break;
    }

    monitor::HostTarget target{0, "h1", {"127.0.0.1", monitord.port()}, {}};
    target.periods.state_vm = 1;
    // What onedockd gives a host monitor: the engine pool, the monitord sender, the real clock.
    docker::EnginePool engines(
        [&endpoint](const std::string&) { return Result<docker::Endpoint>(endpoint); }, 8);
    rpc::MonitordSender sender;
    // As MonitorService runs a host: rounds on a scheduler, events from a feed.
    monitor::RoundScheduler rounds(1, onedock::Clock::Real());
    docker::MultiEventFeed events(
        [&endpoint](const std::string&) { return Result<docker::Endpoint>(endpoint); });
    monitor::HostMonitor hm(
        target, {engines, activity, sender, onedock::Clock::Real()},
        {.instance = instance, .stats_in_flight = stats_in_flight},
        monitor::RoundHooks{[&rounds] { rounds.Wake(0); }, [&events] { return events.Live(0); }});
    // The first round opens the connections and takes the first CPU samples.
    auto warm = hm.VmRound();
    if (!warm.ok() || warm->size() != static_cast<size_t>(count)) {
      std::fprintf(stderr, "monitor_bench: first round: %s\n",
                   warm.ok() ? "wrong count" : warm.status().ToString().c_str());
      failed = true;
      break;
    }
    std::atomic<bool> round_done{false};
    std::atomic<size_t> most_threads{0};
    std::thread counter([&] {
      while (!round_done) {
        most_threads = std::max(most_threads.load(), testing::ThreadsOfThisProcess());
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    });
    const size_t threads_before = testing::ThreadsOfThisProcess();  // the counter's included
    double cpu0 = CpuSeconds();
    auto t0 = Clock::now();
    auto figures = hm.VmRound();
    size_t with_cpu = 0;
    if (figures.ok()) {
      hm.SendVmFigures(*figures);
      for (const auto& f : *figures) with_cpu += f.cpu.has_value() ? 1 : 0;
    }
    const double onedock_wall = Ms(Clock::now() - t0), onedock_cpu = (CpuSeconds() - cpu0) * 1000;
    round_done = true;
    counter.join();

    // The raw API all at once: list, then every stats request in flight together, on connections
    // a first pass opened (as onedock's round had its warm-up round).
    std::vector<std::string> warm_ids;
    if (auto l = raw.ListContainers(labels, false); l.ok()) {
      for (const auto& c : *l) warm_ids.push_back(c.id);
    }
    raw.StatsOfMany(warm_ids, warm_ids.size());
    double all_cpu0 = CpuSeconds();
    auto all_t0 = Clock::now();
    auto all_listed = raw.ListContainers(labels, false);
    size_t all_sampled = 0;
    if (all_listed.ok()) {
      std::vector<std::string> ids;
      for (const auto& c : *all_listed) ids.push_back(c.id);
      for (const auto& s : raw.StatsOfMany(ids, ids.size())) all_sampled += s.ok() ? 1 : 0;
    }
    const double all_wall = Ms(Clock::now() - all_t0);
    const double all_cpu = (CpuSeconds() - all_cpu0) * 1000;

    // The same data with the raw API: list, then one stats call after the other on one connection
    // (a second per container: asked only up to kOneByOneMax containers).
    constexpr int kOneByOneMax = 50;
    double raw_wall = 0, raw_cpu = 0;
    size_t sampled = static_cast<size_t>(count);
    if (count <= kOneByOneMax) {
      cpu0 = CpuSeconds();
      t0 = Clock::now();
      auto listed = raw.ListContainers(labels, false);
      sampled = 0;
      if (listed.ok()) {
        for (const auto& c : *listed) sampled += raw.Stats(c.id).ok() ? 1 : 0;
      }
      raw_wall = Ms(Clock::now() - t0);
      raw_cpu = (CpuSeconds() - cpu0) * 1000;
    }
    std::printf(
        "%-10d | %8.1f ms / %7.1f ms | %8.1f ms / %7.1f ms | %8.1f ms / %7.1f ms | %5.2fx"
        "%s\n",
        count, onedock_wall, onedock_cpu, all_wall, all_cpu, raw_wall, raw_cpu,
        all_wall > 0 ? onedock_wall / all_wall : 0.0,
        count <= kOneByOneMax ? "" : "   (one by one not asked: about a second per container)");
    std::printf(
        "%-10s   %zu VMs with CPU; raw sampled %zu and %zu; threads during the round: %zu "
        "at most, %zu before\n",
        "", with_cpu, all_sampled, sampled, most_threads.load(), threads_before);
    if (!figures.ok() || figures->size() != static_cast<size_t>(count) ||
        sampled != static_cast<size_t>(count) || all_sampled != static_cast<size_t>(count)) {
      failed = true;
    }

    // docker kill -> STATE_VM: the monitor's rounds and events run; one container is killed.
    rounds.Add(0, [&hm] { return hm.Tick(); });
    const int victim = count - 1;
    const std::string victim_name = instance + "-" + std::to_string(victim);
    // When the victim's die event reached the feed: the engine's part of the delay ends there.
    std::atomic<Clock::rep> die_handed{0};
    if (Status s = events.Follow(0, "h1", hm.Events(),
                                 [&](const Event& e) {
                                   auto name = e.attributes.find("name");
                                   if (e.action == "die" && name != e.attributes.end() &&
                                       name->second == victim_name && die_handed == 0) {
                                     die_handed = Clock::now().time_since_epoch().count();
                                   }
                                   hm.OnEvent(e);
                                 });
        !s.ok()) {
      std::fprintf(stderr, "monitor_bench: events: %s\n", s.ToString().c_str());
      failed = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::seconds(2));  // the first (complete) report goes out
    const auto killed = Clock::now();
    raw.KillContainer(victim_name);
    Clock::time_point arrived;
    if (monitord.WaitState(victim, "POWEROFF", &arrived, std::chrono::seconds(30)) &&
        arrived > killed) {
      kill_delays.push_back(Ms(arrived - killed));
      const Clock::rep handed_at = die_handed.load();
      const Clock::time_point handed{Clock::duration(handed_at)};
      std::printf(
          "%-10s   docker kill -> STATE_VM POWEROFF at monitord: %.1f ms (kill -> die event at "
          "the feed %.1f ms, then onedock %.1f ms)\n",
          "", kill_delays.back(), handed_at == 0 ? 0.0 : Ms(handed - killed),
          handed_at == 0 ? 0.0 : Ms(arrived - handed));
    } else {
      std::printf("%-10s   docker kill -> STATE_VM POWEROFF: not seen within 30 s\n", "");
      failed = true;
    }
    raw.StartContainer(instance + "-" + std::to_string(victim));
    events.Unfollow(0);
    rounds.Remove(0);
  }
  std::printf("\nmonitord stand-in received %zu UDP messages\n", monitord.udp_messages());
  cleanup();
  if (fleet_hosts > 0 && fleet_containers > 0 &&
      !FleetRun(fleet_hosts, fleet_containers, stats_in_flight, stats_connections, round_threads,
                monitord)) {
    failed = true;
  }
  return failed ? 1 : 0;
}

}  // namespace
}  // namespace onedock

int main(int argc, char** argv) {
  return onedock::bench::WithCurl([&] { return onedock::Main(argc, argv); });
}
