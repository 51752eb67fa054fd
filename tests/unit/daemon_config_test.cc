#include "bridge/daemon/daemon_config.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <sstream>

#include "rpc/stub_server.h"
#include "tests/support/require_ok.h"

namespace onedock::daemon {
namespace {

std::string ShippedConfig() {
  std::ifstream in(std::string(ONEDOCK_SOURCE_DIR) + "/etc/onedockd.conf");
  REQUIRE(in.good());
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST_CASE("the shipped onedockd.conf parses to the defaults it documents") {
  auto parsed = ParseDaemonConfig(ShippedConfig(), "onedockd.conf");
  REQUIRE_MESSAGE(parsed.ok(), parsed.status().message());
  const DaemonConfig defaults;
  CHECK(parsed->oned_endpoint == defaults.oned_endpoint);
  CHECK(parsed->stub_address == defaults.stub_address);
  CHECK(parsed->stub_port == defaults.stub_port);
  CHECK(parsed->stub_token_file == defaults.stub_token_file);
  CHECK(parsed->default_engine_url == defaults.default_engine_url);
  CHECK(parsed->registry == defaults.registry);
  CHECK(parsed->journal_path == defaults.journal_path);
  CHECK(parsed->instance == defaults.instance);
  CHECK(parsed->stop_timeout_s == defaults.stop_timeout_s);
  CHECK(parsed->policy.allow_privileged == defaults.policy.allow_privileged);
  CHECK(parsed->policy.allow_host_binds == defaults.policy.allow_host_binds);
  CHECK(parsed->policy.allow_cap_add == defaults.policy.allow_cap_add);
  CHECK(parsed->registry_storage == defaults.registry_storage);
  CHECK(parsed->staging_host == defaults.staging_host);
  CHECK(parsed->spool_dir == defaults.spool_dir);
  CHECK(parsed->upload_dirs == defaults.upload_dirs);
  CHECK(parsed->allow_destinations.empty());
  CHECK(parsed->insecure_registries.empty());
  CHECK(parsed->max_download_mb == defaults.max_download_mb);
  CHECK(parsed->download_timeout_s == defaults.download_timeout_s);
  CHECK(parsed->low_speed_bytes_per_s == defaults.low_speed_bytes_per_s);
  CHECK(parsed->low_speed_time_s == defaults.low_speed_time_s);
  CHECK(parsed->credentials.empty());
  CHECK(parsed->monitord_address == defaults.monitord_address);
  CHECK(parsed->monitord_port == defaults.monitord_port);
  CHECK(parsed->disk_total_mb == defaults.disk_total_mb);
  CHECK(parsed->stats_in_flight == defaults.stats_in_flight);
  CHECK(parsed->stats_connections == defaults.stats_connections);
  CHECK(parsed->round_threads == defaults.round_threads);
  CHECK(parsed->grace_s == defaults.grace_s);
  CHECK(parsed->log_level == defaults.log_level);
  CHECK(parsed->hosts.empty());
  CHECK(parsed->metrics_address == defaults.metrics_address);
  CHECK(parsed->metrics_port == defaults.metrics_port);
  CHECK(parsed->metrics_allow_remote == defaults.metrics_allow_remote);
  CHECK(parsed->reconcile_period_s == defaults.reconcile_period_s);
  CHECK(parsed->orphan_grace_s == defaults.orphan_grace_s);
  CHECK(parsed->remove_orphans == defaults.remove_orphans);
  CHECK(parsed->keep_intents_days == defaults.keep_intents_days);
  CHECK(parsed->policy.allow_realtime_ulimits == defaults.policy.allow_realtime_ulimits);
}

TEST_CASE("[metrics] listens on loopback unless allow_remote says otherwise, and empty is off") {
  const std::string engines = "[engines]\ndefault_url = unix:///run/docker.sock\n";
  auto loopback = ParseDaemonConfig(engines + "[metrics]\nlisten = 127.0.0.5:9000\n", "t");
  REQUIRE_OK(loopback);
  CHECK(loopback->metrics_address == "127.0.0.5");
  CHECK(loopback->metrics_port == 9000);
  auto off = ParseDaemonConfig(engines + "[metrics]\nlisten =\n", "t");
  REQUIRE_OK(off);
  CHECK(off->metrics_address.empty());

  // Said after listen: the check waits for the whole file.
  auto remote =
      ParseDaemonConfig(engines + "[metrics]\nlisten = 0.0.0.0:2641\nallow_remote = yes\n", "t");
  REQUIRE_OK(remote);
  CHECK(remote->metrics_address == "0.0.0.0");
  CHECK(remote->metrics_allow_remote);

  auto refused = ParseDaemonConfig(engines + "[metrics]\nlisten = 10.0.0.1:2641\n", "t.conf");
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().message().rfind(
            "t.conf:4: [metrics] listen: 10.0.0.1 is not a loopback address (set allow_remote",
            0) == 0);
  auto bad = ParseDaemonConfig(engines +
                                   "[metrics]\nlisten = localhost:2641\nlisten = 127.0.0.1:99999\n"
                                   "allow_remote = perhaps\nlisten = [::1]:2641\n",
                               "t.conf");
  REQUIRE_FALSE(bad.ok());
  const std::string& m = bad.status().message();
  CHECK(m.find("t.conf:4: [metrics] listen: localhost is not an IPv4 address") !=
        std::string::npos);
  CHECK(m.find("t.conf:5: [metrics] listen: \"99999\" is not a port") != std::string::npos);
  CHECK(m.find("t.conf:6: [metrics] allow_remote: \"perhaps\" is not yes or no") !=
        std::string::npos);
  CHECK(m.find("t.conf:7: [metrics] listen: [::1] is not an IPv4 address") != std::string::npos);
  CHECK(std::count(m.begin(), m.end(), '\n') == 3);

  auto clash = ParseDaemonConfig(engines + "[metrics]\nlisten = 127.0.0.1:2640\n", "t.conf");
  REQUIRE_FALSE(clash.ok());
  CHECK(clash.status().message() == "t.conf:4: [metrics] listen: port 2640 is [stub] listen's");
}

TEST_CASE("[images] takes lists of upload directories, destinations and insecure registries") {
  auto parsed = ParseDaemonConfig(
      "[engines]\ndefault_url = unix:///run/docker.sock\n"
      "[images]\nupload_dirs = /var/tmp /srv/images\n"
      "allow_destinations = 127.0.0.1:5001, 10.0.0.0/8 [::1]:5000\n"
      "insecure_registries = registry.lan:5000\nmax_download_mb = 10\n",
      "t.conf");
  REQUIRE_MESSAGE(parsed.ok(), parsed.status().message());
  CHECK(parsed->upload_dirs == std::vector<std::string>{"/var/tmp", "/srv/images"});
  CHECK(parsed->allow_destinations ==
        std::vector<std::string>{"127.0.0.1:5001", "10.0.0.0/8", "[::1]:5000"});
  CHECK(parsed->insecure_registries == std::vector<std::string>{"registry.lan:5000"});
  CHECK(parsed->max_download_mb == 10);
  auto bad = ParseDaemonConfig(
      "[images]\n"
      "upload_dirs = relative\nallow_destinations = example.org:80\n"
      "insecure_registries = a@b\nlow_speed_limit = 0\n",
      "t.conf");
  REQUIRE_FALSE(bad.ok());
  const std::string m = bad.status().message();
  CHECK(m.find("t.conf:2: [images] upload_dirs") != std::string::npos);
  CHECK(m.find("t.conf:3: [images] allow_destinations") != std::string::npos);
  CHECK(m.find("t.conf:4: [images] insecure_registries") != std::string::npos);
  CHECK(m.find("t.conf:5: [images] low_speed_limit") != std::string::npos);
}

TEST_CASE("the [monitor] section takes monitord's address and bounded numbers") {
  auto parsed = ParseDaemonConfig(
      "[engines]\ndefault_url = unix:///run/docker.sock\n[monitor]\nmonitord = "
      "10.1.2.3:4200\ndisk_mb = 500\nstats_in_flight = 3\nstats_connections = 0\nround_threads = "
      "2\ngrace = 0\n",
      "t");
  REQUIRE_MESSAGE(parsed.ok(), parsed.status().message());
  CHECK(parsed->monitord_address == "10.1.2.3");
  CHECK(parsed->monitord_port == 4200);
  CHECK(parsed->disk_total_mb == 500);
  CHECK(parsed->stats_in_flight == 3);
  CHECK(parsed->stats_connections == 0);
  CHECK(parsed->round_threads == 2);
  CHECK(parsed->grace_s == 0);
  // The key's older name still sets it.
  auto older = ParseDaemonConfig(
      "[engines]\ndefault_url = unix:///run/docker.sock\n[monitor]\nstats_workers = 7\n", "t");
  REQUIRE_MESSAGE(older.ok(), older.status().message());
  CHECK(older->stats_in_flight == 7);
  auto bad = ParseDaemonConfig(
      "[monitor]\nmonitord = monitord.example:4124\nstats_in_flight = 0\ngrace = -1\n", "t");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find(
            "t:2: [monitor] monitord: monitord.example is not an IP address") != std::string::npos);
  CHECK(bad.status().message().find(
            "t:3: [monitor] stats_in_flight: \"0\" is not a number from 1 to 1024") !=
        std::string::npos);
  CHECK(bad.status().message().find("t:4: [monitor] grace:") != std::string::npos);
}

TEST_CASE("the [reconcile] section takes a period, a grace and what to do with orphans") {
  auto parsed = ParseDaemonConfig(
      "[engines]\ndefault_url = unix:///run/docker.sock\n[reconcile]\nperiod = 0\norphan_grace = "
      "10\norphans = report\nkeep_intents_days = 2\n",
      "t");
  REQUIRE_MESSAGE(parsed.ok(), parsed.status().message());
  CHECK(parsed->reconcile_period_s == 0);
  CHECK(parsed->orphan_grace_s == 10);
  CHECK_FALSE(parsed->remove_orphans);
  CHECK(parsed->keep_intents_days == 2);
  auto bad = ParseDaemonConfig("[reconcile]\norphans = delete\nperiod = -5\n", "t");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find(
            "t:2: [reconcile] orphans: \"delete\" is not remove or report") != std::string::npos);
  CHECK(bad.status().message().find("t:3: [reconcile] period:") != std::string::npos);
}

