// DriverMetrics: counts and times the driver calls onedockd answers, as two Prometheus families
// in the registry the metrics endpoint serves: onedock_driver_actions_total{kind,action,outcome}
// and onedock_driver_action_duration_seconds{kind,action}. Thread-safe (prometheus-cpp's families,
// counters and histograms are).
#ifndef ONEDOCK_BRIDGE_DAEMON_DRIVER_METRICS_H_
#define ONEDOCK_BRIDGE_DAEMON_DRIVER_METRICS_H_

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <chrono>
#include <string>
#include <vector>

#include "bridge/driver_call.h"

namespace onedock::daemon {

// The labels of one answered call: its kind and action when the routing table names them
// (RoutesByName), "other" otherwise, so that the label sets stay those of oned's actions; the
// outcome from the exit code the stub returns: "ok" for 0, "error" for anything else.
struct ActionLabels {
  std::string kind;
  std::string action;
  std::string outcome;
};
ActionLabels LabelsOf(const DriverCall& call, const DriverAnswer& answer);

// The latency buckets, in seconds: from 1 ms (a refusal, a network step) to 10 min (a large image
// copy or a checkpoint push).
std::vector<double> LatencyBuckets();

class DriverMetrics {
 public:
  explicit DriverMetrics(prometheus::Registry& registry);

  // Counts the call under its labels and adds `took` to its latency histogram.
  void Observe(const DriverCall& call, const DriverAnswer& answer,
               std::chrono::duration<double> took);

 private:
  prometheus::Family<prometheus::Counter>& actions_;
  prometheus::Family<prometheus::Histogram>& latency_;
  const prometheus::Histogram::BucketBoundaries buckets_;
};

}  // namespace onedock::daemon

#endif  // ONEDOCK_BRIDGE_DAEMON_DRIVER_METRICS_H_
