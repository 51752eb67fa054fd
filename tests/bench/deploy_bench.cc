// Benchmark (not a test): deploying a VM through onedock against creating the same container
// with the raw Engine API, on engine h1 in one run.
//   1. latency: the deploy script called (onedock-stub, exactly as oned execs it, with the VM
//      document from the emulator on stdin) until it exits with the container running, against
//      POST /containers/create + /start of the same spec on a reused connection; interleaved.
//   2. throughput: N deploys started at once (N scripts) against N threads doing create+start,
//      each on its own connection; VMs per second = N / wall time;
//   3. across both engines: M deploys started at once, every other one on h2, against M raw-API
//      threads doing the same on both engines;
//   4. where a deploy's time goes inside onedockd: the median of each step that onedockd's debug
//      log gives for every deploy (VmActions' StepTimer), for the single and the concurrent ones.
// The emulator only supplies VM documents and vnet leases here; onedockd reads the vnet from it.
// Usage: deploy_bench [iterations=20] [concurrency=20] [across_both=50]
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bridge/base64.h"
#include "docker/engine_client.h"
#include "tests/bench/bench_util.h"
#include "tests/emulator/driver_runner.h"
#include "tests/free_port.h"
#include "tests/integration/bed.h"
#include "tests/integration/emulator_process.h"
#include "tests/support/onedockd_process.h"

namespace onedock {
namespace {

using bench::Clock;
using bench::Ms;
namespace fs = std::filesystem;

// What Die() stops on the way out: onedockd and the emulator.
std::function<void()> g_stop;

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "deploy_bench: %s\n", what.c_str());
  if (g_stop) g_stop();
  std::exit(1);
}

struct Setup {
  std::string root;
  std::unique_ptr<testing::EmulatorProcess> emu;
  std::unique_ptr<testing::OnedockdProcess> onedockd;
  int image_id = -1;
  int vnet_id = -1;
  std::string image;
};

constexpr char kInstance[] = "onedock-bench";
constexpr char kBridge[] = "odkbench";

void StartWorld(Setup& s) {
  char dir[] = "/tmp/onedock-bench-XXXXXX";
  if (mkdtemp(dir) == nullptr) Die("mkdtemp");
  s.root = dir;
  fs::create_directories(s.root + "/remotes");
  s.emu = std::make_unique<testing::EmulatorProcess>("");
  const int port = testing::FreeLoopbackPort();
  const std::string certs = testbed::Get("ONEDOCK_CERTS");
  std::ofstream(s.root + "/one_auth") << s.emu->session() << "\n";
  std::ofstream(s.root + "/stub.conf")
      << "endpoint = http://127.0.0.1:" << port << "/RPC2\ntoken_file = " << s.root << "/token\n";
  const std::string install = std::string(ONEDOCK_DRIVERS_DIR) + "/install.sh " + s.root +
                              "/remotes " + ONEDOCK_STUB_BIN + " " + s.root + "/stub.conf";
  if (std::system(install.c_str()) != 0) Die("install drivers");
  std::ofstream(s.root + "/onedockd.conf")
      << "[oned]\nendpoint = " << s.emu->endpoint() << "\nauth_file = " << s.root << "/one_auth\n"
      << "[stub]\nlisten = 127.0.0.1:" << port << "\ntoken_file = " << s.root << "/token\n"
      << "[engines]\nca = " << certs << "/ca.pem\ncert = " << certs << "/cert.pem\nkey = " << certs
      << "/key.pem\n"
      << "[host h1]\nurl = https://" << testbed::Get("ONEDOCK_ENGINE_H1") << "\n"
      << "[host h2]\nurl = https://" << testbed::Get("ONEDOCK_ENGINE_H2") << "\n"
      << "[registry]\naddress = " << testbed::RegistryHost("private") << "\n"
      << "[journal]\npath = " << s.root << "/journal.db\n[containers]\ninstance = " << kInstance
      << "\nstop_timeout = 2\n[metrics]\nlisten =\n[log]\nlevel = debug\n";
  s.onedockd = std::make_unique<testing::OnedockdProcess>(ONEDOCKD_BIN, s.root + "/onedockd.conf",
                                                          s.root + "/onedockd.log", port);
  g_stop = [&s] {
    s.onedockd.reset();
    s.emu.reset();
  };
  if (Status started = s.onedockd->Start(); !started.ok()) Die(started.ToString());

  docker::EngineClient h1("h1", testbed::Engine("h1"));
  s.image = testbed::RegistryHost("private") + "/onedock/httpd:1.0";
  if (!h1.PullImage(testbed::TestImage()).ok() ||
      !h1.TagImage(testbed::TestImage(), testbed::RegistryHost("private") + "/onedock/httpd", "1.0")
           .ok() ||
      !h1.PushImage(s.image).ok()) {
    Die("cannot put the test image into the private registry");
  }
  auto str = [](const std::string& v) { return xmlrpc_c::value(xmlrpc_c::value_string(v)); };
  auto num = [](int v) { return xmlrpc_c::value(xmlrpc_c::value_int(v)); };
  const int ds = s.emu->Allocate("one.datastore.allocate",
                                 {str("NAME = img\nDS_MAD = onedock\nTM_MAD = onedock"), num(-1)});
  s.image_id =
      s.emu->Allocate("one.image.allocate",
                      {str("NAME = httpd\nSOURCE = " + s.image + "\nFORMAT = docker"), num(ds)});
  s.vnet_id = s.emu->Allocate(
      "one.vn.allocate",
      {str(std::string("NAME = bench\nBRIDGE = ") + kBridge +
           "\nVN_MAD = bridge\nNETWORK_ADDRESS = 10.239.0.0\nNETWORK_MASK = 255.255.255.0\n"
           "GATEWAY = 10.239.0.1\nAR = [ TYPE = IP4, IP = 10.239.0.10, SIZE = 120 ]"),
       num(-1)});
}

