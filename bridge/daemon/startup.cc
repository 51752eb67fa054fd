#include "bridge/daemon/startup.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "bridge/first_line.h"

namespace onedock::daemon {
namespace {

namespace fs = std::filesystem;

// Certificates and keys named in the configuration must be readable now, not at the first deploy.
std::string CheckFiles(const DaemonConfig& c) {
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
  for (const auto& [registry, cred] : c.credentials) {
    check(cred.password_file, "[credentials " + registry + "] password_file");
  }
  const fs::path journal_dir = fs::path(c.journal_path).parent_path();
  if (!journal_dir.empty() && !fs::is_directory(journal_dir)) {
    problems += "[journal] path: directory " + journal_dir.string() + " does not exist\n";
  }
  return problems;
}

Result<std::string> NewToken() {
  unsigned char raw[24];
  std::ifstream random("/dev/urandom", std::ios::binary);
  if (!random.read(reinterpret_cast<char*>(raw), sizeof raw))
    return Internal("cannot read /dev/urandom");
  static const char kHex[] = "0123456789abcdef";
  std::string token;
  for (unsigned char b : raw) {
    token += kHex[b >> 4];
    token += kHex[b & 15];
  }
  return token;
}

}  // namespace

Result<DaemonConfig> LoadConfig(const std::string& path) {
  std::ifstream file(path);
  if (!file) return InvalidArgument(path + ": cannot be read");
  std::stringstream text;
  text << file.rdbuf();
  auto config = ParseDaemonConfig(text.str(), path);
  if (!config.ok()) return config.status();
  if (std::string problems = CheckFiles(*config); !problems.empty()) {
    problems.pop_back();
    return InvalidArgument(problems);
  }
  return config;
}

Result<Secrets> ReadSecrets(const DaemonConfig& config) {
  Secrets s;
  if (!config.oned_auth_file.empty()) {
    auto line = ReadFirstLine(config.oned_auth_file, "[oned] auth_file");
    if (!line.ok()) return line.status();
    s.oned_session = *line;
  }
  if (!config.registry_username.empty()) {
    auto password = ReadFirstLine(config.registry_password_file, "[registry] password_file");
    if (!password.ok()) return password.status();
    s.registry = {config.registry_username, *password, config.registry};
  }
  for (const auto& [registry, cred] : config.credentials) {
    auto password =
        ReadFirstLine(cred.password_file, "[credentials " + registry + "] password_file");
    if (!password.ok()) return password.status();
    s.upstream[registry] = {cred.username, *password, registry};
  }
  return s;
}

Result<std::string> StubToken(const std::string& path) {
  struct stat st {};
  if (lstat(path.c_str(), &st) == 0) {
    if (!S_ISREG(st.st_mode))
      return InvalidArgument("stub token file " + path + " is not a regular file");
    if (st.st_uid != geteuid()) {
      return InvalidArgument("stub token file " + path + " belongs to uid " +
                             std::to_string(st.st_uid) + ", not to onedockd's uid " +
                             std::to_string(geteuid()));
    }
    if ((st.st_mode & 077) != 0) {
      return InvalidArgument("stub token file " + path +
                             " can be read or written by others; chmod 600 it");
    }
    auto token = ReadFirstLine(path, "stub token file");
    if (token.ok() && token->size() < 16) {
      return InvalidArgument("stub token in " + path + " is shorter than 16 characters");
    }
    return token;
  }
  // Only the directories made here get 0700: one that exists is the operator's to set.
  std::vector<fs::path> missing;
  for (fs::path dir = fs::path(path).parent_path(); !dir.empty() && !fs::exists(dir);
       dir = dir.parent_path()) {
    missing.push_back(dir);
  }
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    if (mkdir(it->c_str(), 0700) != 0 && errno != EEXIST) {
      return InvalidArgument("stub token directory " + it->string() +
                             " cannot be made: " + std::strerror(errno));
    }
  }
  auto token = NewToken();
  if (!token.ok()) return token;
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    return InvalidArgument("stub token file " + path +
                           " cannot be created: " + std::strerror(errno));
  const std::string line = *token + "\n";
  const bool written = write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  close(fd);
  if (!written) return Internal("stub token file " + path + " could not be written");
  return token;
}