TEST_CASE("every problem in a config file is reported on its own line with its line number") {
  const std::string text =
      "[stub]\n"
      "listen = 10.0.0.1:2640\n"  // 2: not loopback
      "[policy]\n"
      "allow_privileged = maybe\n"  // 4
      "colour = blue\n"             // 5: unknown key
      "[nonsense]\n"                // 6
      "[containers]\n"
      "stop_timeout = soon\n"  // 8
      "[engines]\n"
      "default_url = http://{host}\n"  // 10
      "[host bad name!]\n"             // 11
      "[host h9]\n";                   // no url
  auto parsed = ParseDaemonConfig(text, "t.conf");
  REQUIRE_FALSE(parsed.ok());
  const std::string& m = parsed.status().message();
  CHECK(m.find("t.conf:2: [stub] listen: 10.0.0.1 is not an IPv4 loopback address") !=
        std::string::npos);
  CHECK(m.find("t.conf:4: [policy] allow_privileged: \"maybe\" is not yes or no") !=
        std::string::npos);
  CHECK(m.find("t.conf:5: [policy]: unknown key \"colour\"") != std::string::npos);
  CHECK(m.find("t.conf:6: unknown section [nonsense]") != std::string::npos);
  CHECK(m.find("t.conf:8: [containers] stop_timeout") != std::string::npos);
  CHECK(m.find("t.conf:10: [engines] default_url") != std::string::npos);
  CHECK(m.find("t.conf:11: [host bad name!]") != std::string::npos);
  CHECK(m.find("[host h9] has no url") != std::string::npos);
  CHECK(std::count(m.begin(), m.end(), '\n') ==
        8);  // nine problems (the bad host has no url either)
}