// A VM allocated in the emulator (with its lease) and its document as oned would pass it to deploy.
std::pair<int, std::string> NewVmDocument(Setup& s, int n) {
  const int id = s.emu->Allocate(
      "one.vm.allocate",
      {xmlrpc_c::value_string(
          "NAME = b" + std::to_string(n) + "\nCPU = 0.1\nMEMORY = 64\nDISK = [ IMAGE_ID = " +
          std::to_string(s.image_id) + " ]\nNIC = [ NETWORK_ID = " + std::to_string(s.vnet_id) +
          " ]\nCONTEXT = [ NETWORK = YES ]")});
  auto reply = s.emu->Call("one.vm.info", {xmlrpc_c::value_int(id)});
  return {id, Base64Encode(std::string(xmlrpc_c::value_string(reply[1])))};
}

double StubDeploy(Setup& s, int vm, const std::string& document, const std::string& host = "h1") {
  const auto t0 = Clock::now();
  const auto run = emulator::RunDriver(s.root + "/remotes/vmm/onedock/deploy",
                                       {"/dev/null", host, std::to_string(vm), host}, document);
  if (!run.ok()) Die("deploy of vm " + std::to_string(vm) + " failed: " + run.err);
  return Ms(Clock::now() - t0);
}

ContainerSpec RawSpec(const Setup& s, int n) {
  ContainerSpec spec;
  spec.name = "raw-bench-" + std::to_string(n);
  spec.image = s.image;
  spec.labels = {{"one.instance", kInstance}};
  spec.nano_cpus = 100000000;
  spec.memory_bytes = 64ll << 20;
  spec.network_mode = kBridge;
  spec.primary = {kBridge, "10.239.0." + std::to_string(140 + n), "", {}};
  return spec;
}

double RawDeploy(docker::EngineClient& engine, const ContainerSpec& spec) {
  const auto t0 = Clock::now();
  auto id = engine.CreateContainer(spec);
  if (!id.ok()) Die(id.status().ToString());
  auto started = engine.StartContainer(*id);
  if (!started.ok()) Die(started.status().ToString());
  return Ms(Clock::now() - t0);
}

