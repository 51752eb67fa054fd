// onedockd: the composition root. Reads the configuration, builds the concrete pieces (engine
// pool, oned client, journal, stub endpoint) and hands them to the VM actions; settles what a
// previous run left in flight; serves the driver stubs until SIGTERM or SIGINT.
#include <curl/curl.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <thread>

#include "bridge/daemon_config.h"
#include "bridge/driver_dispatch.h"
#include "bridge/image_store.h"
#include "bridge/log.h"
#include "bridge/spool.h"
#include "bridge/sqlite_journal.h"
#include "bridge/vm_actions.h"
#include "docker/engine_pool.h"
#include "docker/image_staging.h"
#include "monitor/monitor_service.h"
#include "rpc/one_client.h"
#include "rpc/stub_server.h"

namespace onedock {
namespace {

namespace fs = std::filesystem;

// oned's client is not thread-safe; the actions call it from many stub threads.
class SerializedOneApi : public bridge::OneApi {
 public:
  explicit SerializedOneApi(rpc::OneEndpoint endpoint) : client_(std::move(endpoint)) {}
  Result<Vm> VmInfo(int id) override {
    std::lock_guard lock(mu_);
    return client_.VmInfo(id);
  }
  Result<Vnet> VnetInfo(int id) override {
    std::lock_guard lock(mu_);
    return client_.VnetInfo(id);
  }
  Result<Image> ImageInfo(int id) override {
    std::lock_guard lock(mu_);
    return client_.ImageInfo(id);
  }

 private:
  std::mutex mu_;
  rpc::XmlRpcOneClient client_;
};

int Fail(const std::string& lines) {
  std::istringstream in(lines);
  std::string line;
  while (std::getline(in, line)) std::cerr << "onedockd: " << line << "\n";
  return 2;
}

Result<std::string> ReadFirstLine(const std::string& path, const std::string& what) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) return NotFound(what + " " + path + " cannot be read");
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  return line;
}

// The stub token: read, or created (0600, in a 0700 directory) on the first start.
Result<std::string> StubToken(const std::string& path) {
  if (fs::exists(path)) {
    auto token = ReadFirstLine(path, "stub token file");
    if (token.ok() && token->size() < 16) return InvalidArgument("stub token in " + path + " is shorter than 16 characters");
    return token;
  }
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  chmod(fs::path(path).parent_path().c_str(), 0700);
  unsigned char raw[24];
  std::ifstream random("/dev/urandom", std::ios::binary);
  if (!random.read(reinterpret_cast<char*>(raw), sizeof raw)) return Internal("cannot read /dev/urandom");
  std::string token;
  for (unsigned char b : raw) {
    static const char kHex[] = "0123456789abcdef";
    token += kHex[b >> 4];
    token += kHex[b & 15];
  }
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return InvalidArgument("stub token file " + path + " cannot be created: " + std::strerror(errno));
  const std::string line = token + "\n";
  const bool written = write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  close(fd);
  if (!written) return Internal("stub token file " + path + " could not be written");
  return token;
}

Result<docker::Endpoint> EndpointOf(const bridge::EngineAddress& a) {
  docker::Endpoint e;
  if (a.url.rfind("unix://", 0) == 0) {
    e.base_url = "http://localhost";
    e.unix_socket = a.url.substr(7);
  } else {
    e.base_url = a.url;
    e.ca_file = a.ca;
    e.cert_file = a.cert;
    e.key_file = a.key;
  }
  return e;
}

// Certificates and keys named in the configuration must be readable now, not at the first deploy.
std::string CheckFiles(const bridge::DaemonConfig& c) {
  std::string problems;
  auto check = [&](const std::string& path, const std::string& what) {
    if (!path.empty() && access(path.c_str(), R_OK) != 0) {
      problems += what + " " + path + ": " + std::strerror(errno) + "\n";
    }
  };
  if (c.default_engine_url.rfind("https://", 0) == 0) {
    check(c.engine_ca, "[engines] ca");
    check(c.engine_cert, "[engines] cert");
    check(c.engine_key, "[engines] key");
  }
  for (const auto& [host, a] : c.hosts) {
    if (a.url.rfind("https://", 0) != 0) continue;
    check(a.ca, "[host " + host + "] ca");
    check(a.cert, "[host " + host + "] cert");
    check(a.key, "[host " + host + "] key");
  }
  check(c.registry_password_file, "[registry] password_file");
  for (const auto& [registry, cred] : c.credentials) check(cred.password_file, "[credentials " + registry + "] password_file");
  const fs::path journal_dir = fs::path(c.journal_path).parent_path();
  if (!journal_dir.empty() && !fs::is_directory(journal_dir)) {
    problems += "[journal] path: directory " + journal_dir.string() + " does not exist\n";
  }
  return problems;
}

