#include "bridge/daemon/daemon_config.h"

#include <algorithm>
#include <functional>
#include <sstream>
#include <type_traits>

#include "bridge/destination_policy.h"
#include "bridge/net_address.h"
#include "bridge/url.h"

namespace onedock::daemon {
namespace {

std::string Trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r");
  const auto e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// Checks of an engine URL: https://host:port or unix:///absolute/path.
std::string CheckEngineUrl(const std::string& url) {
  if (url.rfind("unix://", 0) == 0)
    return url.size() > 8 && url[7] == '/' ? "" : "unix:// needs an absolute path";
  if (url.rfind("https://", 0) != 0) return "\"" + url + "\" must start with https:// or unix://";
  return "";
}

using Setter = std::function<std::string(const std::string&)>;
using KeyTable = std::map<std::string, std::map<std::string, Setter>>;

Setter Boolean(bool& out) {
  return [&out](const std::string& v) -> std::string {
    if (v == "yes" || v == "true") {
      out = true;
    } else if (v == "no" || v == "false") {
      out = false;
    } else {
      return "\"" + v + "\" is not yes or no";
    }
    return "";
  };
}

Setter TextOf(std::string& out) {
  return [&out](const std::string& v) -> std::string {
    out = v;
    return "";
  };
}

// A whole number within [low, high].
template <typename T>
Setter Bounded(T& field, int64_t low, int64_t high) {
  return [&field, low, high](const std::string& v) -> std::string {
    if (v.empty() || v.size() > 13 || !std::all_of(v.begin(), v.end(), ::isdigit) ||
        std::stoll(v) < low || std::stoll(v) > high) {
      return "\"" + v + "\" is not a number from " + std::to_string(low) + " to " +
             std::to_string(high);
    }
    field = static_cast<T>(std::stoll(v));
    return std::string();
  };
}

// "address:port" whose address passes `check` (which names what it wants when it fails).
Setter AddressAndPort(std::string& address, int& port,
                      const std::function<std::string(const std::string&)>& check) {
  return [&address, &port, check](const std::string& v) -> std::string {
    const auto colon = v.rfind(':');
    if (colon == std::string::npos) return "\"" + v + "\" is not address:port";
    const std::string ip = v.substr(0, colon), digits = v.substr(colon + 1);
    if (std::string why = check(ip); !why.empty()) return why;
    if (digits.empty() || digits.size() > 5 ||
        !std::all_of(digits.begin(), digits.end(), ::isdigit) || std::stoi(digits) > 65535) {
      return "\"" + digits + "\" is not a port";
    }
    address = ip;
    port = std::stoi(digits);
    return "";
  };
}

// A space- or comma-separated list, each item checked by `check` (which names what is wrong).
Setter ListOf(std::vector<std::string>& out,
              const std::function<std::string(const std::string&)>& check) {
  return [&out, check](const std::string& v) -> std::string {
    out.clear();
    std::string item;
    std::istringstream in(v);
    while (std::getline(in, item, ',')) {
      std::istringstream words(item);
      for (std::string word; words >> word;) {
        if (std::string why = check(word); !why.empty()) return why;
        out.push_back(word);
      }
    }
    return "";
  };
}

// A value kept as given and checked by `check`.
Setter Checked(std::string& out, const std::function<std::string(const std::string&)>& check) {
  return [&out, check](const std::string& v) {
    out = v;
    return check(v);
  };
}

// Every [section] key = value the file may hold, by section, with where it goes in `c`.
KeyTable Keys(DaemonConfig& c) {
  return {
      {"oned", {{"endpoint", TextOf(c.oned_endpoint)}, {"auth_file", TextOf(c.oned_auth_file)}}},
      {"stub",
       {{"listen", AddressAndPort(c.stub_address, c.stub_port,
                                  [](const std::string& ip) {
                                    return IsIpv4Loopback(ip)
                                               ? ""
                                               : ip + " is not an IPv4 loopback address";
                                  })},
        {"token_file", TextOf(c.stub_token_file)},
        {"workers", Bounded(c.stub_workers, 1, 1024)},
        {"transfer_workers", Bounded(c.stub_transfer_workers, 1, 256)},
        {"connections", Bounded(c.stub_connections, 1, 4096)},
        {"max_request_bytes", Bounded(c.stub_max_request_bytes, 65536, int64_t{1} << 30)}}},
      {"engines",
       {{"default_url", Checked(c.default_engine_url, CheckEngineUrl)},
        {"ca", TextOf(c.engine_ca)},
        {"cert", TextOf(c.engine_cert)},
        {"key", TextOf(c.engine_key)}}},
      {"registry",
       {{"address", Checked(c.registry,
                            [](const std::string& v) {
                              return IsHostName(v.substr(0, v.find(':')))
                                         ? ""
                                         : "\"" + v + "\" is not host[:port]";
                            })},
        {"username", TextOf(c.registry_username)},
        {"password_file", TextOf(c.registry_password_file)},
        {"storage", TextOf(c.registry_storage)}}},
      {"images",
       {{"staging_host", Checked(c.staging_host,
                                 [](const std::string& v) {
                                   return v.empty() || IsHostName(v)
                                              ? ""
                                              : "\"" + v + "\" is not a host name";
                                 })},
        {"spool", TextOf(c.spool_dir)},
        {"upload_dirs", ListOf(c.upload_dirs,
                               [](const std::string& v) {
                                 return v.front() == '/' ? "" : "\"" + v + "\" is not absolute";
                               })},
        {"allow_destinations", ListOf(c.allow_destinations,
                                      [](const std::string& v) {
                                        auto p = DestinationPolicy::Make({v}, {});
                                        return p.ok() ? "" : p.status().message();
                                      })},
        {"insecure_registries", ListOf(c.insecure_registries,
                                       [](const std::string& v) {
                                         auto u = ParseAuthority(v, "http", 80);
                                         return u.ok() ? "" : u.status().message();
                                       })},
        {"max_download_mb", Bounded(c.max_download_mb, 1, int64_t{1} << 30)},
        {"download_timeout", Bounded(c.download_timeout_s, 0, 86400 * 7)},
        {"low_speed_limit", Bounded(c.low_speed_bytes_per_s, 1, 1 << 30)},
        {"low_speed_time", Bounded(c.low_speed_time_s, 1, 86400)}}},
      {"journal", {{"path", TextOf(c.journal_path)}}},
      {"containers",
       {{"instance", Checked(c.instance,
                             [](const std::string& v) {
                               return IsHostName(v)
                                          ? ""
                                          : "\"" + v + "\" may hold letters, digits, - . _ only";
                             })},
        {"stop_timeout",
         [&c](const std::string& v) -> std::string {
           if (v.empty() || v.size() > 4 || !std::all_of(v.begin(), v.end(), ::isdigit)) {
             return "\"" + v + "\" is not a number of seconds";
           }
           c.stop_timeout_s = std::stoi(v);
           return "";
         }},
        {"start_settle_ms", Bounded(c.start_settle_ms, 0, 60000)}}},
      {"monitor",
       {{"monitord", AddressAndPort(c.monitord_address, c.monitord_port,
                                    [](const std::string& ip) {
                                      return IsIpLiteral(ip) ? "" : ip + " is not an IP address";
                                    })},
        {"disk_mb", Bounded(c.disk_total_mb, 1, int64_t{1} << 40)},
        {"stats_in_flight", Bounded(c.stats_in_flight, 1, 1024)},
        {"stats_workers", Bounded(c.stats_in_flight, 1, 1024)},  // the older name
        {"stats_connections", Bounded(c.stats_connections, 0, 1000000)},
        {"round_threads", Bounded(c.round_threads, 1, 256)},
        {"grace", Bounded(c.grace_s, 0, 3600)}}},
      {"reconcile",
       {{"period", Bounded(c.reconcile_period_s, 0, 86400)},
        {"orphan_grace", Bounded(c.orphan_grace_s, 0, 86400 * 7)},
        {"orphans",
         [&c](const std::string& v) -> std::string {
           if (v != "remove" && v != "report") return "\"" + v + "\" is not remove or report";
           c.remove_orphans = v == "remove";
           return "";
         }},
        {"keep_intents_days", Bounded(c.keep_intents_days, 1, 3650)}}},
      {"policy",
       {{"allow_privileged", Boolean(c.policy.allow_privileged)},
        {"allow_host_binds", Boolean(c.policy.allow_host_binds)},
        {"allow_cap_add", Boolean(c.policy.allow_cap_add)},
        {"allow_realtime_ulimits", Boolean(c.policy.allow_realtime_ulimits)}}},
      {"log",
       {{"level", Checked(c.log_level,
                          [](const std::string& v) {
                            static const std::vector<std::string> kLevels = {
                                "trace", "debug", "info", "warn", "error"};
                            return std::find(kLevels.begin(), kLevels.end(), v) != kLevels.end()
                                       ? ""
                                       : "\"" + v + "\" is not trace, debug, info, warn or error";
                          })},
        {"file", TextOf(c.log_file)}}},
      {"metrics",
       {{"listen",
         [&c](const std::string& v) -> std::string {
           if (v.empty()) {
             c.metrics_address.clear();
             return "";
           }
           return AddressAndPort(c.metrics_address, c.metrics_port, [](const std::string& ip) {
             return IsIpLiteral(ip) && ip.find(':') == std::string::npos
                        ? ""
                        : ip + " is not an IPv4 address";
           })(v);
         }},
        {"allow_remote", Boolean(c.metrics_allow_remote)}}},
  };
}

// The file, line by line: which section it is in, and the problems found so far.
class Parser {
 public:
  explicit Parser(std::string origin) : origin_(std::move(origin)), keys_(Keys(c_)) {}