Result<docker::Endpoint> EngineEndpoint(const DaemonConfig& config, const std::string& host) {
  auto address = EngineFor(config, host);
  if (!address.ok()) return address.status();
  const EngineAddress& a = *address;
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

ActionSettings ActionSettingsOf(const DaemonConfig& config, const Secrets& secrets) {
  ActionSettings settings;
  settings.plan = {config.instance, config.registry, config.stop_timeout_s, config.policy};
  settings.spool_dir = config.spool_dir;
  settings.start_settle_ms = config.start_settle_ms;
  settings.registry_auth = secrets.registry;
  return settings;
}

ImageStoreSettings ImageStoreSettingsOf(const DaemonConfig& config, const Secrets& secrets) {
  ImageStoreSettings s{config.registry,
                       secrets.registry,
                       secrets.upstream,
                       config.spool_dir,
                       config.registry_storage,
                       config.upload_dirs,
                       {"/etc", "/proc", "/sys", "/dev", "/run", "/root", "/boot", "/var/lib/one"}};
  for (const std::string& own :
       {config.spool_dir, config.journal_path, config.journal_path + "-wal",
        config.journal_path + "-shm", config.stub_token_file, config.oned_auth_file,
        config.engine_ca, config.engine_cert, config.engine_key, config.registry_password_file}) {
    if (!own.empty()) s.restricted_dirs.push_back(own);
  }
  for (const auto& [name, cred] : config.credentials)
    s.restricted_dirs.push_back(cred.password_file);
  for (const auto& [name, host] : config.hosts) {
    for (const std::string* f : {&host.ca, &host.cert, &host.key}) {
      if (!f->empty()) s.restricted_dirs.push_back(*f);
    }
  }
  return s;
}

Result<docker::RegistryHttpSettings> RegistryHttpSettingsOf(const DaemonConfig& config) {
  std::vector<std::string> own;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) == 0) {
    for (const ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
      if (i->ifa_addr == nullptr) continue;
      char text[INET6_ADDRSTRLEN] = {0};
      if (i->ifa_addr->sa_family == AF_INET) {
        inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(i->ifa_addr)->sin_addr, text,
                  sizeof text);
      } else if (i->ifa_addr->sa_family == AF_INET6) {
        inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(i->ifa_addr)->sin6_addr, text,
                  sizeof text);
      } else {
        continue;
      }
      own.emplace_back(text);
    }
    freeifaddrs(list);
  }
  auto policy = DestinationPolicy::Make(config.allow_destinations, own);
  if (!policy.ok()) return policy.status().WithContext("[images] allow_destinations");
  docker::RegistryHttpSettings s;
  s.private_registry = config.registry;
  s.insecure_registries = config.insecure_registries;
  s.destinations = *policy;
  s.limits.max_download_bytes = config.max_download_mb * 1024 * 1024;
  s.limits.download_timeout_ms = static_cast<long>(config.download_timeout_s) * 1000;
  s.limits.low_speed_bytes_per_s = config.low_speed_bytes_per_s;
  s.limits.low_speed_ms = static_cast<long>(config.low_speed_time_s) * 1000;
  return s;
}

monitor::MonitorSettings MonitorSettingsOf(const DaemonConfig& config) {
  return {.instance = config.instance,
          .disk_total_mb = config.disk_total_mb,
          .stats_in_flight = config.stats_in_flight,
          .stats_connections = config.stats_connections,
          .round_threads = config.round_threads,
          .grace_seconds = config.grace_s};
}

ReconcileSettings ReconcileSettingsOf(const DaemonConfig& config, const Secrets& secrets) {
  ReconcileSettings s;
  s.registry_auth = ActionSettingsOf(config, secrets).registry_auth;
  s.policy = {config.instance, std::chrono::seconds(config.orphan_grace_s), config.remove_orphans};
  s.keep_intents = std::chrono::hours(24) * config.keep_intents_days;
  return s;
}

}  // namespace onedock::daemon
