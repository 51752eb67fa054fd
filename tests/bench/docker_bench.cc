// Benchmark (not a test): the Docker client against the raw Engine API driven by curl(1), on the
// same engine in one run.
//   1. create+start+remove latency: EngineClient (one reused mTLS connection) vs three curl
//      processes per container (each its own TLS handshake), interleaved so drift hits both.
//   2. inspect requests/second: EngineClient on a reused connection vs curl processes.
// Usage: docker_bench [iterations=20] [inspects=2000]
#include <curl/curl.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "docker/engine_client.h"
#include "tests/bench/bench_util.h"
#include "tests/integration/bed.h"

extern char** environ;

namespace onedock::docker {
namespace {

using Clock = std::chrono::steady_clock;

using bench::Figures;
using bench::Ms;
using bench::Summarize;

// Runs curl with argv (no shell); returns its exit code.
int RunCurl(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>("curl"));
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  pid_t pid;
  int rc = posix_spawnp(&pid, "curl", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return -1;
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int Main(int argc, char** argv) {
  const int iterations = argc > 1 ? std::atoi(argv[1]) : 20;
  const int inspects = argc > 2 ? std::atoi(argv[2]) : 2000;
  const Endpoint endpoint = testbed::Engine("h1");
  EngineClient client("h1", endpoint);
  auto api = client.Negotiate();
  if (!api.ok()) {
    std::fprintf(stderr, "%s\n", api.status().ToString().c_str());
    return 1;
  }
  const std::string image = testbed::TestImage();
  if (Status s = client.PullImage(image); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 1;
  }
  const std::string base = endpoint.base_url + "/v" + api->ToString();
  const std::vector<std::string> tls = {
      "-sf",   "--cacert",       endpoint.ca_file, "--cert", endpoint.cert_file,
      "--key", endpoint.key_file};
  auto curl = [&tls](std::vector<std::string> args) {
    args.insert(args.begin(), tls.begin(), tls.end());
    return RunCurl(args);
  };

  ContainerSpec spec;
  spec.image = image;
  spec.network_mode = "none";
  spec.labels = {{"onedock.bench", "1"}};

  std::printf("engine h1 %s, API %s, %d iterations, interleaved\n", endpoint.base_url.c_str(),
              api->ToString().c_str(), iterations);
  std::vector<double> through_client, through_curl;
  for (int i = 0; i < iterations; ++i) {
    spec.name = "bench-client-" + std::to_string(getpid()) + "-" + std::to_string(i);
    auto t0 = Clock::now();
    bool ok = client.CreateContainer(spec).ok() && client.StartContainer(spec.name).ok() &&
              client.RemoveContainer(spec.name, true, false).ok();
    through_client.push_back(Ms(Clock::now() - t0));
    if (!ok) {
      std::fprintf(stderr, "client iteration %d failed\n", i);
      return 1;
    }

    const std::string name = "bench-curl-" + std::to_string(getpid()) + "-" + std::to_string(i);
    const std::string body = ContainerCreateBody(spec, *api);
    t0 = Clock::now();
    int rc = curl({"-X", "POST", "-H", "Content-Type: application/json", "--data-binary", body,
                   base + "/containers/create?name=" + name});
    if (rc == 0) rc = curl({"-X", "POST", base + "/containers/" + name + "/start"});
    if (rc == 0) rc = curl({"-X", "DELETE", base + "/containers/" + name + "?force=1"});
    through_curl.push_back(Ms(Clock::now() - t0));
    if (rc != 0) {
      std::fprintf(stderr, "curl iteration %d failed (exit %d)\n", i, rc);
      return 1;
    }
  }
  const Figures c = Summarize(through_client), k = Summarize(through_curl);
  std::printf("create+start+remove   median    p95     min     max  (ms)\n");
  std::printf("  onedock client    %7.1f %7.1f %7.1f %7.1f\n", c.median, c.p95, c.min, c.max);
  std::printf("  curl CLI (raw)    %7.1f %7.1f %7.1f %7.1f\n", k.median, k.p95, k.min, k.max);

  // A container to inspect.
  spec.name = "bench-inspect-" + std::to_string(getpid());
  if (!client.CreateContainer(spec).ok()) return 1;
  const long connections_before = client.connections_opened();
  auto t0 = Clock::now();
  for (int i = 0; i < inspects; ++i) {
    if (!client.InspectContainer(spec.name).ok()) return 1;
  }
  const double client_s = Ms(Clock::now() - t0) / 1000;
  const int curl_inspects = std::max(1, inspects / 40);
  t0 = Clock::now();
  for (int i = 0; i < curl_inspects; ++i) {
    if (curl({base + "/containers/" + spec.name + "/json"}) != 0) return 1;
  }
  const double curl_s = Ms(Clock::now() - t0) / 1000;
  client.RemoveContainer(spec.name, true, false);
  std::printf("inspect                 requests  req/s\n");
  std::printf("  onedock client (reused) %6d %8.0f  (new connections: %ld)\n", inspects,
              inspects / client_s, client.connections_opened() - connections_before);
  std::printf("  curl CLI (new each)     %6d %8.0f\n", curl_inspects, curl_inspects / curl_s);
  return 0;
}

}  // namespace
}  // namespace onedock::docker

int main(int argc, char** argv) {
  return onedock::bench::WithCurl([&] { return onedock::docker::Main(argc, argv); });
}