  void Line(std::string line) {
    ++number_;
    line = Trim(line);
    if (line.empty() || line[0] == '#') return;
    if (line.front() == '[') return Section(line);
    const auto eq = line.find('=');
    if (eq == std::string::npos) return Problem("\"" + line + "\" is not key = value");
    const std::string key = Trim(line.substr(0, eq));
    const std::string value = Trim(line.substr(eq + 1));
    if (!credentials_.empty()) return CredentialsKey(key, value);
    if (!host_.empty()) return HostKey(key, value);
    auto sec = keys_.find(section_);
    if (sec == keys_.end()) {
      if (section_.empty()) Problem("\"" + key + "\" outside any [section]");
      return;
    }
    auto setter = sec->second.find(key);
    if (setter == sec->second.end())
      return Problem("[" + section_ + "]: unknown key \"" + key + "\"");
    if (auto why = setter->second(value); !why.empty())
      Problem("[" + section_ + "] " + key + ": " + why);
    if (section_ == "metrics" && key == "listen") metrics_listen_line_ = number_;
  }

  Result<DaemonConfig> Finish() {
    for (auto& [name, a] : explicit_hosts_) {
      if (a.url.empty()) {
        problems_.push_back(origin_ + ": [host " + name + "] has no url");
        continue;
      }
      if (a.ca.empty()) a.ca = c_.engine_ca;
      if (a.cert.empty()) a.cert = c_.engine_cert;
      if (a.key.empty()) a.key = c_.engine_key;
      c_.hosts[name] = a;
    }
    if (c_.default_engine_url.rfind("https://", 0) == 0 &&
        (c_.engine_ca.empty() || c_.engine_cert.empty() || c_.engine_key.empty())) {
      problems_.push_back(origin_ + ": [engines] ca, cert and key are required for https engines");
    }
    if (c_.journal_path.empty()) problems_.push_back(origin_ + ": [journal] path is empty");
    // Checked once every key is read: allow_remote may come after listen.
    if (!c_.metrics_address.empty() && !c_.metrics_allow_remote &&
        !IsIpv4Loopback(c_.metrics_address)) {
      problems_.push_back(origin_ + ":" + std::to_string(metrics_listen_line_) +
                          ": [metrics] listen: " + c_.metrics_address +
                          " is not a loopback address (set allow_remote = yes to serve the "
                          "metrics, which name hosts, beyond this machine)");
    }
    if (!c_.metrics_address.empty() && c_.metrics_port == c_.stub_port &&
        (c_.metrics_address == c_.stub_address || c_.metrics_address == "0.0.0.0")) {
      problems_.push_back(origin_ + ":" + std::to_string(metrics_listen_line_) +
                          ": [metrics] listen: port " + std::to_string(c_.metrics_port) +
                          " is [stub] listen's");
    }
    for (const auto& [registry, cred] : c_.credentials) {
      if (cred.username.empty() || cred.password_file.empty()) {
        problems_.push_back(origin_ + ": [credentials " + registry +
                            "] needs username and password_file");
      }
    }
    if (problems_.empty()) return c_;
    std::string joined;
    for (const auto& p : problems_) joined += (joined.empty() ? "" : "\n") + p;
    return InvalidArgument(joined);
  }

