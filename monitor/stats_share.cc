#include "monitor/stats_share.h"

#include <algorithm>

namespace onedock::monitor {

int StatsInFlightPerHost(int per_host, int all_hosts, size_t hosts) {
  int n = std::max(1, per_host);
  if (all_hosts > 0 && hosts > 0) {
    n = std::min<long long>(n, static_cast<long long>(all_hosts) / static_cast<long long>(hosts));
  }
  return std::max(1, n);
}

Clock::TimePoint FirstVmRoundAt(Clock::TimePoint started, Clock::TimePoint last_start,
                                Clock::Duration quiet, Clock::Duration most) {
  return std::min(std::max(started, last_start) + quiet, started + most);
}

}  // namespace onedock::monitor
