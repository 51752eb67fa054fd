// ExitWatch: which stopped containers' ends onedockd still has to tell OpenNebula (the VM's
// monitoring record says why it stopped, monitor/probes.h). Each stop is reported once: a
// container is due when it is seen stopped and its stop was not reported yet — never since
// onedockd started, not since it was last seen running or an engine "start" event said it runs,
// or not since an engine "die" event for it (which an engine may drop: a start seen is enough). A
// death that comes while a round's stops are being read is not lost: marking them reported skips
// any container that died again after the round began. A pure decision object; the HostMonitor's
// lock guards it.
#ifndef ONEDOCK_MONITOR_EXIT_WATCH_H_
#define ONEDOCK_MONITOR_EXIT_WATCH_H_

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "bridge/engine_types.h"

namespace onedock::monitor {

class ExitWatch {
 public:
  // The stops a round is to report, and when the round began in the watch's count of deaths.
  struct Round {
    std::vector<std::string> ids;
    uint64_t deaths_seen = 0;
    bool more = false;  // the limit left stops due for a later round
  };

  // The container died (an engine event): its stop is due again, even if it was reported before.
  void Died(const std::string& container_id);
  // The container runs again (an engine event): its next stop is new, though no listing saw it
  // running.
  void Started(const std::string& container_id) { reported_.erase(container_id); }
  // From a round's full listing: the ids of stopped containers whose stop is due, at most `limit`
  // of them (the rest wait for the next round). Forgets containers the listing no longer holds.
  Round Due(const std::vector<ContainerSummary>& listed, size_t limit);
  // The stop of `container_id`, read in `round`, has been reported; unless it died again since
  // the round began, when its new stop stays due.
  void Reported(const Round& round, const std::string& container_id);

 private:
  std::set<std::string> reported_;           // stopped, and reported since
  uint64_t deaths_ = 0;                      // Died calls so far
  std::map<std::string, uint64_t> died_at_;  // the count at each listed container's last death
};

// Whether a container in `state` has stopped after running (exited or dead; "created" never ran).
bool IsStopped(const std::string& state);

}  // namespace onedock::monitor

#endif  // ONEDOCK_MONITOR_EXIT_WATCH_H_
