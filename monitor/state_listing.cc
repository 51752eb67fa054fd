#include "monitor/state_listing.h"

namespace onedock::monitor {

bool StateListing::Due(const StateFacts& f) const {
  if (!last_ || f.asked || !f.settled || f.quiet || last_->quiet) return true;
  if (f.live == 0 || f.live != last_->live) return true;
  return f.now - last_->now >= relist_;
}

}  // namespace onedock::monitor
