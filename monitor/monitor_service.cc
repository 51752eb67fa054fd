#include "monitor/monitor_service.h"

#include "bridge/log.h"

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
  std::map<int, std::shared_ptr<HostMonitor>> hosts;
  {
    std::lock_guard lock(mu_);
    hosts.swap(hosts_);
  }
  for (const auto& [id, m] : hosts) Halt(id);
}

void MonitorService::Halt(int host_id) {
  rounds_.Remove(host_id);
  if (context_.events != nullptr) context_.events->Unfollow(host_id);
}

std::vector<HostSnapshot> MonitorService::Snapshot() {
  std::vector<std::shared_ptr<HostMonitor>> monitors;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, m] : hosts_) monitors.push_back(m);
  }
  std::vector<HostSnapshot> out;
  for (const auto& m : monitors) out.push_back(m->Snapshot());
  return out;
}

std::shared_ptr<HostMonitor> MonitorService::Ensure(int host_id, const std::string& name,
                                                    const MonitorConfiguration& configuration) {
  std::lock_guard lock(mu_);
  auto& slot = hosts_[host_id];
  if (slot && slot->target().name == name &&
      slot->target().monitord.ToString() == configuration.monitord.ToString()) {
    return slot;
  }
  if (slot) Halt(host_id);  // renamed host or moved monitord: start afresh
  slot = std::make_shared<HostMonitor>(
      HostTarget{host_id, name, configuration.monitord, configuration.periods}, context_, settings_,
      [this, host_id] { rounds_.Wake(host_id); });
  NamedLogger("monitor")->info("monitoring host {} ({}) at {}; monitord at {}", host_id, name,
                               context_.engines.Describe(name), configuration.monitord.ToString());
  return slot;
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
  {
    std::lock_guard lock(mu_);  // as Ensure does, so a start that follows waits for the stop
    if (hosts_.erase(host_id) > 0) Halt(host_id);
  }
  if (Status s = journal_.Unmonitor(host_id); !s.ok()) return s;
  NamedLogger("monitor")->info("stopped monitoring host {} ({})", host_id, name);
  return Status::Ok();
}

void MonitorService::Begin(const std::shared_ptr<HostMonitor>& monitor) {
  const HostTarget& target = monitor->target();
  std::lock_guard lock(mu_);  // a stop or a replacement waits for the start to be complete
  auto it = hosts_.find(target.id);
  if (it == hosts_.end() || it->second != monitor) return;  // a stop came meanwhile
  rounds_.Add(target.id, [monitor] { return monitor->Tick(); });
  if (context_.events == nullptr) return;
  if (Status s = context_.events->Follow(target.id, target.name, monitor->Events(),
                                         [monitor](const Event& e) { monitor->OnEvent(e); });
      !s.ok()) {
    NamedLogger("monitor")->warn("host {}: event stream: {}", target.name, s.message());
  }
}

int MonitorService::Resume() {
  auto hosts = journal_.MonitoredHosts();
  auto log = NamedLogger("monitor");
  if (!hosts.ok()) {
    log->error("{}", hosts.status().message());
    return 0;
  }
  int resumed = 0;
  for (const auto& h : *hosts) {
    auto configuration = parse_(h.configuration);
    if (!configuration.ok()) {
      log->error("host {} ({}): {}", h.host_id, h.name, configuration.status().message());
      continue;
    }
    Begin(Ensure(h.host_id, h.name, *configuration));
    ++resumed;
  }
  return resumed;
}

}  // namespace onedock::monitor
