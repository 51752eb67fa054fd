// ExitWatch: which stopped containers' ends onedockd still has to tell OpenNebula (the VM's
// monitoring record says why it stopped, monitor/probes.h). Each stop is reported once: a
// container is due when it is seen stopped and its stop was not reported yet — never since
// onedockd started, not since it was last seen running, or not since an engine "die" event for
// it. A pure decision object; the HostMonitor's lock guards it.
#ifndef ONEDOCK_MONITOR_EXIT_WATCH_H_
#define ONEDOCK_MONITOR_EXIT_WATCH_H_

#include <set>
#include <string>
#include <vector>

#include "bridge/engine_types.h"

namespace onedock::monitor {

class ExitWatch {
 public:
  // The container died (an engine event): its stop is due again, even if it was reported before.
  void Died(const std::string& container_id);
  // From a round's full listing: the ids of stopped containers whose stop is due, at most `limit`
  // of them (the rest wait for the next round). Forgets containers the listing no longer holds.
  std::vector<std::string> Due(const std::vector<ContainerSummary>& listed, size_t limit);
  // The stop of `container_id` has been reported.
  void Reported(const std::string& container_id);

 private:
  std::set<std::string> reported_;  // stopped, and reported since
};

// Whether a container in `state` has stopped after running (exited or dead; "created" never ran).
bool IsStopped(const std::string& state);

}  // namespace onedock::monitor

#endif  // ONEDOCK_MONITOR_EXIT_WATCH_H_
