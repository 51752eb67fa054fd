// Networks with fixed subnets, static IP and MAC on the primary network, hot connect/disconnect,
// reachability of a container's HTTP server from the front-end, and engine events (bounded window
// and live stream).
#include <doctest/doctest.h>

#include <chrono>
#include <ctime>
#include <map>
#include <mutex>
#include <thread>

#include "docker/engine_client.h"
#include "docker/event_feed.h"
#include "tests/integration/bed.h"
#include "tests/support/engine_admin.h"
#include "tests/support/threads.h"

namespace onedock::docker {
namespace {

using Code = Status::Code;

struct TestNetwork {
  std::string name;
  std::string bridge;
  std::string subnet;
  std::string gateway;
  std::string prefix;  // "10.231.1."
};

TestNetwork MakeNetwork(int n) {
  const std::string prefix = "10.231." + std::to_string(n) + ".";
  return {"odt-net" + std::to_string(n), "odt-br" + std::to_string(n), prefix + "0/24",
          prefix + "1", prefix};
}

void Clean(EngineClient& e, const std::vector<std::string>& containers,
           const std::vector<TestNetwork>& networks) {
  for (const auto& c : containers) e.RemoveContainer(c, true, true);
  testing::EngineAdmin admin(e.name(), testbed::Engine(e.name()));
  for (const auto& n : networks) admin.RemoveNetwork(n.name);
}

ContainerSpec Spec(const std::string& name) {
  ContainerSpec s;
  s.name = name;
  s.image = testbed::TestImage();
  s.labels = {{"one.vmid", name}};
  return s;
}

}  // namespace

TEST_CASE("networks: fixed subnet static IP and MAC connect disconnect reachability") {
  EngineClient h1("h1", testbed::Engine("h1"));
  REQUIRE(h1.PullImage(testbed::TestImage()).ok());
  const TestNetwork a = MakeNetwork(1), b = MakeNetwork(2);
  testing::EngineAdmin h1_admin("h1", testbed::Engine("h1"));
  const std::string vm = "odt-vm-net";
  Clean(h1, {vm}, {a, b});

  for (const TestNetwork& n : {a, b}) {
    auto id = h1.CreateNetwork({.name = n.name,
                                .subnet = n.subnet,
                                .gateway = n.gateway,
                                .options = {{"com.docker.network.bridge.name", n.bridge}},
                                .labels = {{"one.vnet_id", n.name}}});
    REQUIRE_MESSAGE(id.ok(), id.status().ToString());
  }
  auto dup = h1.CreateNetwork({.name = a.name, .subnet = "10.231.9.0/24"});
  CHECK(dup.status().code() == Code::kConflict);
  auto overlap = h1.CreateNetwork({.name = "odt-overlap", .subnet = a.subnet});
  CHECK(overlap.status().code() == Code::kFailedPrecondition);  // engine 403: pool overlaps
  auto info = h1.InspectNetwork(a.name);
  REQUIRE(info.ok());
  CHECK(info->subnet == a.subnet);
  CHECK(info->gateway == a.gateway);
  CHECK(info->options.at("com.docker.network.bridge.name") == a.bridge);
  CHECK(h1.InspectNetwork("odt-no-such-net").status().code() == Code::kNotFound);

  ContainerSpec spec = Spec(vm);
  spec.network_mode = a.name;
  spec.primary = {a.name, a.prefix + "42", "02:00:0a:e7:01:2a", {}};
  REQUIRE(h1.CreateContainer(spec).ok());
  // The second NIC is connected before start (API 1.41 takes one network at create).
  REQUIRE(h1.ConnectNetwork(b.name, vm, {b.name, b.prefix + "42", "", {}}).ok());
  REQUIRE(h1.StartContainer(vm).ok());

  auto c = h1.InspectContainer(vm);
  REQUIRE(c.ok());
  CHECK(c->networks.at(a.name).ipv4 == a.prefix + "42");
  CHECK(c->networks.at(a.name).mac == "02:00:0a:e7:01:2a");
  CHECK(c->networks.at(a.name).gateway == a.gateway);
  CHECK(c->networks.at(b.name).ipv4 == b.prefix + "42");
  CHECK(h1.InspectNetwork(a.name)->containers.size() == 1);

  // The container's web server answers on its static address from the front-end.
  CurlTransport web({.base_url = "http://" + a.prefix + "42"});
  Result<HttpResponse> page = Unavailable("not tried");
  for (int i = 0; i < 50 && !(page.ok() && page->status == 200); ++i) {
    page = web.Perform({.target = "/", .timeout_ms = 1000});
    if (!(page.ok() && page->status == 200))
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  REQUIRE(page.ok());
  CHECK(page->status == 200);
  CHECK(page->body.find("onedock test page") != std::string::npos);

  // Already on the network: the engine's 403 "endpoint … already exists" is a conflict.
  CHECK(h1.ConnectNetwork(b.name, vm, {b.name, b.prefix + "43", "", {}}).code() == Code::kConflict);
  CHECK(h1.ConnectNetwork(b.name, "odt-no-such-vm", {b.name, "", "", {}}).code() ==
        Code::kNotFound);
  CHECK(h1_admin.RemoveNetwork(a.name).code() == Code::kFailedPrecondition);  // active endpoints
  REQUIRE(h1.DisconnectNetwork(b.name, vm, false).ok());
  CHECK_FALSE(h1.InspectContainer(vm)->networks.count(b.name));
  // Not on the network any more: the engine's 500 "is not connected" is not found, as are an
  // unknown network and an unknown container.
  CHECK(h1.DisconnectNetwork(b.name, vm, false).code() == Code::kNotFound);
  CHECK(h1.DisconnectNetwork(b.name, vm, true).code() == Code::kNotFound);
  CHECK(h1.DisconnectNetwork("odt-no-such-net", vm, false).code() == Code::kNotFound);
  CHECK(h1.DisconnectNetwork(b.name, "odt-no-such-vm", false).code() == Code::kNotFound);

  REQUIRE(h1.RemoveContainer(vm, true, true).ok());
  CHECK(h1_admin.RemoveNetwork(a.name).ok());
  CHECK(h1_admin.RemoveNetwork(b.name).ok());
  CHECK(h1_admin.RemoveNetwork(a.name).code() == Code::kNotFound);
}

TEST_CASE("volumes are created refused while in use and removed") {
  EngineClient h1("h1", testbed::Engine("h1"));
  const std::string vol = testbed::UniqueName("odt-vol");
  REQUIRE(h1.CreateVolume(vol, {{"one.vmid", "42"}}).ok());
  ContainerSpec spec = Spec(testbed::UniqueName("odt-vm-vol"));
  spec.network_mode = "none";
  spec.volumes = {vol + ":/data"};
  REQUIRE(h1.PullImage(testbed::TestImage()).ok());
  REQUIRE(h1.CreateContainer(spec).ok());
  CHECK(h1.RemoveVolume(vol).code() == Code::kConflict);
  REQUIRE(h1.RemoveContainer(spec.name, true, true).ok());
  CHECK(h1.RemoveVolume(vol).ok());
  CHECK(h1.RemoveVolume(vol).code() == Code::kNotFound);
}

TEST_CASE("events: a bounded window and a live stream that sees a kill") {
  EngineClient h2("h2", testbed::Engine("h2"));
  testing::EngineAdmin h2_admin("h2", testbed::Engine("h2"));
  REQUIRE(h2.PullImage(testbed::TestImage()).ok());
  const std::string vm = testbed::UniqueName("odt-ev");
  const int64_t since = std::time(nullptr) - 1;

  ContainerSpec spec = Spec(vm);
  spec.network_mode = "none";
  REQUIRE(h2.CreateContainer(spec).ok());
  REQUIRE(h2.StartContainer(vm).ok());

  // Live stream on its own client and thread, filtered to this container's label.
  std::vector<Event> live;
  std::atomic<bool> saw_die{false};
  std::atomic<bool> streaming{false};
  Status stream_status;
  std::thread reader([&] {
    EngineClient events("h2-events", testbed::Engine("h2"));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    stream_status = events.StreamEvents(
        {.types = {"container"}, .labels = {"one.vmid=" + vm}},
        [&](const Event& e) {
          live.push_back(e);
          if (e.action == "die") saw_die = true;
          return !saw_die;
        },
        [&] {
          streaming = true;
          return std::chrono::steady_clock::now() < deadline;
        });
  });
  while (!streaming) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  REQUIRE(h2.KillContainer(vm).ok());
  reader.join();
  CHECK(stream_status.ok());
  CHECK(saw_die);
  REQUIRE_FALSE(live.empty());
  CHECK(live.back().attributes.at("exitCode") == "137");
  CHECK(live.back().attributes.at("one.vmid") == vm);

  REQUIRE(h2.RemoveContainer(vm, true, true).ok());
  // The window closes two seconds after the removal, so an event published while the query
  // is open is still inside it.
  auto past = h2_admin.Events({.since = since,
                               .until = std::time(nullptr) + 2,
                               .types = {"container"},
                               .labels = {"one.vmid=" + vm}});
  REQUIRE_MESSAGE(past.ok(), past.status().ToString());
  std::vector<std::string> actions;
  std::string seen;
  for (const auto& e : *past) {
    actions.push_back(e.action);
    seen += e.action + "@" + std::to_string(e.time_nano) + " ";
  }
  CAPTURE(seen);
  auto has = [&](const char* a) {
    return std::find(actions.begin(), actions.end(), a) != actions.end();
  };
  CHECK(has("create"));
  CHECK(has("start"));
  CHECK(has("die"));
  CHECK(has("destroy"));
  CHECK(h2_admin.Events({.since = 0, .until = 0}).status().code() == Code::kInvalidArgument);
}

TEST_CASE(
    "events: one feed thread follows both engines, live on each while open, and sees a kill on "
    "each") {
  EngineClient h1("h1", testbed::Engine("h1"));
  EngineClient h2("h2", testbed::Engine("h2"));
  const std::string tag = testbed::UniqueName("odt-feed");
  const std::map<std::string, EngineClient*> engines{{"h1", &h1}, {"h2", &h2}};
  for (const auto& [host, engine] : engines) {
    REQUIRE(engine->PullImage(testbed::TestImage()).ok());
    ContainerSpec spec = Spec(tag + "-" + host);
    spec.network_mode = "none";
    REQUIRE(engine->CreateContainer(spec).ok());
    REQUIRE(engine->StartContainer(spec.name).ok());
  }
  const size_t threads_before = testing::ThreadsOfThisProcess();
  std::mutex mu;
  std::map<std::string, std::string> died;  // host → container name
  {
    MultiEventFeed feed(
        [](const std::string& host) { return Result<Endpoint>(testbed::Engine(host)); });
    CHECK(testing::ThreadsOfThisProcess() == threads_before + 1);
    int key = 0;
    for (const auto& [host, engine] : engines) {
      REQUIRE(feed.Follow(key++, host,
                          {.types = {"container"}, .labels = {"one.vmid=" + tag + "-" + host}},
                          [&, host = host](const Event& e) {
                            if (e.action != "die") return;
                            std::lock_guard lock(mu);
                            auto name = e.attributes.find("name");
                            died[host] = name == e.attributes.end() ? "" : name->second;
                          })
                  .ok());
    }
    // A stream sees only what happens once it is open: until both have seen a die, start the
    // containers of the hosts not seen yet again and kill them again.
    for (int attempt = 0; attempt < 10; ++attempt) {
      for (const auto& [host, engine] : engines) {
        {
          std::lock_guard lock(mu);
          if (died.count(host)) continue;
        }
        REQUIRE(engine->StartContainer(tag + "-" + host).ok());
        REQUIRE(engine->KillContainer(tag + "-" + host).ok());
      }
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
      bool both = false;
      while (!both && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        std::lock_guard lock(mu);
        both = died.size() == 2;
      }
      if (both) break;
    }
    CHECK(testing::ThreadsOfThisProcess() == threads_before + 1);
    CHECK(feed.streams() == 2);
    // The engines answered both streams, which stay open: each is live, under its own number,
    // and the same number a while later (it did not break in between).
    const uint64_t live0 = feed.Live(0);
    CHECK(live0 > 0);
    CHECK(feed.Live(1) > 0);
    CHECK(feed.Live(1) != live0);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    CHECK(feed.Live(0) == live0);
    feed.Unfollow(0);
    CHECK(feed.streams() == 1);
    CHECK(feed.Live(0) == 0);
  }
  {
    std::lock_guard lock(mu);
    CHECK(died["h1"] == tag + "-h1");
    CHECK(died["h2"] == tag + "-h2");
  }
  CHECK(testing::ThreadsOfThisProcessSettledAt(threads_before) == threads_before);
  for (const auto& [host, engine] : engines) {
    CHECK(engine->RemoveContainer(tag + "-" + host, true, true).ok());
  }
}

}  // namespace onedock::docker
