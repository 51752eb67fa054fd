// StateListing: whether a host's state round lists the host's containers or leaves its VMs'
// states to the engine's event stream. Pure (no clock, no I/O): the host monitor says what it
// knows at each state round.
//
// A listing (the engine's /containers/json, parsed) is most of what a state round costs, and on
// hosts of many containers, most of what their monitoring costs. A round goes without one only
// when what a listing would show is known from the stream:
//  - the last listing was vouched for: the host's event stream was live at the round before it
//    and still is (the same EventFeed::Live number). An engine answers a stream before it
//    subscribes it to its events, so the round at which a stream became live does not count;
//  - the stream has not broken since (the same number now);
//  - no event asked for a round (a container that died, went, or was created or renamed behind
//    OpenNebula's back is judged from a listing);
//  - the host is settled: its engine answered, no state is being repeated, no VM is counted
//    missing, no complete report is wanted and no stop is left to report;
//  - onedock acts on none of the host's VMs, and did not when the last listing began (states are
//    not reported while onedock acts, so a listing after the action reports what it left);
//  - the last listing began less than `relist` ago, so anything the stream did not say (an
//    engine drops the events of a subscriber that does not keep up) is seen within that time
//    (plus a state period).
//
// The same listing stands in for a VM round's (Shows), which needs the host's running containers
// only: while it is vouched for, the stream unbroken, and no event of the host's containers came
// since it began (a start, a pause or a health change alters what a VM round reads; the execs
// of a HEALTHCHECK do not count, their result comes as a health change),
// onedock acts on none of the host's VMs, and it began less than `relist` ago.
#ifndef ONEDOCK_MONITOR_STATE_LISTING_H_
#define ONEDOCK_MONITOR_STATE_LISTING_H_

#include <cstdint>
#include <optional>

#include "bridge/clock.h"

namespace onedock::monitor {

// What the host monitor knows at a state round.
struct StateFacts {
  Clock::TimePoint now;
  uint64_t live = 0;     // EventFeed::Live of the host's stream; 0: not live, or no stream
  bool asked = false;    // an event asked for this round
  bool settled = false;  // see above
  bool quiet = false;    // onedock acts on a VM of the host (or did, within the grace)
  uint64_t events = 0;   // events of the host's containers received so far that may change a
                         // listing (an exec, for one, does not)
};

class StateListing {
 public:
  explicit StateListing(Clock::Duration relist) : relist_(relist) {}

  // Whether the state round with `facts` lists the host's containers; remembers the round (and
  // the listing, if it lists). Rounds come in time order.
  bool Round(const StateFacts& facts);
  // Whether the last listing still shows the host's containers as the engine would list them at
  // `facts.now`, for a VM round (which weighs neither `asked` nor `settled`). Remembers nothing.
  bool Shows(const StateFacts& facts) const;

 private:
  struct Listing {
    StateFacts facts;
    bool vouched = false;  // the stream was live, with the same number, at the round before
  };
  bool Due(const StateFacts& facts) const;

  const Clock::Duration relist_;
  std::optional<Listing> last_;
  uint64_t live_before_ = 0;  // the live number of the round before
};

}  // namespace onedock::monitor

#endif  // ONEDOCK_MONITOR_STATE_LISTING_H_
