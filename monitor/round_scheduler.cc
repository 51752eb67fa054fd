#include "monitor/round_scheduler.h"

#include <algorithm>
#include <exception>

#include "bridge/log.h"

namespace onedock::monitor {

void RoundQueue::Add(int key, TimePoint due) {
  Entry& e = entries_[key];
  if (e.running) {  // a removed key added again: due at once when the old round ends
    e.removed = false;
    e.woken = true;
    return;
  }
  e = Entry{due};
}

void RoundQueue::Remove(int key) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return;
  if (it->second.running) {
    it->second.removed = true;
  } else {
    entries_.erase(it);
  }
}

void RoundQueue::Wake(int key, TimePoint now) {
  auto it = entries_.find(key);
  if (it == entries_.end() || it->second.removed) return;
  if (it->second.running) {
    it->second.woken = true;
  } else {
    it->second.due = std::min(it->second.due, now);
  }
}

std::optional<int> RoundQueue::Take(TimePoint now) {
  auto first = entries_.end();
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    if (it->second.running || it->second.due > now) continue;
    if (first == entries_.end() || it->second.due < first->second.due) first = it;
  }
  if (first == entries_.end()) return std::nullopt;
  first->second.running = true;
  first->second.woken = false;
  return first->first;
}

void RoundQueue::Done(int key, TimePoint next, TimePoint now) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return;
  Entry& e = it->second;
  if (e.removed) {
    entries_.erase(it);
    return;
  }
  e.running = false;
  e.due = e.woken ? now : next;
  e.woken = false;
}

std::optional<RoundQueue::TimePoint> RoundQueue::NextDue() const {
  std::optional<TimePoint> first;
  for (const auto& [key, e] : entries_) {
    if (!e.running && (!first || e.due < *first)) first = e.due;
  }
  return first;
}

bool RoundQueue::Running(int key) const {
  auto it = entries_.find(key);
  return it != entries_.end() && it->second.running;
}

RoundScheduler::RoundScheduler(int threads, const Clock& clock) : clock_(clock) {
  for (int i = 0; i < std::max(1, threads); ++i) workers_.emplace_back([this] { Work(); });
}

RoundScheduler::~RoundScheduler() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  timer_.notify_all();
  idle_.notify_all();
  done_.notify_all();
  for (auto& w : workers_) w.join();
}

void RoundScheduler::Add(int key, Round round) {
  {
    std::lock_guard lock(mu_);
    rounds_[key] = std::make_shared<Round>(std::move(round));
    queue_.Add(key, clock_.Now());
  }
  timer_.notify_one();
}

void RoundScheduler::Wake(int key) {
  {
    std::lock_guard lock(mu_);
    queue_.Wake(key, clock_.Now());
  }
  timer_.notify_one();
}

void RoundScheduler::Remove(int key) {
  std::shared_ptr<Round> gone;  // destroyed outside the lock
  std::unique_lock lock(mu_);
  queue_.Remove(key);
  done_.wait(lock, [&] { return stopping_ || !queue_.Running(key); });
  if (auto it = rounds_.find(key); it != rounds_.end()) {
    gone = std::move(it->second);
    rounds_.erase(it);
  }
}

void RoundScheduler::Work() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    if (auto key = queue_.Take(clock_.Now())) {
      auto it = rounds_.find(*key);
      if (it == rounds_.end()) {  // not Added: forgotten at once
        queue_.Remove(*key);
        queue_.Done(*key, clock_.Now(), clock_.Now());
        continue;
      }
      std::shared_ptr<Round> round = it->second;
      // While this one runs the round, an idle worker watches the queue (when none does yet).
      if (!timer_taken_) idle_.notify_one();
      lock.unlock();
      Clock::TimePoint next;
      try {
        next = (*round)();
      } catch (const std::exception& e) {
        NamedLogger("monitor")->error("monitoring round {}: {}", *key, e.what());
        next = clock_.Now() + std::chrono::seconds(5);
      }
      round.reset();
      lock.lock();
      queue_.Done(*key, next, clock_.Now());
      timer_.notify_one();
      done_.notify_all();
      continue;
    }
    if (timer_taken_) {  // another idle worker watches the queue
      idle_.wait(lock);
      continue;
    }
    timer_taken_ = true;
    if (auto due = queue_.NextDue()) {
      timer_.wait_for(lock, std::max(Clock::Duration::zero(), *due - clock_.Now()));
    } else {
      timer_.wait(lock);
    }
    timer_taken_ = false;
  }
}

}  // namespace onedock::monitor
