#include "monitor/state_listing.h"

namespace onedock::monitor {

bool StateListing::Round(const StateFacts& facts) {
  const bool due = Due(facts);
  if (due) last_ = Listing{facts, facts.live != 0 && facts.live == live_before_};
  live_before_ = facts.live;
  return due;
}

bool StateListing::Due(const StateFacts& f) const {
  if (!last_ || !last_->vouched || last_->facts.quiet) return true;
  if (f.asked || !f.settled || f.quiet) return true;
  if (f.live != last_->facts.live) return true;  // broken since, or opening again (0)
  return f.now - last_->facts.now >= relist_;
}

bool StateListing::Shows(const StateFacts& f) const {
  if (!last_ || !last_->vouched || last_->facts.quiet || f.quiet) return false;
  if (f.live != last_->facts.live || f.events != last_->facts.events) return false;
  return f.now - last_->facts.now < relist_;
}

}  // namespace onedock::monitor
