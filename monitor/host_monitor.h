// HostMonitor: everything monitord hears about one onedock host, from that host's engine API
// alone. Tick() runs the probe rounds that are due on the periods monitord asked for
// (PROBES_PERIOD); OnEvent() handles one event of the engine's stream, so that a container stopped
// behind OpenNebula's back is reported within a second. HostMonitor has no thread of its own:
// MonitorService runs Tick on a RoundScheduler shared by every host and hands over the events of
// an EventFeed shared by every host; tests call both directly with a fake engine and a fake
// clock. Stats of a round are all asked together (Engine::StatsOfMany), so a round costs one
// thread however many containers the host holds.
//
// An engine that does not answer turns the host into ERROR (MONITOR_HOST FAILURE, repeated every
// beacon period); when it answers again the host gets SYSTEM_HOST (back to MONITORED) and a
// complete STATE_VM report, so VMs that oned marked UNKNOWN come back RUNNING without a redeploy.
#ifndef ONEDOCK_MONITOR_HOST_MONITOR_H_
#define ONEDOCK_MONITOR_HOST_MONITOR_H_

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "bridge/clock.h"
#include "bridge/engine.h"
#include "bridge/monitord.h"
#include "bridge/vm_activity.h"
#include "monitor/exit_watch.h"
#include "monitor/probes.h"
#include "monitor/state_listing.h"
#include "monitor/state_tracker.h"

namespace onedock::monitor {

struct HostTarget {
  int id = -1;
  std::string name;
  MonitordAddress monitord;
  Periods periods;
};

struct MonitorSettings {
  std::string instance;            // one.instance label of this onedockd's containers
  int64_t disk_total_mb = 102400;  // DS_LOCATION_TOTAL_MB: the engine API does not report it
  int stats_in_flight = 256;       // stats requests asked at once per host, from one thread
  int stats_connections = 2000;    // … and by all hosts together (MonitorService shares it out)
  int round_threads = 32;          // threads that run the rounds of every host (MonitorService)
  // A host's first VM round waits until no other host began for `first_round_quiet`, and at most
  // `first_round_wait` after its own start, then the part of `first_round_spread` its id gives
  // (MonitorService; stats_share.h).
  Clock::Duration first_round_quiet = std::chrono::seconds(2);
  Clock::Duration first_round_wait = std::chrono::seconds(10);
  Clock::Duration first_round_spread = std::chrono::seconds(10);
  int grace_seconds = 3;  // after onedock's own action on a VM, its changes are not reported
};

// What one host's monitoring has done so far, as HostMonitor::Snapshot() copies it (onedockd's
// metrics read it at scrape time; the monitor itself calls no metrics API).
struct HostSnapshot {
  struct Round {
    std::optional<Clock::TimePoint> ended;  // nullopt: not run yet
    Clock::Duration took{};
  };
  int host_id = -1;
  std::string name;
  bool engine_up = false;  // the engine answered the last round that asked it
  int containers = -1;     // this onedockd's containers of the host the last listing saw; -1: none
  // The last round of each kind, whatever its outcome: state (list → STATE_VM), vm (stats →
  // MONITOR_VM), system (info and disk usage → SYSTEM_HOST).
  Round state, vm, system;
  // VM states sent in STATE_VM (the START_MONITOR reply's included): in reports of changes
  // (repeats for oned's 30 s guard included), and complete reports (SYNC_STATE) sent.
  uint64_t state_vm_changes = 0;
  uint64_t state_vm_syncs = 0;
  // State rounds that went without listing the host's containers (StateListing: the event stream
  // was live and the host settled).
  uint64_t state_rounds_unlisted = 0;
  int stats_in_flight = 0;  // stats requests a VM round keeps in flight: the host's share
};

// What HostMonitor needs from the daemon.
struct MonitorContext {
  EngineProvider& engines;
  const VmActivity& activity;
  MonitordSink& monitord;
  const Clock& clock;
  EventFeed* events = nullptr;  // MonitorService follows each host's events here; none: no events
};

// How the host's rounds reach the service that runs them and follows the host's events.
struct RoundHooks {
  // Called (from OnEvent) when a state round should run at once: the caller then runs Tick soon.
  std::function<void()> want_round;
  // EventFeed::Live of the host's event stream; unset: the host's events are not followed, and
  // every state round lists the host's containers.
  std::function<uint64_t()> events_live;
};

class HostMonitor {
 public:
  using TimePoint = Clock::TimePoint;

  HostMonitor(HostTarget target, MonitorContext context, MonitorSettings settings,
              RoundHooks hooks = {});
  HostMonitor(const HostMonitor&) = delete;
  HostMonitor& operator=(const HostMonitor&) = delete;

  const HostTarget& target() const { return target_; }

  // A copy of what the rounds recorded. Safe to call while rounds run.
  HostSnapshot Snapshot();