// From onedockd's log: each deploy's steps ("deploy vm 7 on h1 steps: vnets 1.2 ms, …"), by VM.
std::map<int, std::vector<std::pair<std::string, double>>> DeploySteps(const std::string& log) {
  std::map<int, std::vector<std::pair<std::string, double>>> out;
  std::ifstream in(log);
  const std::string marker = "deploy vm ";
  for (std::string line; std::getline(in, line);) {
    const auto at = line.find(marker);
    const auto steps = line.find(" steps: ");
    if (at == std::string::npos || steps == std::string::npos) continue;
    const int vm = std::atoi(line.c_str() + at + marker.size());
    std::istringstream items(line.substr(steps + 8));
    for (std::string item; std::getline(items, item, ',');) {
      std::istringstream words(item);
      std::string name;
      double ms = 0;
      if (words >> name >> ms) out[vm].push_back({name, ms});
    }
  }
  return out;
}

// The median of each step over `vms`, steps in the order the first deploy gave them.
void PrintSteps(const char* title,
                const std::map<int, std::vector<std::pair<std::string, double>>>& steps,
                const std::vector<int>& vms) {
  std::vector<std::string> order;
  std::map<std::string, std::vector<double>> times;
  size_t found = 0;
  for (int vm : vms) {
    auto it = steps.find(vm);
    if (it == steps.end()) continue;
    ++found;
    for (const auto& [name, ms] : it->second) {
      if (times.count(name) == 0) order.push_back(name);
      times[name].push_back(ms);
    }
  }
  std::printf("%s (median ms over %zu of %zu deploys):\n ", title, found, vms.size());
  for (const auto& name : order) {
    std::printf(" %s %.1f", name.c_str(), bench::Summarize(times[name]).median);
  }
  std::printf("\n");
}

void RemoveAll(docker::EngineClient& engine) {
  auto ours = engine.ListContainers({std::string("one.instance=") + kInstance});
  if (!ours.ok()) return;
  for (const auto& c : *ours) engine.RemoveContainer(c.id, true, true);
}

// What the bench leaves on h1 when it is done: nothing, its network included (a network left on
// a subnet would make another vnet's deploy there fail with an overlap).
void Clean(docker::EngineClient& engine) {
  RemoveAll(engine);
  engine.RemoveNetwork(kBridge);
}

