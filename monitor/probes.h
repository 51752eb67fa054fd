// What onedockd tells monitord about a host and its VMs, as OpenNebula template text (reference
// §4.6): SYSTEM_HOST, MONITOR_HOST, MONITOR_VM and STATE_VM payloads built from engine data.
// Pure functions.
#ifndef ONEDOCK_MONITOR_PROBES_H_
#define ONEDOCK_MONITOR_PROBES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bridge/container_exit.h"
#include "bridge/engine_types.h"
#include "bridge/one_types.h"

namespace onedock::monitor {

// HYPERVISOR=docker, TOTALCPU (100 per CPU), TOTALMEMORY (KB), the engine's version and the
// DS_LOCATION_* figures the scheduler needs.
std::string SystemHostText(const EngineInfo& info, const Capacity& disk);

// One VM's figures from a round of stats, or the record of a container that stopped (`exit`
// set: its usage is 0 and DOCKER_* says why it stopped).
struct VmFigures {
  int vm_id = -1;
  std::string deploy_id;
  std::string docker_state;  // the container's: running, paused, exited, dead
  std::string health;        // healthy, unhealthy, starting; "" without a HEALTHCHECK
  std::optional<ContainerExit> exit;
  std::optional<double> cpu;  // percent of one CPU; absent until two samples exist
  int64_t memory_kb = 0;      // without page cache
  uint64_t net_rx = 0, net_tx = 0;
  uint64_t disk_read = 0, disk_write = 0;
};

// Percent of one CPU between two samples of the same container; nullopt when they cannot be
// compared (first sample, counters reset, stopped container).
std::optional<double> CpuPercent(const StatsSample& previous, const StatsSample& current);

VmFigures FiguresOf(int vm_id, const std::string& deploy_id, const StatsSample& sample,
                    std::optional<double> cpu);

// The health in a container list's status text ("Up 2 minutes (healthy)", "(health: starting)"),
// "" when it has none.
std::string HealthOfStatus(const std::string& status_text);

// The record of a stopped container: CPU and MEMORY 0, DOCKER_STATE and why it stopped.
VmFigures StoppedFigures(int vm_id, const std::string& deploy_id, const ContainerExit& exit);

// VM = [ ID="…", DEPLOY_ID="…", MONITOR="<base64 template>" ] per VM. Besides the figures, each
// record carries DOCKER_STATE, DOCKER_EXIT_CODE, DOCKER_OOM_KILLED, DOCKER_FINISHED_AT and
// DOCKER_LOG_TAIL (empty while the container runs: oned merges each record into the last, so an
// old exit would otherwise stay), DOCKER_ERROR for a stopped one, and DOCKER_HEALTH when the
// image has a HEALTHCHECK.
std::string MonitorVmText(const std::vector<VmFigures>& vms);

// USEDCPU/FREECPU (percent units), USEDMEMORY/FREEMEMORY (KB), NETRX/NETTX: what the VMs use of
// the engine's totals (the engine API knows nothing of processes outside its containers).
std::string MonitorHostText(const EngineInfo& info, const std::vector<VmFigures>& vms);

// The VM state a container state stands for: RUNNING, SUSPENDED or POWEROFF; "" for a state in
// transition ("removing") that says nothing yet.
std::string VmStateOf(const std::string& container_state);
// The VM state an engine event announces ("start", "die", "pause", …); "" for events that say
// nothing about it.
std::string VmStateOfEvent(const std::string& action);
// Whether an engine event of a container may change what a listing shows of it (its state,
// status text, name or presence): false only for events known not to, such as the execs an
// image's HEALTHCHECK runs ("exec_start: …"), attaches, copies and commits.
bool ChangesListing(const std::string& action);

struct VmState {
  int vm_id = -1;
  std::string deploy_id;
  std::string state;  // RUNNING, SUSPENDED, POWEROFF
  bool operator==(const VmState&) const = default;
};

// STATE_VM payload; with `sync`, the report is complete for the host and VMs missing from it are
// POWEROFF.
std::string StateVmText(const std::vector<VmState>& vms, bool sync);

// <MONITOR_MESSAGES> document of a START_MONITOR reply: each element holds base64 of its text.
struct ProbeTexts {
  std::string system_host, monitor_host, state_vm, monitor_vm;
};
std::string MonitorMessagesDocument(const ProbeTexts& texts, int64_t timestamp);

}  // namespace onedock::monitor

#endif  // ONEDOCK_MONITOR_PROBES_H_
