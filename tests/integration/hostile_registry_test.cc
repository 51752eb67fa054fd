// Hostile peers of the image datastore's HTTP side: a token realm pointing elsewhere, an endless
// manifest, a server that never answers, a redirect to an engine; and the delete decision against
// the real private registry (distribution 2.8, which deletes manifests, not tags).
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bridge/image_store.h"
#include "docker/engine_client.h"
#include "docker/image_staging.h"
#include "docker/registry_client.h"
#include "tests/fakes/fake_one.h"
#include "tests/integration/bed.h"
#include "tests/support/engine_admin.h"
#include "tests/support/temp_dir.h"

namespace onedock::docker {
namespace {

// Accepts connections on `address`:<ephemeral> and hands each to `serve` on a thread of its own;
// the destructor ends every connection and joins every thread.
class RawServer {
 public:
  RawServer(const char* address, std::function<void(int)> serve) : serve_(std::move(serve)) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    inet_pton(AF_INET, address, &a.sin_addr);
    REQUIRE(bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(listen(fd_, 16) == 0);
    socklen_t len = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    url_ = std::string("http://") + address + ":" + std::to_string(ntohs(a.sin_port));
    thread_ = std::thread([this] {
      for (;;) {
        const int c = accept(fd_, nullptr, nullptr);
        if (c < 0) return;
        ++accepted_;
        std::lock_guard<std::mutex> lock(mu_);
        clients_.push_back(c);
        handlers_.emplace_back([this, c] { serve_(c); });
      }
    });
  }
  ~RawServer() {
    stopping_ = true;
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    thread_.join();
    std::lock_guard<std::mutex> lock(mu_);
    for (int c : clients_) shutdown(c, SHUT_RDWR);
    for (auto& t : handlers_) t.join();
    for (int c : clients_) close(c);
  }
  const std::string& url() const { return url_; }
  std::string authority() const { return url_.substr(7); }
  int accepted() const { return accepted_; }
  bool stopping() const { return stopping_; }