int Main(int argc, char** argv) {
  std::string config_path = "/etc/one/onedockd.conf";
  bool check_only = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if ((arg == "-c" || arg == "--config") && i + 1 < argc) {
      config_path = argv[++i];
    } else if (arg == "--check") {
      check_only = true;
    } else {
      return Fail("usage: onedockd [-c CONFIG] [--check]");
    }
  }
  std::ifstream file(config_path);
  if (!file) return Fail(config_path + ": cannot be read");
  std::stringstream text;
  text << file.rdbuf();
  auto config = bridge::ParseDaemonConfig(text.str(), config_path);
  if (!config.ok()) return Fail(config.status().message());
  if (std::string problems = CheckFiles(*config); !problems.empty()) return Fail(problems);
  std::string session;  // empty: ResolveOneEndpoint looks in $ONE_AUTH and ~/.one/one_auth
  if (!config->oned_auth_file.empty()) {
    auto line = ReadFirstLine(config->oned_auth_file, "[oned] auth_file");
    if (!line.ok()) return Fail(line.status().message());
    session = *line;
  }
  auto one_endpoint = rpc::ResolveOneEndpoint(config->oned_endpoint, session);
  if (!one_endpoint.ok()) return Fail("[oned]: " + one_endpoint.status().message());
  bridge::ActionSettings settings;
  settings.plan = {config->instance, config->registry, config->stop_timeout_s, config->policy};
  settings.spool_dir = config->spool_dir;
  if (!config->registry_username.empty()) {
    auto password = ReadFirstLine(config->registry_password_file, "[registry] password_file");
    if (!password.ok()) return Fail(password.status().message());
    settings.registry_auth = {config->registry_username, *password, config->registry};
  }
  bridge::ImageStoreSettings image_settings{config->registry, settings.registry_auth, {}, config->spool_dir,
                                            config->registry_storage};
  for (const auto& [registry, cred] : config->credentials) {
    auto password = ReadFirstLine(cred.password_file, "[credentials " + registry + "] password_file");
    if (!password.ok()) return Fail(password.status().message());
    image_settings.upstream[registry] = {cred.username, *password, registry};
  }
  if (check_only) {
    std::cout << config_path << ": configuration is valid\n";
    return 0;
  }
  if (Status s = ConfigureLogging(config->log_level, config->log_file); !s.ok()) return Fail(s.message());
  auto token = StubToken(config->stub_token_file);
  if (!token.ok()) return Fail(token.status().message());
  auto journal = bridge::SqliteJournal::Open(config->journal_path);
  if (!journal.ok()) return Fail(journal.status().message());

  curl_global_init(CURL_GLOBAL_DEFAULT);
  signal(SIGPIPE, SIG_IGN);
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto log = NamedLogger("onedockd");
  // No action runs yet: whatever is in the spool was left by a previous run.
  if (const int left = bridge::ClearSpool(config->spool_dir); left > 0) {
    log->info("removed {} file(s) a previous run left in {}", left, config->spool_dir);
  }
  SerializedOneApi one(*one_endpoint);
  const bridge::DaemonConfig& cfg = *config;
  docker::EnginePool engines([&cfg](const std::string& host) { return EndpointOf(bridge::EngineFor(cfg, host)); });
  bridge::VmActions actions(engines, one, **journal, settings);

  docker::RegistryHttp registries;
  bridge::ImageStore images(
      [&cfg]() -> Result<bridge::ImageStore::StagingLease> {
        if (cfg.staging_host.empty()) {
          return FailedPrecondition("onedockd has no [images] staging_host to copy images with");
        }
        auto endpoint = EndpointOf(bridge::EngineFor(cfg, cfg.staging_host));
        if (!endpoint.ok()) return endpoint.status();
        return bridge::ImageStore::StagingLease(
            new docker::EngineStaging(std::make_unique<docker::EngineClient>(cfg.staging_host, *endpoint)),
            [](bridge::StagingEngine* e) { delete e; });
      },
      registries, image_settings);

  monitor::MonitorService monitoring(
      [&cfg](const std::string& host) { return EndpointOf(bridge::EngineFor(cfg, host)); },
      [&engines](const std::string& host) { return engines.Describe(host); }, actions.activity(), **journal,
      {config->instance, config->disk_total_mb, config->stats_workers, config->grace_s},
      {config->monitord_address, config->monitord_port});

  auto server = rpc::StubServer::Listen({config->stub_address, config->stub_port, *token, 64},
                                        [&actions, &monitoring, &images, &engines, &one](const bridge::DriverCall& call) {
                                          if (call.kind == "im") return monitoring.Handle(call);
                                          return bridge::Dispatch(actions, images, engines, one, call);
                                        });
  if (!server.ok()) return Fail(server.status().message());
  log->info("serving driver stubs on {}:{}; oned at {}; journal {}", config->stub_address, (*server)->port(),
            one_endpoint->endpoint, config->journal_path);

  std::mutex stop_mu;
  std::condition_variable stop_cv;
  bool stopping = false;
  // Monitoring resumes after the first recovery pass: the deploys that pass finishes count as
  // onedock's own actions, not as containers that started behind OpenNebula's back.
  std::thread recovery([&] {
    for (bool first = true;; first = false) {
      const int open = actions.Recover();
      if (first) {
        const int resumed = monitoring.Resume();
        if (resumed > 0) log->info("resumed monitoring of {} host(s)", resumed);
      }
      if (open == 0) return;
      std::unique_lock lock(stop_mu);
      if (stop_cv.wait_for(lock, std::chrono::seconds(5), [&] { return stopping; })) return;
    }
  });
  std::thread stopper([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    log->info("signal {}: stopping", sig);
    {
      std::lock_guard lock(stop_mu);
      stopping = true;
    }
    stop_cv.notify_all();
    (*server)->Stop();
  });
  (*server)->Run();
  stopper.join();
  recovery.join();
  monitoring.StopAll();
  log->info("stopped");
  curl_global_cleanup();
  return 0;
}

}  // namespace
}  // namespace onedock

int main(int argc, char** argv) { return onedock::Main(argc, argv); }
