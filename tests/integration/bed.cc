#include "tests/integration/bed.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <map>
#include <stdexcept>

namespace onedock::testbed {
namespace {

std::map<std::string, std::string> Load() {
  const char* lab = std::getenv("ONEDOCK_LAB");
  const std::string path = std::string(lab ? lab : "/var/tmp/onedock-lab") + "/bed.env";
  std::ifstream in(path);
  if (!in) {
    throw std::runtime_error("test bed not up (" + path + " missing): run tests/bed/testbed.sh up");
  }
  std::map<std::string, std::string> vars;
  std::string line;
  while (std::getline(in, line)) {
    const size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string value = line.substr(eq + 1);
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    vars[line.substr(0, eq)] = value;
  }
  return vars;
}

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

const std::string& Get(const std::string& key) {
  static const std::map<std::string, std::string> vars = Load();
  auto it = vars.find(key);
  if (it == vars.end()) throw std::runtime_error("bed.env has no " + key);
  return it->second;
}

std::string EngineAddress(const std::string& engine) {
  return Get("ONEDOCK_ENGINE_" + Upper(engine));
}

docker::Endpoint Engine(const std::string& engine) {
  const std::string certs = Get("ONEDOCK_CERTS");
  return {.base_url = "https://" + EngineAddress(engine),
          .ca_file = certs + "/ca.pem",
          .cert_file = certs + "/cert.pem",
          .key_file = certs + "/key.pem"};
}

docker::Endpoint EngineSocket(const std::string& engine) {
  return {.base_url = "http://localhost",
          .unix_socket = Get("ONEDOCK_ENGINE_" + Upper(engine) + "_SOCKET")};
}

std::string RegistryHost(const std::string& which) {
  if (which == "private") return Get("ONEDOCK_PRIVATE_REGISTRY");
  if (which == "private2") return Get("ONEDOCK_PRIVATE2_REGISTRY");
  if (which == "upstream") return Get("ONEDOCK_UPSTREAM_REGISTRY");
  if (which == "auth") return Get("ONEDOCK_AUTH_REGISTRY");
  throw std::runtime_error("no registry \"" + which +
                           "\" in the test bed (private, private2, upstream, auth)");
}

docker::Endpoint Registry(const std::string& which) {
  return {.base_url = "http://" + RegistryHost(which)};
}

std::string TestImage() { return Get("ONEDOCK_TEST_IMAGE"); }

std::string UniqueName(const std::string& prefix) {
  static std::atomic<int> counter{0};
  return prefix + "-" + std::to_string(getpid()) + "-" + std::to_string(++counter);
}

}  // namespace onedock::testbed
