#include "monitor/stats_share.h"

#include <algorithm>
#include <cstdint>

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

Clock::Duration FirstVmRoundOffset(int host_id, Clock::Duration spread) {
  if (spread <= Clock::Duration::zero()) return Clock::Duration::zero();
  // 2^64 / golden ratio: multiplying wraps modulo 2^64, which keeps the fractional part.
  const uint64_t turns =
      static_cast<uint64_t>(static_cast<uint32_t>(host_id)) * uint64_t{0x9E3779B97F4A7C15};
  const double part = static_cast<double>(turns >> 11) / static_cast<double>(uint64_t{1} << 53);
  return std::chrono::duration_cast<Clock::Duration>(
      std::chrono::duration<double, Clock::Duration::period>(part * spread.count()));
}

}  // namespace onedock::monitor
