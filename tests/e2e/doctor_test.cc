// `onedock doctor` as an operator runs it, on a configured installation (the world's oned, its
// remotes, onedockd, the bed's engines and registry): it passes, then each thing broken on purpose
// (an engine down, a wrong CA, an expired client certificate, a registry down, an oned.conf entry
// missing) is its own FAIL line and fails the exit code.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "bridge/admin/certs.h"
#include "tests/e2e/world.h"
#include "tests/free_port.h"
#include "tests/integration/bed.h"
#include "tests/support/require_ok.h"
#include "tests/support/stub_binary.h"

namespace onedock::e2e {
namespace {

struct DoctorRun {
  int exit_code = -1;
  std::string output;
  std::map<std::string, std::string> level;   // check -> "ok", "warn", "FAIL"
  std::map<std::string, std::string> detail;  // check -> what was seen
};

DoctorRun Doctor(World& world, const std::string& config) {
  const std::string out = world.root() + "/doctor.out";
  const auto run = testing::RunStubBinary(
      ONEDOCK_BIN, "", {"doctor", "-c", config, "--remotes", world.root() + "/one/var/remotes"},
      "/dev/null", out);
  DoctorRun d{run.exit_code, run.output, {}, {}};
  std::istringstream lines(run.output);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("     fix: ", 0) == 0) continue;
    const std::string level = line.substr(0, 4);
    const auto colon = line.find(": ", 5);
    REQUIRE_MESSAGE((level == "ok  " || level == "warn" || level == "FAIL"), line);
    REQUIRE_MESSAGE(colon != std::string::npos, line);
    const std::string check = line.substr(5, colon - 5);
    d.level[check] = level == "ok  " ? "ok" : level;
    d.detail[check] = line.substr(colon + 2);
  }
  return d;
}

// The world's onedockd.conf with each `from` replaced by its `to`, written as `name` beside it.
std::string Variant(World& world, const std::string& name,
                    const std::vector<std::pair<std::string, std::string>>& edits) {
  std::ifstream in(world.root() + "/od/onedockd.conf");
  std::stringstream text;
  text << in.rdbuf();
  std::string conf = text.str();
  for (const auto& [from, to] : edits) {
    const auto at = conf.find(from);
    REQUIRE_MESSAGE(at != std::string::npos, from);
    conf.replace(at, from.size(), to);
  }
  const std::string path = world.root() + "/od/" + name;
  std::ofstream(path) << conf;
  return path;
}

// Every FAIL line of a run, for the messages.
std::string Failures(const DoctorRun& run) {
  std::string out;
  for (const auto& [check, level] : run.level) {
    if (level == "FAIL") out += check + ": " + run.detail.at(check) + "\n";
  }
  return out;
}

