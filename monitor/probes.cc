#include "monitor/probes.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iterator>
#include <string_view>

#include "bridge/base64.h"

namespace onedock::monitor {
namespace {

// A template value in double quotes, as oned's template lexer reads it: the only escape is \"
// (other backslashes stay as they are), a backslash just before the closing quote would escape
// it, and a value holding "]]>" makes oned refuse the whole record. Engine strings never reach
// oned unquoted.
std::string Quoted(const std::string& value) {
  std::string out = "\"";
  for (char c : value) {
    if (c == '"') out += '\\';
    if (c == '\n' || c == '\r') c = ' ';
    if (c == '>' && out.size() >= 2 && out.compare(out.size() - 2, 2, "]]") == 0) out += ' ';
    out += c;
  }
  if (out.back() == '\\') out += ' ';
  return out + "\"";
}

std::string Line(const std::string& key, const std::string& value) {
  return key + "=" + Quoted(value) + "\n";
}
std::string Line(const std::string& key, int64_t value) {
  return key + "=" + std::to_string(value) + "\n";
}

}  // namespace

std::string SystemHostText(const EngineInfo& info, const Capacity& disk) {
  std::string t;
  t += Line("HYPERVISOR", "docker");
  t += Line("HOSTNAME", info.name);
  t += Line("ARCH", info.architecture);
  t += Line("TOTALCPU", static_cast<int64_t>(info.ncpu) * 100);
  t += Line("TOTALMEMORY", info.mem_total / 1024);
  t += Line("VERSION", "docker " + info.server_version);
  t += Line("KERNEL", info.kernel_version);
  t += Line("OS", info.operating_system);
  if (!info.cgroup_version.empty()) t += Line("CGROUPS_VERSION", info.cgroup_version);
  t += Line("DS_LOCATION_TOTAL_MB", disk.total_mb);
  t += Line("DS_LOCATION_USED_MB", disk.used_mb);
  t += Line("DS_LOCATION_FREE_MB", disk.Free());
  return t;
}

std::optional<double> CpuPercent(const StatsSample& previous, const StatsSample& current) {
  if (previous.system_cpu_ns == 0 || current.system_cpu_ns <= previous.system_cpu_ns ||
      current.cpu_total_ns < previous.cpu_total_ns || current.online_cpus == 0) {
    return std::nullopt;
  }
  const double cpu = static_cast<double>(current.cpu_total_ns - previous.cpu_total_ns);
  const double system = static_cast<double>(current.system_cpu_ns - previous.system_cpu_ns);
  return cpu / system * current.online_cpus * 100.0;
}

VmFigures FiguresOf(int vm_id, const std::string& deploy_id, const StatsSample& sample,
                    std::optional<double> cpu) {
  VmFigures f;
  f.vm_id = vm_id;
  f.deploy_id = deploy_id;
  f.cpu = cpu;
  const uint64_t cache = std::min(sample.memory_inactive_file, sample.memory_usage);
  f.memory_kb = static_cast<int64_t>((sample.memory_usage - cache) / 1024);
  f.net_rx = sample.net_rx_bytes;
  f.net_tx = sample.net_tx_bytes;
  f.disk_read = sample.disk_read_bytes;
  f.disk_write = sample.disk_write_bytes;
  return f;
}

std::string HealthOfStatus(const std::string& status_text) {
  if (status_text.find("(healthy)") != std::string::npos) return "healthy";
  if (status_text.find("(unhealthy)") != std::string::npos) return "unhealthy";
  if (status_text.find("(health: starting)") != std::string::npos) return "starting";
  return "";
}

VmFigures StoppedFigures(int vm_id, const std::string& deploy_id, const ContainerExit& exit) {
  VmFigures f;
  f.vm_id = vm_id;
  f.deploy_id = deploy_id;
  f.cpu = 0.0;
  f.docker_state = exit.state.empty() ? "exited" : exit.state;
  f.exit = exit;
  return f;
}

std::string MonitorVmText(const std::vector<VmFigures>& vms) {
  std::string t;
  for (const auto& v : vms) {
    std::string record;
    if (v.cpu) {
      char cpu[32];
      std::snprintf(cpu, sizeof cpu, "%.2f", *v.cpu);
      record += Line("CPU", cpu);
    }
    record += Line("MEMORY", std::to_string(v.memory_kb));
    if (!v.exit) {  // a stopped container's counters stay as last reported
      record += Line("NETRX", std::to_string(v.net_rx));
      record += Line("NETTX", std::to_string(v.net_tx));
      record += Line("DISKRDBYTES", std::to_string(v.disk_read));
      record += Line("DISKWRBYTES", std::to_string(v.disk_write));
    }
    if (!v.docker_state.empty()) record += Line("DOCKER_STATE", v.docker_state);
    const ContainerExit none;
    const ContainerExit& e = v.exit ? *v.exit : none;
    record += Line("DOCKER_EXIT_CODE", v.exit ? std::to_string(e.exit_code) : "");
    record += Line("DOCKER_OOM_KILLED", v.exit ? (e.oom_killed ? "YES" : "NO") : "");
    record += Line("DOCKER_FINISHED_AT", e.finished_at);
    record += Line("DOCKER_LOG_TAIL", e.log_tail);
    // Always sent, empty when there is none: oned keeps a VM's last value of each attribute.
    record += Line("DOCKER_ERROR", e.error);
    record += Line("DOCKER_HEALTH", v.health);
    t += "VM = [ ID=" + Quoted(std::to_string(v.vm_id)) + ", DEPLOY_ID=" + Quoted(v.deploy_id) +
         ", MONITOR=" + Quoted(Base64Encode(record)) + " ]\n";
  }
  return t;
}

std::string MonitorHostText(const EngineInfo& info, const std::vector<VmFigures>& vms) {
  const int64_t total_cpu = static_cast<int64_t>(info.ncpu) * 100;
  const int64_t total_mem = info.mem_total / 1024;
  double cpu = 0;
  int64_t mem = 0;
  uint64_t rx = 0, tx = 0;
  for (const auto& v : vms) {
    cpu += v.cpu.value_or(0);
    mem += v.memory_kb;
    rx += v.net_rx;
    tx += v.net_tx;
  }
  const int64_t used_cpu = std::min<int64_t>(total_cpu, std::llround(cpu));
  const int64_t used_mem = std::min<int64_t>(total_mem, mem);
  std::string t;
  t += Line("USEDCPU", used_cpu);
  t += Line("FREECPU", total_cpu - used_cpu);
  t += Line("USEDMEMORY", used_mem);
  t += Line("FREEMEMORY", total_mem - used_mem);
  t += Line("NETRX", static_cast<int64_t>(rx));
  t += Line("NETTX", static_cast<int64_t>(tx));
  return t;
}

std::string VmStateOf(const std::string& container_state) {
  if (container_state == "running" || container_state == "restarting") return "RUNNING";
  if (container_state == "paused") return "SUSPENDED";
  if (container_state == "exited" || container_state == "created" || container_state == "dead")
    return "POWEROFF";
  return "";
}

std::string VmStateOfEvent(const std::string& action) {
  if (action == "start" || action == "unpause" || action == "restart") return "RUNNING";
  if (action == "die") return "POWEROFF";
  if (action == "pause") return "SUSPENDED";
  return "";
}

bool ChangesListing(const std::string& action) {
  static constexpr std::string_view kSilent[] = {
      "exec_create", "exec_start",   "exec_die",      "exec_detach", "attach",
      "detach",      "resize",       "top",           "export",      "commit",
      "copy",        "archive-path", "extract-to-dir"};
  const std::string_view name = std::string_view(action).substr(0, action.find(':'));
  return std::find(std::begin(kSilent), std::end(kSilent), name) == std::end(kSilent);
}

std::string StateVmText(const std::vector<VmState>& vms, bool sync) {
  std::string t;
  if (sync) t += "SYNC_STATE=yes\nMISSING_STATE=POWEROFF\n";
  for (const auto& v : vms) {
    t += "VM = [ ID=" + Quoted(std::to_string(v.vm_id)) + ", DEPLOY_ID=" + Quoted(v.deploy_id) +
         ", STATE=" + Quoted(v.state) + " ]\n";
  }
  return t;
}

std::string MonitorMessagesDocument(const ProbeTexts& texts, int64_t timestamp) {
  auto element = [](const char* name, const std::string& text) {
    return std::string("<") + name + ">" + (text.empty() ? "" : Base64Encode(text)) + "</" + name +
           ">";
  };
  return "<MONITOR_MESSAGES>" + element("SYSTEM_HOST", texts.system_host) +
         element("MONITOR_HOST", texts.monitor_host) + element("STATE_VM", texts.state_vm) +
         element("MONITOR_VM", texts.monitor_vm) + "<TIMESTAMP>" + std::to_string(timestamp) +
         "</TIMESTAMP></MONITOR_MESSAGES>";
}

}  // namespace onedock::monitor
