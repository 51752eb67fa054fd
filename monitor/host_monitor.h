// HostMonitor: everything monitord hears about one onedock host, from that host's engine API
// alone. One thread runs the probe rounds on the periods monitord asked for (PROBES_PERIOD); one
// follows the engine's event stream so that a container stopped behind OpenNebula's back is
// reported within a second. Stats of a round are fetched by a fixed set of clients in parallel,
// each keeping its TLS connection from round to round.
//
// An engine that does not answer turns the host into ERROR (MONITOR_HOST FAILURE, repeated every
// beacon period); when it answers again the host gets SYSTEM_HOST (back to MONITORED) and a
// complete STATE_VM report, so VMs that oned marked UNKNOWN come back RUNNING without a redeploy.
#ifndef ONEDOCK_MONITOR_HOST_MONITOR_H_
#define ONEDOCK_MONITOR_HOST_MONITOR_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "bridge/vm_activity.h"
#include "docker/engine_client.h"
#include "monitor/monitord_sender.h"
#include "monitor/probes.h"
#include "monitor/state_tracker.h"

namespace onedock::monitor {

// PROBES_PERIOD of monitord.conf, in seconds (defaults as shipped by OpenNebula 7.4).
struct Periods {
  int beacon_host = 30;
  int system_host = 600;
  int monitor_host = 120;
  int monitor_vm = 30;
  int state_vm = 5;
  int sync_state_vm = 180;
};

struct HostTarget {
  int id = -1;
  std::string name;
  MonitordAddress monitord;
  Periods periods;
};

struct MonitorSettings {
  std::string instance;            // one.instance label of this onedockd's containers
  int64_t disk_total_mb = 102400;  // DS_LOCATION_TOTAL_MB: the engine API does not report it
  int stats_workers = 64;          // parallel stats clients per host
  int grace_seconds = 3;           // after onedock's own action on a VM, its changes are not reported
};

class HostMonitor {
 public:
  HostMonitor(HostTarget target, docker::Endpoint endpoint, std::string engine_url,
              const bridge::VmActivity& activity, MonitorSettings settings);
  ~HostMonitor();  // stops and joins the threads
  HostMonitor(const HostMonitor&) = delete;
  HostMonitor& operator=(const HostMonitor&) = delete;

  const HostTarget& target() const { return target_; }

  // Probes the host once (system, VM states, VM figures without CPU) and returns the
  // <MONITOR_MESSAGES> document of a START_MONITOR reply; an error naming the host and engine when
  // the engine does not answer. Safe to call while the threads run.
  Result<std::string> FirstReport();

  // Starts the threads (once; later calls do nothing). Not concurrent with itself.
  void Start();

  // One round of VM figures: lists the running containers and fetches their stats in parallel
  // (what the periodic round does; public for the benchmark). Not concurrent with itself.
  Result<std::vector<VmFigures>> VmRound();
  // MONITOR_VM messages with `figures` (groups of VMs small enough for a datagram).
  void SendVmFigures(const std::vector<VmFigures>& figures);

 private:
  struct Running {
    int vm_id;
    std::string name;
  };

  void Loop();
  void FollowEvents();
  bool WaitUntil(std::chrono::steady_clock::time_point t);  // false when stopping
  void Send(const std::string& type, bool success, const std::string& payload);
  void SendState(const StateReport& report);
  // Lists the host's containers and sends what the state tracker decides (or the engine's failure).
  void StateRound();
  // The tracker's round over `seen`; mu_ held.
  StateReport TrackerRound(const std::vector<VmState>& seen);
  bool SystemRound();
  void EngineDown(const Status& why);
  bool Quiet(int vm_id) const;
  DiskFigures Disk(docker::EngineClient& engine);

  const HostTarget target_;
  const docker::Endpoint endpoint_;
  const std::string engine_url_;
  const bridge::VmActivity& activity_;
  const MonitorSettings settings_;
  std::unique_ptr<docker::EngineClient> client_;  // the loop thread's
  std::vector<std::unique_ptr<docker::EngineClient>> stats_clients_;

  std::mutex mu_;  // guards everything below
  std::condition_variable wake_;
  bool stopping_ = false;
  bool state_round_wanted_ = false;
  bool up_ = false;
  bool down_reported_ = false;
  StateTracker tracker_;
  EngineInfo info_;
  DiskFigures disk_{settings_.disk_total_mb, 0};
  std::map<std::string, StatsSample> previous_;  // container id → last stats sample
  std::vector<VmFigures> figures_;               // the last VM round

  std::thread loop_, events_;
};

}  // namespace onedock::monitor

#endif  // ONEDOCK_MONITOR_HOST_MONITOR_H_
