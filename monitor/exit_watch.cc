#include "monitor/exit_watch.h"

namespace onedock::monitor {

bool IsStopped(const std::string& state) { return state == "exited" || state == "dead"; }

void ExitWatch::Died(const std::string& container_id) {
  reported_.erase(container_id);
  died_at_[container_id] = ++deaths_;
}

ExitWatch::Round ExitWatch::Due(const std::vector<ContainerSummary>& listed, size_t limit) {
  std::set<std::string> still;
  std::map<std::string, uint64_t> died_at;
  Round round{{}, deaths_};
  for (const auto& c : listed) {
    if (auto d = died_at_.find(c.id); d != died_at_.end()) died_at.insert(*d);
    if (!IsStopped(c.state)) {
      reported_.erase(c.id);  // running again: its next stop is new
      continue;
    }
    if (reported_.count(c.id) != 0) {
      still.insert(c.id);
    } else if (round.ids.size() < limit) {
      round.ids.push_back(c.id);
    } else {
      round.more = true;
    }
  }
  reported_ = std::move(still);
  died_at_ = std::move(died_at);
  return round;
}

void ExitWatch::Reported(const Round& round, const std::string& container_id) {
  if (auto d = died_at_.find(container_id); d != died_at_.end() && d->second > round.deaths_seen) {
    return;  // died again while the round read its stop: that stop is still to tell
  }
  reported_.insert(container_id);
}

}  // namespace onedock::monitor
