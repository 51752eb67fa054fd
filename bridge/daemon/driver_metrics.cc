#include "bridge/daemon/driver_metrics.h"

#include "bridge/driver_router.h"

namespace onedock::daemon {

ActionLabels LabelsOf(const DriverCall& call, const DriverAnswer& answer) {
  const bool named = RoutesByName(call.kind, call.action);
  return {named ? call.kind : "other", named ? call.action : "other",
          answer.exit_code == 0 ? "ok" : "error"};
}

std::vector<double> LatencyBuckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
          1,     2.5,    5,     10,   30,    60,   120, 300,  600};
}

DriverMetrics::DriverMetrics(prometheus::Registry& registry)
    : actions_(prometheus::BuildCounter()
                   .Name("onedock_driver_actions_total")
                   .Help("Driver calls onedockd answered, by kind (vmm, tm, ds, im, vnm), action "
                         "and outcome (ok: exit code 0, error: any other)")
                   .Register(registry)),
      latency_(prometheus::BuildHistogram()
                   .Name("onedock_driver_action_duration_seconds")
                   .Help("Time from a driver call reaching onedockd to its answer, by kind and "
                         "action")
                   .Register(registry)),
      buckets_(LatencyBuckets()) {}

void DriverMetrics::Observe(const DriverCall& call, const DriverAnswer& answer,
                            std::chrono::duration<double> took) {
  const ActionLabels l = LabelsOf(call, answer);
  actions_.Add({{"kind", l.kind}, {"action", l.action}, {"outcome", l.outcome}}).Increment();
  latency_.Add({{"kind", l.kind}, {"action", l.action}}, buckets_).Observe(took.count());
}

}  // namespace onedock::daemon
