// MultiEventFeed: EventFeed over one StreamGroup, so the event streams of every monitored host
// share one thread. Streams ask the engine's unversioned /events (the engine's own API version;
// the event format is the same across the versions onedock supports), so opening one needs no
// negotiation round trip that could hold up the others.
#ifndef ONEDOCK_DOCKER_EVENT_FEED_H_
#define ONEDOCK_DOCKER_EVENT_FEED_H_

#include <chrono>
#include <map>
#include <mutex>
#include <string>

#include "bridge/engine.h"
#include "docker/curl_transport.h"
#include "docker/engine_pool.h"

namespace onedock::docker {

class MultiEventFeed : public EventFeed {
 public:
  explicit MultiEventFeed(EnginePool::Resolver resolve,
                          std::chrono::milliseconds reopen_after = std::chrono::seconds(1));
  ~MultiEventFeed() override;

  Status Follow(int key, const std::string& host, const EventFilter& filter,
                Handler on_event) override;
  void Unfollow(int key) override;
  uint64_t Live(int key) override;

  // Streams open or waiting to be opened again.
  size_t streams() { return group_.size(); }

 private:
  struct Followed {
    std::string host;
    Endpoint endpoint;
    EventFilter filter;
    Handler on_event;
    uint64_t generation = 0;  // a Follow again of the key starts a new one
    uint64_t live = 0;        // Live(): the opening the engine answered, until the stream ends
  };
  // The follow of `key` a stream of `generation` belongs to; nullptr once unfollowed or followed
  // again. mu_ held.
  Followed* Current(int key, uint64_t generation);
  void Open(int key, std::chrono::milliseconds delay);
  void Ended(int key, uint64_t generation, const Result<HttpResponse>& end);

  const EnginePool::Resolver resolve_;
  const std::chrono::milliseconds reopen_after_;
  std::mutex mu_;  // guards followed_, next_generation_ and openings_
  std::map<int, Followed> followed_;
  uint64_t next_generation_ = 1;
  uint64_t openings_ = 0;  // streams the engines answered
  StreamGroup group_;      // last: its thread ends before what its callbacks read goes
};

}  // namespace onedock::docker

#endif  // ONEDOCK_DOCKER_EVENT_FEED_H_
