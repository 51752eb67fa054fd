// StateTracker: decides which VM states a host's STATE_VM messages carry. Pure (no clock, no I/O):
// the host monitor feeds it full listings (rounds) and single events, and says which VMs onedock
// itself is acting on ("quiet").
//
// - A state differing from the last one reported is sent at once, then repeated for
//   `repeat_rounds` rounds: oned ignores STATE_VM for 30 s after a VM starts or stops running, so
//   a report made inside that window has to be made again after it.
// - A quiet VM is never reported; its state is taken as known (onedock's own action set it).
// - A VM whose container is gone for `missing_rounds` consecutive rounds is reported missing by a
//   complete report (SYNC_STATE=yes, MISSING_STATE=POWEROFF).
// - Complete reports are also sent when asked (first round, periodic sync, engine back), but never
//   while a VM of the host is quiet: a VM in the middle of a deploy would read as missing.
#ifndef ONEDOCK_MONITOR_STATE_TRACKER_H_
#define ONEDOCK_MONITOR_STATE_TRACKER_H_

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "monitor/probes.h"

namespace onedock::monitor {

struct StateReport {
  std::vector<VmState> vms;
  bool sync = false;
  bool empty() const { return vms.empty() && !sync; }
};

class StateTracker {
 public:
  StateTracker(int repeat_rounds, int missing_rounds)
      : repeat_rounds_(repeat_rounds), missing_rounds_(missing_rounds) {}

  // Asks for a complete report at the next round that can send one.
  void RequestSync() { sync_wanted_ = true; }

  // `seen`: every onedock container of the host with its VM state. `quiet(vm)`: onedock acts on
  // the VM; `any_quiet`: on some VM of the host.
  StateReport Round(const std::vector<VmState>& seen, const std::function<bool(int)>& quiet,
                    bool any_quiet);

  // A state change the event stream announced.
  StateReport Event(const VmState& state, bool quiet);

  // Nothing is left for a round to send: no state to repeat, no VM counted missing, no complete
  // report wanted.
  bool Settled() const;

 private:
  struct Known {
    VmState last;
    int repeats_left = 0;
    int missing = 0;
  };

  const int repeat_rounds_;
  const int missing_rounds_;
  bool sync_wanted_ = true;
  std::map<int, Known> known_;
};

}  // namespace onedock::monitor

#endif  // ONEDOCK_MONITOR_STATE_TRACKER_H_
