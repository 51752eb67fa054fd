// The fake fleet's pure parts (tests/fleet): request parsing and routing, filters, and replies
// that onedock's own parsers read as they read a real engine's.
#include <doctest/doctest.h>

#include "docker/engine_json.h"
#include "tests/fleet/fleet_http.h"
#include "tests/fleet/fleet_model.h"

namespace onedock::fleet {
namespace {

constexpr int64_t kNow = int64_t{1796306312} * 1000000000;

Route RouteOfHead(const std::string& head) { return RouteOf(ParseRequest(head)); }

}  // namespace

TEST_CASE("fake fleet http: request head, query and headers") {
  Request r = ParseRequest(
      "GET /v1.41/containers/json?all=1&filters=%7B%22label%22%3A%5B%22one.host%3Dfleet0%22%5D%7D"
      " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 12\r\nConnection: close");
  REQUIRE(r.ok);
  CHECK(r.method == "GET");
  CHECK(r.path == "/v1.41/containers/json");
  CHECK(r.query.at("all") == "1");
  CHECK(r.query.at("filters") == R"({"label":["one.host=fleet0"]})");
  CHECK(r.content_length == 12);
  CHECK_FALSE(r.keep_alive);
  CHECK(ParseRequest("GET /_ping HTTP/1.1").keep_alive);
  CHECK_FALSE(ParseRequest("GET /_ping HTTP/1.0").keep_alive);
  CHECK_FALSE(ParseRequest("POST /x HTTP/1.1\r\nTransfer-Encoding: chunked").ok);
  CHECK_FALSE(ParseRequest("GET").ok);
  CHECK_FALSE(ParseRequest("GET nopath HTTP/1.1").ok);
}

TEST_CASE("fake fleet http: routes with and without a version prefix") {
  CHECK(RouteOfHead("GET /_ping HTTP/1.1").kind == Route::kPing);
  CHECK(RouteOfHead("GET /version HTTP/1.1").kind == Route::kVersion);
  CHECK(RouteOfHead("GET /v1.41/info HTTP/1.1").kind == Route::kInfo);
  CHECK(RouteOfHead("GET /v1.41/system/df HTTP/1.1").kind == Route::kDiskUsage);
  CHECK(RouteOfHead("GET /v1.47/info HTTP/1.1").kind == Route::kTooNew);
  const Route stats = RouteOfHead("GET /v1.41/containers/one-3/stats?stream=false HTTP/1.1");
  CHECK(stats.kind == Route::kStats);
  CHECK(stats.container == "one-3");
  CHECK(RouteOfHead("GET /v1.41/containers/abc/json HTTP/1.1").kind == Route::kInspect);
  CHECK(RouteOfHead("GET /v1.41/containers/abc/logs?tail=5 HTTP/1.1").kind == Route::kLogs);
  CHECK(RouteOfHead("POST /v1.41/containers/abc/kill HTTP/1.1").kind == Route::kKill);
  CHECK(RouteOfHead("GET /v1.41/containers/abc/kill HTTP/1.1").kind == Route::kNotFound);
  CHECK(RouteOfHead("POST /fleet/kill/one-7 HTTP/1.1").kind == Route::kControlKill);
  CHECK(RouteOfHead("POST /fleet/start/one-7 HTTP/1.1").kind == Route::kControlStart);
  const Route list = RouteOfHead("GET /containers/json?all=0 HTTP/1.1");
  CHECK(list.kind == Route::kList);
  CHECK_FALSE(list.all);
  CHECK(RouteOfHead("GET /containers/json?all=true HTTP/1.1").all);
  const Route events = RouteOfHead("GET /v1.41/events?since=1796306312 HTTP/1.1");
  CHECK(events.kind == Route::kEvents);
  CHECK(events.since_ns == kNow);
}

TEST_CASE("fake fleet http: replies carry a length and events are chunks") {
  const std::string reply = JsonReply(200, "{}");
  CHECK(reply.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(reply.find("Content-Length: 3\r\n") != std::string::npos);
  CHECK(reply.substr(reply.size() - 3) == "{}\n");
  CHECK(Reply(204, "", "").find("Content-Length") == std::string::npos);
  CHECK(StreamHead().find("Transfer-Encoding: chunked\r\n\r\n") != std::string::npos);
  CHECK(Chunk("abc") == "4\r\nabc\n\r\n");
}

TEST_CASE("fake fleet model: filters in both forms") {
  const Filters list = ParseFilters(R"({"label":["a=b","c"],"type":["container"]})");
  CHECK(list.labels == std::vector<std::string>{"a=b", "c"});
  CHECK(list.types == std::vector<std::string>{"container"});
  const Filters map = ParseFilters(R"({"label":{"a=b":true},"event":{"die":true}})");
  CHECK(map.labels == std::vector<std::string>{"a=b"});
  CHECK(map.events == std::vector<std::string>{"die"});
  CHECK(ParseFilters("[1]").bad);
  CHECK(ParseFilters("not json").bad);
  CHECK_FALSE(ParseFilters("").bad);
}

TEST_CASE("fake fleet model: listing honours labels and all, as onedock's parser reads it") {
  FleetModel model(2, 3, "inst\"x", kNow);
  const Filters own = ParseFilters(R"({"label":["one.instance=inst\"x","one.host=fleet1"]})");
  auto listed = docker::ParseContainerList(model.List(1, true, own, kNow));
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == 3);
  CHECK((*listed)[0].name == "one-3");
  CHECK((*listed)[0].labels.at("one.vmid") == "3");
  CHECK((*listed)[0].labels.at("one.instance") == "inst\"x");
  CHECK((*listed)[0].state == "running");
  CHECK(docker::ParseContainerList(model.List(0, true, own, kNow))->empty());
  const Filters other = ParseFilters(R"({"label":["one.instance=other"]})");
  CHECK(docker::ParseContainerList(model.List(1, true, other, kNow))->empty());
  const Filters unknown = ParseFilters(R"({"label":["com.example"]})");
  CHECK(docker::ParseContainerList(model.List(1, true, unknown, kNow))->empty());

  Container* victim = model.Find(1, "/one-4");
  REQUIRE(victim != nullptr);
  CHECK(model.Find(1, victim->id) == victim);
  CHECK(model.Find(1, victim->id.substr(0, 20)) == victim);
  CHECK(model.Find(0, "one-4") == nullptr);
  CHECK(model.Find(-1, "one-4") == victim);
  CHECK(model.Kill(*victim, kNow));
  CHECK_FALSE(model.Kill(*victim, kNow));
  CHECK(docker::ParseContainerList(model.List(1, false, own, kNow))->size() == 2);
  auto all = docker::ParseContainerList(model.List(1, true, own, kNow + 5000000000));
  REQUIRE(all->size() == 3);
  CHECK((*all)[1].state == "exited");
  CHECK((*all)[1].status_text == "Exited (137) 4 seconds ago");
  auto inspected = docker::ParseContainerInspect(model.Inspect(*victim));
  REQUIRE(inspected.ok());
  CHECK_FALSE(inspected->running);
  CHECK(inspected->exit_code == 137);
  CHECK(inspected->name == "one-4");
  auto info = docker::ParseInfo(model.Info(1, kNow));
  REQUIRE(info.ok());
  CHECK(info->name == "fleet1");
  CHECK(info->containers_running == 2);
  CHECK(info->ncpu > 0);
  auto df = docker::ParseDiskUsage(model.DiskUsage(1));
  REQUIRE(df.ok());
  CHECK(df->containers > 0);
}

