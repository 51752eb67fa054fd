// RegistryClient::ProbePush, the doctor's check that the private registry accepts a push: an
// upload is started and the very upload the registry named is cancelled, so nothing stays; a
// refusal keeps its code.
#include <doctest/doctest.h>

#include <mutex>
#include <vector>

#include "docker/registry_client.h"
#include "tests/http_stub.h"

namespace onedock::docker {
namespace {

struct Seen {
  std::mutex mu;
  std::vector<std::string> requests;  // "METHOD target"
  void Add(const testing::StubRequest& r) {
    std::lock_guard<std::mutex> lock(mu);
    requests.push_back(r.method + " " + r.target);
  }
};

TEST_CASE("a push probe starts an upload and deletes the upload the registry named") {
  Seen seen;
  int port = 0;
  testing::HttpStub registry([&](const testing::StubRequest& r) {
    seen.Add(r);
    if (r.method == "POST") {
      // Distribution names the upload by an absolute URL.
      return testing::StubReply{
          202,
          {{"Location", "http://127.0.0.1:" + std::to_string(port) +
                            "/v2/onedock/doctor/blobs/uploads/u-1?_state=abc"}},
          ""};
    }
    return testing::StubReply{204, {}, ""};
  });
  port = registry.port();
  RegistryClient client("registry test", Endpoint{.base_url = registry.base_url()});
  const Status probed = client.ProbePush("onedock/doctor");
  CHECK_MESSAGE(probed.ok(), probed.ToString());
  std::lock_guard<std::mutex> lock(seen.mu);
  CHECK(seen.requests ==
        std::vector<std::string>{"POST /v2/onedock/doctor/blobs/uploads/",
                                 "DELETE /v2/onedock/doctor/blobs/uploads/u-1?_state=abc"});
}

TEST_CASE("a push probe the registry refuses is kUnauthenticated and cancels nothing") {
  Seen seen;
  testing::HttpStub registry([&](const testing::StubRequest& r) {
    seen.Add(r);
    return testing::StubReply{
        401,
        {{"WWW-Authenticate", "Basic realm=\"registry\""}},
        R"({"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]})"};
  });
  RegistryClient client("registry test", Endpoint{.base_url = registry.base_url()});
  const Status probed = client.ProbePush("onedock/doctor");
  CHECK(probed.code() == Status::Code::kUnauthenticated);
  std::lock_guard<std::mutex> lock(seen.mu);
  CHECK(seen.requests == std::vector<std::string>{"POST /v2/onedock/doctor/blobs/uploads/"});
}

}  // namespace
}  // namespace onedock::docker