int Main(int argc, char** argv) {
  const int iterations = argc > 1 ? std::atoi(argv[1]) : 20;
  const int concurrency = argc > 2 ? std::atoi(argv[2]) : 20;
  const int across = argc > 3 ? std::atoi(argv[3]) : 50;
  // The vnet leases 120 addresses; raw containers take 10.239.0.140 and up.
  if (iterations < 1 || concurrency < 1 || across < 0 || iterations + concurrency + across > 110 ||
      std::max({iterations, concurrency + 50, across}) > 100)
    Die("usage: deploy_bench [iterations] [concurrency] [across_both], sum <= 110");
  Setup s;
  StartWorld(s);
  docker::EngineClient h1("h1", testbed::Engine("h1"));
  RemoveAll(h1);
  // Warm both paths once (network creation, image lookup, connection set-up).
  auto [warm_vm, warm_doc] = NewVmDocument(s, 0);
  StubDeploy(s, warm_vm, warm_doc);
  RawDeploy(h1, RawSpec(s, 0));
  RemoveAll(h1);

  std::vector<double> onedock, raw;
  std::vector<int> single_vms, concurrent_vms;
  for (int n = 1; n <= iterations; ++n) {
    auto [vm, doc] = NewVmDocument(s, n);
    single_vms.push_back(vm);
    onedock.push_back(StubDeploy(s, vm, doc));
    raw.push_back(RawDeploy(h1, RawSpec(s, n)));
  }
  RemoveAll(h1);

  std::vector<std::pair<int, std::string>> docs;
  for (int n = 0; n < concurrency; ++n) {
    docs.push_back(NewVmDocument(s, 1000 + n));
    concurrent_vms.push_back(docs.back().first);
  }
  auto t0 = Clock::now();
  std::vector<std::thread> threads;
  for (const auto& [vm, doc] : docs)
    threads.emplace_back([&s, vm = vm, &doc = doc] { StubDeploy(s, vm, doc); });
  for (auto& t : threads) t.join();
  const double onedock_wall = Ms(Clock::now() - t0);
  threads.clear();
  t0 = Clock::now();
  for (int n = 0; n < concurrency; ++n) {
    threads.emplace_back([&s, n] {
      docker::EngineClient engine("h1", testbed::Engine("h1"));
      RawDeploy(engine, RawSpec(s, 50 + n));
    });
  }
  for (auto& t : threads) t.join();
  const double raw_wall = Ms(Clock::now() - t0);
  RemoveAll(h1);

  // Across both engines: every other deploy on h2.
  docker::EngineClient h2("h2", testbed::Engine("h2"));
  std::vector<std::pair<int, std::string>> both;
  for (int n = 0; n < across; ++n) both.push_back(NewVmDocument(s, 2000 + n));
  const auto host_of = [](int n) { return n % 2 == 0 ? std::string("h1") : std::string("h2"); };
  t0 = Clock::now();
  threads.clear();
  for (int n = 0; n < across; ++n) {
    threads.emplace_back([&s, &both, &host_of, n] {
      StubDeploy(s, both[static_cast<size_t>(n)].first, both[static_cast<size_t>(n)].second,
                 host_of(n));
    });
  }
  for (auto& t : threads) t.join();
  const double both_wall = across > 0 ? Ms(Clock::now() - t0) : 0;
  threads.clear();
  t0 = Clock::now();
  for (int n = 0; n < across; ++n) {
    threads.emplace_back([&s, &host_of, n] {
      docker::EngineClient engine(host_of(n), testbed::Engine(host_of(n)));
      RawDeploy(engine, RawSpec(s, n));
    });
  }
  for (auto& t : threads) t.join();
  const double both_raw_wall = across > 0 ? Ms(Clock::now() - t0) : 0;
  RemoveAll(h1);
  RemoveAll(h2);

  const bench::Figures ours = bench::Summarize(onedock), theirs = bench::Summarize(raw);
  auto api = h1.Negotiate();
  std::printf("engine h1 (API %s), %d deploys each, interleaved\n",
              api.ok() ? api->ToString().c_str() : "?", iterations);
  std::printf("deploy latency (ms)                         median     p95\n");
  std::printf("  onedock: script called -> running      %8.1f %8.1f\n", ours.median, ours.p95);
  std::printf("  raw API: create + start                 %8.1f %8.1f\n", theirs.median, theirs.p95);
  std::printf("%d concurrent deploys                     wall (ms)   VMs/s\n", concurrency);
  std::printf("  onedock (%2d scripts at once)           %8.0f %8.1f\n", concurrency, onedock_wall,
              concurrency * 1000.0 / onedock_wall);
  std::printf("  raw API (%2d threads, own connections)  %8.0f %8.1f\n", concurrency, raw_wall,
              concurrency * 1000.0 / raw_wall);
  if (across > 0) {
    std::printf("%d concurrent deploys across h1 and h2     wall (ms)   VMs/s\n", across);
    std::printf("  onedock (%2d scripts at once)           %8.0f %8.1f\n", across, both_wall,
                across * 1000.0 / both_wall);
    std::printf("  raw API (%2d threads, own connections)  %8.0f %8.1f\n", across, both_raw_wall,
                across * 1000.0 / both_raw_wall);
  }
  std::printf("ratios: one deploy %.2fx raw create+start, %d concurrent %.2fx raw wall",
              ours.median / theirs.median, concurrency, onedock_wall / raw_wall);
  if (across > 0) std::printf(", %d across both %.2fx", across, both_wall / both_raw_wall);
  std::printf("\n");
  const auto steps = DeploySteps(s.root + "/onedockd.log");
  PrintSteps("steps of a single deploy", steps, single_vms);
  PrintSteps("steps of a concurrent deploy", steps, concurrent_vms);

  s.onedockd.reset();
  s.emu.reset();
  Clean(h1);
  Clean(h2);
  fs::remove_all(s.root);
  return 0;
}

}  // namespace
}  // namespace onedock

int main(int argc, char** argv) {
  return onedock::bench::WithCurl([&] { return onedock::Main(argc, argv); });
}
