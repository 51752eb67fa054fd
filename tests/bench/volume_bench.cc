// Data volume move benchmark on the test bed, in one run: a stopped VM whose data disk (a Docker
// volume) holds N MB of random data moves from engine h1 to engine h2.
//
//   onedock: VmActions::Deploy on h2 (as onedockd runs it when oned resumes or restores the VM
//            elsewhere): volume and container created on h2, the volume's archive read from the
//            container left on h1 into the spool file and uploaded into the new container, start,
//            then the old container and its volume removed.
//   raw API: the same calls made directly, with the archive held in memory instead of a spool file.
//
// onedock's iterations run first, then the raw API's; each fills the volume with fresh random data.
// Prints wall time per side and this process's peak resident memory after each side (the raw side
// holds the archive in memory; onedock streams it through a file).
//
//   volume_bench [iterations=3] [megabytes=100]
#include <curl/curl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "bridge/log.h"
#include "bridge/one_api.h"
#include "bridge/sqlite_store.h"
#include "bridge/vm_actions.h"
#include "docker/engine_client.h"
#include "docker/engine_json.h"
#include "docker/engine_pool.h"
#include "tests/bench/bench_util.h"
#include "tests/integration/bed.h"

namespace onedock {
namespace {

using bench::Clock;
using bench::Ms;

double Median(const std::vector<double>& v) { return bench::Summarize(v).median; }

long PeakRssMb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024;
}

// VMs without NICs need nothing from oned.
class NoOne : public OneApi {
 public:
  Result<Vm> VmInfo(int id) override { return NotFound("vm " + std::to_string(id)); }
  Result<Image> ImageInfo(int id) override { return NotFound("image " + std::to_string(id)); }
  Result<Vnet> VnetInfo(int id) override { return NotFound("vnet " + std::to_string(id)); }
  Result<std::vector<Vm>> LiveVms() override { return std::vector<Vm>{}; }
  Result<std::vector<Host>> Hosts() override { return std::vector<Host>{}; }
};

Vm DataVm(int id) {
  Vm vm;
  vm.id = id;
  vm.name = "bench-" + std::to_string(id);
  vm.cpu = 0.5;
  vm.memory_mb = 128;
  Disk image;
  image.disk_id = 0;
  image.image_id = 0;
  image.source = testbed::TestImage();
  Disk data;
  data.disk_id = 1;
  data.type = "fs";
  data.all["DOCKER_MOUNT"] = "/data";
  vm.disks = {image, data};
  return vm;
}

// The raw API move of container `name` and its volume `volume` (mounted at /data) from `from` to
// `to`, with the archive in memory.
Status RawMove(docker::EngineClient& from, docker::EngineClient& to, const std::string& name,
               const std::string& volume) {
  if (auto v = to.CreateVolume(volume, {}); !v.ok()) return v.status();
  auto old = from.InspectContainer(name);
  if (!old.ok()) return old.status();
  ContainerSpec spec;
  spec.name = name;
  spec.image = old->image;
  spec.cmd = {"/bin/httpd", "-f", "-p", "80", "-h", "/www"};
  spec.network_mode = "none";
  spec.volumes = {volume + ":/data"};
  if (auto id = to.CreateContainer(spec); !id.ok()) return id.status();
  // GET and PUT the archive with plain HTTP calls on the engines' endpoints.
  docker::CurlTransport src(testbed::Engine(from.name())), dst(testbed::Engine(to.name()));
  auto api = from.Negotiate();
  if (!api.ok()) return api.status();
  const std::string prefix = "/v" + api->ToString() + "/containers/" + name + "/archive?path=";
  auto got = src.Perform({.method = "GET", .target = prefix + "/data", .timeout_ms = 600000});
  if (!got.ok()) return got.status();
  if (got->status != 200) return Internal("GET archive: " + std::to_string(got->status));
  auto put = dst.Perform({.method = "PUT",
                          .target = prefix + "/",
                          .headers = {"Content-Type: application/x-tar"},
                          .body = got->body,
                          .timeout_ms = 600000});
  if (!put.ok()) return put.status();
  if (put->status != 200) return Internal("PUT archive: " + std::to_string(put->status));
  if (auto s = to.StartContainer(name); !s.ok()) return s.status();
  if (Status s = from.RemoveContainer(name, true, false); !s.ok()) return s;
  return from.RemoveVolume(volume);
}

int Main(int argc, char** argv) {
  const int iterations = argc > 1 ? std::atoi(argv[1]) : 3;
  const int megabytes = argc > 2 ? std::atoi(argv[2]) : 100;
  auto fail = [](const std::string& what, const Status& s) {
    std::fprintf(stderr, "volume_bench: %s: %s\n", what.c_str(), s.ToString().c_str());
    return 1;
  };
  ConfigureLogging("warn", "");
  const std::string dir = "/tmp/onedock-volume-bench-" + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  auto journal = SqliteStore::Open(dir + "/journal.db");
  if (!journal.ok()) return fail("journal", journal.status());
  docker::EnginePool engines([](const std::string& host) -> Result<docker::Endpoint> {
    if (host != "h1" && host != "h2") return InvalidArgument("no engine for " + host);
    return testbed::Engine(host);
  });
  NoOne one;
  ActionSettings settings;
  settings.plan.instance = testbed::UniqueName("vbench");
  settings.plan.registry = "";  // the test image comes from the upstream registry
  settings.spool_dir = dir + "/spool";
  VmActions actions(engines, one, **journal, settings);
  docker::EngineClient h1("h1", testbed::Engine("h1")), h2("h2", testbed::Engine("h2"));

  const std::string fill =
      "dd if=/dev/urandom of=/data/blob bs=1048576 count=" + std::to_string(megabytes) +
      " 2>/dev/null && sync";
  std::vector<double> ours, raw;
  const int base = 900000 + static_cast<int>(getpid() % 1000) * 10;
  // onedock first, then the raw API, so that each side's peak memory can be read on its own.
  for (int i = 0; i < iterations; ++i) {
    // Deploy on h1, fill the volume, stop, deploy on h2.
    const Vm vm = DataVm(base + i);
    const std::string name = ContainerName(vm.id);
    if (auto d = actions.Deploy(vm, "h1"); !d.ok()) return fail("deploy on h1", d.status());
    if (auto e = h1.Exec(name, {"/bin/sh", "-c", fill}, {}, 600000); !e.ok() || e->exit_code != 0) {
      return fail("fill the volume", e.ok() ? Internal(e->err) : e.status());
    }
    if (Status s = actions.Shutdown(vm.id, "h1"); !s.ok()) return fail("stop on h1", s);
    const auto start = Clock::now();
    if (auto d = actions.Deploy(vm, "h2"); !d.ok()) return fail("move to h2", d.status());
    ours.push_back(Ms(Clock::now() - start));
    auto size = h2.Exec(name, {"/bin/sh", "-c", "wc -c < /data/blob"}, {}, 60000);
    if (!size.ok() || std::atol(size->out.c_str()) != static_cast<long>(megabytes) << 20) {
      return fail("check the moved data",
                  Internal(size.ok() ? "size " + size->out : size.status().ToString()));
    }
    if (Status s = actions.Remove(vm.id, "h2"); !s.ok()) return fail("remove", s);
    std::printf("onedock iteration %d: %.0f ms\n", i + 1, ours.back());
  }
  const long ours_peak = PeakRssMb();
  for (int i = 0; i < iterations; ++i) {
    // The same container and volume, moved by hand.
    const std::string raw_name = settings.plan.instance + "-raw-" + std::to_string(i);
    const std::string raw_volume = raw_name + "-data";
    ContainerSpec spec;
    spec.name = raw_name;
    spec.image = testbed::TestImage();
    spec.network_mode = "none";
    spec.volumes = {raw_volume + ":/data"};
    if (auto v = h1.CreateVolume(raw_volume, {}); !v.ok()) return fail("raw volume", v.status());
    if (auto c = h1.CreateContainer(spec); !c.ok()) return fail("raw create", c.status());
    if (auto s = h1.StartContainer(raw_name); !s.ok()) return fail("raw start", s.status());
    if (auto e = h1.Exec(raw_name, {"/bin/sh", "-c", fill}, {}, 600000);
        !e.ok() || e->exit_code != 0) {
      return fail("raw fill", e.ok() ? Internal(e->err) : e.status());
    }
    if (auto s = h1.StopContainer(raw_name, 5); !s.ok()) return fail("raw stop", s.status());
    const auto start = Clock::now();
    if (Status s = RawMove(h1, h2, raw_name, raw_volume); !s.ok()) return fail("raw move", s);
    raw.push_back(Ms(Clock::now() - start));
    h2.RemoveContainer(raw_name, true, false);
    h2.RemoveVolume(raw_volume);
    std::printf("raw API iteration %d: %.0f ms\n", i + 1, raw.back());
  }
  const long raw_peak = PeakRssMb();
  std::filesystem::remove_all(dir);
  std::printf("\nmove a stopped container with a %d MB data volume from h1 to h2 (%d iterations)\n",
              megabytes, iterations);
  std::printf("%-30s %10s %10s %18s\n", "", "median", "min", "process peak RSS");
  std::printf("%-30s %7.0f ms %7.0f ms %15ld MB\n", "onedock (spool file)", Median(ours),
              *std::min_element(ours.begin(), ours.end()), ours_peak);
  std::printf("%-30s %7.0f ms %7.0f ms %15ld MB\n", "raw API (archive in memory)", Median(raw),
              *std::min_element(raw.begin(), raw.end()), raw_peak);
  return 0;
}

}  // namespace
}  // namespace onedock

int main(int argc, char** argv) {
  return onedock::bench::WithCurl([&] { return onedock::Main(argc, argv); });
}
