// onedock: the operator's command on the front-end. Each subcommand is one file of this folder;
// this file only dispatches.
//
//   onedock doctor [-c CONFIG] [--remotes DIR] checks an installation, one line per check
//   onedock host-cert NAME [--ip ADDR]...      a host engine's TLS key, certificate, daemon.json
//                                              (cert_commands.h)
//   onedock client-cert                        onedockd's client key and certificate
//   onedock --version
#include <curl/curl.h>

#include <ctime>
#include <iostream>
#include <string>
#include <vector>

#include "bridge/admin/cert_commands.h"
#include "bridge/admin/doctor.h"
#include "bridge/version.h"

namespace onedock::admin {
namespace {

constexpr const char* kUsage =
    "usage: onedock doctor [-c CONFIG] [--remotes DIR]\n"
    "       onedock host-cert NAME [--ip ADDR]... [--dir DIR] [--host-dir DIR] [--days N] "
    "[--force]\n"
    "       onedock client-cert [--name CN] [--dir DIR] [--days N] [--force]\n"
    "       onedock --version\n";

int Main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    std::cerr << kUsage;
    return 2;
  }
  const std::string& command = args[0];
  if (command == "--version" || command == "version") {
    std::cout << "onedock " << kVersion << "\n";
    return 0;
  }
  if (command == "doctor") {
    return DoctorMain(std::vector<std::string>(args.begin() + 1, args.end()));
  }
  if (command == "-h" || command == "--help" || command == "help") {
    std::cout << kUsage;
    return 0;
  }
  if (command == "host-cert" || command == "client-cert") {
    auto options = ParseCertArgs(command == "host-cert", {args.begin() + 1, args.end()});
    if (!options.ok()) {
      std::cerr << "onedock " << command << ": " << options.status().message() << "\n" << kUsage;
      return 2;
    }
    if (Status s = RunCertCommand(*options, std::time(nullptr), std::cout); !s.ok()) {
      std::cerr << "onedock " << command << ": " << s.message() << "\n";
      return 1;
    }
    return 0;
  }
  std::cerr << "onedock: unknown command " << command << "\n" << kUsage;
  return 2;
}

}  // namespace
}  // namespace onedock::admin

int main(int argc, char** argv) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  const int rc = onedock::admin::Main(argc, argv);
  curl_global_cleanup();
  return rc;
}
