// Reaching an engine: mutual TLS, API negotiation, connection reuse, and every way of being
// refused, each distinguishable from a host that is down.
#include <doctest/doctest.h>

#include "docker/engine_client.h"
#include "tests/integration/bed.h"
#include "tests/support/engine_admin.h"

namespace onedock::docker {

TEST_CASE("mTLS client negotiates the engine's API version and reads version and info") {
  EngineClient h1("h1", testbed::Engine("h1"));
  auto api = h1.Negotiate();
  REQUIRE_MESSAGE(api.ok(), api.status().ToString());
  auto version = testing::EngineAdmin("h1", testbed::Engine("h1")).Version();
  REQUIRE(version.ok());
  // min(newest we know, engine's newest), never a fixed version.
  CHECK(*api == std::min(kNewestApi, *ApiVersion::Parse(version->api_version)));
  CHECK(*api >= kOldestApi);
  auto info = h1.Info();
  REQUIRE(info.ok());
  CHECK(info->ncpu > 0);
  CHECK(info->mem_total > 0);
  CHECK(info->docker_root_dir == testbed::Get("ONEDOCK_ENGINE_H1_DATA_ROOT"));
}

TEST_CASE("one connection serves many calls") {
  EngineClient h1("h1", testbed::Engine("h1"));
  for (int i = 0; i < 20; ++i) REQUIRE(h1.ListContainers({}).ok());
  CHECK(h1.connections_opened() == 1);
}

TEST_CASE("the unix socket endpoint speaks the same API") {
  EngineClient local("h2-local", testbed::EngineSocket("h2"));
  CHECK(local.Negotiate().ok());
  auto info = local.Info();
  REQUIRE(info.ok());
  CHECK(info->docker_root_dir == testbed::Get("ONEDOCK_ENGINE_H2_DATA_ROOT"));
}

TEST_CASE("a client without a certificate is refused") {
  Endpoint e = testbed::Engine("h1");
  e.cert_file.clear();
  e.key_file.clear();
  EngineClient anonymous("h1", e);
  Status s = anonymous.Negotiate().status();
  INFO(s.ToString());
  CHECK(s.code() == Status::Code::kUnauthenticated);
  CHECK(s.message().find("client certificate refused") != std::string::npos);
  CHECK_FALSE(s.IsRetryable());
}

TEST_CASE("a client certificate from another CA is refused") {
  Endpoint e = testbed::Engine("h1");
  const std::string foreign = testbed::Get("ONEDOCK_CERTS") + "/foreign";
  e.cert_file = foreign + "/cert.pem";
  e.key_file = foreign + "/key.pem";
  EngineClient stranger("h1", e);
  Status s = stranger.Negotiate().status();
  INFO(s.ToString());
  CHECK(s.code() == Status::Code::kUnauthenticated);
  CHECK(s.message().find("client certificate refused") != std::string::npos);
}

TEST_CASE("a client key that does not match its certificate is an unusable local key") {
  Endpoint e = testbed::Engine("h1");
  e.key_file = testbed::Get("ONEDOCK_CERTS") + "/foreign/key.pem";  // not cert.pem's key
  EngineClient mismatched("h1", e);
  Status s = mismatched.Negotiate().status();
  INFO(s.ToString());
  CHECK(s.code() == Status::Code::kUnauthenticated);
  CHECK(s.message().find("local client certificate or key unusable") != std::string::npos);
  CHECK_FALSE(s.IsRetryable());
}

TEST_CASE("a client trusting another CA refuses the engine") {
  Endpoint e = testbed::Engine("h1");
  e.ca_file = testbed::Get("ONEDOCK_CERTS") + "/foreign/ca.pem";
  EngineClient wary("h1", e);
  Status s = wary.Negotiate().status();
  CHECK(s.code() == Status::Code::kUnauthenticated);
  CHECK(s.message().find("server certificate not trusted") != std::string::npos);
}

TEST_CASE("an engine that is down is unavailable not a TLS failure") {
  Endpoint e = testbed::Engine("h1");
  e.base_url = "https://127.0.0.9:2376";  // nothing listens there
  EngineClient down("h9", e);
  auto api = down.Negotiate();
  REQUIRE_FALSE(api.ok());
  CHECK(api.status().code() == Status::Code::kUnavailable);
  CHECK(api.status().IsRetryable());
  CHECK(api.status().message().rfind("h9: ", 0) == 0);
}

TEST_CASE("plain HTTP to the TLS port is answered with a 400 that names the mistake") {
  Endpoint e = testbed::Engine("h1");
  e.base_url = "http://" + testbed::Get("ONEDOCK_ENGINE_H1");
  EngineClient plain("h1", e);
  Status s = plain.Negotiate().status();
  CHECK(s.code() == Status::Code::kInvalidArgument);
  CHECK(s.message().find("HTTPS") != std::string::npos);
}

}  // namespace onedock::docker
