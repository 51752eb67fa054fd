// Certificates made by `onedock host-cert` and `client-cert`: what they say, that they chain to
// the CA, and which files the commands write, reuse and refuse to replace.
#include "bridge/admin/certs.h"

#include <doctest/doctest.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "bridge/admin/cert_commands.h"
#include "tests/support/require_ok.h"
#include "tests/support/temp_dir.h"

namespace onedock::admin {
namespace {

constexpr std::time_t kNow = 1'800'000'000;  // 2027-01-15
constexpr std::time_t kDay = 86400;

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  REQUIRE(stat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

KeyAndCert TestCa() {
  auto ca = NewCa("test CA", 30, kNow);
  REQUIRE_OK(ca);
  return *ca;
}

CertOptions Options(bool host, std::vector<std::string> args) {
  auto o = ParseCertArgs(host, args);
  REQUIRE_OK(o);
  return *o;
}

}  // namespace

TEST_CASE("subjectAltNames admit host names and addresses only") {
  auto sans = SubjectAltNames({"node1.example.org"}, {"10.0.0.21", "fd00::21"});
  REQUIRE_OK(sans);
  CHECK(*sans == "DNS:node1.example.org,IP:10.0.0.21,IP:fd00::21");
  // A host named by its address gets an IP entry: clients match addresses against those only.
  CHECK(*SubjectAltNames({"127.0.0.2"}, {}) == "IP:127.0.0.2");
  // Nothing typed can add fields to the extension's configuration string.
  for (const std::string hostile :
       {"h1,IP:1.2.3.4", "h1 h2", "DNS:h1", "", "a/b", "h1\n", ".", "..", "h1.", "a..b", "-h"}) {
    CAPTURE(hostile);
    CHECK(SubjectAltNames({hostile}, {}).status().code() == Status::Code::kInvalidArgument);
  }
  CHECK_FALSE(SubjectAltNames({"h1"}, {"10.0.0.1,DNS:evil"}).ok());
  CHECK_FALSE(SubjectAltNames({}, {}).ok());
}

TEST_CASE("a server certificate names its host, serves TLS and chains to the CA") {
  const KeyAndCert ca = TestCa();
  auto ca_facts = ReadCert(ca.cert_pem);
  REQUIRE_OK(ca_facts);
  CHECK(ca_facts->is_ca);
  auto server = Issue(ca, {.common_name = "h1",
                           .role = CertRole::kServer,
                           .names = {"h1"},
                           .addresses = {"127.0.0.2"},
                           .days = 10,
                           .now = kNow});
  REQUIRE_OK(server);
  auto facts = ReadCert(server->cert_pem);
  REQUIRE_OK(facts);
  CHECK(facts->subject_cn == "h1");
  CHECK(facts->issuer_cn == "test CA");
  CHECK(facts->dns_names == std::vector<std::string>{"h1"});
  CHECK(facts->ip_addresses == std::vector<std::string>{"127.0.0.2"});
  CHECK(facts->server_auth);
  CHECK_FALSE(facts->client_auth);
  CHECK_FALSE(facts->is_ca);
  CHECK(facts->not_before == kNow - 300);
  CHECK(facts->not_after == kNow + 10 * kDay);
  CHECK(server->key_pem.find("BEGIN PRIVATE KEY") != std::string::npos);
  CHECK_OK(VerifyCert(ca.cert_pem, server->cert_pem, kNow + kDay));
  // Outside its validity, or against another CA, it is refused.
  const Status late = VerifyCert(ca.cert_pem, server->cert_pem, kNow + 11 * kDay);
  CHECK(late.code() == Status::Code::kUnauthenticated);
  CHECK(late.message().find("expired") != std::string::npos);
  CHECK_FALSE(VerifyCert(TestCa().cert_pem, server->cert_pem, kNow + kDay).ok());
}

TEST_CASE("a client certificate is for client authentication and names no host") {
  const KeyAndCert ca = TestCa();
  auto client = Issue(ca, {.common_name = "onedockd", .role = CertRole::kClient, .now = kNow});
  REQUIRE_OK(client);
  auto facts = ReadCert(client->cert_pem);
  REQUIRE_OK(facts);
  CHECK(facts->client_auth);
  CHECK_FALSE(facts->server_auth);
  CHECK(facts->dns_names.empty());
  CHECK(facts->not_after == kNow + 825 * kDay);
  CHECK_OK(VerifyCert(ca.cert_pem, client->cert_pem, kNow));
}

TEST_CASE("issuing refuses a broken CA and out-of-range requests") {
  const KeyAndCert ca = TestCa();
  const KeyAndCert other = TestCa();
  CertRequest request{.common_name = "h1", .names = {"h1"}, .now = kNow};
  CHECK(Issue({other.key_pem, ca.cert_pem}, request).status().code() ==
        Status::Code::kFailedPrecondition);
  CHECK(Issue({"junk", ca.cert_pem}, request).status().code() == Status::Code::kFailedPrecondition);
  auto leaf = Issue(ca, request);
  REQUIRE_OK(leaf);
  CHECK(Issue(*leaf, request).status().message().find("no CA") != std::string::npos);
  request.days = 0;
  CHECK(Issue(ca, request).status().code() == Status::Code::kInvalidArgument);
  request.days = 10;
  request.common_name = std::string(65, 'a');
  CHECK(Issue(ca, request).status().code() == Status::Code::kInvalidArgument);
}

TEST_CASE("host-cert and client-cert arguments") {
  auto host = ParseCertArgs(true, {"h1", "--ip", "10.0.0.21", "--ip", "fd00::1", "--days", "90",
                                   "--dir", "/srv/ca", "--host-dir", "/etc/docker/tls"});
  REQUIRE_OK(host);
  CHECK(host->name == "h1");
  CHECK(host->addresses == std::vector<std::string>{"10.0.0.21", "fd00::1"});
  CHECK(host->days == 90);
  CHECK(host->dir == "/srv/ca");
  CHECK(host->host_dir == "/etc/docker/tls");
  CHECK_FALSE(host->force);
  CHECK(Options(false, {}).name == "onedockd");
  CHECK(Options(false, {"--name", "frontend-2", "--force"}).force);
  for (const std::vector<std::string>& bad :
       std::vector<std::vector<std::string>>{{},
                                             {"h1", "h2"},
                                             {"h1,IP:1.1.1.1"},
                                             {".."},
                                             {"."},
                                             {"h1", "--ip", "node2"},
                                             {"h1", "--days", "0"},
                                             {"h1", "--days", "12x"},
                                             {"h1", "--dir", "relative"},
                                             {"h1", "--ip"},
                                             {"h1", "--name", "x"}}) {
    CAPTURE(bad.size());
    CHECK(ParseCertArgs(true, bad).status().code() == Status::Code::kInvalidArgument);
  }
  CHECK_FALSE(ParseCertArgs(false, {"--ip", "10.0.0.1"}).ok());
}

TEST_CASE("host-cert writes the host's files, makes the CA once and reuses it") {
  testing::TempDir tmp("certs");
  const std::string dir = tmp.path() + "/certs";
  std::ostringstream out;
  REQUIRE_OK(RunCertCommand(Options(true, {"h1", "--ip", "127.0.0.2", "--dir", dir}), kNow, out));
  const std::string host = dir + "/hosts/h1";
  CHECK(ModeOf(dir) == 0750);
  CHECK(ModeOf(dir + "/ca-key.pem") == 0600);
  CHECK(ModeOf(host + "/key.pem") == 0600);
  CHECK(ModeOf(host + "/cert.pem") == 0644);
  CHECK(Read(host + "/ca.pem") == Read(dir + "/ca.pem"));
  CHECK_OK(VerifyCert(Read(dir + "/ca.pem"), Read(host + "/cert.pem"), kNow));
  CHECK(ReadCert(Read(host + "/cert.pem"))->ip_addresses == std::vector<std::string>{"127.0.0.2"});
  CHECK(Read(host + "/daemon.json") == DaemonJson("/etc/docker/onedock"));
  CHECK(out.str().find("new CA") != std::string::npos);

  const std::string ca_before = Read(dir + "/ca.pem");
  std::ostringstream again;
  REQUIRE_OK(RunCertCommand(Options(true, {"h2", "--dir", dir}), kNow, again));
  REQUIRE_OK(RunCertCommand(Options(false, {"--dir", dir}), kNow, again));
  CHECK(Read(dir + "/ca.pem") == ca_before);
  CHECK_OK(VerifyCert(ca_before, Read(dir + "/hosts/h2/cert.pem"), kNow));
  CHECK_OK(VerifyCert(ca_before, Read(dir + "/cert.pem"), kNow));
  CHECK(ReadCert(Read(dir + "/cert.pem"))->client_auth);
  CHECK(ModeOf(dir + "/key.pem") == 0600);
  // No temporary file is left beside the outputs.
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    CHECK(entry.path().filename().string()[0] != '.');
  }
}

TEST_CASE("host-cert never replaces a key without --force, nor a CA missing half") {
  testing::TempDir tmp("certs");
  const std::string dir = tmp.path();
  std::ostringstream out;
  REQUIRE_OK(RunCertCommand(Options(true, {"h1", "--dir", dir}), kNow, out));
  const std::string key = Read(dir + "/hosts/h1/key.pem");
  const Status again = RunCertCommand(Options(true, {"h1", "--dir", dir}), kNow, out);
  CHECK(again.code() == Status::Code::kConflict);
  CHECK(again.message().find("--force") != std::string::npos);
  CHECK(Read(dir + "/hosts/h1/key.pem") == key);
  REQUIRE_OK(RunCertCommand(Options(true, {"h1", "--dir", dir, "--force"}), kNow, out));
  CHECK(Read(dir + "/hosts/h1/key.pem") != key);

  std::filesystem::remove(dir + "/ca-key.pem");
  const Status half = RunCertCommand(Options(true, {"h2", "--dir", dir}), kNow, out);
  CHECK(half.code() == Status::Code::kFailedPrecondition);
  CHECK_FALSE(std::filesystem::exists(dir + "/hosts/h2/cert.pem"));
  CHECK_FALSE(std::filesystem::exists(dir + "/ca-key.pem"));
}

TEST_CASE("daemon.json turns on client verification and live-restore") {
  const std::string json = DaemonJson("/etc/docker/onedock");
  CHECK(json.find("\"tlsverify\": true") != std::string::npos);
  CHECK(json.find("\"tlscacert\": \"/etc/docker/onedock/ca.pem\"") != std::string::npos);
  CHECK(json.find("\"live-restore\": true") != std::string::npos);
  CHECK(ParseCertArgs(true, {"h1", "--host-dir", "/etc/\"x"}).status().code() ==
        Status::Code::kInvalidArgument);
}

}  // namespace onedock::admin