  // Probes the host once (system, VM states, VM figures without CPU) and returns the
  // <MONITOR_MESSAGES> document of a START_MONITOR reply; an error naming the host and engine when
  // the engine does not answer. Safe to call while rounds run.
  Result<std::string> FirstReport();

  // Runs every round due at the clock's now and returns when the next one is due. Not concurrent
  // with itself; may run concurrently with OnEvent.
  TimePoint Tick();
  // The engine events this host's monitoring follows: its own containers'.
  EventFilter Events() const;
  // One event of the engine's stream (what the event feed hands over).
  void OnEvent(const Event& event);

  // One round of VM figures: lists the running containers, or takes them from the last state
  // round's listing when StateListing::Shows it current, and fetches their stats in parallel
  // (what the periodic round does; public for the benchmark). Not concurrent with itself.
  Result<std::vector<VmFigures>> VmRound();
  // MONITOR_VM messages with `figures` (groups of VMs small enough for a datagram).
  void SendVmFigures(const std::vector<VmFigures>& figures);

  // How many stats requests the next VM rounds keep in flight (settings' stats_in_flight until
  // set; MonitorService sets each host's share). Safe to call while rounds run.
  void SetStatsInFlight(int n) { stats_in_flight_ = n; }
  // Holds the first VM round, and the MONITOR_HOST that follows it, until `until` (MonitorService:
  // until the hosts that start together have all begun, so that it takes the share they leave
  // it; stats_share.h). No effect once the first VM round began. Safe to call while rounds run.
  void HoldFirstVmRound(TimePoint until);

 private:
  struct Running {
    int vm_id;
    std::string name;
    std::string state;   // the container's
    std::string health;  // from the listing's status text
  };
  struct Schedule {
    TimePoint state, vm, host, system, beacon, sync;
  };

  // False when monitord could not be sent the message (logged).
  bool Send(const std::string& type, bool success, const std::string& payload);
  // Runs `round` and records, in `slot`, when it ended and how long it took. A round that returns
  // false went without its costly part (a state round without a listing): it counts for the
  // round's age, and `slot` keeps the last duration, which is what the round costs.
  template <typename F>
  void Timed(HostSnapshot::Round HostSnapshot::*slot, F round);
  void CountState(const StateReport& report);  // mu_ held
  void SendState(const StateReport& report);
  // Lists the host's containers, unless StateListing finds it needless, and sends what the state
  // tracker decides (or the engine's failure). `asked`: an event asked for the round. False when
  // it went without a listing.
  bool StateRound(Engine& engine, TimePoint now, bool asked);
  // MONITOR_VM records of the stopped containers among `listed` whose stop ExitWatch says is due:
  // why each one stopped, from an inspect and the end of its log.
  void ReportExits(Engine& engine, const std::vector<ContainerSummary>& listed);
  // What StateListing weighs at `now`: the stream's live number and whether onedock acts on the
  // host (`events` and `settled` are the caller's to fill, under mu_).
  StateFacts FactsAt(TimePoint now) const;
  // The tracker's round over `seen`; mu_ held.
  StateReport TrackerRound(const std::vector<VmState>& seen);
  bool SystemRound(Engine& engine);
  // The rounds of a host whose engine answers.
  // `held`: the VM and host rounds wait until then (HoldFirstVmRound).
  void UpRounds(Engine& engine, TimePoint now, TimePoint held);
  void EngineDown(const Status& why);
  bool Busy(int vm_id) const;
  Capacity Disk(Engine& engine);
  std::vector<VmState> StatesOf(const std::vector<ContainerSummary>& listed) const;

  const HostTarget target_;
  const MonitorContext context_;
  const MonitorSettings settings_;
  const std::string engine_url_;
  const RoundHooks hooks_;
  std::atomic<int> stats_in_flight_;

  Schedule next_;                        // Tick's
  EngineProvider::Lease rounds_engine_;  // VmRound's, made by its first call

  std::mutex mu_;  // guards everything below
  bool state_round_wanted_ = false;
  bool up_ = false;
  bool down_reported_ = false;
  bool vm_round_begun_ = false;
  TimePoint held_until_{};  // HoldFirstVmRound's, until the first VM round begins
  StateTracker tracker_;
  StateListing listing_;
  // The last state round's listing while it may stand in for a VM round's (none while a listing
  // is under way or after one that failed), and the events of the host's containers so far that
  // may change a listing (ChangesListing).
  std::optional<std::vector<ContainerSummary>> listed_;
  uint64_t events_ = 0;
  ExitWatch exits_;
  bool exits_left_ = false;  // the last listing had more stops due than a round reports
  EngineInfo info_;
  Capacity disk_{settings_.disk_total_mb, 0, std::nullopt};
  std::map<std::string, StatsSample> previous_;  // container id → last stats sample
  std::vector<VmFigures> figures_;               // the last VM round
  HostSnapshot snapshot_;  // its id, name, engine_up and stats_in_flight are filled at copy
};

}  // namespace onedock::monitor

#endif  // ONEDOCK_MONITOR_HOST_MONITOR_H_
