// FakeEventFeed: an EventFeed whose events a test hands over (Push), on the test's thread, to
// the handler of the key that follows the host. Thread-safe.
#ifndef ONEDOCK_TESTS_FAKES_FAKE_EVENT_FEED_H_
#define ONEDOCK_TESTS_FAKES_FAKE_EVENT_FEED_H_

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "bridge/engine.h"

namespace onedock::fakes {

class FakeEventFeed : public EventFeed {
 public:
  Status Follow(int key, const std::string& host, const EventFilter& filter,
                Handler on_event) override {
    std::lock_guard lock(mu_);
    followed_[key] = {host, filter, std::move(on_event)};
    return Status::Ok();
  }
  void Unfollow(int key) override {
    std::lock_guard lock(mu_);
    followed_.erase(key);
  }
  // The fake's streams are never live: every state round of a host it follows lists.
  uint64_t Live(int) override { return 0; }
  // Hands `event` to the handler following `host`; false when none does.
  bool Push(const std::string& host, const Event& event) {
    Handler handler;
    {
      std::lock_guard lock(mu_);
      for (const auto& [key, f] : followed_) {
        if (f.host == host) handler = f.on_event;
      }
    }
    if (!handler) return false;
    handler(event);
    return true;
  }
  size_t followed() {
    std::lock_guard lock(mu_);
    return followed_.size();
  }

 private:
  struct Followed {
    std::string host;
    EventFilter filter;
    Handler on_event;
  };
  std::mutex mu_;
  std::map<int, Followed> followed_;
};

}  // namespace onedock::fakes

#endif  // ONEDOCK_TESTS_FAKES_FAKE_EVENT_FEED_H_
