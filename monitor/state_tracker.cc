#include "monitor/state_tracker.h"

#include <set>

namespace onedock::monitor {

StateReport StateTracker::Round(const std::vector<VmState>& seen,
                                const std::function<bool(int)>& quiet, bool any_quiet) {
  StateReport report;
  std::set<int> present;
  for (const VmState& s : seen) {
    if (s.state.empty()) continue;
    present.insert(s.vm_id);
    auto [it, added] = known_.try_emplace(s.vm_id);
    Known& k = it->second;
    k.missing = 0;
    if (quiet(s.vm_id)) {
      k.last = s;
      k.repeats_left = 0;
      continue;
    }
    if (added || !(k.last == s)) {
      k.last = s;
      k.repeats_left = repeat_rounds_;
      report.vms.push_back(s);
    } else if (k.repeats_left > 0) {
      --k.repeats_left;
      report.vms.push_back(s);
    }
  }
  for (auto it = known_.begin(); it != known_.end();) {
    if (present.count(it->first) != 0) {
      ++it;
      continue;
    }
    if (quiet(it->first)) {  // removed or moved by onedock itself
      it = known_.erase(it);
      continue;
    }
    if (++it->second.missing >= missing_rounds_) {
      sync_wanted_ = true;
      it = known_.erase(it);
      continue;
    }
    ++it;
  }
  if (sync_wanted_ && !any_quiet) {
    sync_wanted_ = false;
    report.sync = true;
    report.vms.clear();
    for (const auto& [id, k] : known_) {
      if (present.count(id) != 0) report.vms.push_back(k.last);
    }
  }
  return report;
}

StateReport StateTracker::Event(const VmState& state, bool quiet) {
  StateReport report;
  if (state.state.empty()) return report;
  auto [it, added] = known_.try_emplace(state.vm_id);
  Known& k = it->second;
  k.missing = 0;
  if (quiet) {
    k.last = state;
    k.repeats_left = 0;
    return report;
  }
  if (added || !(k.last == state)) {
    k.last = state;
    k.repeats_left = repeat_rounds_;
    report.vms.push_back(state);
  }
  return report;
}

bool StateTracker::Settled() const {
  if (sync_wanted_) return false;
  for (const auto& [id, k] : known_) {
    if (k.repeats_left > 0 || k.missing > 0) return false;
  }
  return true;
}

}  // namespace onedock::monitor
