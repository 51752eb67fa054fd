#include "docker/event_feed.h"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "bridge/log.h"
#include "tests/http_stub.h"
#include "tests/support/threads.h"

namespace onedock::docker {
namespace {

using namespace std::chrono_literals;

// Waits up to 10 s for `done`.
template <typename F>
bool Within10s(F done) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

TEST_CASE(
    "event feed: a stream that ends is opened again from its last event's second, and none after "
    "Unfollow") {
  ConfigureLogging("off", "");
  std::mutex mu;
  std::vector<std::string> asked;
  // Each connection hands over one event, one second later than the last, and closes.
  testing::HttpStub engine([&](const testing::StubRequest& request) {
    std::lock_guard lock(mu);
    asked.push_back(request.target);
    const int64_t second = 1700000000 + static_cast<int64_t>(asked.size());
    return testing::StubReply{
        200,
        {},
        R"({"Type":"container","Action":"die","Actor":{"ID":"c)" + std::to_string(asked.size()) +
            R"(","Attributes":{"one.vmid":"5"}},"time":)" + std::to_string(second) + "}\n"};
  });
  MultiEventFeed feed(
      [&](const std::string& host) -> Result<Endpoint> {
        if (host != "h1") return InvalidArgument("no engine for " + host);
        return Endpoint{.base_url = engine.base_url()};
      },
      20ms);
  std::atomic<int> seen{0};
  std::string first_id;
  const size_t threads_before = testing::ThreadsOfThisProcess();
  CHECK(feed.Follow(9, "nowhere", {}, [](const Event&) {}).code() ==
        Status::Code::kInvalidArgument);
  REQUIRE(feed.Follow(1, "h1", {.types = {"container"}, .labels = {"one.instance=test"}},
                      [&](const Event& e) {
                        if (seen++ == 0) first_id = e.id;
                      })
              .ok());
  REQUIRE(Within10s([&] { return seen >= 3; }));
  feed.Unfollow(1);
  const int after_unfollow = seen;
  size_t asked_then;
  {
    std::lock_guard lock(mu);
    asked_then = asked.size();
    REQUIRE(asked_then >= 3);
    CHECK(asked[0].rfind("/events?filters=", 0) == 0);
    CHECK(asked[0].find("one.instance%3Dtest") != std::string::npos);
    CHECK(asked[0].find("since=") == std::string::npos);  // from now
    CHECK(asked[1].find("&since=1700000001") != std::string::npos);
    CHECK(asked[2].find("&since=1700000002") != std::string::npos);
  }
  CHECK(first_id == "c1");
  std::this_thread::sleep_for(100ms);
  CHECK(seen == after_unfollow);
  {
    std::lock_guard lock(mu);
    CHECK(asked.size() == asked_then);
  }
  CHECK(feed.streams() == 0);
  CHECK(testing::ThreadsOfThisProcess() == threads_before);  // the feed's one thread was there
}

TEST_CASE(
    "event feed: each opening the engine answers is live under a number of its own until it "
    "ends, and one comes again after a refusal") {
  ConfigureLogging("off", "");
  std::mutex mu;
  std::atomic<MultiEventFeed*> feed_of_stub{nullptr};
  std::vector<uint64_t> live_at_request, live_at_event;
  // Each connection hands over one event and closes, or is refused (every other one); the feed
  // opens the stream again. At each request, what the feed says of the stream is recorded.
  testing::HttpStub engine([&](const testing::StubRequest&) {
    std::lock_guard lock(mu);
    if (MultiEventFeed* f = feed_of_stub) live_at_request.push_back(f->Live(1));
    if (live_at_request.size() % 2 == 0) return testing::StubReply{500, {}, R"({"message":"x"})"};
    return testing::StubReply{
        200,
        {},
        R"({"Type":"container","Action":"die","Actor":{"ID":"c1"},"time":1700000000})"
        "\n"};
  });
  MultiEventFeed feed(
      [&](const std::string&) -> Result<Endpoint> {
        return Endpoint{.base_url = engine.base_url()};
      },
      20ms);
  feed_of_stub = &feed;
  CHECK(feed.Live(1) == 0);  // not followed
  REQUIRE(feed.Follow(1, "h1", {.types = {"container"}},
                      [&](const Event&) {
                        std::lock_guard lock(mu);
                        live_at_event.push_back(feed.Live(1));
                      })
              .ok());
  REQUIRE(Within10s([&] {
    std::lock_guard lock(mu);
    return live_at_event.size() >= 3 && live_at_request.size() >= 6;
  }));
  feed.Unfollow(1);
  feed_of_stub = nullptr;
  CHECK(feed.Live(1) == 0);
  std::lock_guard lock(mu);
  CHECK(live_at_event[0] > 0);  // an event comes while its stream is open
  CHECK(live_at_event[1] > live_at_event[0]);
  CHECK(live_at_event[2] > live_at_event[1]);
  // Each request comes once the stream before it (answered or refused) has ended.
  for (uint64_t live : live_at_request) CHECK(live == 0);
}

TEST_CASE("event feed: a handler that throws loses its event, and the stream is live anew") {
  ConfigureLogging("off", "");
  // One connection hands over two events.
  testing::HttpStub engine([](const testing::StubRequest&) {
    const std::string line = R"({"Type":"container","Action":"die","Actor":{"ID":"c1"},"time":1})";
    return testing::StubReply{200, {}, line + "\n" + line + "\n"};
  });
  MultiEventFeed feed([&](const std::string&) -> Result<Endpoint> {
    return Endpoint{.base_url = engine.base_url()};
  });
  std::mutex mu;
  std::vector<uint64_t> live_at_event;
  REQUIRE(feed.Follow(1, "h1", {.types = {"container"}},
                      [&](const Event&) {
                        std::lock_guard lock(mu);
                        live_at_event.push_back(feed.Live(1));
                        if (live_at_event.size() == 1)
                          throw std::runtime_error("the follower failed");
                      })
              .ok());
  REQUIRE(Within10s([&] {
    std::lock_guard lock(mu);
    return live_at_event.size() >= 2;
  }));
  feed.Unfollow(1);
  std::lock_guard lock(mu);
  CHECK(live_at_event[0] > 0);
  CHECK(live_at_event[1] > live_at_event[0]);  // the same opening, under a new number
}

}  // namespace
}  // namespace onedock::docker
