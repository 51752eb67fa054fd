// fake_fleet: a fake Docker Engine API fleet for scale benchmarks (not for correctness: real
// engines are the reference for that). Plays N hosts of M containers on 127.0.0.1, one mutual-TLS
// listener per host, and prints "ready N hosts: PORT…" on stdout once every listener accepts.
//
//   fake_fleet --hosts 50 --containers 200 --first-port 23760 --cert server.pem
//              --key server-key.pem --ca ca.pem --instance ID [--no-verify-client]
//
// --first-port 0 (the default) gives each host a port of the kernel's. Clients must present a
// certificate of the CA unless --no-verify-client. Stop it with SIGTERM.
#include <signal.h>
#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "tests/fleet/fleet_server.h"

namespace {

int Usage(const char* why) {
  std::fprintf(stderr,
               "fake_fleet: %s\nusage: fake_fleet --hosts N --containers M [--first-port P] "
               "--cert PEM --key PEM --ca PEM [--instance ID] [--no-verify-client]\n",
               why);
  return 2;
}

bool Number(const char* text, int* out) {
  char* end = nullptr;
  const long v = std::strtol(text, &end, 10);
  if (end == text || *end != '\0' || v < 0 || v > 65535) return false;
  *out = static_cast<int>(v);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  onedock::fleet::ServerOptions o;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--no-verify-client") {
      o.verify_client = false;
      continue;
    }
    if (i + 1 >= argc) return Usage(("missing value for " + flag).c_str());
    const char* value = argv[++i];
    bool ok = true;
    if (flag == "--hosts") {
      ok = Number(value, &o.hosts) && o.hosts > 0;
    } else if (flag == "--containers") {
      ok = Number(value, &o.containers);
    } else if (flag == "--first-port") {
      ok = Number(value, &o.first_port);
    } else if (flag == "--cert") {
      o.cert = value;
    } else if (flag == "--key") {
      o.key = value;
    } else if (flag == "--ca") {
      o.ca = value;
    } else if (flag == "--instance") {
      o.instance = value;
    } else {
      return Usage(("unknown option " + flag).c_str());
    }
    if (!ok) return Usage(("bad value for " + flag).c_str());
  }
  if (o.cert.empty() || o.key.empty() || o.ca.empty()) return Usage("--cert, --key and --ca");
  if (o.first_port > 0 && o.first_port + o.hosts > 65536) return Usage("ports past 65535");

  // Ten thousand kept connections need more descriptors than the usual soft limit.
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
  signal(SIGPIPE, SIG_IGN);

  onedock::fleet::FleetServer server(o);
  std::string error;
  if (!server.Listen(&error)) {
    std::fprintf(stderr, "fake_fleet: %s\n", error.c_str());
    return 1;
  }
  std::string ready = "ready " + std::to_string(o.hosts) + " hosts:";
  for (int i = 0; i < o.hosts; ++i) ready += " " + std::to_string(server.port(i));
  std::printf("%s\n", ready.c_str());
  std::fflush(stdout);
  server.Run();
  return 0;
}
