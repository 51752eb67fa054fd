// The doctor's decisions over real captures of oned 7.4 (tests/fixtures/doctor): oned.conf as
// etc/oned-onedock.conf makes it, each entry missing or misspelt, hosts placed with another
// system datastore or vnet driver; the engine, stub and spool findings; the line format and the
// exit code.
#include <curl/curl.h>
#include <doctest/doctest.h>
#include <openssl/x509_vfy.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "bridge/admin/doctor_local_checks.h"
#include "bridge/admin/doctor_oned_checks.h"
#include "bridge/admin/doctor_report.h"
#include "bridge/admin/doctor_tls.h"
#include "bridge/run_options.h"
#include "tests/unit/fixtures.h"

namespace onedock::admin {
namespace {

std::string Config() { return fixtures::Read("doctor/system_config.xml"); }

// The config with the first `from` after `anchor` replaced by `to`.
std::string Edit(std::string text, const std::string& anchor, const std::string& from,
                 const std::string& to) {
  const auto at = text.find(from, text.find(anchor));
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

const Finding& Named(const std::vector<Finding>& findings, const std::string& check) {
  for (const Finding& f : findings) {
    if (f.check == check) return f;
  }
  FAIL("no finding " << check);
  static Finding none;
  return none;
}

OnedPools Pools(const std::string& which) {
  return {fixtures::Read("doctor/" + which + "_hostpool.xml"),
          fixtures::Read("doctor/" + which + "_clusterpool.xml"),
          fixtures::Read("doctor/" + which + "_datastorepool.xml"),
          fixtures::Read("doctor/" + which + "_vnpool.xml")};
}

TEST_CASE("the -l list the doctor wants is the one etc/oned-onedock.conf ships") {
  std::ifstream in(std::string(ONEDOCK_SOURCE_DIR) + "/etc/oned-onedock.conf");
  std::stringstream text;
  text << in.rdbuf();
  std::smatch m;
  const std::string conf = text.str();
  REQUIRE(std::regex_search(conf, m, std::regex("ARGUMENTS = \"(-t 15 -r 0 [^\"]*)\"")));
  std::vector<std::string> expected;
  for (auto a : kLocalActions) expected.push_back(std::string(a));
  std::vector<std::string> shipped = OptionList(m[1].str(), "-l");
  for (auto& s : shipped) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  CHECK(shipped == expected);
}

TEST_CASE("the remotes the doctor expects are every file drivers/ installs") {
  std::set<std::string> shipped{"onedock/onedock-stub"};
  const std::string drivers = std::string(ONEDOCK_SOURCE_DIR) + "/drivers";
  for (const char* dir : {"vmm/onedock", "vnm/onedock", "tm/onedock", "datastore/onedock",
                          "im/onedock.d", "etc/onedock"}) {
    for (const auto& entry : std::filesystem::directory_iterator(drivers + "/" + dir)) {
      shipped.insert(std::string(dir) + "/" + entry.path().filename().string());
    }
  }
  std::set<std::string> expected;
  for (const RemoteFile& f : ExpectedRemotes()) expected.insert(f.path);
  CHECK(expected == shipped);
}

TEST_CASE("option lists are read the way one_vmm_exec and one_tm parse them") {
  CHECK(OptionList("-t 15 -r 0 -l deploy,Shutdown,poll=poll_xen onedock", "-l") ==
        std::vector<std::string>{"DEPLOY", "SHUTDOWN", "POLL"});
  CHECK(OptionList("-t 15 -ldeploy,pre kvm", "-l") == std::vector<std::string>{"DEPLOY", "PRE"});
  CHECK(OptionList("-t 15 -d dummy,onedock", "-d") == std::vector<std::string>{"DUMMY", "ONEDOCK"});
  CHECK(OptionList("-t 15 kvm", "-l").empty());
}

TEST_CASE("oned.conf as the README makes it passes every check") {
  const auto findings = CheckOnedConfig(Config());
  REQUIRE(findings.size() == 7);
  for (const Finding& f : findings) {
    CAPTURE(FormatFinding(f));
    CHECK(f.level == Level::kOk);
  }
}

TEST_CASE("a VM_MAD without pre, post and clean fails and says oned would ssh to the host") {
  const std::string config = Edit(Config(), "-l deploy", ",pre,post,clean", "");
  const auto findings = CheckOnedConfig(config);
  const Finding& vm_mad = Named(findings, "oned.conf VM_MAD onedock");
  CHECK(vm_mad.level == Level::kFail);
  CHECK(vm_mad.detail == "-l does not list pre, post, clean");
  CHECK(vm_mad.fix.find("ssh on the host") != std::string::npos);
}

TEST_CASE("a misspelt action (snapshot_create as the script is named) is not the action") {
  const std::string config = Edit(Config(), "-l deploy", "snapshotcreate", "snapshot_create");
  const auto findings = CheckOnedConfig(config);
  const Finding& vm_mad = Named(findings, "oned.conf VM_MAD onedock");
  CHECK(vm_mad.level == Level::kFail);
  CHECK(vm_mad.detail == "-l does not list snapshotcreate");
}

TEST_CASE("each missing or wrong oned.conf entry is its own FAIL") {
  const std::string config = Config();
  struct Case {
    std::string anchor, from, to, check;
    Level level;
  };
  const std::vector<Case> cases = {
      {"<VM_MAD><ARGUMENTS><![CDATA[-t 15 -r 0 -l deploy", "<NAME><![CDATA[onedock]]>",
       "<NAME><![CDATA[onedocker]]>", "oned.conf VM_MAD onedock", Level::kFail},
      {"<TM_MAD><ARGUMENTS>", "-d onedock,", "-d ", "oned.conf TM_MAD", Level::kFail},
      {"<DATASTORE_MAD><ARGUMENTS>", "-d onedock,", "-d ", "oned.conf DATASTORE_MAD", Level::kFail},
      {"<TM_MAD_CONF><CLONE_TARGET><![CDATA[NONE]]>", "<SHARED><![CDATA[NO]]>",
       "<SHARED><![CDATA[YES]]>", "oned.conf TM_MAD_CONF onedock", Level::kFail},
      {"<DS_MAD_CONF><NAME><![CDATA[onedock]]>", "<NAME><![CDATA[onedock]]>",
       "<NAME><![CDATA[one_dock]]>", "oned.conf DS_MAD_CONF onedock", Level::kFail},
      {"<INHERIT_IMAGE_ATTR><![CDATA[MOUNT_TAG]]>", "DOCKER_MOUNT", "DOCKER_MOUNTS",
       "oned.conf INHERIT_IMAGE_ATTR", Level::kWarn},
  };
  for (const Case& c : cases) {
    CAPTURE(c.check);
    const auto findings = CheckOnedConfig(Edit(config, c.anchor, c.from, c.to));
    CHECK(Named(findings, c.check).level == c.level);
    int not_ok = 0;
    for (const Finding& f : findings) not_ok += f.level != Level::kOk;
    CHECK(not_ok == 1);
  }
  const auto shared = CheckOnedConfig(Edit(config, "<TM_MAD_CONF><CLONE_TARGET><![CDATA[NONE]]>",
                                           "<SHARED><![CDATA[NO]]>", "<SHARED><![CDATA[YES]]>"));
  CHECK(Named(shared, "oned.conf TM_MAD_CONF onedock").detail == "SHARED is YES, not \"NO\"");
}

TEST_CASE("a run attribute oned does not inherit is named in one warning with its fix") {
  std::string config =
      Edit(Config(), "<INHERIT_IMAGE_ATTR><![CDATA[DOCKER_TTY]]>", "DOCKER_CMD", "DOCKER_COMMAND");
  config =
      Edit(config, "<INHERIT_IMAGE_ATTR><![CDATA[DOCKER_SHM_SIZE]]>", "DOCKER_ULIMITS", "ULIMITS");
  const auto findings = CheckOnedConfig(config);
  const Finding& inherit = Named(findings, "oned.conf INHERIT_IMAGE_ATTR");
  CAPTURE(FormatFinding(inherit));
  CHECK(inherit.level == Level::kWarn);
  CHECK(inherit.detail.rfind("DOCKER_CMD, DOCKER_ULIMITS not inherited", 0) == 0);
  CHECK(inherit.fix.find("INHERIT_IMAGE_ATTR = \"DOCKER_CMD\" INHERIT_IMAGE_ATTR = "
                         "\"DOCKER_ULIMITS\"") != std::string::npos);
}

TEST_CASE("the shipped oned.conf snippet inherits every attribute the doctor expects") {
  std::ifstream in(std::string(ONEDOCK_SOURCE_DIR) + "/etc/oned-onedock.conf");
  REQUIRE(in);
  std::set<std::string> shipped;
  const std::regex line(R"re(^INHERIT_IMAGE_ATTR *= *"([A-Z_]+)")re");
  for (std::string text; std::getline(in, text);) {
    std::smatch m;
    if (std::regex_search(text, m, line)) shipped.insert(m[1].str());
  }
  std::set<std::string> expected{"DOCKER_MOUNT"};
  expected.insert(std::begin(kRunAttributes), std::end(kRunAttributes));
  CHECK(shipped == expected);
}

TEST_CASE("what is not oned's configuration is one FAIL, not a crash") {
  for (const std::string text : {"", "<HOST_POOL/>", "<OPENNEBULA_CONFIGURATION>"}) {
    const auto findings = CheckOnedConfig(text);
    REQUIRE(findings.size() == 1);
    CHECK(findings[0].level == Level::kFail);
  }
}

TEST_CASE("onedock hosts in the README's cluster pass, vnets included") {
  const auto findings = CheckPlacement(Pools("good"));
  REQUIRE(findings.size() == 3);
  for (const Finding& f : findings) {
    CAPTURE(FormatFinding(f));
    CHECK(f.level == Level::kOk);
  }
  CHECK(Named(findings, "host h1 placement").detail ==
        "cluster onedock (100), system datastores onedock_system (100)");
}

TEST_CASE("a host beside another system datastore, and a vnet of another driver, fail") {
  const auto findings = CheckPlacement(Pools("bad"));
  const Finding& stray = Named(findings, "host stray placement");
  CHECK(stray.level == Level::kFail);
  CHECK(stray.detail ==
        "cluster default (0) has system datastores whose TM_MAD is not onedock: system (0)");
  CHECK(Named(findings, "host m1 placement").level == Level::kFail);
  CHECK(Named(findings, "host h1 placement").level == Level::kOk);
  const Finding& vnets = Named(findings, "cluster onedock vnets");
  CHECK(vnets.level == Level::kFail);
  CHECK(vnets.detail == "plain (1) VN_MAD bridge");
  for (const Finding& f : findings) CHECK(f.check.find("kvm1") == std::string::npos);
}

TEST_CASE("no onedock host at all is a warning") {
  OnedPools pools = Pools("good");
  pools.hosts = "<HOST_POOL></HOST_POOL>";
  const auto findings = CheckPlacement(pools);
  REQUIRE(findings.size() == 1);
  CHECK(findings[0].level == Level::kWarn);
}

TEST_CASE("findings print one line each, the fix on the next, and only FAIL fails") {
  CHECK(FormatFinding(Ok("oned", "OpenNebula 7.4.0")) == "ok   oned: OpenNebula 7.4.0\n");
  CHECK(FormatFinding(Fail("engine h1", "down", "start it")) ==
        "FAIL engine h1: down\n     fix: start it\n");
  CHECK(FormatFinding(Warn("spool", "low", "free it")) == "warn spool: low\n     fix: free it\n");
  CHECK(ExitCodeOf({Ok("a", "b"), Warn("c", "d", "e")}) == 0);
  CHECK(ExitCodeOf({Ok("a", "b"), Fail("c", "d", "e")}) == 1);
  CHECK(ExitCodeOf({}) == 0);
}

TEST_CASE("certificate expiry: FAIL when past, warn under 30 days") {
  const std::time_t now = 1'800'000'000;
  CHECK(CheckExpiry("CA", now + 400 * 86400, now).level == Level::kOk);
  CHECK(CheckExpiry("CA", now + 29 * 86400, now).level == Level::kWarn);
  CHECK(CheckExpiry("CA", now + 29 * 86400, now).detail.find("in 29 days") != std::string::npos);
  CHECK(CheckExpiry("CA", now - 1, now).level == Level::kFail);
  CHECK_FALSE(CertificateExpiry("not a certificate").ok());
}

EngineProbe Probe(EngineProbe::Outcome outcome) {
  EngineProbe p;
  p.outcome = outcome;
  p.error = "curl says why";
  return p;
}

EngineProbe Answered(bool live_restore) {
  EngineProbe p = Probe(EngineProbe::Outcome::kOk);
  p.version_status = 200;
  p.version_body = R"({"Version":"20.10.24","ApiVersion":"1.41","MinAPIVersion":"1.12"})";
  p.info_status = 200;
  p.info_body = std::string(R"({"LiveRestoreEnabled":)") + (live_restore ? "true" : "false") + "}";
  return p;
}

TEST_CASE(
    "an engine's findings tell a wrong CA, a wrong name, a refused client and a dead engine "
    "apart") {
  const std::time_t now = 1'800'000'000;
  using O = EngineProbe::Outcome;
  auto levels = [&](const EngineProbe& v, const std::optional<EngineProbe>& u) {
    std::map<std::string, Level> out;
    for (const Finding& f : EngineFindings("h1", "https://h1:2376", v, u, now)) {
      out[f.check] = f.level;
    }
    return out;
  };
  auto good = levels(Answered(true), std::nullopt);
  CHECK(good["engine h1 TLS"] == Level::kOk);
  CHECK(good["engine h1 client certificate"] == Level::kOk);
  CHECK(good["engine h1 API"] == Level::kOk);
  CHECK(good["engine h1 live-restore"] == Level::kOk);
  CHECK(levels(Answered(false), std::nullopt)["engine h1 live-restore"] == Level::kWarn);

  auto dead = EngineFindings("h1", "https://h1:2376", Probe(O::kUnreachable), std::nullopt, now);
  REQUIRE(dead.size() == 1);
  CHECK(dead[0].level == Level::kFail);
  CHECK(dead[0].detail.find("does not answer") != std::string::npos);

  auto wrong_ca = levels(Probe(O::kUntrustedServer), Answered(true));
  CHECK(wrong_ca["engine h1 server certificate"] == Level::kFail);
  CHECK(wrong_ca.count("engine h1 TLS") == 0);
  CHECK(wrong_ca["engine h1 live-restore"] == Level::kOk);  // seen past the CA
  auto wrong_name = EngineFindings("h1", "u", Probe(O::kWrongName), Answered(true), now);
  CHECK(wrong_name[1].detail.find("does not name h1") != std::string::npos);
  auto refused = levels(Probe(O::kClientRefused), std::nullopt);
  CHECK(refused["engine h1 TLS"] == Level::kOk);
  CHECK(refused["engine h1 client certificate"] == Level::kFail);
  CHECK(refused.count("engine h1 API") == 0);

  auto expired = levels(Probe(O::kServerDates), Answered(true));
  CHECK(expired["engine h1 server certificate"] == Level::kFail);
  CHECK(expired.count("engine h1 TLS") == 0);
  CHECK(expired["engine h1 API"] == Level::kOk);  // seen past the dates
  // No TLS line claims a handshake that did not happen (plain HTTP, unreadable files).
  auto other = levels(Probe(O::kOther), std::nullopt);
  CHECK(other.count("engine h1 TLS") == 0);
  CHECK(other["engine h1"] == Level::kFail);

  EngineProbe old = Answered(true);
  old.version_body = R"({"Version":"1.13","ApiVersion":"1.25","MinAPIVersion":"1.12"})";
  CHECK(levels(old, std::nullopt)["engine h1 API"] == Level::kFail);
}

TEST_CASE("libcurl's results are told apart as the engine findings need") {
  using O = EngineProbe::Outcome;
  struct Row {
    int curl_code;
    long verify_result;
    const char* text;
    O outcome;
  } rows[] = {
      {CURLE_OK, X509_V_OK, "", O::kOk},
      {CURLE_COULDNT_CONNECT, X509_V_OK, "Connection refused", O::kUnreachable},
      {CURLE_OPERATION_TIMEDOUT, X509_V_OK, "timed out", O::kUnreachable},
      {CURLE_PEER_FAILED_VERIFICATION, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY,
       "SSL certificate problem: unable to get local issuer certificate", O::kUntrustedServer},
      {CURLE_PEER_FAILED_VERIFICATION, X509_V_ERR_CERT_HAS_EXPIRED,
       "SSL certificate problem: certificate has expired", O::kServerDates},
      {CURLE_PEER_FAILED_VERIFICATION, X509_V_ERR_CERT_NOT_YET_VALID,
       "SSL certificate problem: certificate is not yet valid", O::kServerDates},
      {CURLE_PEER_FAILED_VERIFICATION, X509_V_ERR_HOSTNAME_MISMATCH, "", O::kWrongName},
      // What libcurl 7.88 with OpenSSL 3.0 reports for a certificate naming another host.
      {CURLE_PEER_FAILED_VERIFICATION, X509_V_ERR_UNSPECIFIED,
       "SSL: no alternative certificate subject name matches target host name '127.0.0.1'",
       O::kWrongName},
      {CURLE_RECV_ERROR, X509_V_OK, "OpenSSL SSL_read: sslv3 alert bad certificate",
       O::kClientRefused},
      {CURLE_RECV_ERROR, X509_V_OK, "Connection reset by peer", O::kOther},
      {CURLE_SSL_CACERT_BADFILE, X509_V_OK, "error setting certificate file", O::kOther},
  };
  for (const Row& row : rows) {
    CAPTURE(row.text);
    CHECK(ClassifyTls(row.curl_code, row.verify_result, row.text) == row.outcome);
  }
}

TEST_CASE("the stub's release, onedockd's answer, the token, the staging host and the spool") {
  CHECK(CheckStubVersion({0, "onedock-stub 1.2.3\n", ""}, "1.2.3").level == Level::kOk);
  CHECK(CheckStubVersion({0, "onedock-stub 1.2.2\n", ""}, "1.2.3").level == Level::kFail);
  CHECK(CheckStubVersion({-1, "", "no such file"}, "1.2.3").level == Level::kFail);
  CHECK(CheckDaemonAnswer({0, "1.2.3\n", ""}, "1.2.3").level == Level::kOk);
  CHECK(CheckDaemonAnswer({1, "", "refused"}, "1.2.3").level == Level::kFail);
  CHECK(CheckDaemonAnswer({0, "1.2.2\n", ""}, "1.2.3").level == Level::kFail);
  const std::string token = "abc\n", other = "xyz\n";
  CHECK(CheckStubToken("/t", &token, &token, "/t").level == Level::kOk);
  CHECK(CheckStubToken("/t", &token, nullptr, "/u").level == Level::kOk);
  CHECK(CheckStubToken("/t", &token, &other, "/u").level == Level::kFail);
  CHECK(CheckStubToken("/t", nullptr, nullptr, "/t").level == Level::kFail);
  CHECK(CheckStubEndpoint("http://127.0.0.1:2640/RPC2", "127.0.0.1", 2640).level == Level::kOk);
  CHECK(CheckStubEndpoint("http://127.0.0.1:2641/RPC2", "127.0.0.1", 2640).level == Level::kFail);
  CHECK(ParseStubConf("# c\nendpoint = http://x/RPC2\n\ntoken_file=/t \n") ==
        std::map<std::string, std::string>{{"endpoint", "http://x/RPC2"}, {"token_file", "/t"}});
  CHECK(CheckStagingHost("", {"h1"}).level == Level::kWarn);
  CHECK(CheckStagingHost("h3", {"h1"}).level == Level::kFail);
  CHECK(CheckStagingHost("h1", {"h1"}).level == Level::kOk);
  CHECK(CheckSpool("/s", kSpoolWarnBytes - 1).level == Level::kWarn);
  CHECK(CheckSpool("/s", kSpoolWarnBytes).level == Level::kOk);
  CHECK(CheckRemotes("/r", {"vmm/onedock/deploy"}, {}).level == Level::kFail);
  CHECK(CheckRemotes("/r", {}, {"vmm/onedock/deploy"}).level == Level::kFail);
  CHECK(CheckRemotes("/r", {}, {}).level == Level::kOk);
}

}  // namespace
}  // namespace onedock::admin
