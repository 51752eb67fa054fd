#include "bridge/admin/doctor.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <set>

#include "bridge/admin/doctor_local_checks.h"
#include "bridge/admin/doctor_oned_checks.h"
#include "bridge/admin/doctor_probes.h"
#include "bridge/admin/doctor_tls.h"
#include "bridge/daemon/startup.h"
#include "bridge/url.h"
#include "bridge/version.h"
#include "docker/registry_client.h"
#include "rpc/one_client.h"

namespace onedock::admin {
namespace {

using Findings = std::vector<Finding>;

void Append(Findings* all, Findings more) {
  for (auto& f : more) all->push_back(std::move(f));
}

std::string RemotesDir(const DoctorOptions& options) {
  if (!options.remotes.empty()) return options.remotes;
  if (const char* location = std::getenv("ONE_LOCATION"); location && *location) {
    return std::string(location) + "/var/remotes";
  }
  return "/var/lib/one/remotes";
}

// oned: reachable, its version, the session; then its configuration and pools. The names of the
// onedock hosts go to `hosts`; false when oned did not give its host pool (then nothing that
// depends on the hosts can be judged).
bool CheckOned(const daemon::DaemonConfig& config, const daemon::Secrets& secrets, Findings* out,
               std::vector<std::string>* hosts) {
  auto endpoint = rpc::ResolveOneEndpoint(config.oned_endpoint, secrets.oned_session);
  if (!endpoint.ok()) {
    out->push_back(Fail("oned session", endpoint.status().message(),
                        "set [oned] auth_file in onedockd.conf or create ~/.one/one_auth"));
    return false;
  }
  rpc::XmlRpcOneClient one(*endpoint);
  auto version = one.SystemVersion();
  if (!version.ok()) {
    const bool refused = version.status().code() == Status::Code::kUnauthenticated;
    out->push_back(Fail(refused ? "oned session" : "oned", version.status().message(),
                        refused ? "put oneadmin's user:password in the [oned] auth_file"
                                : "start oned (systemctl start opennebula) or correct [oned] "
                                  "endpoint in onedockd.conf"));
    return false;
  }
  const std::string user = endpoint->session.substr(0, endpoint->session.find(':'));
  out->push_back(Ok("oned", "OpenNebula " + *version + " at " + endpoint->endpoint +
                                ", session of " + user + " accepted"));
  auto system_config = one.SystemConfig();
  if (!system_config.ok()) {
    out->push_back(Fail("oned.conf", system_config.status().message(),
                        "run the doctor with oneadmin's session"));
  } else {
    Append(out, CheckOnedConfig(*system_config));
  }
  OnedPools pools;
  const std::pair<const char*, std::string*> calls[] = {
      {"one.hostpool.info", &pools.hosts},
      {"one.clusterpool.info", &pools.clusters},
      {"one.datastorepool.info", &pools.datastores}};
  // A pool oned refuses is reported with oned's reason, and placement is not judged on it.
  bool pools_read = true;
  auto read = [&](const char* method, const std::vector<int>& args, std::string* text) {
    auto xml = one.InfoXml(method, args);
    if (xml.ok()) {
      *text = *xml;
      return;
    }
    pools_read = false;
    out->push_back(Fail(std::string("oned ") + method, xml.status().message(),
                        "run the doctor with oneadmin's session"));
  };
  for (const auto& [method, text] : calls) read(method, {}, text);
  read("one.vnpool.info", {-2, -1, -1}, &pools.vnets);
  if (pools_read) Append(out, CheckPlacement(pools));
  auto pool = one.HostPool();
  if (!pool.ok()) {
    if (pools_read) {
      out->push_back(Fail("oned one.hostpool.info", pool.status().message(),
                          "run the doctor with oneadmin's session"));
    }
    return false;
  }
  for (const Host& h : *pool) {
    if (h.vm_mad == "onedock") hosts->push_back(h.name);
  }
  std::sort(hosts->begin(), hosts->end());
  return true;
}

void CheckRemotesAndStub(const daemon::DaemonConfig& config, const std::string& remotes,
                         Findings* out) {
  std::vector<std::string> missing, not_executable;
  ListRemotes(remotes, &missing, &not_executable);
  out->push_back(CheckRemotes(remotes, missing, not_executable));
  const std::string stub = remotes + "/onedock/onedock-stub";
  out->push_back(CheckStubVersion(RunProgram({stub, "--version"}, {}), kVersion));

  const std::string stub_conf_path = remotes + "/etc/onedock/stub.conf";
  auto stub_conf_text = ReadFile(stub_conf_path);
  if (!stub_conf_text) {
    out->push_back(Fail("stub.conf", stub_conf_path + " is not readable by this user",
                        "reinstall the remotes and run the doctor as oneadmin"));
    return;
  }
  auto stub_conf = ParseStubConf(*stub_conf_text);
  out->push_back(CheckStubEndpoint(stub_conf["endpoint"], config.stub_address, config.stub_port));
  const auto token = ReadFile(stub_conf["token_file"]);
  const auto daemon_token = ReadFile(config.stub_token_file);
  out->push_back(CheckStubToken(stub_conf["token_file"], token ? &*token : nullptr,
                                daemon_token ? &*daemon_token : nullptr, config.stub_token_file));

  // The installed stub with stub.conf as it is, but without its long retries: a onedockd that
  // is down is reported at once instead of after retry_seconds.
  char quick[] = "/tmp/onedock-doctor-stub-XXXXXX";
  const int fd = mkstemp(quick);
  if (fd < 0) {
    out->push_back(Fail("onedockd", std::string("cannot make a file in /tmp: ") + strerror(errno),
                        "free /tmp, or make it writable"));
    return;
  }
  const std::string quick_conf = *stub_conf_text + "\nretry_seconds = 1\ntimeout_seconds = 20\n";
  const bool written =
      write(fd, quick_conf.data(), quick_conf.size()) == static_cast<ssize_t>(quick_conf.size());
  close(fd);
  if (!written) {
    unlink(quick);
    out->push_back(Fail("onedockd", "cannot write " + std::string(quick), "free /tmp"));
    return;
  }
  out->push_back(CheckDaemonAnswer(
      RunProgram({stub, "onedock", "version"}, {std::string("ONEDOCK_STUB_CONFIG=") + quick}),
      kVersion));
  unlink(quick);
}

void CheckEngines(const daemon::DaemonConfig& config, const std::vector<std::string>& hosts,
                  std::time_t now, Findings* out) {
  std::set<std::string> ca_files, cert_files;
  for (const std::string& host : hosts) {
    auto endpoint = daemon::EngineEndpoint(config, host);
    if (!endpoint.ok()) {
      out->push_back(Fail("engine " + host, endpoint.status().message(),
                          "give the host a [host " + host + "] url in onedockd.conf"));
      continue;
    }
    if (!endpoint->ca_file.empty()) ca_files.insert(endpoint->ca_file);
    if (!endpoint->cert_file.empty()) cert_files.insert(endpoint->cert_file);
    const EngineProbe verified = ProbeEngine(*endpoint, true);
    std::optional<EngineProbe> unverified;
    if (verified.outcome == EngineProbe::Outcome::kUntrustedServer ||
        verified.outcome == EngineProbe::Outcome::kWrongName ||
        verified.outcome == EngineProbe::Outcome::kServerDates) {
      unverified = ProbeEngine(*endpoint, false);
    }
    const std::string where =
        endpoint->unix_socket.empty() ? endpoint->base_url : "unix://" + endpoint->unix_socket;
    Append(out, EngineFindings(host, where, verified, unverified, now));
  }
  auto dates = [&](const std::set<std::string>& files, const char* what) {
    for (const std::string& file : files) {
      auto pem = ReadFile(file);
      auto expiry = pem ? CertificateExpiry(*pem) : Result<std::time_t>(NotFound("unreadable"));
      if (!expiry.ok()) {
        out->push_back(Fail(std::string(what) + " " + file, expiry.status().message(),
                            "point onedockd.conf's [engines] at a PEM certificate"));
      } else {
        out->push_back(CheckExpiry(std::string(what) + " " + file, *expiry, now));
      }
    }
  };
  dates(ca_files, "CA");
  dates(cert_files, "onedockd's client certificate");
}

void CheckRegistry(const daemon::DaemonConfig& config, const daemon::Secrets& secrets,
                   Findings* out) {
  const std::string check = "registry " + config.registry;
  auto authority = ParseAuthority(config.registry, "https", 443);
  const bool plain = (authority.ok() && IsLoopbackLiteral(authority->host)) ||
                     std::find(config.insecure_registries.begin(), config.insecure_registries.end(),
                               config.registry) != config.insecure_registries.end();
  docker::Endpoint endpoint;
  endpoint.base_url = (plain ? "http://" : "https://") + config.registry;
  endpoint.username = secrets.registry.username;
  endpoint.password = secrets.registry.password;
  docker::RegistryClient registry("registry " + config.registry, endpoint);
  const Status pushed = registry.ProbePush("onedock/doctor");
  if (pushed.ok()) {
    out->push_back(Ok(check, "reachable, accepts a push with onedockd's credentials"));
  } else if (pushed.code() == Status::Code::kUnauthenticated ||
             pushed.code() == Status::Code::kPermissionDenied) {
    out->push_back(Fail(check, "refuses a push: " + pushed.message(),
                        "set [registry] username and password_file to an account that may push"));
  } else {
    out->push_back(
        Fail(check, pushed.message(), "start the private registry or correct [registry] address"));
  }
}

}  // namespace

Findings RunDoctor(const DoctorOptions& options, std::time_t now) {
  Findings findings;
  auto config = daemon::LoadConfig(options.config);
  if (!config.ok()) {
    findings.push_back(Fail("onedockd.conf " + options.config, config.status().message(),
                            "correct it, or name onedockd's file with -c (onedockd --check -c FILE "
                            "lists every problem)"));
    return findings;
  }
  findings.push_back(Ok("onedockd.conf " + options.config, "read as onedockd reads it"));
  auto secrets = daemon::ReadSecrets(*config);
  if (!secrets.ok()) {
    findings.push_back(Fail("onedockd.conf secrets", secrets.status().message(),
                            "make the files it names readable by oneadmin"));
    return findings;
  }
  std::vector<std::string> hosts;
  const bool hosts_known = CheckOned(*config, *secrets, &findings, &hosts);
  CheckRemotesAndStub(*config, RemotesDir(options), &findings);
  CheckEngines(*config, hosts, now, &findings);
  CheckRegistry(*config, *secrets, &findings);
  findings.push_back(hosts_known
                         ? CheckStagingHost(config->staging_host, hosts)
                         : Warn("[images] staging_host", "not checked: oned's hosts are unknown",
                                "see the oned lines above"));
  const auto free = FreeBytes(config->spool_dir);
  findings.push_back(free ? CheckSpool(config->spool_dir, *free)
                          : Warn("spool " + config->spool_dir, "its filesystem cannot be read",
                                 "create it, owned by oneadmin"));
  return findings;
}

int DoctorMain(const std::vector<std::string>& args) {
  DoctorOptions options;
  for (size_t i = 0; i < args.size(); ++i) {
    if ((args[i] == "-c" || args[i] == "--config") && i + 1 < args.size()) {
      options.config = args[++i];
    } else if (args[i] == "--remotes" && i + 1 < args.size()) {
      options.remotes = args[++i];
    } else {
      std::cerr << "usage: onedock doctor [-c CONFIG] [--remotes DIR]\n";
      return 2;
    }
  }
  const Findings findings = RunDoctor(options, std::time(nullptr));
  Print(findings, std::cout);
  return ExitCodeOf(findings);
}

}  // namespace onedock::admin
