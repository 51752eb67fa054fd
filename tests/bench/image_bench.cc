// Image registration benchmark on the test bed, in one run: the time to register a ~10 MB image
// from the upstream registry into the private registry through onedock's image datastore (the
// ImageStore that `ds cp` runs in onedockd, called in process: staging engine h1 pulls, tags,
// pushes, cleans up) against pull + tag + push with the raw API on the same engine.
// Every iteration copies an image with its own random 10 MB layer, so no layer is ever already
// in the private registry or on the engine; onedock and the raw API alternate.
//
//   image_bench [iterations=5] [megabytes=10]
#include <curl/curl.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "bridge/image_store.h"
#include "bridge/tar_writer.h"
#include "docker/engine_client.h"
#include "docker/image_staging.h"
#include "docker/registry_client.h"
#include "tests/bench/bench_util.h"
#include "tests/fakes/fake_one.h"
#include "tests/integration/bed.h"
#include "tests/support/registry_admin.h"

namespace onedock {
namespace {

using bench::Clock;
using bench::Ms;

double Median(const std::vector<double>& v) { return bench::Summarize(v).median; }

int Main(int argc, char** argv) {
  const int iterations = argc > 1 ? std::atoi(argv[1]) : 5;
  const int megabytes = argc > 2 ? std::atoi(argv[2]) : 10;
  const std::string upstream = testbed::RegistryHost("upstream");
  const std::string registry = testbed::RegistryHost("private");
  docker::EngineClient h1("h1", testbed::Engine("h1"));
  auto fail = [](const std::string& what, const Status& s) {
    std::fprintf(stderr, "image_bench: %s: %s\n", what.c_str(), s.ToString().c_str());
    return 1;
  };
  if (Status s = h1.PullImage(testbed::TestImage()); !s.ok()) return fail("pull test image", s);

  // 2 × iterations upstream images, each the test image plus its own random file.
  const std::string run = testbed::UniqueName("bench");
  std::mt19937_64 random(std::random_device{}());
  std::vector<std::string> images;
  for (int i = 0; i < 2 * iterations; ++i) {
    ContainerSpec spec;
    spec.name = run + "-build-" + std::to_string(i);
    spec.image = testbed::TestImage();
    spec.network_mode = "none";
    if (auto id = h1.CreateContainer(spec); !id.ok()) return fail("create", id.status());
    std::string blob(static_cast<size_t>(megabytes) << 20, '\0');
    for (size_t k = 0; k + 8 <= blob.size(); k += 8) {
      const uint64_t r = random();
      std::memcpy(&blob[k], &r, 8);
    }
    TarWriter tar;
    tar.AddFile("payload.bin", blob);
    if (Status s = h1.PutArchive(spec.name, "/", tar.Finish()); !s.ok())
      return fail("put payload", s);
    const std::string repo = upstream + "/onedock/" + run + "-" + std::to_string(i);
    if (auto c = h1.Commit({.container = spec.name, .repo = repo, .tag = "1.0"}); !c.ok())
      return fail("commit", c.status());
    h1.RemoveContainer(spec.name, true, true);
    if (auto pushed = h1.PushImage(repo + ":1.0"); !pushed.ok())
      return fail("push upstream", pushed.status());
    h1.RemoveImage(repo + ":1.0", false);  // both sides pull it cold
    images.push_back(repo + ":1.0");
  }

  // The bed's upstream registry is on loopback, which the destination policy admits only when
  // told to; the private registry is onedockd's own.
  docker::RegistryHttpSettings web;
  web.private_registry = registry;
  web.destinations = *DestinationPolicy::Make({"127.0.0.1/32"}, {});
  docker::RegistryHttp registries(web);
  fakes::FakeOne one;  // copies read nothing from oned
  char dir[] = "/tmp/onedock-image-bench-XXXXXX";
  if (mkdtemp(dir) == nullptr) return 1;
  auto journal = SqliteStore::Open(std::string(dir) + "/journal.db");
  if (!journal.ok()) return fail("journal", journal.status());
  ImageStore store(
      []() -> Result<std::unique_ptr<ImageStaging>> {
        return std::unique_ptr<ImageStaging>(new docker::StagingEngine(
            std::make_unique<docker::EngineClient>("h1", testbed::Engine("h1"))));
      },
      registries, one, **journal, {registry, {}, {}, "/tmp", "/"});

  std::printf("image_bench: %d iterations of a %d MB image, staging engine h1, %s -> %s\n",
              iterations, megabytes, upstream.c_str(), registry.c_str());
  std::vector<double> onedock_ms, raw_ms;
  for (int i = 0; i < iterations; ++i) {
    Image image;
    image.id = 900000 + i;
    image.name = "bench";
    image.path = "docker://" + images[2 * i];
    auto t0 = Clock::now();
    auto copied = store.Copy(image);
    onedock_ms.push_back(Ms(Clock::now() - t0));
    if (!copied.ok()) return fail("onedock copy", copied.status());
    image.source = copied->source;
    store.Remove(image);

    const std::string source = images[2 * i + 1];
    const std::string target_repo = registry + "/" + run + "-raw";
    t0 = Clock::now();
    if (Status s = h1.PullImage(source); !s.ok()) return fail("raw pull", s);
    if (Status s = h1.TagImage(source, target_repo, std::to_string(i)); !s.ok())
      return fail("raw tag", s);
    auto pushed = h1.PushImage(target_repo + ":" + std::to_string(i));
    raw_ms.push_back(Ms(Clock::now() - t0));
    if (!pushed.ok()) return fail("raw push", pushed.status());
    h1.RemoveImage(target_repo + ":" + std::to_string(i), false);
    h1.RemoveImage(source, false);
    docker::RegistryClient(registry, testbed::Registry("private"))
        .DeleteManifest(run + "-raw", *pushed);
    std::printf("  %d: onedock %.0f ms, raw API %.0f ms\n", i, onedock_ms.back(), raw_ms.back());
  }
  // The upstream copies made for this run go too.
  docker::RegistryClient up("upstream", testbed::Registry("upstream"));
  testing::RegistryAdmin up_admin("upstream", testbed::Registry("upstream"));
  for (const auto& image : images) {
    const std::string repository =
        image.substr(upstream.size() + 1, image.rfind(':') - upstream.size() - 1);
    auto digest = up_admin.ManifestDigest(repository, "1.0");
    if (digest.ok()) up.DeleteManifest(repository, *digest);
  }
  std::printf(
      "register a %d MB image: onedock median %.0f ms (min %.0f), raw pull+tag+push median %.0f ms "
      "(min %.0f)\n",
      megabytes, Median(onedock_ms), *std::min_element(onedock_ms.begin(), onedock_ms.end()),
      Median(raw_ms), *std::min_element(raw_ms.begin(), raw_ms.end()));
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return 0;
}

}  // namespace
}  // namespace onedock

int main(int argc, char** argv) {
  return onedock::bench::WithCurl([&] { return onedock::Main(argc, argv); });
}
