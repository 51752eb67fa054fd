#include "monitor/round_scheduler.h"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "tests/fakes/fake_clock.h"

namespace onedock::monitor {
namespace {

using std::chrono::seconds;

// Lets rounds that wait for `release` end when the test does.
struct Releases {
  std::atomic<bool>& release;
  ~Releases() { release = true; }
};

TEST_CASE("round queue: the key due first runs, one that runs is not taken twice") {
  fakes::FakeClock clock;
  const auto t0 = clock.Now();
  RoundQueue q;
  q.Add(1, t0 + seconds(5));
  q.Add(2, t0 + seconds(1));
  q.Add(3, t0 + seconds(3));
  CHECK_FALSE(q.Take(t0).has_value());  // nothing due yet
  CHECK(q.NextDue() == t0 + seconds(1));
  CHECK(q.Take(t0 + seconds(4)) == 2);
  CHECK(q.Running(2));
  CHECK(q.Take(t0 + seconds(4)) == 3);
  CHECK_FALSE(q.Take(t0 + seconds(4)).has_value());  // 1 is not due, 2 and 3 run
  CHECK(q.NextDue() == t0 + seconds(5));
  q.Done(2, t0 + seconds(9), t0 + seconds(4));
  CHECK_FALSE(q.Running(2));
  CHECK(q.Take(t0 + seconds(6)) == 1);
  CHECK(q.NextDue() == t0 + seconds(9));  // 2's next round; 1 and 3 run
}

TEST_CASE("round queue: a key woken while it runs runs again as soon as its round ends") {
  fakes::FakeClock clock;
  const auto t0 = clock.Now();
  RoundQueue q;
  q.Add(1, t0);
  REQUIRE(q.Take(t0) == 1);
  q.Wake(1, t0 + seconds(1));  // an event asked for a round meanwhile
  q.Done(1, t0 + seconds(30), t0 + seconds(2));
  CHECK(q.Take(t0 + seconds(2)) == 1);  // not at 30 s
  q.Done(1, t0 + seconds(30), t0 + seconds(3));
  CHECK_FALSE(q.Take(t0 + seconds(3)).has_value());
  q.Wake(1, t0 + seconds(4));  // waiting: due at once
  CHECK(q.Take(t0 + seconds(4)) == 1);
}

TEST_CASE("round queue: a key removed while it runs is forgotten when its round ends") {
  fakes::FakeClock clock;
  const auto t0 = clock.Now();
  RoundQueue q;
  q.Add(1, t0);
  q.Add(2, t0);
  REQUIRE(q.Take(t0) == 1);
  q.Remove(1);
  CHECK(q.Running(1));  // until its round ends
  q.Wake(1, t0);        // a late event changes nothing
  q.Done(1, t0, t0);
  CHECK_FALSE(q.Running(1));
  CHECK(q.size() == 1);
  CHECK(q.Take(t0) == 2);
  q.Remove(2);                 // running
  q.Add(2, t0 + seconds(60));  // added again before its old round ended: due when it ends
  q.Done(2, t0 + seconds(30), t0 + seconds(1));
  CHECK(q.Take(t0 + seconds(1)) == 2);
}

TEST_CASE("round scheduler: rounds run on its threads, a woken key at once, none after Remove") {
  const Clock& clock = Clock::Real();
  RoundScheduler rounds(2, clock);
  CHECK(rounds.threads() == 2);
  std::atomic<int> ran{0};
  std::atomic<bool> inside{false};
  rounds.Add(7, [&] {
    inside = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ++ran;
    inside = false;
    return clock.Now() + std::chrono::hours(1);  // not due again unless woken
  });
  const auto deadline = std::chrono::steady_clock::now() + seconds(10);
  while (ran < 1 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  REQUIRE(ran == 1);
  rounds.Wake(7);
  while (!inside && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  REQUIRE(inside);
  rounds.Remove(7);  // waits for the round that runs
  CHECK_FALSE(inside);
  CHECK(ran == 2);
  rounds.Wake(7);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  CHECK(ran == 2);
}

TEST_CASE(
    "round scheduler: due rounds take every thread at once, and a thread set free takes the next") {
  const Clock& clock = Clock::Real();
  std::atomic<bool> release{false};
  RoundScheduler rounds(4, clock);
  const Releases releases{release};  // before the scheduler joins, even when a REQUIRE fails
  std::atomic<int> inside{0}, most{0}, ran{0};
  const auto round = [&] {
    const int now_inside = ++inside;
    for (int seen = most; now_inside > seen && !most.compare_exchange_weak(seen, now_inside);) {
    }
    while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    --inside;
    ++ran;
    return clock.Now() + std::chrono::hours(1);
  };
  for (int key = 0; key < 6; ++key) rounds.Add(key, round);
  const auto deadline = std::chrono::steady_clock::now() + seconds(10);
  while (inside < 4 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  REQUIRE(inside == 4);  // the idle workers were handed the due rounds, one after the other
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(inside == 4);  // the other two wait for a thread
  release = true;
  while (ran < 6 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  CHECK(ran == 6);
  CHECK(most == 4);
  for (int key = 0; key < 6; ++key) rounds.Remove(key);
}

TEST_CASE("round scheduler: a round comes again when it said, while other threads are busy") {
  const Clock& clock = Clock::Real();
  std::atomic<bool> release{false};
  RoundScheduler rounds(3, clock);
  const Releases releases{release};
  rounds.Add(1, [&] {  // holds a thread until the end
    while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return clock.Now() + std::chrono::hours(1);
  });
  std::atomic<int> ran{0};
  rounds.Add(2, [&] {
    ++ran;
    return clock.Now() + std::chrono::milliseconds(20);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  CHECK(ran >= 5);  // every 20 ms: about 25 times
  release = true;
  rounds.Remove(1);
  rounds.Remove(2);
}

}  // namespace
}  // namespace onedock::monitor