TEST_CASE("a host section overrides the default engine and inherits its certificates") {
  auto parsed = ParseDaemonConfig(
      "[engines]\ndefault_url = https://{host}.lab:2376\nca = /c/ca.pem\ncert = /c/cert.pem\nkey = "
      "/c/key.pem\n"
      "[host node1]\nurl = https://10.0.0.21:2376\ncert = /c/node1.pem\n"
      "[host local]\nurl = unix:///run/docker.sock\n",
      "t.conf");
  REQUIRE_MESSAGE(parsed.ok(), parsed.status().message());
  auto n1 = EngineFor(*parsed, "node1");
  REQUIRE_OK(n1);
  CHECK(n1->url == "https://10.0.0.21:2376");
  CHECK(n1->ca == "/c/ca.pem");
  CHECK(n1->cert == "/c/node1.pem");
  auto other = EngineFor(*parsed, "node7");
  REQUIRE_OK(other);
  CHECK(other->url == "https://node7.lab:2376");
  CHECK(other->key == "/c/key.pem");
  auto local = EngineFor(*parsed, "local");
  REQUIRE_OK(local);
  CHECK(local->url == "unix:///run/docker.sock");
}

TEST_CASE("a host name from oned that would change the engine URL is refused") {
  auto parsed = ParseDaemonConfig(
      "[engines]\ndefault_url = https://{host}:2376\nca = /c/ca.pem\ncert = /c/c.pem\nkey = "
      "/c/k.pem\n",
      "t.conf");
  REQUIRE_MESSAGE(parsed.ok(), parsed.status().message());
  for (const char* hostile : {"127.0.0.1:27601/x?", "h1/../../containers", "h1?a=b", "h1#x",
                              "user@h1", "h 1", "", "h1\r\nHost: x"}) {
    CAPTURE(hostile);
    auto a = EngineFor(*parsed, hostile);
    REQUIRE_FALSE(a.ok());
    CHECK(a.status().code() == Status::Code::kInvalidArgument);
  }
  auto v6 = EngineFor(*parsed, "::1");
  REQUIRE_OK(v6);
  CHECK(v6->url == "https://[::1]:2376");
  auto v4 = EngineFor(*parsed, "10.0.0.7");
  REQUIRE_OK(v4);
  CHECK(v4->url == "https://10.0.0.7:2376");
}

