// The stats connections of every monitored host together. A round's stats requests are all in
// flight at once, each on a TLS connection kept for the next round, and every kept connection
// costs onedockd memory (about 60 KB: libcurl makes an OpenSSL context for each). A host's round
// keeps at most its own bound in flight, and at most its share of one bound for all hosts, so
// onedockd's memory stays put as hosts are added; a host past its share's containers takes a few
// more stats ticks per round instead. Pure.
#ifndef ONEDOCK_MONITOR_STATS_SHARE_H_
#define ONEDOCK_MONITOR_STATS_SHARE_H_

#include <cstddef>

namespace onedock::monitor {

// Stats requests one host's round keeps in flight: `per_host`, or `all_hosts / hosts` when that
// is smaller, and never less than one (so a fleet of more hosts than `all_hosts` holds one
// connection per host). `all_hosts` 0 means no bound for all hosts together.
int StatsInFlightPerHost(int per_host, int all_hosts, size_t hosts);

}  // namespace onedock::monitor

#endif  // ONEDOCK_MONITOR_STATS_SHARE_H_
