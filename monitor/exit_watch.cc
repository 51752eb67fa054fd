#include "monitor/exit_watch.h"

namespace onedock::monitor {

bool IsStopped(const std::string& state) { return state == "exited" || state == "dead"; }

void ExitWatch::Died(const std::string& container_id) { reported_.erase(container_id); }

std::vector<std::string> ExitWatch::Due(const std::vector<ContainerSummary>& listed, size_t limit) {
  std::set<std::string> still;
  std::vector<std::string> due;
  for (const auto& c : listed) {
    if (!IsStopped(c.state)) {
      reported_.erase(c.id);  // running again: its next stop is new
      continue;
    }
    if (reported_.count(c.id) != 0) {
      still.insert(c.id);
    } else if (due.size() < limit) {
      due.push_back(c.id);
    }
  }
  reported_ = std::move(still);
  return due;
}

void ExitWatch::Reported(const std::string& container_id) { reported_.insert(container_id); }

}  // namespace onedock::monitor
