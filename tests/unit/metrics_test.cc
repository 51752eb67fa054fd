// onedockd's metrics without a scraper: which labels a driver call gets, what the driver counters
// and histograms hold after calls, the families built from the monitor's and the journal's
// snapshots, and an endpoint that cannot listen.
#include <doctest/doctest.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <sstream>

#include "bridge/daemon/driver_metrics.h"
#include "bridge/daemon/metrics_endpoint.h"
#include "bridge/daemon/state_metrics.h"
#include "tests/fakes/fake_clock.h"
#include "tests/free_port.h"
#include "tests/support/require_ok.h"

namespace onedock::daemon {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;

DriverCall Call(const std::string& kind, const std::string& action) {
  DriverCall c;
  c.kind = kind;
  c.action = action;
  return c;
}

const MetricFamily& Family(const std::vector<MetricFamily>& all, const std::string& name) {
  for (const auto& f : all) {
    if (f.name == name) return f;
  }
  FAIL("no family " << name);
  return all.front();
}

std::string LabelsText(const ClientMetric& m) {
  std::string out;
  for (const auto& l : m.label) out += (out.empty() ? "" : ",") + l.name + "=" + l.value;
  return out;
}

// The sample of `family` whose labels read `labels` ("host=h1,round=vm"); fails when none does.
const ClientMetric& SampleOf(const MetricFamily& family, const std::string& labels) {
  for (const auto& m : family.metric) {
    if (LabelsText(m) == labels) return m;
  }
  FAIL("no sample {" << labels << "} in " << family.name);
  return family.metric.front();
}

std::string Text(const std::vector<MetricFamily>& families) {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families);
  return out.str();
}

TEST_CASE("metrics: a call is labelled by the route it names, other names are \"other\"") {
  const DriverAnswer ok{0, "one-3", ""}, failed{1, "", "create one-3: 409 Conflict"};
  const ActionLabels deploy = LabelsOf(Call("vmm", "deploy"), ok);
  CHECK(deploy.kind == "vmm");
  CHECK(deploy.action == "deploy");
  CHECK(deploy.outcome == "ok");
  CHECK(LabelsOf(Call("ds", "cp"), failed).outcome == "error");
  CHECK(LabelsOf(Call("vmm", "migrate"), failed).action == "migrate");  // refused, still oned's
  const ActionLabels odd = LabelsOf(Call("vmm", "deploy\nrm -rf"), failed);
  CHECK(odd.kind == "other");
  CHECK(odd.action == "other");
  CHECK(LabelsOf(Call("tm", "snap_create"), failed).action == "other");
  CHECK(LabelsOf(Call("nonsense", "deploy"), ok).kind == "other");
  CHECK(LabelsOf(Call("vmm", "deploy"), DriverAnswer{255, "", ""}).outcome == "error");
}

TEST_CASE("metrics: driver calls are counted by outcome and timed in buckets from 1 ms to 10 min") {
  prometheus::Registry registry;
  DriverMetrics metrics(registry);
  using std::chrono::milliseconds;
  metrics.Observe(Call("vmm", "deploy"), {0, "one-1", ""}, milliseconds(3));
  metrics.Observe(Call("vmm", "deploy"), {0, "one-2", ""}, milliseconds(700));
  metrics.Observe(Call("vmm", "deploy"), {1, "", "no"}, milliseconds(20));
  metrics.Observe(Call("vmm", "bogus"), {1, "", "unknown"}, milliseconds(1));
  const auto families = registry.Collect();
  const MetricFamily& actions = Family(families, "onedock_driver_actions_total");
  CHECK(actions.type == prometheus::MetricType::Counter);
  CHECK(SampleOf(actions, "action=deploy,kind=vmm,outcome=ok").counter.value == 2);
  CHECK(SampleOf(actions, "action=deploy,kind=vmm,outcome=error").counter.value == 1);
  CHECK(SampleOf(actions, "action=other,kind=other,outcome=error").counter.value == 1);
  CHECK(actions.metric.size() == 3);

  const MetricFamily& latency = Family(families, "onedock_driver_action_duration_seconds");
  const auto& h = SampleOf(latency, "action=deploy,kind=vmm").histogram;
  CHECK(h.sample_count == 3);
  CHECK(h.sample_sum == doctest::Approx(0.723));
  REQUIRE(h.bucket.size() == LatencyBuckets().size() + 1);  // and +Inf
  CHECK(h.bucket.front().upper_bound == doctest::Approx(0.001));
  CHECK(h.bucket[h.bucket.size() - 2].upper_bound == doctest::Approx(600));
  auto cumulative = [&](double bound) {
    for (const auto& b : h.bucket) {
      if (b.upper_bound == doctest::Approx(bound)) return b.cumulative_count;
    }
    FAIL("no bucket " << bound);
    return uint64_t{0};
  };
  CHECK(cumulative(0.001) == 0);
  CHECK(cumulative(0.005) == 1);
  CHECK(cumulative(0.025) == 2);
  CHECK(cumulative(0.5) == 2);
  CHECK(cumulative(1) == 3);
}

