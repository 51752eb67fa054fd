// A short tour of the test bed through onedock's Docker client, for the demo: on each engine, a
// network with a fixed subnet, a container from the upstream test image pulled over mTLS with a
// static IP and MAC, its web page fetched from the front-end over that IP, then everything removed.
#include <curl/curl.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "docker/engine_client.h"
#include "tests/integration/bed.h"
#include "tests/support/engine_admin.h"

namespace onedock::docker {
namespace {

bool Check(const Status& s) {
  if (!s.ok()) std::printf("  FAILED: %s\n", s.ToString().c_str());
  return s.ok();
}

bool Tour(const std::string& engine, int n) {
  EngineClient client(engine, testbed::Engine(engine));
  testing::EngineAdmin admin(engine, testbed::Engine(engine));
  auto version = admin.Version();
  if (!Check(version.status())) return false;
  std::printf("%s: Docker %s at %s, API negotiated %s\n", engine.c_str(), version->version.c_str(),
              testbed::Engine(engine).base_url.c_str(), client.Negotiate()->ToString().c_str());
  const std::string net = "tour-net" + std::to_string(n);
  const std::string prefix = "10.241." + std::to_string(n) + ".";
  const std::string name = "tour-" + engine;
  client.RemoveContainer(name, true, true);
  admin.RemoveNetwork(net);

  if (!Check(client.PullImage(testbed::TestImage()))) return false;
  std::printf("  pulled %s\n", testbed::TestImage().c_str());
  auto id = client.CreateNetwork(
      {.name = net,
       .subnet = prefix + "0/24",
       .gateway = prefix + "1",
       .options = {{"com.docker.network.bridge.name", "tour-br" + std::to_string(n)}}});
  if (!Check(id.status())) return false;
  ContainerSpec spec{
      .name = name,
      .image = testbed::TestImage(),
      .nano_cpus = 250000000,
      .memory_bytes = 32 << 20,
      .network_mode = net,
      .primary = {net, prefix + "10", "02:00:0a:f1:0" + std::to_string(n) + ":0a", {}}};
  if (!Check(client.CreateContainer(spec).status()) ||
      !Check(client.StartContainer(name).status())) {
    return false;
  }
  auto info = client.InspectContainer(name);
  if (!Check(info.status())) return false;
  const EndpointState& nic = info->networks.at(net);
  std::printf("  %s running: ip %s mac %s, NanoCpus %lld, Memory %lld\n", name.c_str(),
              nic.ipv4.c_str(), nic.mac.c_str(), static_cast<long long>(info->nano_cpus),
              static_cast<long long>(info->memory_bytes));
  CurlTransport web({.base_url = "http://" + nic.ipv4});
  Result<HttpResponse> page = Unavailable("not fetched");
  for (int i = 0; i < 50 && !(page.ok() && page->status == 200); ++i) {
    page = web.Perform({.target = "/", .timeout_ms = 1000});
    if (!(page.ok() && page->status == 200))
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (!Check(page.status())) return false;
  std::printf("  GET http://%s/ -> %ld %s", nic.ipv4.c_str(), page->status, page->body.c_str());
  bool ok = Check(client.RemoveContainer(name, true, true)) && Check(admin.RemoveNetwork(net));
  std::printf("  removed %s and %s\n", name.c_str(), net.c_str());
  return ok;
}

}  // namespace
}  // namespace onedock::docker

int main() {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  bool ok = onedock::docker::Tour("h1", 1) && onedock::docker::Tour("h2", 2);
  curl_global_cleanup();
  return ok ? 0 : 1;
}
