// StateMetrics: the Prometheus families that describe what onedockd is watching, built at each
// scrape from what monitor/ and the journal expose (MonitorService::Snapshot,
// SqliteStore::OpenIntentCount, Reconciler::counts), so that neither calls a metrics API: engines
// reachable, containers, the last monitoring rounds' age and duration and the STATE_VM reports per
// host, and the journal's open intents, what the reconcile passes did. Thread-safe when its sources
// are.
#ifndef ONEDOCK_BRIDGE_DAEMON_STATE_METRICS_H_
#define ONEDOCK_BRIDGE_DAEMON_STATE_METRICS_H_

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <cstdint>
#include <functional>
#include <vector>

#include "bridge/clock.h"
#include "bridge/reconciler.h"
#include "bridge/status.h"
#include "monitor/host_monitor.h"

namespace onedock::daemon {

struct StateSources {
  std::function<std::vector<monitor::HostSnapshot>()> hosts;
  std::function<Result<int64_t>()> open_intents;
  std::function<ReconcileCounts()> reconcile;  // may be empty: no reconcile families
  const Clock& clock;                          // the rounds' age is measured on it
};

class StateMetrics : public prometheus::Collectable {
 public:
  explicit StateMetrics(StateSources sources) : sources_(std::move(sources)) {}

  // One family per metric, each sample labelled by host name (and round); a host whose listing
  // or round has not happened yet has no sample for it, and a journal that cannot be read no
  // open-intents sample.
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const StateSources sources_;
};

}  // namespace onedock::daemon

#endif  // ONEDOCK_BRIDGE_DAEMON_STATE_METRICS_H_