TEST_CASE("onedock doctor passes a configured installation and names each thing broken on it") {
  World world;
  const std::string config = world.root() + "/od/onedockd.conf";
  const std::string certs = testbed::Get("ONEDOCK_CERTS");

  // The world's host "dead" has an engine address where nothing listens.
  DoctorRun dead = Doctor(world, config);
  CHECK(dead.exit_code == 1);
  CHECK(dead.level["engine dead"] == "FAIL");
  CHECK(dead.detail["engine dead"].find("does not answer") != std::string::npos);
  CHECK(Failures(dead) == "engine dead: " + dead.detail["engine dead"] + "\n");

  world.Call("one.host.delete", {xmlrpc_c::value_int(world.host("dead"))});
  DoctorRun good = Doctor(world, config);
  INFO(good.output);
  CHECK(good.exit_code == 0);
  CHECK(Failures(good).empty());
  for (const char* check : {"oned", "oned.conf VM_MAD onedock", "host h1 placement",
                            "host h2 placement", "cluster onedock vnets", "remotes onedock-stub",
                            "onedockd", "engine h1 TLS", "engine h1 client certificate",
                            "engine h2 API", "engine h2 live-restore", "[images] staging_host"}) {
    CHECK_MESSAGE(good.level[check] == "ok", check);
  }
  CHECK(good.level["registry " + ThisSlot().RegistryHost()] == "ok");

  // A CA that did not sign the engines' certificates.
  DoctorRun wrong_ca =
      Doctor(world, Variant(world, "wrong-ca.conf",
                            {{"ca = " + certs + "/ca.pem", "ca = " + certs + "/foreign/ca.pem"}}));
  CHECK(wrong_ca.exit_code == 1);
  CHECK(wrong_ca.level["engine h1 server certificate"] == "FAIL");
  CHECK(wrong_ca.detail["engine h1 server certificate"].find("not signed by [engines] ca") == 0);
  CHECK(wrong_ca.level["engine h1 client certificate"] == "ok");  // seen past the wrong CA

  // onedockd's client certificate, signed by the right CA, expired yesterday.
  const std::string cert = world.root() + "/od/expired-cert.pem";
  const std::string key = world.root() + "/od/expired-key.pem";
  auto slurp = [](const std::string& path) {
    std::ifstream in(path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  };
  auto expired_pair = admin::Issue({slurp(certs + "/ca-key.pem"), slurp(certs + "/ca.pem")},
                                   {.common_name = "onedock-expired",
                                    .role = admin::CertRole::kClient,
                                    .days = 1,
                                    .now = std::time(nullptr) - 60 * 86400});
  REQUIRE_OK(expired_pair);
  std::ofstream(cert) << expired_pair->cert_pem;
  std::ofstream(key) << expired_pair->key_pem;
  const std::string expired_conf = Variant(world, "expired.conf",
                                           {{"cert = " + certs + "/cert.pem", "cert = " + cert},
                                            {"key = " + certs + "/key.pem", "key = " + key}});
  DoctorRun expired = Doctor(world, expired_conf);
  CHECK(expired.exit_code == 1);
  CHECK(expired.level["onedockd's client certificate " + cert] == "FAIL");
  CHECK(expired.detail["onedockd's client certificate " + cert].find("expired on") == 0);
  CHECK(expired.level["engine h1 client certificate"] == "FAIL");

  // An engine whose certificate, from the right CA, was made for another host: a TLS server
  // (openssl s_server, requiring a client certificate as dockerd does) with a certificate that
  // `onedock host-cert` made for "elsewhere" at 127.0.0.99, reached as h1's engine.
  const std::string wrong = world.root() + "/wrong-name";
  std::filesystem::create_directories(wrong);
  std::filesystem::copy_file(certs + "/ca.pem", wrong + "/ca.pem");
  std::filesystem::copy_file(certs + "/ca-key.pem", wrong + "/ca-key.pem");
  const auto issued = testing::RunStubBinary(
      ONEDOCK_BIN, "", {"host-cert", "elsewhere", "--ip", "127.0.0.99", "--dir", wrong},
      "/dev/null", wrong + "/host-cert.out");
  REQUIRE_MESSAGE(issued.exit_code == 0, issued.output);
  const int tls_port = testing::FreeLoopbackPort();
  const std::string server =
      "openssl s_server -quiet -accept 127.0.0.1:" + std::to_string(tls_port) + " -cert " + wrong +
      "/hosts/elsewhere/cert.pem -key " + wrong + "/hosts/elsewhere/key.pem -CAfile " + wrong +
      "/ca.pem -Verify 1 -www </dev/null >/dev/null 2>&1 & echo $! > " + wrong + "/pid";
  REQUIRE(std::system(server.c_str()) == 0);
  auto listening = [tls_port] {
    int bound = 0;
    const int fd = testing::BindLoopback(SOCK_STREAM, tls_port, &bound);
    if (fd >= 0) close(fd);
    return fd < 0;
  };
  for (int i = 0; i < 50 && !listening(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  REQUIRE(listening());
  DoctorRun wrong_name =
      Doctor(world, Variant(world, "wrong-name.conf",
                            {{"url = https://" + ThisSlot().EngineAddress("h1"),
                              "url = https://127.0.0.1:" + std::to_string(tls_port)}}));
  CHECK(std::system(("kill $(cat " + wrong + "/pid)").c_str()) == 0);
  INFO(wrong_name.output);
  CHECK(wrong_name.exit_code == 1);
  CHECK(wrong_name.level["engine h1 server certificate"] == "FAIL");
  CHECK(wrong_name.detail["engine h1 server certificate"].find("does not name h1") == 0);
  CHECK(wrong_name.level["engine h1 client certificate"] == "ok");

  // A registry address where nothing listens.
  const std::string nowhere = "127.0.0.1:" + std::to_string(testing::FreeLoopbackPort());
  DoctorRun no_registry =
      Doctor(world, Variant(world, "no-registry.conf",
                            {{"address = " + ThisSlot().RegistryHost(), "address = " + nowhere}}));
  CHECK(no_registry.exit_code == 1);
  CHECK(no_registry.level["registry " + nowhere] == "FAIL");

  // oned down: its line fails, and what needs oned's hosts is not judged on an empty list.
  const std::string no_oned_endpoint =
      "http://127.0.0.1:" + std::to_string(testing::FreeLoopbackPort()) + "/RPC2";
  DoctorRun no_oned = Doctor(
      world, Variant(world, "no-oned.conf",
                     {{"endpoint = " + world.one().endpoint(), "endpoint = " + no_oned_endpoint}}));
  CHECK(no_oned.exit_code == 1);
  CHECK(no_oned.level["oned"] == "FAIL");
  CHECK(no_oned.level["[images] staging_host"] == "warn");
  CHECK(no_oned.detail["[images] staging_host"] == "not checked: oned's hosts are unknown");

  // oned.conf without the network driver's steps in VM_MAD onedock's -l list, oned restarted.
  const std::string oned_conf = world.root() + "/one/etc/oned.conf";
  std::stringstream oned_text;
  oned_text << std::ifstream(oned_conf).rdbuf();
  std::string oned = oned_text.str();
  const auto steps = oned.find(",pre,post,clean");
  REQUIRE(steps != std::string::npos);
  std::ofstream(oned_conf) << oned.erase(steps, std::string(",pre,post,clean").size());
  world.one().Restart();
  DoctorRun no_steps = Doctor(world, config);
  CHECK(no_steps.exit_code == 1);
  CHECK(no_steps.level["oned.conf VM_MAD onedock"] == "FAIL");
  CHECK(no_steps.detail["oned.conf VM_MAD onedock"] == "-l does not list pre, post, clean");
  CHECK(Failures(no_steps) == "oned.conf VM_MAD onedock: -l does not list pre, post, clean\n");
}

}  // namespace
}  // namespace onedock::e2e
