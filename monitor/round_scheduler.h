// The monitoring rounds of every host on a fixed set of threads, so that monitoring many hosts
// does not cost threads per host. RoundQueue decides which host runs next (pure, tested without
// threads); RoundScheduler runs that decision on its worker threads. A host's rounds never run
// concurrently with themselves.
#ifndef ONEDOCK_MONITOR_ROUND_SCHEDULER_H_
#define ONEDOCK_MONITOR_ROUND_SCHEDULER_H_

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "bridge/clock.h"

namespace onedock::monitor {

class RoundQueue {
 public:
  using TimePoint = Clock::TimePoint;

  // Adds `key`, due at `due` (replacing a key that is not running).
  void Add(int key, TimePoint due);
  // Forgets `key`; one that is running is forgotten when its round is Done.
  void Remove(int key);
  // `key` is due at once; one that is running runs again as soon as its round is Done.
  void Wake(int key, TimePoint now);
  // The key due first at `now` that is not running, now marked running; nullopt when none.
  std::optional<int> Take(TimePoint now);
  // The round of a taken key ended; it is due again at `next`, or at once when woken meanwhile.
  void Done(int key, TimePoint next, TimePoint now);
  // When the first key that is not running is due; nullopt when every key runs, or none is left.
  std::optional<TimePoint> NextDue() const;
  bool Running(int key) const;
  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    TimePoint due;
    bool running = false;
    bool woken = false;    // while running
    bool removed = false;  // while running
  };
  std::map<int, Entry> entries_;
};

class RoundScheduler {
 public:
  // Runs the rounds that are due and returns when the key's next one is due.
  using Round = std::function<Clock::TimePoint()>;

  RoundScheduler(int threads, const Clock& clock);
  ~RoundScheduler();  // lets running rounds end, and joins
  RoundScheduler(const RoundScheduler&) = delete;
  RoundScheduler& operator=(const RoundScheduler&) = delete;

  // Adds `key`, due at once. Replaces a removed key's round.
  void Add(int key, Round round);
  // `key` is due at once (an event asked for a round).
  void Wake(int key);
  // Once it returns, the key's round is not running and will not run again.
  void Remove(int key);

  size_t threads() const { return workers_.size(); }

 private:
  void Work();

  const Clock& clock_;
  std::mutex mu_;  // guards everything below
  // One idle worker, the timer, waits for the first due round (on `timer_`, which a change of the
  // queue wakes); the other idle ones wait on `idle_` until the timer takes a round and hands its
  // watch to one of them. A worker that ends a round takes the next due one itself. A change thus
  // wakes one thread, not every idle one.
  std::condition_variable timer_;
  std::condition_variable idle_;
  bool timer_taken_ = false;
  std::condition_variable done_;  // a round ended (Remove waits for its key's)
  RoundQueue queue_;
  std::map<int, std::shared_ptr<Round>> rounds_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace onedock::monitor

#endif  // ONEDOCK_MONITOR_ROUND_SCHEDULER_H_
