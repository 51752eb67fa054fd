// The onedock image datastore end to end: the emulator runs the real datastore and TM scripts,
// onedockd copies images into the private registry through the staging engine (h1), and VMs run
// them on hosts that pull from the private registry.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <regex>
#include <string_view>
#include <thread>

#include "docker/registry_client.h"
#include "tests/e2e/world.h"
#include "tests/http_stub.h"
#include "tests/integration/bed.h"
#include "tests/support/engine_admin.h"
#include "tests/support/registry_admin.h"

namespace onedock::e2e {
namespace {

constexpr int kImageReady = 1, kImageError = 5;

docker::RegistryClient PrivateRegistry() {
  return docker::RegistryClient("private", ThisSlot().Registry());
}

testing::RegistryAdmin PrivateRegistryAdmin() {
  return testing::RegistryAdmin("private", ThisSlot().Registry());
}

// repository -> tags of the private registry.
std::map<std::string, std::vector<std::string>> TagLists() {
  auto registry = PrivateRegistryAdmin();
  auto repositories = registry.Catalog();
  REQUIRE_MESSAGE(repositories.ok(), repositories.status().ToString());
  std::map<std::string, std::vector<std::string>> lists;
  for (const auto& r : *repositories) {
    auto tags = registry.ListTags(r);
    if (tags.ok()) lists[r] = *tags;
  }
  return lists;
}

// The host `engine` must not have the image before the test deploys it there.
void ForgetImage(World& w, const std::string& engine, const std::string& reference) {
  w.Engine(engine).RemoveImage(reference, false);
  REQUIRE(w.Engine(engine).InspectImage(reference).status().code() == Status::Code::kNotFound);
}

void DeployAndServe(World& w, int image, const std::string& engine) {
  const int vm = w.CreateVm("from-image-" + std::to_string(image), 0.25, 64, "", "", image);
  w.Deploy(vm, engine);
  const Vm running = w.WaitFor(vm, kVmActive, kLcmRunning, 90);
  CHECK(World::HttpGet(running.nics.front().ip).find("onedock test page") != std::string::npos);
}

TEST_CASE(
    "an image from the upstream registry becomes READY pinned by digest and runs on a host that "
    "never had it") {
  World w;
  const std::string upstream = testbed::TestImage();  // 127.0.0.1:5001/onedock/httpd:1.0
  const int image = w.CreateImage("NAME = httpd-upstream\nPATH = docker://" + upstream);
  const Image ready = w.WaitForImage(image, kImageReady);
  const std::regex pinned(ThisSlot().RegistryHost() + "/httpd:" + std::to_string(image) +
                          "@sha256:[0-9a-f]{64}");
  CHECK_MESSAGE(std::regex_match(ready.source, pinned), ready.source);
  CHECK(ready.format == "docker");
  CHECK(ready.size_mb >= 1);
  auto manifest = PrivateRegistry().GetManifest("httpd", std::to_string(image));
  REQUIRE_MESSAGE(manifest.ok(), manifest.status().ToString());
  CHECK(ready.source.substr(ready.source.find('@') + 1) == manifest->digest);

  ForgetImage(w, "h2", ready.source);
  DeployAndServe(w, image, "h2");
  CHECK(w.Engine("h2").InspectImage(ready.source).ok());  // pulled from the private registry
}

TEST_CASE(
    "an image from a registry that wants credentials is copied with the template's credentials and "
    "sized by its SIZE") {
  World w;
  const std::string path =
      "PATH = docker://" + testbed::RegistryHost("auth") + "/onedock/httpd:1.0\n";
  const std::string credentials = "REGISTRY_USERNAME = " + testbed::Get("ONEDOCK_AUTH_USER") +
                                  "\nREGISTRY_PASSWORD = " + testbed::Get("ONEDOCK_AUTH_PASSWORD") +
                                  "\n";
  // oned's stat sees PATH and SIZE only, so without SIZE the registry's refusal is the answer.
  const auto [none, refusal] = w.TryCreateImage("NAME = httpd-auth\n" + path + credentials);
  CHECK(none == -1);
  CHECK_MESSAGE(refusal.find("set SIZE in the image template") != std::string::npos, refusal);
  const int image = w.CreateImage("NAME = httpd-auth\n" + path + credentials + "SIZE = 3\n");
  const Image ready = w.WaitForImage(image, kImageReady);
  CHECK(ready.source.find("/httpd:" + std::to_string(image) + "@sha256:") != std::string::npos);
  CHECK(ready.size_mb == 3);
}

TEST_CASE(
    "credentials from onedockd.conf's [credentials REGISTRY] section copy an image that wants "
    "them") {
  char dir[] = "/tmp/onedock-cred-XXXXXX";
  REQUIRE(mkdtemp(dir) != nullptr);
  const std::string password_file = std::string(dir) + "/password";
  std::ofstream(password_file) << testbed::Get("ONEDOCK_AUTH_PASSWORD") << "\n";
  {
    World w("[credentials " + testbed::RegistryHost("auth") + "]\nusername = " +
            testbed::Get("ONEDOCK_AUTH_USER") + "\npassword_file = " + password_file + "\n");
    const int image =
        w.CreateImage("NAME = httpd-conf-auth\nPATH = docker://" + testbed::RegistryHost("auth") +
                      "/onedock/httpd:1.0");  // no REGISTRY_USERNAME in the template
    const Image ready = w.WaitForImage(image, kImageReady);
    CHECK(ready.source.find("/httpd:" + std::to_string(image) + "@sha256:") != std::string::npos);
    CHECK(ready.size_mb >= 1);  // stat read the manifest with the same credentials
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE(
    "a clone is published under its own name and id and deploys, and a clone of an unused "
    "DATABLOCK is a new volume") {
  World w;
  const int image = w.CreateImage("NAME = httpd-original\nPATH = docker://" + testbed::TestImage());
  const Image original = w.WaitForImage(image, kImageReady);
  const int clone = xmlrpc_c::value_int(w.Call(
      "one.image.clone", {xmlrpc_c::value_int(image), xmlrpc_c::value_string("httpd-copy")}));
  const Image copy = w.WaitForImage(clone, kImageReady);
  const std::regex pinned(ThisSlot().RegistryHost() + "/httpd-copy:" + std::to_string(clone) +
                          "@sha256:[0-9a-f]{64}");
  CHECK_MESSAGE(std::regex_match(copy.source, pinned), copy.source);
  // The same bytes under another name: the digests agree.
  CHECK(copy.source.substr(copy.source.find('@')) ==
        original.source.substr(original.source.find('@')));
  ForgetImage(w, "h2", copy.source);
  DeployAndServe(w, clone, "h2");

  const int block = w.CreateImage("NAME = empty\nTYPE = DATABLOCK\nSIZE = 5");
  w.WaitForImage(block, kImageReady);
  const int block_copy = xmlrpc_c::value_int(w.Call(
      "one.image.clone", {xmlrpc_c::value_int(block), xmlrpc_c::value_string("empty-copy")}));
  CHECK(w.WaitForImage(block_copy, kImageReady).source ==
        "onedock-volume://" + std::to_string(block_copy));
}

TEST_CASE("a docker save tarball registers and deploys the same way") {
  World w;
  const std::string tarball = w.root() + "/httpd.tar";
  REQUIRE(w.Engine("h1").PullImage(testbed::TestImage()).ok());
  REQUIRE(testing::EngineAdmin("h1", ThisSlot().Engine("h1"))
              .SaveImage(testbed::TestImage(), tarball)
              .ok());
  const int image = w.CreateImage("NAME = \"httpd from tarball\"\nPATH = " + tarball);
  const Image ready = w.WaitForImage(image, kImageReady);
  CHECK(ready.source.find(ThisSlot().RegistryHost() +
                          "/httpd-from-tarball:" + std::to_string(image) + "@sha256:") == 0);
  ForgetImage(w, "h2", ready.source);
  DeployAndServe(w, image, "h2");
}

// Serves one file over HTTP on a loopback port until destroyed.
class FileServer {
 public:
  explicit FileServer(std::string path)
      : path_(std::move(path)), stub_([this](const testing::StubRequest&) {
          std::ifstream in(path_, std::ios::binary);
          return testing::StubReply{
              200,
              {{"Content-Type", "application/x-tar"}},
              std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>())};
        }) {}
  std::string url() const { return stub_.base_url() + "/httpd.tar"; }

 private:
  std::string path_;
  testing::HttpStub stub_;
};

TEST_CASE("a tarball named by an http URL is downloaded, registered, and its download removed") {
  World w;
  const std::string tarball = w.root() + "/served.tar";
  REQUIRE(w.Engine("h1").PullImage(testbed::TestImage()).ok());
  REQUIRE(testing::EngineAdmin("h1", ThisSlot().Engine("h1"))
              .SaveImage(testbed::TestImage(), tarball)
              .ok());
  FileServer server(tarball);
  const int image = w.CreateImage("NAME = httpd-url\nPATH = " + server.url());
  const Image ready = w.WaitForImage(image, kImageReady);
  CHECK(ready.source.find("/httpd-url:" + std::to_string(image) + "@sha256:") != std::string::npos);
  CHECK(ready.size_mb ==
        (std::filesystem::file_size(tarball) + (1 << 20) - 1) / (1 << 20));  // stat's HEAD
  CHECK(std::filesystem::is_empty(w.root() + "/od/spool"));
}

TEST_CASE("deleting an image removes it from the private registry") {
  World w;
  const int image = w.CreateImage("NAME = httpd-doomed\nPATH = docker://" + testbed::TestImage());
  const Image ready = w.WaitForImage(image, kImageReady);
  auto tags = PrivateRegistryAdmin().ListTags("httpd");
  REQUIRE(tags.ok());
  CHECK(std::count(tags->begin(), tags->end(), std::to_string(image)) == 1);
  w.Call("one.image.delete", {xmlrpc_c::value_int(image)});
  auto registry = PrivateRegistry();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline &&
         registry.GetManifest("httpd", std::to_string(image)).ok()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  CHECK(registry.GetManifest("httpd", std::to_string(image)).status().code() ==
        Status::Code::kNotFound);
  tags = PrivateRegistryAdmin().ListTags("httpd");
  REQUIRE(tags.ok());
  CHECK(std::count(tags->begin(), tags->end(), std::to_string(image)) == 0);
}

TEST_CASE(
    "bad image inputs are refused or end in ERROR with a message and leave the private registry's "
    "tags as they were") {
  World w;
  const std::string up = testbed::RegistryHost("upstream");
  const std::string corrupt = w.root() + "/corrupt.tar";
  {
    std::ofstream out(corrupt, std::ios::binary);
    for (int i = 0; i < 4096; ++i) out.put(static_cast<char>((i * 7919) & 0xff));
  }
  const auto before = TagLists();
  struct Case {
    std::string template_text;
    std::string message;  // part of the image's ERROR
  };
  const std::vector<Case> cases = {
      {"NAME = nosuch\nPATH = docker://" + up + "/onedock/nosuch:1.0", "onedock/nosuch"},
      {"NAME = notag\nPATH = docker://" + up + "/onedock/httpd:9.9", "onedock/httpd:9.9"},
      {"NAME = malformed\nPATH = docker://" + up + "/Onedock//HTTPD::1", "PATH docker://"},
      {"NAME = shell\nPATH = \"docker://" + up + "/onedock/httpd:1.0;touch /tmp/onedock-pwned\"",
       "PATH docker://"},
      {"NAME = climb\nPATH = docker://" + up + "/../../etc/passwd", "PATH docker://"},
      {"NAME = climbfile\nPATH = /tmp/../etc/passwd", "restricted directory /etc"},
      {"NAME = notafile\nPATH = relative/image.tar", "neither docker://"},
      {"NAME = corrupt\nPATH = " + corrupt, "load tarball"},
      {"NAME = down\nPATH = docker://127.0.0.1:5999/onedock/httpd:1.0", "127.0.0.1:5999"},
      {"NAME = refused\nPATH = docker://" + testbed::RegistryHost("auth") +
           "/onedock/httpd:1.0\nREGISTRY_USERNAME = onedock\nREGISTRY_PASSWORD = wrong",
       testbed::RegistryHost("auth")},
  };
  for (const auto& c : cases) {
    CAPTURE(c.template_text);
    // What stat refuses, oned refuses in one.image.allocate; what only cp can find ends in ERROR.
    auto [image, error] = w.TryCreateImage(c.template_text);
    if (image >= 0) {
      const Image failed = w.WaitForImage(image, kImageError, 90);
      auto found = failed.template_attributes.find("ERROR");
      REQUIRE(found != failed.template_attributes.end());
      error = found->second;
    }
    CHECK_MESSAGE(error.find(c.message) != std::string::npos, error);
    MESSAGE(c.template_text.substr(0, c.template_text.find('\n'))
            << std::string(image >= 0 ? " -> ERROR: " : " -> refused: ") << error);
  }
  CHECK(TagLists() == before);
  CHECK_FALSE(std::filesystem::exists("/tmp/onedock-pwned"));
}

TEST_CASE(
    "a PATH naming /etc/shadow or a refused address is refused, and deleting one of two images of "
    "the same upstream image leaves the other's manifest") {
  World w;
  const auto before = TagLists();
  // The stock CLI, as a user types it.
  const auto shadow = w.Cli("oneimage create -d onedock_images --name shadow --path /etc/shadow");
  CHECK(shadow.exit_code != 0);
  CHECK_MESSAGE(
      shadow.output.find("PATH /etc/shadow is in restricted directory /etc") != std::string::npos,
      shadow.output);
  // The engine h1 (127.0.0.2) and the cloud metadata address: refused whatever the allow list of
  // this world (127.0.0.1/32) admits, before any connection.
  const std::string engine = ThisSlot().EngineAddress("h1");
  for (const std::string& url :
       {"https://" + engine + "/images/json", std::string("http://169.254.169.254/latest/")}) {
    CAPTURE(url);
    auto [image, error] = w.TryCreateImage("NAME = ssrf\nPATH = " + url);
    CHECK(image < 0);
    CHECK_MESSAGE(error.find("refused: l") != std::string::npos, error);  // loopback, link-local
    MESSAGE(url << " -> refused: " << error);
  }
  auto [upstream, up_error] = w.TryCreateImage("NAME = hidden\nPATH = docker://" + engine + "/x:1");
  CHECK(upstream < 0);
  CHECK_MESSAGE(up_error.find("refused: loopback") != std::string::npos, up_error);
  MESSAGE("docker://" << engine << "/x:1 -> refused: " << up_error);
  MESSAGE("oneimage create --path /etc/shadow -> " << shadow.output);
  CHECK(TagLists() == before);
  // The private registry holds every user's images and checkpoints: not a source, by any name.
  const std::string own_registry = ThisSlot().RegistryHost();  // 127.0.0.1:<port>
  const std::string port = own_registry.substr(own_registry.rfind(':') + 1);
  for (const std::string& own : {own_registry, "localhost:" + port}) {
    auto [copied, copy_error] =
        w.TryCreateImage("NAME = theirs\nPATH = docker://" + own + "/httpd:1");
    CHECK(copied < 0);
    CHECK_MESSAGE(copy_error.find("private registry") != std::string::npos, copy_error);
  }

  // Two users' copies of the same upstream image share a repository and a digest.
  const int first = w.CreateImage("NAME = httpd-a\nPATH = docker://" + testbed::TestImage());
  const int second = w.CreateImage("NAME = httpd-b\nPATH = docker://" + testbed::TestImage());
  const Image a = w.WaitForImage(first, kImageReady);
  const Image b = w.WaitForImage(second, kImageReady);
  const std::string digest_a = a.source.substr(a.source.find('@') + 1);
  const std::string digest_b = b.source.substr(b.source.find('@') + 1);
  REQUIRE(digest_a == digest_b);
  auto gone = [&w](int image) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline &&
           w.CallError("one.image.info", {xmlrpc_c::value_int(image)}).empty()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return !w.CallError("one.image.info", {xmlrpc_c::value_int(image)}).empty();
  };
  w.Call("one.image.delete", {xmlrpc_c::value_int(first)});
  REQUIRE(gone(first));  // oned drops an image once the datastore's rm succeeded
  auto registry = PrivateRegistry();
  auto kept = registry.GetManifest("httpd", std::to_string(second));
  REQUIRE_MESSAGE(kept.ok(), kept.status().ToString());
  CHECK(kept->digest == digest_b);
  // The survivor still deploys, pulled from the private registry by a host that lacks it.
  ForgetImage(w, "h2", b.source);
  DeployAndServe(w, second, "h2");
}

}  // namespace
}  // namespace onedock::e2e
