#include "monitor/monitor_service.h"

#include <arpa/inet.h>

#include <cstdlib>

#include "bridge/image_store.h"
#include "bridge/log.h"
#include "rpc/xml_node.h"

namespace onedock::monitor {
namespace {

bool IsIpLiteral(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

// A positive whole number of seconds, or `fallback`.
int Seconds(const rpc::XmlNode& doc, const char* path, int fallback) {
  const std::string text = doc.Get(path);
  if (text.empty() || text.size() > 7 || text.find_first_not_of("0123456789") != std::string::npos) return fallback;
  const int v = std::atoi(text.c_str());
  return v > 0 ? v : fallback;
}

bool ValidHostName(const std::string& name) {
  if (name.empty() || name.size() > 255) return false;
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_')) return false;
  }
  return true;
}

bridge::DriverAnswer Refuse(const std::string& message) {
  NamedLogger("monitor")->error("{}", message);
  return {1, "", message};
}

}  // namespace

Result<MonitorConfiguration> ParseMonitorConfiguration(const std::string& xml, const MonitordAddress& fallback) {
  MonitorConfiguration c;
  c.monitord = fallback;
  if (xml.empty()) return c;
  auto doc = rpc::ParseXml(xml);
  if (!doc.ok()) return doc.status().WithContext("monitor configuration");
  if (doc->name != "MONITOR_CONFIGURATION") {
    return InvalidArgument("monitor configuration: the document is <" + doc->name + ">, not <MONITOR_CONFIGURATION>");
  }
  const std::string address = doc->Get("NETWORK/MONITOR_ADDRESS");
  if (IsIpLiteral(address)) c.monitord.ip = address;
  c.monitord.port = Seconds(*doc, "NETWORK/PORT", fallback.port);
  if (c.monitord.port > 65535) c.monitord.port = fallback.port;
  Periods& p = c.periods;
  p.beacon_host = Seconds(*doc, "PROBES_PERIOD/BEACON_HOST", p.beacon_host);
  p.system_host = Seconds(*doc, "PROBES_PERIOD/SYSTEM_HOST", p.system_host);
  p.monitor_host = Seconds(*doc, "PROBES_PERIOD/MONITOR_HOST", p.monitor_host);
  p.monitor_vm = Seconds(*doc, "PROBES_PERIOD/MONITOR_VM", p.monitor_vm);
  p.state_vm = Seconds(*doc, "PROBES_PERIOD/STATE_VM", p.state_vm);
  p.sync_state_vm = Seconds(*doc, "PROBES_PERIOD/SYNC_STATE_VM", p.sync_state_vm);
  return c;
}

MonitorService::MonitorService(EndpointOf endpoint_of, Describe describe, const bridge::VmActivity& activity,
                               bridge::SqliteJournal& journal, MonitorSettings settings, MonitordAddress fallback)
    : endpoint_of_(std::move(endpoint_of)),
      describe_(std::move(describe)),
      activity_(activity),
      journal_(journal),
      settings_(std::move(settings)),
      fallback_(std::move(fallback)) {}

MonitorService::~MonitorService() { StopAll(); }

void MonitorService::StopAll() {
  std::map<int, std::shared_ptr<HostMonitor>> hosts;
  {
    std::lock_guard lock(mu_);
    hosts.swap(hosts_);
  }
  hosts.clear();  // joins outside the lock
}

Result<std::shared_ptr<HostMonitor>> MonitorService::Ensure(int host_id, const std::string& name,
                                            const MonitorConfiguration& configuration) {
  auto endpoint = endpoint_of_(name);
  if (!endpoint.ok()) return endpoint.status();
  std::shared_ptr<HostMonitor> replaced;
  std::lock_guard lock(mu_);
  auto& slot = hosts_[host_id];
  if (slot && slot->target().name == name && slot->target().monitord.ToString() == configuration.monitord.ToString()) {
    return slot;
  }
  replaced = std::move(slot);  // renamed host or moved monitord: start afresh
  slot = std::make_shared<HostMonitor>(HostTarget{host_id, name, configuration.monitord, configuration.periods},
                                       *endpoint, describe_(name), activity_, settings_);
  NamedLogger("monitor")->info("monitoring host {} ({}) at {}; monitord at {}", host_id, name, describe_(name),
                               configuration.monitord.ToString());
  return slot;
}

bridge::DriverAnswer MonitorService::Handle(const bridge::DriverCall& call) {
  // argv as run_monitord_client passes it: <im_mad> <host id> <host name>.
  if (call.argv.size() < 3) return Refuse("onedock im " + call.action + ": expected <im_mad> <host id> <host name>");
  const std::string& id_text = call.argv[1];
  const std::string& name = call.argv[2];
  if (id_text.empty() || id_text.size() > 9 || id_text.find_first_not_of("0123456789") != std::string::npos) {
    return Refuse("onedock im " + call.action + ": host id \"" + id_text + "\" is not a number");
  }
  if (!ValidHostName(name)) return Refuse("onedock im " + call.action + ": host name \"" + name + "\" is not valid");
  const int host_id = std::atoi(id_text.c_str());
  if (call.action == "stop") {
    std::shared_ptr<HostMonitor> gone;
    {
      std::lock_guard lock(mu_);
      auto it = hosts_.find(host_id);
      if (it != hosts_.end()) {
        gone = std::move(it->second);
        hosts_.erase(it);
      }
    }
    gone.reset();
    if (Status s = journal_.Unmonitor(host_id); !s.ok()) return Refuse(s.message());
    NamedLogger("monitor")->info("stopped monitoring host {} ({})", host_id, name);
    return {0, "", ""};
  }
  if (call.action != "start") return Refuse("onedock im: unknown action \"" + call.action + "\"");
  auto configuration = ParseMonitorConfiguration(call.document, fallback_);
  if (!configuration.ok()) return Refuse("start monitoring host " + name + ": " + configuration.status().message());
  auto monitor = Ensure(host_id, name, *configuration);
  if (!monitor.ok()) return Refuse("start monitoring host " + name + ": " + monitor.status().message());
  if (Status s = journal_.Monitor({host_id, name, call.document}); !s.ok()) return Refuse(s.message());
  // The first report goes in the reply; the rounds start after it, so the two never race.
  auto report = (*monitor)->FirstReport();
  StartThreads(*monitor);
  if (!report.ok()) return Refuse("start monitoring host " + name + ": " + report.status().message());
  return {0, *report, ""};
}

void MonitorService::StartThreads(const std::shared_ptr<HostMonitor>& monitor) {
  std::lock_guard lock(mu_);
  for (auto& [id, m] : hosts_) {
    if (m == monitor) m->Start();  // only while it is still ours (a stop may have come)
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
    auto configuration = ParseMonitorConfiguration(h.configuration, fallback_);
    if (!configuration.ok()) {
      log->error("host {} ({}): {}", h.host_id, h.name, configuration.status().message());
      continue;
    }
    auto monitor = Ensure(h.host_id, h.name, *configuration);
    if (!monitor.ok()) {
      log->error("host {} ({}): {}", h.host_id, h.name, monitor.status().message());
      continue;
    }
    StartThreads(*monitor);
    ++resumed;
  }
  return resumed;
}

}  // namespace onedock::monitor