 private:
  void Problem(const std::string& what) {
    problems_.push_back(origin_ + ":" + std::to_string(number_) + ": " + what);
  }

  void Section(const std::string& line) {
    if (line.back() != ']') return Problem("\"" + line + "\" is not a [section]");
    section_ = Trim(line.substr(1, line.size() - 2));
    host_.clear();
    credentials_.clear();
    if (section_.rfind("credentials ", 0) == 0) {
      credentials_ = Trim(section_.substr(12));
      if (!IsHostName(credentials_.substr(0, credentials_.find(':')))) {
        Problem("[credentials " + credentials_ + "]: not host[:port]");
      }
      c_.credentials[credentials_];
    } else if (section_.rfind("host ", 0) == 0) {
      host_ = Trim(section_.substr(5));
      if (!IsHostName(host_)) Problem("[host " + host_ + "]: not a host name");
      explicit_hosts_[host_];
    } else if (keys_.count(section_) == 0) {
      Problem("unknown section [" + section_ + "]");
    }
  }

  void CredentialsKey(const std::string& key, const std::string& value) {
    auto& cred = c_.credentials[credentials_];
    if (key == "username") {
      cred.username = value;
    } else if (key == "password_file") {
      cred.password_file = value;
    } else {
      Problem("[credentials " + credentials_ + "]: unknown key \"" + key +
              "\" (username, password_file)");
    }
  }