 private:
  std::function<void(int)> serve_;
  int fd_ = -1;
  std::string url_;
  std::thread thread_;
  std::atomic<int> accepted_{0};
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::vector<int> clients_;
  std::vector<std::thread> handlers_;
};

std::string ReadHead(int c) {
  std::string head;
  char buf[4096];
  while (head.find("\r\n\r\n") == std::string::npos) {
    const ssize_t n = recv(c, buf, sizeof buf, 0);
    if (n <= 0) break;
    head.append(buf, static_cast<size_t>(n));
  }
  return head;
}

void Send(int c, const std::string& text) { send(c, text.data(), text.size(), MSG_NOSIGNAL); }

long PeakRssKb() {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

RegistryHttpSettings Allow(const std::vector<std::string>& entries) {
  RegistryHttpSettings s;
  auto policy = DestinationPolicy::Make(entries, {});
  REQUIRE(policy.ok());
  s.destinations = *policy;
  return s;
}

TEST_CASE("a token realm on another host over http, or with userinfo, gets no credentials") {
  std::atomic<int> realm_requests{0};
  RawServer realm("127.0.0.2", [&](int c) {
    ReadHead(c);
    ++realm_requests;
    Send(c, "HTTP/1.1 200 OK\r\nContent-Length: 15\r\n\r\n{\"token\":\"abc\"}");
  });
  for (const std::string& challenge :
       {"Bearer realm=\"" + realm.url() + "/token\",service=x",
        "Bearer realm=\"http://localhost@" + realm.authority() + "/token\",service=x",
        "Bearer realm=\"http://127.0.0.1@" + realm.authority() + "/token\",service=x",
        "Bearer realm=\"ftp://" + realm.authority() + "/token\""}) {
    CAPTURE(challenge);
    RawServer registry("127.0.0.1", [&](int c) {
      ReadHead(c);
      Send(c, "HTTP/1.1 401 Unauthorized\r\nWww-Authenticate: " + challenge +
                  "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    });
    RegistryClient client("registry",
                          {.base_url = registry.url(), .username = "alice", .password = "secret"});
    auto m = client.GetManifest("team/app", "1");
    REQUIRE_FALSE(m.ok());
    CHECK(m.status().code() == Status::Code::kUnauthenticated);
    CHECK(m.status().message().find("token realm") != std::string::npos);
  }
  CHECK(realm_requests == 0);
  CHECK(realm.accepted() == 0);
}

TEST_CASE("an endless manifest is cut at the manifest bound and memory stays bounded") {
  RawServer endless("127.0.0.1", [](int c) {
    ReadHead(c);
    Send(
        c,
        "HTTP/1.1 200 OK\r\nDocker-Content-Digest: sha256:x\r\nTransfer-Encoding: chunked\r\n\r\n");
    const std::string chunk = "100000\r\n" + std::string(1 << 20, '{') + "\r\n";
    for (int i = 0; i < 4096; ++i) {  // up to 4 GiB, for as long as it is read
      if (send(c, chunk.data(), chunk.size(), MSG_NOSIGNAL) <= 0) return;
    }
  });
  const long before = PeakRssKb();
  RegistryHttp registries(Allow({"127.0.0.1/32"}));
  auto ref = ParseImageReference(endless.authority() + "/team/app:1");
  REQUIRE(ref.ok());
  auto m = registries.Manifest(*ref, {});
  REQUIRE_FALSE(m.ok());
  CHECK(m.status().code() == Status::Code::kInvalidArgument);
  CHECK(m.status().message().find("larger than " + std::to_string(kMaxManifestBytes)) !=
        std::string::npos);
  const long grown_kb = PeakRssKb() - before;
  MESSAGE("peak RSS grew by " << grown_kb << " KiB reading an endless manifest");
  CHECK(grown_kb < 64 * 1024);
}

TEST_CASE("a server that never answers fails a HEAD and a download within their limits") {
  RawServer silent("127.0.0.1", [](int c) {
    ReadHead(c);
    ReadHead(c);  // never answers; returns when the client or the server closes
  });
  RawServer trickle("127.0.0.1", [](int c) {
    ReadHead(c);
    Send(c, "HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n");
    for (int i = 0; i < 60; ++i) {
      if (send(c, "x", 1, MSG_NOSIGNAL) <= 0) return;  // ends once the client gave up
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  RegistryHttpSettings s = Allow({"127.0.0.1/32"});
  s.limits.head_timeout_ms = 1000;
  s.limits.download_timeout_ms = 3000;
  s.limits.low_speed_bytes_per_s = 1000;
  s.limits.low_speed_ms = 1000;
  RegistryHttp registries(s);
  testing::TempDir dir("never");
  const auto start = std::chrono::steady_clock::now();
  auto head = registries.RemoteSize(silent.url() + "/image.tar");
  CHECK(head.status().code() == Status::Code::kDeadlineExceeded);
  auto slow = registries.Download(trickle.url() + "/image.tar", dir.path() + "/image.tar");
  CHECK(slow.status().code() == Status::Code::kDeadlineExceeded);
  const auto seconds = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::steady_clock::now() - start)
                           .count() /
                       1000.0;
  MESSAGE("HEAD to a silent server and a 10 B/s download failed after " << seconds << " s");
  CHECK(seconds < 5);
}

TEST_CASE("a redirect to an engine's address and a URL naming one are refused") {
  const std::string engine = "https://" + testbed::Get("ONEDOCK_ENGINE_H1");
  RawServer redirector("127.0.0.1", [&](int c) {
    ReadHead(c);
    Send(c, "HTTP/1.1 302 Found\r\nLocation: " + engine +
                "/images/json\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  });
  RegistryHttp registries(Allow({"127.0.0.1/32"}));
  testing::TempDir dir("redirect");
  auto redirected = registries.Download(redirector.url() + "/x.tar", dir.path() + "/x.tar");
  CHECK(redirected.status().code() == Status::Code::kPermissionDenied);
  CHECK(redirected.status().message().find("refused: loopback") != std::string::npos);
  CHECK(registries.RemoteSize(engine + "/images/json").status().code() ==
        Status::Code::kPermissionDenied);
  auto ref = ParseImageReference(testbed::Get("ONEDOCK_ENGINE_H1") + "/any/thing:1");
  REQUIRE(ref.ok());
  CHECK(registries.CheckRegistry(*ref).code() == Status::Code::kPermissionDenied);
  CHECK(registries.Manifest(*ref, {}).status().code() == Status::Code::kPermissionDenied);
  RegistryHttp closed;  // the default: no loopback at all, the bed's upstream registry included
  auto upstream = ParseImageReference(testbed::TestImage());
  REQUIRE(upstream.ok());
  CHECK(closed.CheckRegistry(*upstream).code() == Status::Code::kPermissionDenied);
  CHECK(closed.Manifest(*upstream, {}).status().code() == Status::Code::kPermissionDenied);
  // The private registry is onedockd's own: reached without the policy, never a PATH's source.
  RegistryHttpSettings own;
  own.private_registry = testbed::RegistryHost("private");
  RegistryHttp mine(own);
  auto private_ref = ParseImageReference(testbed::RegistryHost("private") + "/x:1");
  REQUIRE(private_ref.ok());
  CHECK(mine.CheckRegistry(*private_ref).code() == Status::Code::kPermissionDenied);
  CHECK(mine.Manifest(*private_ref, {}).status().code() == Status::Code::kNotFound);
}

TEST_CASE("deleting one of two images of the same digest keeps the other's manifest") {
  // distribution 2.8 has no tag DELETE: a tag given where a digest is expected is refused.
  auto del_tag = CurlTransport(testbed::Registry("private"))
                     .Perform({.method = "DELETE", .target = "/v2/httpd/manifests/latest"});
  REQUIRE(del_tag.ok());
  CHECK(del_tag->status == 400);

  EngineClient h1("h1", testbed::Engine("h1"));
  REQUIRE(h1.PullImage(testbed::TestImage()).ok());
  const std::string host = testbed::RegistryHost("private");
  const std::string repo = host + "/" + testbed::UniqueName("shared");
  REQUIRE(h1.TagImage(testbed::TestImage(), repo, "101").ok());
  REQUIRE(h1.TagImage(testbed::TestImage(), repo, "102").ok());
  auto d1 = h1.PushImage(repo + ":101");
  auto d2 = h1.PushImage(repo + ":102");
  REQUIRE(d1.ok());
  REQUIRE(d2.ok());
  REQUIRE(*d1 == *d2);
  h1.RemoveImage(repo + ":101", false);
  h1.RemoveImage(repo + ":102", false);

  RegistryHttpSettings settings;
  settings.private_registry = host;
  RegistryHttp registries(settings);
  fakes::FakeOne one;
  testing::TempDir dir("shared");
  auto journal = testing::OpenJournal(dir.path() + "/journal.db");
  ImageStore store([]() -> Result<std::unique_ptr<ImageStaging>> { return Unavailable("none"); },
                   registries, one, *journal, {host});
  Image first, second;
  first.id = 101;
  first.source = repo + ":101@" + *d1;
  second.id = 102;
  second.source = repo + ":102@" + *d2;
  one.images[102] = second;
  REQUIRE(store.Remove(first).ok());
  RegistryClient reader("private", testbed::Registry("private"));
  const std::string path = repo.substr(host.size() + 1);
  auto kept = reader.GetManifest(path, "102");
  REQUIRE_MESSAGE(kept.ok(), kept.status().ToString());
  CHECK(kept->digest == *d2);

  one.images.erase(102);
  REQUIRE(store.Remove(second).ok());
  CHECK(reader.GetManifest(path, "102").status().code() == Status::Code::kNotFound);
  CHECK(reader.GetManifest(path, *d1).status().code() == Status::Code::kNotFound);
}

TEST_CASE("a tarball tagged as a checkpoint is refused and the staging engine keeps none of it") {
  EngineClient h1("h1", testbed::Engine("h1"));
  REQUIRE(h1.PullImage(testbed::TestImage()).ok());
  const std::string host = testbed::RegistryHost("private");
  const std::string unique = testbed::UniqueName("tb");
  const std::string checkpoint = host + "/onedock-checkpoint/one-" + unique + ":latest";
  const std::string plain = "team/" + unique + ":2";
  testing::TempDir dir("tagged");
  testing::EngineAdmin admin("h1", testbed::Engine("h1"));
  for (const std::string& tag : {checkpoint, plain}) {
    const auto colon = tag.rfind(':');
    REQUIRE(h1.TagImage(testbed::TestImage(), tag.substr(0, colon), tag.substr(colon + 1)).ok());
    REQUIRE(
        admin.SaveImage(tag, dir.path() + "/" + (tag == plain ? "plain" : "ckpt") + ".tar").ok());
    REQUIRE(h1.RemoveImage(tag, false).ok());
  }
  RegistryHttpSettings settings;
  settings.private_registry = host;
  RegistryHttp registries(settings);
  fakes::FakeOne one;
  auto journal = testing::OpenJournal(dir.path() + "/journal.db");
  ImageStore store(
      []() -> Result<std::unique_ptr<ImageStaging>> {
        return std::unique_ptr<ImageStaging>(
            new StagingEngine(std::make_unique<EngineClient>("h1", testbed::Engine("h1"))));
      },
      registries, one, *journal, {host, {}, {}, dir.path(), "/", {dir.path()}, {}});
  Image image;
  image.id = 900100;
  image.name = unique;
  image.path = dir.path() + "/ckpt.tar";
  auto refused = store.Copy(image);
  CHECK(refused.status().code() == Status::Code::kPermissionDenied);
  CHECK(refused.status().message().find("tagged " + checkpoint) != std::string::npos);
  CHECK(h1.InspectImage(checkpoint).status().code() == Status::Code::kNotFound);

  image.path = dir.path() + "/plain.tar";
  auto copied = store.Copy(image);
  REQUIRE_MESSAGE(copied.ok(), copied.status().ToString());
  CHECK(h1.InspectImage(plain).status().code() == Status::Code::kNotFound);
  CHECK(h1.InspectImage(host + "/" + unique + ":900100").status().code() ==
        Status::Code::kNotFound);
  Image published = image;
  published.source = copied->source;
  CHECK(store.Remove(published).ok());
}

}  // namespace
}  // namespace onedock::docker
