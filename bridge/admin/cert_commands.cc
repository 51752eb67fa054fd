#include "bridge/admin/cert_commands.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "bridge/admin/certs.h"
#include "bridge/net_address.h"

namespace onedock::admin {
namespace {

namespace fs = std::filesystem;

constexpr int kCaDays = 3650;

struct Output {
  std::string path;
  std::string content;
  mode_t mode;
};

bool Exists(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0;
}

Result<std::string> ReadSmallFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Unavailable("cannot read " + path + ": " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (text.str().size() > (1u << 20)) return InvalidArgument(path + " is over 1 MiB");
  return text.str();
}

// Writes a complete file under a temporary name in the same directory and renames it over `path`.
Status WriteFile(const Output& file) {
  const fs::path target(file.path);
  // Built by appends: GCC 12 at -O3 reports a false -Wrestrict for "." + std::string.
  std::string temp = target.parent_path().string();
  temp.append("/.").append(target.filename().string()).append(".XXXXXX");
  const int fd = mkstemp(temp.data());
  if (fd < 0)
    return Unavailable("cannot write in " + target.parent_path().string() + ": " +
                       std::strerror(errno));
  const char* data = file.content.data();
  size_t left = file.content.size();
  bool ok = fchmod(fd, file.mode) == 0;
  while (ok && left > 0) {
    const ssize_t n = write(fd, data, left);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) data += n, left -= static_cast<size_t>(n);
  }
  ok = ok && fsync(fd) == 0;
  const int saved = errno;
  ok = close(fd) == 0 && ok;
  if (!ok || rename(temp.c_str(), file.path.c_str()) != 0) {
    const std::string reason = std::strerror(ok ? errno : saved);
    unlink(temp.c_str());
    return Unavailable("cannot write " + file.path + ": " + reason);
  }
  return Status::Ok();
}

Status MakeDirs(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Unavailable("cannot create " + dir + ": " + ec.message());
  return Status::Ok();
}

// The CA of `dir`: read when both its files are there, made when neither is (its files then join
// `outputs`); one without the other is refused rather than replaced, since replacing a CA would
// invalidate every certificate it signed.
Result<KeyAndCert> CaOf(const std::string& dir, std::time_t now, std::vector<Output>& outputs,
                        std::ostream& out) {
  const std::string cert_path = dir + "/ca.pem", key_path = dir + "/ca-key.pem";
  const bool has_cert = Exists(cert_path), has_key = Exists(key_path);
  if (has_cert != has_key) {
    return FailedPrecondition((has_cert ? key_path : cert_path) + " is missing beside " +
                              (has_cert ? cert_path : key_path) +
                              ": restore it, or move both away to make a new CA");
  }
  if (has_cert) {
    auto cert = ReadSmallFile(cert_path);
    if (!cert.ok()) return cert.status();
    auto key = ReadSmallFile(key_path);
    if (!key.ok()) return key.status();
    out << "using the CA " << cert_path << "\n";
    return KeyAndCert{*key, *cert};
  }
  // A name of its own, so that no client mistakes another onedock installation's CA for this one.
  char suffix[9];
  std::snprintf(suffix, sizeof suffix, "%08x", std::random_device()());
  auto ca = NewCa(std::string("onedock CA ") + suffix, kCaDays, now);
  if (!ca.ok()) return ca.status();
  outputs.push_back({key_path, ca->key_pem, 0600});
  outputs.push_back({cert_path, ca->cert_pem, 0644});
  out << "new CA " << cert_path << " (key " << key_path << ", valid " << kCaDays << " days)\n";
  return *ca;
}

Result<int> ParseDays(const std::string& text) {
  int days = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), days);
  if (ec != std::errc() || end != text.data() + text.size() || days < 1 || days > 36500) {
    return InvalidArgument("--days must be a number of days from 1 to 36500");
  }
  return days;
}

void PrintHostSteps(const CertOptions& o, const std::string& out_dir, std::ostream& out) {
  out << "for host " << o.name << ":\n"
      << "  1. copy " << out_dir << "/{ca.pem,cert.pem,key.pem} to " << o.host_dir
      << " on the host (key.pem readable by root only)\n"
      << "  2. merge " << out_dir << "/daemon.json into the host's /etc/docker/daemon.json\n"
      << "  3. make dockerd listen on tcp://<address>:2376 as well as its socket (Debian:\n"
      << "     DOCKER_OPTS=\"-H tcp://0.0.0.0:2376\" in /etc/default/docker, or \"hosts\" in\n"
      << "     daemon.json when the service passes no -H), then restart docker\n"
      << "  4. onedock doctor\n";
}

}  // namespace