TEST_CASE("metrics: host families come from the monitor's snapshot, at the clock of the scrape") {
  fakes::FakeClock clock;
  monitor::HostSnapshot h1;
  h1.host_id = 0;
  h1.name = "h1";
  h1.engine_up = true;
  h1.containers = 3;
  h1.state = {clock.Now() - std::chrono::seconds(4), std::chrono::milliseconds(30)};
  h1.vm = {clock.Now() - std::chrono::seconds(10), std::chrono::milliseconds(1500)};
  h1.state_vm_changes = 7;
  h1.state_vm_syncs = 2;
  h1.state_rounds_unlisted = 4;
  h1.stats_in_flight = 40;
  monitor::HostSnapshot h2;  // resumed, its engine never answered
  h2.host_id = 1;
  h2.name = "h2";
  Result<int64_t> open_intents = int64_t{2};
  ReconcileCounts reconcile;
  reconcile.passes = 5;
  reconcile.failed_passes = 1;
  reconcile.orphans_removed = 3;
  reconcile.twins_removed = 2;
  reconcile.limits_restored = 1;
  reconcile.hosts_skipped = 1;
  StateMetrics metrics({[&] {
                          return std::vector<monitor::HostSnapshot>{h1, h2};
                        },
                        [&] { return open_intents; }, [&] { return reconcile; }, clock});
  clock.Advance(std::chrono::seconds(1));
  const auto families = metrics.Collect();

  const MetricFamily& up = Family(families, "onedock_engine_up");
  CHECK(up.type == prometheus::MetricType::Gauge);
  CHECK(SampleOf(up, "host=h1").gauge.value == 1);
  CHECK(SampleOf(up, "host=h2").gauge.value == 0);
  const MetricFamily& containers = Family(families, "onedock_host_containers");
  CHECK(SampleOf(containers, "host=h1").gauge.value == 3);
  CHECK(containers.metric.size() == 1);  // h2 was never listed
  const MetricFamily& age = Family(families, "onedock_monitor_round_age_seconds");
  CHECK(SampleOf(age, "host=h1,round=state").gauge.value == doctest::Approx(5));
  CHECK(SampleOf(age, "host=h1,round=vm").gauge.value == doctest::Approx(11));
  CHECK(age.metric.size() == 2);  // no system round yet, nothing from h2
  const MetricFamily& took = Family(families, "onedock_monitor_round_duration_seconds");
  CHECK(SampleOf(took, "host=h1,round=vm").gauge.value == doctest::Approx(1.5));
  CHECK(SampleOf(took, "host=h1,round=state").gauge.value == doctest::Approx(0.03));
  const MetricFamily& changes = Family(families, "onedock_state_vm_changes_total");
  CHECK(changes.type == prometheus::MetricType::Counter);
  CHECK(SampleOf(changes, "host=h1").counter.value == 7);
  CHECK(SampleOf(Family(families, "onedock_state_vm_syncs_total"), "host=h1").counter.value == 2);
  CHECK(
      SampleOf(Family(families, "onedock_state_rounds_unlisted_total"), "host=h1").counter.value ==
      4);
  CHECK(SampleOf(Family(families, "onedock_monitor_stats_in_flight"), "host=h1").gauge.value == 40);
  CHECK(SampleOf(Family(families, "onedock_journal_open_intents"), "").gauge.value == 2);
  const MetricFamily& passes = Family(families, "onedock_reconcile_passes_total");
  CHECK(SampleOf(passes, "result=done").counter.value == 4);
  CHECK(SampleOf(passes, "result=failed").counter.value == 1);
  const MetricFamily& repairs = Family(families, "onedock_reconcile_repairs_total");
  CHECK(SampleOf(repairs, "kind=orphan").counter.value == 3);
  CHECK(SampleOf(repairs, "kind=twin").counter.value == 2);
  CHECK(SampleOf(repairs, "kind=limits").counter.value == 1);
  CHECK(SampleOf(repairs, "kind=failed").counter.value == 0);
  CHECK(SampleOf(Family(families, "onedock_reconcile_hosts_skipped"), "").gauge.value == 1);

  const std::string text = Text(families);
  CHECK(text.find("# TYPE onedock_engine_up gauge\n") != std::string::npos);
  CHECK(text.find("onedock_engine_up{host=\"h2\"} 0\n") != std::string::npos);
  CHECK(text.find("onedock_journal_open_intents 2\n") != std::string::npos);

  open_intents = Internal("journal: disk I/O error");
  CHECK(Family(metrics.Collect(), "onedock_journal_open_intents").metric.empty());
}

TEST_CASE("metrics: an endpoint whose port is taken is refused with the address") {
  int port = 0;
  const int fd = testing::BindLoopback(SOCK_STREAM, 0, &port);
  REQUIRE(fd >= 0);
  REQUIRE(listen(fd, 1) == 0);
  auto taken = MetricsEndpoint::Listen("127.0.0.1", port);
  close(fd);
  REQUIRE_FALSE(taken.ok());
  CHECK(taken.status().code() == Status::Code::kUnavailable);
  CHECK(taken.status().message().rfind(
            "[metrics] listen 127.0.0.1:" + std::to_string(port) + ": cannot listen", 0) == 0);
}

}  // namespace
}  // namespace onedock::daemon