  void HostKey(const std::string& key, const std::string& value) {
    EngineAddress& a = explicit_hosts_[host_];
    if (key == "url") {
      a.url = value;
      if (auto why = CheckEngineUrl(value); !why.empty())
        Problem("[host " + host_ + "] url: " + why);
    } else if (key == "ca") {
      a.ca = value;
    } else if (key == "cert") {
      a.cert = value;
    } else if (key == "key") {
      a.key = value;
    } else {
      Problem("[host " + host_ + "]: unknown key \"" + key + "\" (url, ca, cert, key)");
    }
  }

  const std::string origin_;
  DaemonConfig c_;
  const KeyTable keys_;  // its setters write into c_
  std::vector<std::string> problems_;
  int number_ = 0;
  int metrics_listen_line_ = 0;  // of [metrics] listen, for the check that needs allow_remote
  std::string section_;
  std::string host_;         // inside [host NAME]
  std::string credentials_;  // inside [credentials REGISTRY]
  std::map<std::string, EngineAddress> explicit_hosts_;
};

}  // namespace

Result<EngineAddress> EngineFor(const DaemonConfig& config, const std::string& host) {
  if (auto it = config.hosts.find(host); it != config.hosts.end()) return it->second;
  const bool v6 = host.find(':') != std::string::npos;
  if (!(v6 ? IsIpLiteral(host) : IsHostName(host)))
    return InvalidArgument("host name \"" + host.substr(0, 64) +
                           "\" is not a host name or an address");
  const std::string in_url = v6 ? "[" + host + "]" : host;
  EngineAddress a{config.default_engine_url, config.engine_ca, config.engine_cert,
                  config.engine_key};
  for (auto at = a.url.find("{host}"); at != std::string::npos; at = a.url.find("{host}"))
    a.url.replace(at, 6, in_url);
  return a;
}

Result<DaemonConfig> ParseDaemonConfig(const std::string& text, const std::string& origin) {
  Parser parser(origin);
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) parser.Line(line);
  return parser.Finish();
}

}  // namespace onedock::daemon
