#include "monitor/stats_share.h"

#include <doctest/doctest.h>

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

}  // namespace
}  // namespace onedock::monitor