TEST_CASE("fake fleet model: kill events and stats as onedock's parsers read them") {
  FleetModel model(1, 2, "i", kNow);
  Container& c = *model.Find(0, "one-1");
  auto before = docker::ParseStats(model.Stats(c, kNow));
  REQUIRE(before.ok());
  model.Tick(kNow + 1000000000);
  auto after = docker::ParseStats(model.Stats(c, kNow + 1000000000));
  REQUIRE(after.ok());
  CHECK(after->cpu_total_ns > before->cpu_total_ns);
  CHECK(after->system_cpu_ns > before->system_cpu_ns);
  CHECK(after->online_cpus > 0);
  CHECK(after->memory_usage > 0);
  CHECK(after->memory_limit > after->memory_usage);
  CHECK(after->memory_inactive_file > 0);
  CHECK(after->net_rx_bytes > before->net_rx_bytes);
  CHECK(after->pids > 0);
  CHECK(after->read.rfind("2026-", 0) == 0);

  REQUIRE(model.Kill(c, kNow + 2000000000));
  const std::vector<FleetEvent> events = model.TakeNewEvents();
  REQUIRE(events.size() == 2);
  CHECK(model.TakeNewEvents().empty());
  const Filters own = ParseFilters(R"({"type":["container"],"label":["one.instance=i"]})");
  auto die = docker::ParseEvent(model.EventLine(events[1], own));
  REQUIRE(die.ok());
  CHECK(die->action == "die");
  CHECK(die->id == c.id);
  CHECK(die->attributes.at("exitCode") == "137");
  CHECK(die->attributes.at("one.vmid") == "1");
  CHECK(die->time_nano > kNow);
  CHECK(model.EventLine(events[1], ParseFilters(R"({"type":["network"]})")).empty());
  CHECK(model.EventLine(events[1], ParseFilters(R"({"event":["start"]})")).empty());
  CHECK(model.EventLine(events[1], ParseFilters(R"({"label":["one.instance=j"]})")).empty());
  CHECK(model.EventsSince(0, kNow + 3000000000).empty());
  CHECK(model.EventsSince(0, kNow).size() == 2);
  auto stopped = docker::ParseStats(model.Stats(c, kNow + 3000000000));
  REQUIRE(stopped.ok());
  CHECK(stopped->read == "0001-01-01T00:00:00Z");
}

}  // namespace onedock::fleet
