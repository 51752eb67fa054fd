// The stats connections of every monitored host together. A round's stats requests are all in
// flight at once, each on a TLS connection kept for the next round, and every kept connection
// costs onedockd memory (about 60 KB: libcurl makes an OpenSSL context for each). A host's round
// keeps at most its own bound in flight, and at most its share of one bound for all hosts, so
// onedockd's memory stays put as hosts are added; a host past its share's containers takes a few
// more stats ticks per round instead.
//
// Hosts come in bursts: monitord sends a START_MONITOR for every host when it starts. A host
// whose first VM round ran before the others began would take the share of the hosts begun so
// far (the first one all of its own bound), open that many connections, and close most of them at
// its next round: onedockd's memory would peak far above what the shares keep, and the second
// round, slower by the smaller share, would come more than a MONITOR_VM period after the first. So
// a host's first VM round waits until no other host has begun for a short quiet time, and never
// more than a bound after its own start. Hosts that wait together would then have their rounds
// together, every period: onedockd's CPU, the engines and monitord would take all their work at
// the same instant (the MONITOR_VM datagrams of 50 hosts at once overflowed a monitord socket's
// receive buffer). So each host's first round comes a part of a spread window later, the part
// its id gives: the hosts' rounds fall apart, each host's later rounds keeping its place. Pure.
#ifndef ONEDOCK_MONITOR_STATS_SHARE_H_
#define ONEDOCK_MONITOR_STATS_SHARE_H_

#include <cstddef>

#include "bridge/clock.h"

namespace onedock::monitor {

// Stats requests one host's round keeps in flight: `per_host`, or `all_hosts / hosts` when that
// is smaller, and never less than one (so a fleet of more hosts than `all_hosts` holds one
// connection per host). `all_hosts` 0 means no bound for all hosts together.
int StatsInFlightPerHost(int per_host, int all_hosts, size_t hosts);

// When the first VM round of a host begun at `started` may run, the last host having begun at
// `last_start`: `quiet` after the last start, and at most `most` after its own.
Clock::TimePoint FirstVmRoundAt(Clock::TimePoint started, Clock::TimePoint last_start,
                                Clock::Duration quiet, Clock::Duration most);

// The part of `spread` host `host_id` comes later by, in [0, spread): ids in sequence land far
// apart (the fractional parts of multiples of the golden ratio), whatever their number.
Clock::Duration FirstVmRoundOffset(int host_id, Clock::Duration spread);

}  // namespace onedock::monitor

#endif  // ONEDOCK_MONITOR_STATS_SHARE_H_