TEST_CASE("the [stub] section bounds workers, connections and the request size") {
  auto shipped = ParseDaemonConfig(ShippedConfig(), "onedockd.conf");
  REQUIRE_MESSAGE(shipped.ok(), shipped.status().message());
  const rpc::StubServerOptions endpoint;
  CHECK(shipped->stub_workers == static_cast<int>(endpoint.workers));
  CHECK(shipped->stub_transfer_workers == static_cast<int>(endpoint.transfer_workers));
  CHECK(shipped->stub_connections == static_cast<int>(endpoint.connections));
  CHECK(shipped->stub_max_request_bytes == static_cast<int64_t>(endpoint.max_request_bytes));
  auto parsed = ParseDaemonConfig(
      "[engines]\ndefault_url = unix:///run/docker.sock\n[stub]\nworkers = 4\ntransfer_workers = "
      "2\nconnections = 32\nmax_request_bytes = "
      "1048576\n",
      "t");
  REQUIRE_MESSAGE(parsed.ok(), parsed.status().message());
  CHECK(parsed->stub_workers == 4);
  CHECK(parsed->stub_transfer_workers == 2);
  CHECK(parsed->stub_connections == 32);
  CHECK(parsed->stub_max_request_bytes == 1048576);
  auto bad = ParseDaemonConfig(
      "[stub]\nworkers = 0\ntransfer_workers = 999\nmax_request_bytes = 67108864000\n", "t");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("t:2: [stub] workers:") != std::string::npos);
  CHECK(bad.status().message().find("t:3: [stub] transfer_workers:") != std::string::npos);
  CHECK(bad.status().message().find("t:4: [stub] max_request_bytes:") != std::string::npos);
}

}  // namespace
}  // namespace onedock::daemon
