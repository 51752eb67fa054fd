#include "bridge/daemon/daemon_config.h"

#include <algorithm>
#include <functional>
#include <sstream>
#include <type_traits>

#include "bridge/net_address.h"

namespace onedock::daemon {
namespace {

using bridge::IsHostName;
using bridge::IsIpLiteral;
using bridge::IsIpv4Loopback;

std::string Trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r");
  const auto e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// Checks of an engine URL: https://host:port or unix:///absolute/path.
std::string CheckEngineUrl(const std::string& url) {
  if (url.rfind("unix://", 0) == 0) return url.size() > 8 && url[7] == '/' ? "" : "unix:// needs an absolute path";
  if (url.rfind("https://", 0) != 0) return "\"" + url + "\" must start with https:// or unix://";
  return "";
}

}  // namespace

EngineAddress EngineFor(const DaemonConfig& config, const std::string& host) {
  if (auto it = config.hosts.find(host); it != config.hosts.end()) return it->second;
  EngineAddress a{config.default_engine_url, config.engine_ca, config.engine_cert, config.engine_key};
  for (auto at = a.url.find("{host}"); at != std::string::npos; at = a.url.find("{host}")) a.url.replace(at, 6, host);
  return a;
}

Result<DaemonConfig> ParseDaemonConfig(const std::string& text, const std::string& origin) {
  DaemonConfig c;
  std::vector<std::string> problems;
  std::istringstream in(text);
  std::string line, section;
  int number = 0;
  auto problem = [&](const std::string& what) { problems.push_back(origin + ":" + std::to_string(number) + ": " + what); };
  auto boolean = [&](bool& out) {
    return [&out](const std::string& v) -> std::string {
      if (v == "yes" || v == "true") out = true;
      else if (v == "no" || v == "false") out = false;
      else return "\"" + v + "\" is not yes or no";
      return "";
    };
  };
  auto text_of = [](std::string& out) {
    return [&out](const std::string& v) -> std::string {
      out = v;
      return "";
    };
  };
  // A whole number within [low, high].
  auto bounded = [](auto& field, int64_t low, int64_t high) {
    return [&field, low, high](const std::string& v) -> std::string {
      if (v.empty() || v.size() > 13 || !std::all_of(v.begin(), v.end(), ::isdigit) || std::stoll(v) < low ||
          std::stoll(v) > high) {
        return "\"" + v + "\" is not a number from " + std::to_string(low) + " to " + std::to_string(high);
      }
      field = static_cast<std::remove_reference_t<decltype(field)>>(std::stoll(v));
      return std::string();
    };
  };
  using Setter = std::function<std::string(const std::string&)>;
  std::map<std::string, std::map<std::string, Setter>> keys = {
      {"oned", {{"endpoint", text_of(c.oned_endpoint)}, {"auth_file", text_of(c.oned_auth_file)}}},
      {"stub",
       {{"listen",
         [&c](const std::string& v) -> std::string {
           const auto colon = v.rfind(':');
           if (colon == std::string::npos) return "\"" + v + "\" is not address:port";
           if (!IsIpv4Loopback(v.substr(0, colon))) {
             return v.substr(0, colon) + " is not an IPv4 loopback address";
           }
           const std::string port = v.substr(colon + 1);
           if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), ::isdigit) ||
               std::stoi(port) > 65535) {
             return "\"" + port + "\" is not a port";
           }
           c.stub_address = v.substr(0, colon);
           c.stub_port = std::stoi(port);
           return "";
         }},
        {"token_file", text_of(c.stub_token_file)}}},
      {"engines",
       {{"default_url",
         [&c](const std::string& v) {
           c.default_engine_url = v;
           return CheckEngineUrl(v);
         }},
        {"ca", text_of(c.engine_ca)},
        {"cert", text_of(c.engine_cert)},
        {"key", text_of(c.engine_key)}}},
      {"registry",
       {{"address",
         [&c](const std::string& v) {
           c.registry = v;
           return IsHostName(v.substr(0, v.find(':'))) ? "" : "\"" + v + "\" is not host[:port]";
         }},
        {"username", text_of(c.registry_username)},
        {"password_file", text_of(c.registry_password_file)},
        {"storage", text_of(c.registry_storage)}}},
      {"images",
       {{"staging_host",
         [&c](const std::string& v) {
           c.staging_host = v;
           return v.empty() || IsHostName(v) ? "" : "\"" + v + "\" is not a host name";
         }},
        {"spool", text_of(c.spool_dir)}}},
      {"journal", {{"path", text_of(c.journal_path)}}},
      {"containers",
       {{"instance",
         [&c](const std::string& v) {
           c.instance = v;
           return IsHostName(v) ? "" : "\"" + v + "\" may hold letters, digits, - . _ only";
         }},
        {"stop_timeout",
         [&c](const std::string& v) -> std::string {
           if (v.empty() || v.size() > 4 || !std::all_of(v.begin(), v.end(), ::isdigit)) return "\"" + v + "\" is not a number of seconds";
           c.stop_timeout_s = std::stoi(v);
           return "";
         }}}},
      {"monitor",
       {{"monitord",
         [&c](const std::string& v) -> std::string {
           const auto colon = v.rfind(':');
           if (colon == std::string::npos) return "\"" + v + "\" is not address:port";
           const std::string ip = v.substr(0, colon), port = v.substr(colon + 1);
           if (!IsIpLiteral(ip)) {
             return ip + " is not an IP address";
           }
           if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), ::isdigit) ||
               std::stoi(port) > 65535) {
             return "\"" + port + "\" is not a port";
           }
           c.monitord_address = ip;
           c.monitord_port = std::stoi(port);
           return "";
         }},
        {"disk_mb", bounded(c.disk_total_mb, 1, int64_t{1} << 40)},
        {"stats_workers", bounded(c.stats_workers, 1, 256)},
        {"grace", bounded(c.grace_s, 0, 3600)}}},
      {"policy",
       {{"allow_privileged", boolean(c.policy.allow_privileged)},
        {"allow_host_binds", boolean(c.policy.allow_host_binds)},
        {"allow_cap_add", boolean(c.policy.allow_cap_add)}}},
      {"log",
       {{"level",
         [&c](const std::string& v) {
           c.log_level = v;
           static const std::vector<std::string> kLevels = {"trace", "debug", "info", "warn", "error"};
           return std::find(kLevels.begin(), kLevels.end(), v) != kLevels.end() ? ""
                                                                                : "\"" + v + "\" is not trace, debug, info, warn or error";
         }},
        {"file", text_of(c.log_file)}}},
  };
  std::string host;         // inside [host NAME]
  std::string credentials;  // inside [credentials REGISTRY]
  std::map<std::string, EngineAddress> explicit_hosts;
  while (std::getline(in, line)) {
    ++number;
    line = Trim(line);
    if (line.empty() || line[0] == '#') continue;
    if (line.front() == '[') {
      if (line.back() != ']') {
        problem("\"" + line + "\" is not a [section]");
        continue;
      }
      section = Trim(line.substr(1, line.size() - 2));
      host.clear();
      credentials.clear();
      if (section.rfind("credentials ", 0) == 0) {
        credentials = Trim(section.substr(12));
        if (!IsHostName(credentials.substr(0, credentials.find(':')))) problem("[credentials " + credentials + "]: not host[:port]");
        c.credentials[credentials];
      } else if (section.rfind("host ", 0) == 0) {
        host = Trim(section.substr(5));
        if (!IsHostName(host)) problem("[host " + host + "]: not a host name");
        explicit_hosts[host];
      } else if (keys.count(section) == 0) {
        problem("unknown section [" + section + "]");
      }
      continue;
    }
    const auto eq = line.find('=');
    if (eq == std::string::npos) {
      problem("\"" + line + "\" is not key = value");
      continue;
    }
    const std::string key = Trim(line.substr(0, eq));
    const std::string value = Trim(line.substr(eq + 1));
    if (!credentials.empty()) {
      auto& cred = c.credentials[credentials];
      if (key == "username") {
        cred.username = value;
      } else if (key == "password_file") {
        cred.password_file = value;
      } else {
        problem("[credentials " + credentials + "]: unknown key \"" + key + "\" (username, password_file)");
      }
      continue;
    }
    if (!host.empty()) {
      EngineAddress& a = explicit_hosts[host];
      if (key == "url") {
        a.url = value;
        if (auto why = CheckEngineUrl(value); !why.empty()) problem("[host " + host + "] url: " + why);
      } else if (key == "ca") {
        a.ca = value;
      } else if (key == "cert") {
        a.cert = value;
      } else if (key == "key") {
        a.key = value;
      } else {
        problem("[host " + host + "]: unknown key \"" + key + "\" (url, ca, cert, key)");
      }
      continue;
    }
    auto sec = keys.find(section);
    if (sec == keys.end()) {
      if (section.empty()) problem("\"" + key + "\" outside any [section]");
      continue;
    }
    auto setter = sec->second.find(key);
    if (setter == sec->second.end()) {
      problem("[" + section + "]: unknown key \"" + key + "\"");
      continue;
    }
    if (auto why = setter->second(value); !why.empty()) problem("[" + section + "] " + key + ": " + why);
  }
  for (auto& [name, a] : explicit_hosts) {
    if (a.url.empty()) {
      problems.push_back(origin + ": [host " + name + "] has no url");
      continue;
    }
    if (a.ca.empty()) a.ca = c.engine_ca;
    if (a.cert.empty()) a.cert = c.engine_cert;
    if (a.key.empty()) a.key = c.engine_key;
    c.hosts[name] = a;
  }
  if (c.default_engine_url.rfind("https://", 0) == 0 &&
      (c.engine_ca.empty() || c.engine_cert.empty() || c.engine_key.empty())) {
    problems.push_back(origin + ": [engines] ca, cert and key are required for https engines");
  }
  if (c.journal_path.empty()) problems.push_back(origin + ": [journal] path is empty");
  for (const auto& [registry, cred] : c.credentials) {
    if (cred.username.empty() || cred.password_file.empty()) {
      problems.push_back(origin + ": [credentials " + registry + "] needs username and password_file");
    }
  }
  if (!problems.empty()) {
    std::string joined;
    for (const auto& p : problems) joined += (joined.empty() ? "" : "\n") + p;
    return InvalidArgument(joined);
  }
  return c;
}

}  // namespace onedock::daemon
