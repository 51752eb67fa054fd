#include "docker/event_feed.h"

#include <algorithm>
#include <exception>

#include "bridge/log.h"
#include "docker/engine_json.h"

namespace onedock::docker {

MultiEventFeed::MultiEventFeed(EnginePool::Resolver resolve, std::chrono::milliseconds reopen_after)
    : resolve_(std::move(resolve)), reopen_after_(reopen_after) {}

MultiEventFeed::~MultiEventFeed() {
  std::map<int, Followed> followed;
  {
    std::lock_guard lock(mu_);
    followed.swap(followed_);
  }
  for (const auto& [key, f] : followed) group_.Close(key);
}

Status MultiEventFeed::Follow(int key, const std::string& host, const EventFilter& filter,
                              Handler on_event) {
  auto endpoint = resolve_(host);
  if (!endpoint.ok()) return endpoint.status();
  {
    std::lock_guard lock(mu_);
    Followed& f = followed_[key];
    f = {host, std::move(*endpoint), filter, std::move(on_event), next_generation_++};
    f.filter.since = 0;
    f.filter.until = 0;
  }
  Open(key, std::chrono::milliseconds(0));
  return Status::Ok();
}

void MultiEventFeed::Unfollow(int key) {
  {
    std::lock_guard lock(mu_);
    if (followed_.erase(key) == 0) return;
  }
  group_.Close(key);
}

uint64_t MultiEventFeed::Live(int key) {
  std::lock_guard lock(mu_);
  auto it = followed_.find(key);
  return it == followed_.end() ? 0 : it->second.live;
}

MultiEventFeed::Followed* MultiEventFeed::Current(int key, uint64_t generation) {
  auto it = followed_.find(key);
  return it == followed_.end() || it->second.generation != generation ? nullptr : &it->second;
}

void MultiEventFeed::Open(int key, std::chrono::milliseconds delay) {
  // Held until the stream is handed to the group, so that an Unfollow in between queues its Close
  // after this Open, not before it (which would leave a stream nobody follows).
  std::lock_guard lock(mu_);
  auto it = followed_.find(key);
  if (it == followed_.end()) return;
  const Followed& f = it->second;
  const uint64_t generation = f.generation;
  HttpRequest request;
  request.target = "/events?filters=" + UrlEscape(EventFiltersJson(f.filter));
  if (f.filter.since > 0) request.target += "&since=" + std::to_string(f.filter.since);
  request.timeout_ms = 0;
  request.on_open = [this, key, generation](long status) {
    std::lock_guard held(mu_);
    Followed* found = Current(key, generation);
    if (found != nullptr && status >= 200 && status < 300) found->live = ++openings_;
  };
  request.on_line = [this, key, generation](std::string_view line) {
    auto e = ParseEvent(line);
    if (!e.ok()) {
      NamedLogger("monitor")->warn("event stream: {}", e.status().message());
      return false;  // opened again from the last good event
    }
    Handler handler;
    {
      std::lock_guard held(mu_);
      Followed* found = Current(key, generation);
      if (found == nullptr) return false;
      found->filter.since = std::max<int64_t>(found->filter.since, e->time_nano / 1000000000);
      handler = found->on_event;
    }
    try {
      handler(*e);
    } catch (const std::exception& x) {  // not across libcurl's callback
      NamedLogger("monitor")->error("event of {}: {}", e->id, x.what());
      // The event is lost to its follower: the stream no longer vouches for what it told.
      std::lock_guard held(mu_);
      Followed* found = Current(key, generation);
      if (found != nullptr && found->live != 0) found->live = ++openings_;
    }
    return true;
  };
  group_.Open(
      key, f.endpoint, std::move(request),
      [this, key, generation](const Result<HttpResponse>& end) { Ended(key, generation, end); },
      delay);
}

void MultiEventFeed::Ended(int key, uint64_t generation, const Result<HttpResponse>& end) {
  std::string host;
  {
    std::lock_guard lock(mu_);
    Followed* f = Current(key, generation);
    if (f == nullptr) return;
    host = f->host;
    f->live = 0;
  }
  auto log = NamedLogger("monitor");
  if (!end.ok()) {
    log->debug("host {}: event stream: {}", host, end.status().message());
  } else if (end->status < 200 || end->status >= 300) {
    log->debug("host {}: event stream: HTTP {}: {}", host, end->status, EngineMessage(end->body));
  } else {
    log->debug("host {}: event stream ended", host);
  }
  Open(key, reopen_after_);
}

}  // namespace onedock::docker
