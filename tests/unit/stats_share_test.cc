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

}  // namespace
}  // namespace onedock::monitor
