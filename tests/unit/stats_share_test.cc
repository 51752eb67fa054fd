#include "monitor/stats_share.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <vector>

namespace onedock::monitor {
namespace {

TEST_CASE("a host's stats in flight: its own bound, or its share of all hosts' bound") {
  CHECK(StatsInFlightPerHost(256, 2500, 1) == 256);
  CHECK(StatsInFlightPerHost(256, 2500, 9) == 256);
  CHECK(StatsInFlightPerHost(256, 2500, 10) == 250);
  CHECK(StatsInFlightPerHost(256, 2500, 50) == 50);
  CHECK(StatsInFlightPerHost(256, 2500, 3000) == 1);  // never none
  CHECK(StatsInFlightPerHost(256, 0, 50) == 256);     // no bound for all hosts
  CHECK(StatsInFlightPerHost(256, 2500, 0) == 256);
  CHECK(StatsInFlightPerHost(0, 2500, 1) == 1);
}

TEST_CASE("a host's first VM round waits for the hosts starting with it, up to a bound") {
  using std::chrono::seconds;
  const Clock::TimePoint t0{seconds(100)};
  // Alone: the quiet time after its own start.
  CHECK(FirstVmRoundAt(t0, t0, seconds(2), seconds(10)) == t0 + seconds(2));
  // Others began after it: the quiet time after the last of them.
  CHECK(FirstVmRoundAt(t0, t0 + seconds(5), seconds(2), seconds(10)) == t0 + seconds(7));
  // Starts that go on and on: never later than the bound after its own start.
  CHECK(FirstVmRoundAt(t0, t0 + seconds(9), seconds(2), seconds(10)) == t0 + seconds(10));
  // A last start before its own (a clock read out of order) counts as its own.
  CHECK(FirstVmRoundAt(t0, t0 - seconds(3), seconds(2), seconds(10)) == t0 + seconds(2));
  // No quiet time: at once.
  CHECK(FirstVmRoundAt(t0, t0, seconds(0), seconds(10)) == t0);
}

TEST_CASE("the first VM rounds of hosts in sequence fall far apart in the spread window") {
  using std::chrono::seconds;
  CHECK(FirstVmRoundOffset(0, seconds(10)) == Clock::Duration::zero());
  CHECK(FirstVmRoundOffset(7, Clock::Duration::zero()) == Clock::Duration::zero());
  for (int hosts : {2, 10, 50, 1000}) {
    std::vector<Clock::Duration> offsets;
    for (int id = 0; id < hosts; ++id) {
      offsets.push_back(FirstVmRoundOffset(id, seconds(10)));
      CHECK(offsets.back() >= Clock::Duration::zero());
      CHECK(offsets.back() < seconds(10));
    }
    std::sort(offsets.begin(), offsets.end());
    offsets.push_back(seconds(10));  // the gap after the last one, to the window's end
    Clock::Duration widest{};
    for (size_t i = 1; i < offsets.size(); ++i) {
      widest = std::max(widest, offsets[i] - offsets[i - 1]);
    }
    // Even spacing would leave 10 s / hosts between two; these leave at most 2.7 times that.
    CHECK(widest < seconds(10) * 2.7 / hosts);
  }
  // The same host, the same part, whatever else is monitored.
  CHECK(FirstVmRoundOffset(42, seconds(10)) == FirstVmRoundOffset(42, seconds(10)));
}

}  // namespace
}  // namespace onedock::monitor
