#include "bridge/daemon/state_metrics.h"

#include <chrono>
#include <string>

namespace onedock::daemon {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

double Seconds(Clock::Duration d) { return std::chrono::duration<double>(d).count(); }

ClientMetric Sample(std::vector<ClientMetric::Label> labels, MetricType type, double value) {
  ClientMetric m;
  m.label = std::move(labels);
  if (type == MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  return m;
}

}  // namespace

std::vector<MetricFamily> StateMetrics::Collect() const {
  MetricFamily up{"onedock_engine_up",
                  "1 when the host's engine answered the last monitoring round that asked it",
                  MetricType::Gauge,
                  {}};
  MetricFamily containers{"onedock_host_containers",
                          "This onedockd's containers on the host (any state), as last listed",
                          MetricType::Gauge,
                          {}};
  MetricFamily age{"onedock_monitor_round_age_seconds",
                   "Seconds since the host's last monitoring round of each kind ended (state: "
                   "STATE_VM, vm: MONITOR_VM, system: SYSTEM_HOST)",
                   MetricType::Gauge,
                   {}};
  MetricFamily took{"onedock_monitor_round_duration_seconds",
                    "How long the host's last monitoring round of each kind took",
                    MetricType::Gauge,
                    {}};
  MetricFamily changes{"onedock_state_vm_changes_total",
                       "VM states sent to monitord in STATE_VM reports of changes (repeats for "
                       "oned's 30 s guard included)",
                       MetricType::Counter,
                       {}};
  MetricFamily syncs{"onedock_state_vm_syncs_total",
                     "Complete STATE_VM reports (SYNC_STATE) sent to monitord",
                     MetricType::Counter,
                     {}};
  MetricFamily unlisted{"onedock_state_rounds_unlisted_total",
                        "State rounds that did not list the host's containers: its event stream "
                        "had been live since the last listing and nothing was left to report",
                        MetricType::Counter,
                        {}};
  MetricFamily share{"onedock_monitor_stats_in_flight",
                     "Stats requests the host's VM rounds keep in flight: its share of "
                     "[monitor] stats_connections, at most stats_in_flight",
                     MetricType::Gauge,
                     {}};
  const auto now = sources_.clock.Now();
  for (const monitor::HostSnapshot& h : sources_.hosts()) {
    const ClientMetric::Label host{"host", h.name};
    up.metric.push_back(Sample({host}, MetricType::Gauge, h.engine_up ? 1 : 0));
    if (h.containers >= 0)
      containers.metric.push_back(Sample({host}, MetricType::Gauge, h.containers));
    const std::pair<const char*, const monitor::HostSnapshot::Round*> rounds[] = {
        {"state", &h.state}, {"system", &h.system}, {"vm", &h.vm}};
    for (const auto& [name, round] : rounds) {
      if (!round->ended) continue;
      const ClientMetric::Label kind{"round", name};
      age.metric.push_back(Sample({host, kind}, MetricType::Gauge, Seconds(now - *round->ended)));
      took.metric.push_back(Sample({host, kind}, MetricType::Gauge, Seconds(round->took)));
    }
    changes.metric.push_back(
        Sample({host}, MetricType::Counter, static_cast<double>(h.state_vm_changes)));
    syncs.metric.push_back(
        Sample({host}, MetricType::Counter, static_cast<double>(h.state_vm_syncs)));
    unlisted.metric.push_back(
        Sample({host}, MetricType::Counter, static_cast<double>(h.state_rounds_unlisted)));
    share.metric.push_back(Sample({host}, MetricType::Gauge, h.stats_in_flight));
  }
  MetricFamily intents{"onedock_journal_open_intents",
                       "Actions the journal records as begun and not finished (under way, or left "
                       "by a crash until recovery settles them)",
                       MetricType::Gauge,
                       {}};
  if (auto open = sources_.open_intents(); open.ok())
    intents.metric.push_back(Sample({}, MetricType::Gauge, static_cast<double>(*open)));
  std::vector<MetricFamily> out = {up,    containers, age,   took,   changes,
                                   syncs, unlisted,   share, intents};
  if (!sources_.reconcile) return out;
  const ReconcileCounts r = sources_.reconcile();
  MetricFamily passes{"onedock_reconcile_passes_total",
                      "Reconcile passes run (result: done, or failed when oned's pools could not "
                      "be read)",
                      MetricType::Counter,
                      {}};
  passes.metric.push_back(Sample({{"result", "done"}}, MetricType::Counter,
                                 static_cast<double>(r.passes - r.failed_passes)));
  passes.metric.push_back(
      Sample({{"result", "failed"}}, MetricType::Counter, static_cast<double>(r.failed_passes)));
  MetricFamily repairs{"onedock_reconcile_repairs_total",
                       "What reconcile passes removed or restored (kind: orphan, twin, limits; "
                       "containers and volumes counted by name), recorded in a journal that had "
                       "lost it (journal), deleted from the private registry (image), networks "
                       "removed (network), reported "
                       "(orphan_reported) or failed to repair "
                       "(failed)",
                       MetricType::Counter,
                       {}};
  const std::pair<const char*, int64_t> kinds[] = {
      {"orphan", r.orphans_removed},   {"orphan_reported", r.orphans_reported},
      {"twin", r.twins_removed},       {"limits", r.limits_restored},
      {"journal", r.journal_rebuilt},  {"image", r.images_deleted},
      {"network", r.networks_removed}, {"failed", r.repairs_failed}};
  for (const auto& [kind, n] : kinds) {
    repairs.metric.push_back(Sample({{"kind", kind}}, MetricType::Counter, static_cast<double>(n)));
  }
  MetricFamily skipped{"onedock_reconcile_hosts_skipped",
                       "Hosts the last reconcile pass skipped because their engine did not answer",
                       MetricType::Gauge,
                       {}};
  skipped.metric.push_back(Sample({}, MetricType::Gauge, r.hosts_skipped));
  out.push_back(std::move(passes));
  out.push_back(std::move(repairs));
  out.push_back(std::move(skipped));
  return out;
}

}  // namespace onedock::daemon
