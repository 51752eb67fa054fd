// onedockd: the composition root. Reads the configuration (startup.h), builds the concrete pieces
// (engine pool, oned client pool, journal, monitord sender, stub endpoint), hands them to the VM
// actions, the image store, host monitoring and the driver router; settles what a previous run
// left in flight; serves the driver stubs until SIGTERM or SIGINT. Wiring only: every decision is
// in bridge/, monitor/, rpc/ or docker/.
#include <curl/curl.h>
#include <signal.h>

#include <chrono>
#include <condition_variable>
#include <iostream>
#include <mutex>
#include <sstream>
#include <thread>

#include "bridge/clock.h"
#include "bridge/daemon/driver_metrics.h"
#include "bridge/daemon/metrics_endpoint.h"
#include "bridge/daemon/startup.h"
#include "bridge/daemon/state_metrics.h"
#include "bridge/driver_router.h"
#include "bridge/image_store.h"
#include "bridge/log.h"
#include "bridge/spool.h"
#include "bridge/sqlite_store.h"
#include "bridge/version.h"
#include "bridge/vm_actions.h"
#include "docker/engine_pool.h"
#include "docker/event_feed.h"
#include "docker/image_staging.h"
#include "monitor/monitor_service.h"
#include "rpc/monitord_sender.h"
#include "rpc/one_client_pool.h"
#include "rpc/one_parse.h"
#include "rpc/stub_server.h"

