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

}  // namespace onedock::monitor