Result<CertOptions> ParseCertArgs(bool host, const std::vector<std::string>& args) {
  CertOptions o;
  o.host = host;
  o.name = host ? "" : "onedockd";
  bool named = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    const bool has_value = i + 1 < args.size();
    if (arg == "--force") {
      o.force = true;
    } else if (arg == "--dir" && has_value) {
      o.dir = args[++i];
    } else if (arg == "--days" && has_value) {
      auto days = ParseDays(args[++i]);
      if (!days.ok()) return days.status();
      o.days = *days;
    } else if (host && arg == "--ip" && has_value) {
      o.addresses.push_back(args[++i]);
    } else if (host && arg == "--host-dir" && has_value) {
      o.host_dir = args[++i];
    } else if (!host && arg == "--name" && has_value) {
      o.name = args[++i];
    } else if (host && !named && !arg.empty() && arg[0] != '-') {
      o.name = arg;
      named = true;
    } else {
      return InvalidArgument("unexpected argument \"" + arg + "\"");
    }
  }
  if (host && !named) return InvalidArgument("host-cert needs the host's name");
  if (host && !IsCertHostName(o.name))
    return InvalidArgument("\"" + o.name + "\" is not a host name");
  for (const std::string& address : o.addresses) {
    if (!IsIpLiteral(address)) return InvalidArgument("\"" + address + "\" is not an IP address");
  }
  if (o.dir.empty() || o.dir[0] != '/') return InvalidArgument("--dir must be an absolute path");
  if (o.host_dir.empty() || o.host_dir[0] != '/') {
    return InvalidArgument("--host-dir must be an absolute path");
  }
  if (o.host_dir.find_first_of("\"\\") != std::string::npos) {
    return InvalidArgument("--host-dir may not contain a quote or a backslash");
  }
  return o;
}

std::string DaemonJson(const std::string& host_dir) {
  // The paths were checked to be absolute; a path with a quote or a backslash would need JSON
  // escapes, which no certificate directory needs.
  return "{\n"
         "  \"tlsverify\": true,\n"
         "  \"tlscacert\": \"" +
         host_dir +
         "/ca.pem\",\n"
         "  \"tlscert\": \"" +
         host_dir +
         "/cert.pem\",\n"
         "  \"tlskey\": \"" +
         host_dir +
         "/key.pem\",\n"
         "  \"live-restore\": true\n"
         "}\n";
}

Status RunCertCommand(const CertOptions& o, std::time_t now, std::ostream& out) {
  const std::string out_dir = o.host ? o.dir + "/hosts/" + o.name : o.dir;
  const std::string cert_path = out_dir + "/cert.pem", key_path = out_dir + "/key.pem";
  if (!o.force) {
    for (const std::string& path : {cert_path, key_path}) {
      if (Exists(path)) {
        return Conflict(path + " exists: pass --force to replace it (a new key for " +
                        (o.host ? "host " + o.name : std::string("onedockd")) + ")");
      }
    }
  }
  std::vector<Output> outputs;
  auto ca = CaOf(o.dir, now, outputs, out);
  if (!ca.ok()) return ca.status();
  CertRequest request{.common_name = o.name,
                      .role = o.host ? CertRole::kServer : CertRole::kClient,
                      .days = o.days,
                      .now = now};
  if (o.host) {
    request.names = {o.name};
    request.addresses = o.addresses;
  }
  auto issued = Issue(*ca, request);
  if (!issued.ok()) return issued.status();
  outputs.push_back({key_path, issued->key_pem, 0600});
  outputs.push_back({cert_path, issued->cert_pem, 0644});
  if (o.host) {
    outputs.push_back({out_dir + "/ca.pem", ca->cert_pem, 0644});
    outputs.push_back({out_dir + "/daemon.json", DaemonJson(o.host_dir), 0644});
  }
  // A directory made here is not world-readable; one that exists keeps the mode it has.
  const bool new_dir = !Exists(o.dir);
  if (Status s = MakeDirs(out_dir); !s.ok()) return s;
  if (new_dir) chmod(o.dir.c_str(), 0750);
  for (const Output& file : outputs) {
    if (Status s = WriteFile(file); !s.ok()) return s;
  }
  out << "wrote " << cert_path << " and " << key_path << " (valid " << o.days << " days)\n";
  if (o.host) {
    PrintHostSteps(o, out_dir, out);
  } else {
    out << "onedockd.conf [engines]: ca = " << o.dir << "/ca.pem, cert = " << cert_path
        << ", key = " << key_path << " (readable by the user onedockd runs as)\n";
  }
  return Status::Ok();
}

}  // namespace onedock::admin