namespace onedock::daemon {
namespace {

int Fail(const std::string& lines) {
  std::istringstream in(lines);
  std::string line;
  while (std::getline(in, line)) std::cerr << "onedockd: " << line << "\n";
  return 2;
}

struct Options {
  std::string config_path = "/etc/one/onedockd.conf";
  bool check_only = false;
  bool version_only = false;
};

Result<Options> ParseArgs(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if ((arg == "-c" || arg == "--config") && i + 1 < argc) {
      o.config_path = argv[++i];
    } else if (arg == "--check") {
      o.check_only = true;
    } else if (arg == "--version") {
      o.version_only = true;
    } else {
      return InvalidArgument("usage: onedockd [-c CONFIG] [--check] [--version]");
    }
  }
  return o;
}

// Monitoring resumes after the first recovery pass: the deploys that pass finishes count as
// onedock's own actions, not as containers that started behind OpenNebula's back. Passes repeat
// every 5 s while oned does not answer for some intent.
void RecoverThenResume(VmActions& actions, monitor::MonitorService& monitoring,
                       const std::function<bool(std::chrono::seconds)>& wait_or_stop) {
  auto log = NamedLogger("onedockd");
  for (bool first = true;; first = false) {
    const int open = actions.Recover();
    if (first) {
      const int resumed = monitoring.Resume();
      if (resumed > 0) log->info("resumed monitoring of {} host(s)", resumed);
    }
    if (open == 0 || wait_or_stop(std::chrono::seconds(5))) return;
  }
}

// Serves until SIGTERM or SIGINT (blocked in every thread since Run began). The reconcile pass
// runs once the first recovery pass is done, then every `period` (never when it is 0).
void Serve(rpc::StubServer& server, VmActions& actions, monitor::MonitorService& monitoring,
           Reconciler& reconciler, std::chrono::seconds period, const sigset_t& signals) {
  std::mutex stop_mu;
  std::condition_variable stop_cv;
  bool stopping = false;
  const auto wait_or_stop = [&](std::chrono::seconds d) {
    std::unique_lock lock(stop_mu);
    return stop_cv.wait_for(lock, d, [&] { return stopping; });
  };
  std::thread recovery([&] {
    RecoverThenResume(actions, monitoring, wait_or_stop);
    if (period.count() == 0) return;
    while (!wait_or_stop(std::chrono::seconds(0))) {
      reconciler.Pass();
      if (wait_or_stop(period)) return;
    }
  });
  std::thread stopper([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    NamedLogger("onedockd")->info("signal {}: stopping", sig);
    {
      std::lock_guard lock(stop_mu);
      stopping = true;
    }
    stop_cv.notify_all();
    server.Stop();
  });
  server.Run();
  stopper.join();
  recovery.join();
  monitoring.StopAll();
}

int Run(const DaemonConfig& config, const Secrets& secrets, const rpc::OneEndpoint& oned) {
  if (Status s = ConfigureLogging(config.log_level, config.log_file); !s.ok())
    return Fail(s.message());
  auto token = StubToken(config.stub_token_file);
  if (!token.ok()) return Fail(token.status().message());
  auto journal = SqliteStore::Open(config.journal_path);
  if (!journal.ok()) return Fail(journal.status().message());
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  auto log = NamedLogger("onedockd");
  // No action runs yet: whatever is in the spool was left by a previous run.
  if (const int left = ClearSpool(config.spool_dir); left > 0) {
    log->info("removed {} file(s) a previous run left in {}", left, config.spool_dir);
  }

  rpc::OneClientPool one(oned);
  // Idle clients kept per host: a monitoring round takes one, actions a few.
  docker::EnginePool engines(
      [&config](const std::string& host) { return EngineEndpoint(config, host); }, 8);
  VmActions actions(engines, one, **journal, ActionSettingsOf(config, secrets));
  auto web = RegistryHttpSettingsOf(config);
  if (!web.ok()) return Fail(web.status().message());
  docker::RegistryHttp registries(std::move(*web));
  auto stage = [&config, &engines]() -> Result<std::unique_ptr<ImageStaging>> {
    if (config.staging_host.empty()) {
      return FailedPrecondition("onedockd has no [images] staging_host to copy images with");
    }
    auto client = engines.NewClient(config.staging_host);
    if (!client.ok()) return client.status();
    return std::unique_ptr<ImageStaging>(new docker::StagingEngine(std::move(*client)));
  };
  ImageStore images(stage, registries, one, **journal, ImageStoreSettingsOf(config, secrets));
  rpc::MonitordSender monitord;
  const MonitordAddress fallback{config.monitord_address, config.monitord_port};
  // Every monitored host's event stream, on one thread.
  docker::MultiEventFeed events(
      [&config](const std::string& host) { return EngineEndpoint(config, host); });
  monitor::MonitorService monitoring(
      {engines, actions.activity(), monitord, Clock::Real(), &events}, **journal,
      MonitorSettingsOf(config),
      [fallback](const std::string& xml) { return rpc::ParseMonitorConfiguration(xml, fallback); });
  DriverRouter router({actions, images, engines, monitoring});

  // Declared after what the collectables read, so that the endpoint stops serving first.
  auto registry = std::make_shared<prometheus::Registry>();
  DriverMetrics driver_metrics(*registry);
  Reconciler reconciler(engines, one, actions, **journal, &registries,
                        ReconcileSettingsOf(config, secrets));
  auto state_metrics = std::make_shared<StateMetrics>(
      StateSources{[&monitoring] { return monitoring.Snapshot(); },
                   [&store = **journal] { return store.OpenIntentCount(); },
                   [&reconciler] { return reconciler.counts(); }, Clock::Real()});
  std::unique_ptr<MetricsEndpoint> metrics;
  if (!config.metrics_address.empty()) {
    auto listening = MetricsEndpoint::Listen(config.metrics_address, config.metrics_port);
    if (!listening.ok()) return Fail(listening.status().message());
    metrics = std::move(*listening);
    metrics->Serve(registry);
    metrics->Serve(state_metrics);
    log->info("serving metrics on http://{}:{}/metrics", config.metrics_address, metrics->port());
  }

  auto server = rpc::StubServer::Listen(
      {.address = config.stub_address,
       .port = config.stub_port,
       .token = *token,
       .workers = static_cast<unsigned>(config.stub_workers),
       .transfer_workers = static_cast<unsigned>(config.stub_transfer_workers),
       .connections = static_cast<unsigned>(config.stub_connections),
       .max_request_bytes = static_cast<size_t>(config.stub_max_request_bytes)},
      [&router, &driver_metrics](const DriverCall& call) {
        const auto began = Clock::Real().Now();
        DriverAnswer answer = router.Route(call);
        driver_metrics.Observe(call, answer, Clock::Real().Now() - began);
        return answer;
      });
  if (!server.ok()) return Fail(server.status().message());
  log->info("serving driver stubs on {}:{}; oned at {}; journal {}", config.stub_address,
            (*server)->port(), oned.endpoint, config.journal_path);
  if (config.reconcile_period_s > 0) {
    log->info("reconciling every {} s; orphans {} after {} s", config.reconcile_period_s,
              config.remove_orphans ? "removed" : "reported", config.orphan_grace_s);
  }
  Serve(**server, actions, monitoring, reconciler, std::chrono::seconds(config.reconcile_period_s),
        signals);
  log->info("stopped");
  return 0;
}

int Main(int argc, char** argv) {
  auto options = ParseArgs(argc, argv);
  if (!options.ok()) return Fail(options.status().message());
  if (options->version_only) {
    std::cout << "onedockd " << kVersion << "\n";
    return 0;
  }
  auto config = LoadConfig(options->config_path);
  if (!config.ok()) return Fail(config.status().message());
  auto secrets = ReadSecrets(*config);
  if (!secrets.ok()) return Fail(secrets.status().message());
  auto oned = rpc::ResolveOneEndpoint(config->oned_endpoint, secrets->oned_session);
  if (!oned.ok()) return Fail("[oned]: " + oned.status().message());
  if (options->check_only) {
    std::cout << options->config_path << ": configuration is valid\n";
    return 0;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  signal(SIGPIPE, SIG_IGN);
  const int rc = Run(*config, *secrets, *oned);
  curl_global_cleanup();
  return rc;
}

}  // namespace
}  // namespace onedock::daemon

int main(int argc, char** argv) { return onedock::daemon::Main(argc, argv); }
