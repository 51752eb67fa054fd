#include "monitor/monitor_service.h"

#include "bridge/log.h"
#include "monitor/stats_share.h"

namespace onedock::monitor {

MonitorService::MonitorService(MonitorContext context, SqliteStore& journal,
                               MonitorSettings settings, ConfigurationParser parse)
    : context_(context),
      journal_(journal),
      settings_(std::move(settings)),
      parse_(std::move(parse)),
      rounds_(settings_.round_threads, context_.clock) {}

MonitorService::~MonitorService() { StopAll(); }

void MonitorService::StopAll() {
  std::map<int, Monitored> hosts;
  {
    std::lock_guard lock(mu_);
    hosts.swap(hosts_);
  }
  for (const auto& [id, m] : hosts) Halt(m.key);
}

void MonitorService::Halt(int key) {
  rounds_.Remove(key);
  if (context_.events != nullptr) context_.events->Unfollow(key);
}

std::vector<HostSnapshot> MonitorService::Snapshot() {
  std::vector<std::shared_ptr<HostMonitor>> monitors;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, m] : hosts_) monitors.push_back(m.monitor);
  }
  std::vector<HostSnapshot> out;
  for (const auto& m : monitors) out.push_back(m->Snapshot());
  return out;
}

std::shared_ptr<HostMonitor> MonitorService::Ensure(int host_id, const std::string& name,
                                                    const MonitorConfiguration& configuration) {
  int replaced = 0;
  std::shared_ptr<HostMonitor> monitor;
  {
    std::lock_guard lock(mu_);
    Monitored& slot = hosts_[host_id];
    if (slot.monitor && slot.monitor->target().name == name &&
        slot.monitor->target().monitord.ToString() == configuration.monitord.ToString()) {
      return slot.monitor;
    }
    replaced = slot.key;  // renamed host or moved monitord: start afresh
    const int key = next_key_++;
    slot = {std::make_shared<HostMonitor>(
                HostTarget{host_id, name, configuration.monitord, configuration.periods}, context_,
                settings_,
                RoundHooks{[this, key] { rounds_.Wake(key); },
                           [this, key]() -> uint64_t {
                             return context_.events == nullptr ? 0 : context_.events->Live(key);
                           }}),
            key, false, context_.clock.Now()};
    monitor = slot.monitor;
    ShareStats();
    // Every host not yet past its first VM round waits for this one, then its part of the
    // spread (stats_share.h).
    for (auto& [id, m] : hosts_) {
      m.monitor->HoldFirstVmRound(FirstVmRoundAt(m.started, slot.started,
                                                 settings_.first_round_quiet,
                                                 settings_.first_round_wait) +
                                  FirstVmRoundOffset(id, settings_.first_round_spread));
    }
  }
  if (replaced != 0) Halt(replaced);
  NamedLogger("monitor")->info("monitoring host {} ({}) at {}; monitord at {}", host_id, name,
                               context_.engines.Describe(name), configuration.monitord.ToString());
  return monitor;
}

Result<std::string> MonitorService::StartMonitoring(int host_id, const std::string& name,
                                                    const std::string& configuration) {
  const std::string what = "start monitoring host " + name;
  auto parsed = parse_(configuration);
  if (!parsed.ok()) return parsed.status().WithContext(what);
  // A host without a usable engine address is refused, not remembered.
  if (auto engine = context_.engines.Acquire(name); !engine.ok())
    return engine.status().WithContext(what);
  auto monitor = Ensure(host_id, name, *parsed);
  if (Status s = journal_.Monitor({host_id, name, configuration}); !s.ok()) return s;
  // The first report goes in the reply; the rounds start after it, so the two never race.
  auto report = monitor->FirstReport();
  Begin(monitor);
  if (!report.ok()) return report.status().WithContext(what);
  return report;
}

Status MonitorService::StopMonitoring(int host_id, const std::string& name) {
  int key = 0;
  {
    std::lock_guard lock(mu_);
    if (auto it = hosts_.find(host_id); it != hosts_.end()) {
      key = it->second.key;
      hosts_.erase(it);
      ShareStats();
    }
  }
  if (key != 0) Halt(key);
  if (Status s = journal_.Unmonitor(host_id); !s.ok()) return s;
  NamedLogger("monitor")->info("stopped monitoring host {} ({})", host_id, name);
  return Status::Ok();
}

void MonitorService::Begin(const std::shared_ptr<HostMonitor>& monitor) {
  const HostTarget& target = monitor->target();
  std::lock_guard lock(mu_);  // a stop of the host waits for the start to be complete
  auto it = hosts_.find(target.id);
  // A stop or a replacement came meanwhile, or the host runs already (START_MONITOR again).
  if (it == hosts_.end() || it->second.monitor != monitor || it->second.begun) return;
  it->second.begun = true;
  const int key = it->second.key;
  rounds_.Add(key, [monitor] { return monitor->Tick(); });
  if (context_.events == nullptr) return;
  if (Status s = context_.events->Follow(key, target.name, monitor->Events(),
                                         [monitor](const Event& e) { monitor->OnEvent(e); });
      !s.ok()) {
    NamedLogger("monitor")->warn("host {}: event stream: {}", target.name, s.message());
  }
}

void MonitorService::ShareStats() {
  const int share =
      StatsInFlightPerHost(settings_.stats_in_flight, settings_.stats_connections, hosts_.size());
  for (auto& [id, m] : hosts_) m.monitor->SetStatsInFlight(share);
}

int MonitorService::Resume() {
  auto hosts = journal_.MonitoredHosts();
  auto log = NamedLogger("monitor");
  if (!hosts.ok()) {
    log->error("{}", hosts.status().message());
    return 0;
  }
  // Every host first, then their rounds: the first rounds already keep the share of the stats
  // bound that all the hosts leave them.
  std::vector<std::shared_ptr<HostMonitor>> resumed;
  for (const auto& h : *hosts) {
    auto configuration = parse_(h.configuration);
    if (!configuration.ok()) {
      log->error("host {} ({}): {}", h.host_id, h.name, configuration.status().message());
      continue;
    }
    resumed.push_back(Ensure(h.host_id, h.name, *configuration));
  }
  for (const auto& monitor : resumed) Begin(monitor);
  return static_cast<int>(resumed.size());
}

}  // namespace onedock::monitor
