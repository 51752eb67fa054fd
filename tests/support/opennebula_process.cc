#include "tests/support/opennebula_process.h"

#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <stdexcept>
#include <thread>
#include <xmlrpc-c/client.hpp>

#include "rpc/one_client.h"
#include "tests/free_port.h"

namespace onedock::testing {
namespace {

// Single-quoted for sh; the paths and commands tests pass are their own.
std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string Script() { return Quote(std::string(ONEDOCK_SOURCE_DIR) + "/tests/bed/opennebula.sh"); }

// Polls `done` every 50 ms until it holds or `seconds` have passed.
bool Within(double seconds, const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

void Run(const std::string& command) {
  const int rc = std::system(command.c_str());
  if (rc != 0) throw std::runtime_error("failed (" + std::to_string(rc) + "): " + command);
}

}  // namespace

OpenNebulaProcess::OpenNebulaProcess(const std::string& dir, const std::string& stub_conf)
    : dir_(dir) {
  // Four distinct ports: oned exits when any of its listeners cannot bind.
  std::vector<int> ports;
  while (ports.size() < 4) {
    const int port = FreeLoopbackPort();
    if (std::find(ports.begin(), ports.end(), port) == ports.end()) ports.push_back(port);
  }
  port_ = ports[0];
  monitord_port_ = ports[1];
  const int hm = ports[2], hm_reply = ports[3];
  Run("ONEDOCK_STUB=" + Quote(ONEDOCK_STUB_BIN) + " bash " + Script() + " new " + Quote(dir_) +
      " " + Quote(stub_conf) + " " + std::to_string(port_) + " " + std::to_string(monitord_port_) +
      " " + std::to_string(hm) + " " + std::to_string(hm_reply));
  std::ifstream auth(dir_ + "/var/.one/one_auth");
  if (!std::getline(auth, session_)) throw std::runtime_error("no one_auth in " + dir_);
  Start();
}

OpenNebulaProcess::~OpenNebulaProcess() { Stop(); }

void OpenNebulaProcess::Start() { Run("bash " + Script() + " start " + Quote(dir_) + " >&2"); }

void OpenNebulaProcess::Stop() {
  const std::string command = "bash " + Script() + " stop " + Quote(dir_);
  if (std::system(command.c_str()) != 0) std::fprintf(stderr, "failed: %s\n", command.c_str());
}

void OpenNebulaProcess::Restart() {
  Stop();
  Start();
}

std::vector<xmlrpc_c::value> OpenNebulaProcess::Call(const std::string& method,
                                                     std::vector<xmlrpc_c::value> params,
                                                     const std::string& session) const {
  xmlrpc_c::clientXmlTransport_curl transport;
  xmlrpc_c::client_xml client(&transport);
  xmlrpc_c::paramList list;
  list.add(xmlrpc_c::value_string(session.empty() ? session_ : session));
  for (auto& p : params) list.add(p);
  xmlrpc_c::rpcPtr rpc(method, list);
  xmlrpc_c::carriageParm_curl0 carriage(endpoint());
  rpc->call(&client, &carriage);
  return xmlrpc_c::value_array(rpc->getResult()).vectorValueValue();
}

int OpenNebulaProcess::Allocate(const std::string& method, std::vector<xmlrpc_c::value> params,
                                const std::string& session) const {
  auto reply = Call(method, std::move(params), session);
  if (!static_cast<bool>(xmlrpc_c::value_boolean(reply[0]))) {
    throw std::runtime_error(method + ": " + std::string(xmlrpc_c::value_string(reply[1])));
  }
  return xmlrpc_c::value_int(reply[1]);
}

Status OpenNebulaProcess::AwaitDatastoreMonitored(int datastore, double seconds) const {
  rpc::XmlRpcOneClient client({endpoint(), session_});
  Result<Datastore> info = NotFound("not read");
  if (Within(seconds, [&] {
        info = client.DatastoreInfo(datastore);
        return info.ok() && info->total_mb > 0;
      })) {
    return Status::Ok();
  }
  if (!info.ok()) return info.status();
  return DeadlineExceeded("datastore " + std::to_string(datastore) + " not monitored after " +
                          std::to_string(seconds) + " s");
}

Status OpenNebulaProcess::AwaitVnetReady(int vnet, double seconds) const {
  constexpr int kReady = 1;
  rpc::XmlRpcOneClient client({endpoint(), session_});
  Result<Vnet> info = NotFound("not read");
  if (Within(seconds, [&] {
        info = client.VnetInfo(vnet);
        return info.ok() && info->state == kReady;
      })) {
    return Status::Ok();
  }
  if (!info.ok()) return info.status();
  return DeadlineExceeded("vnet " + std::to_string(vnet) + " is in state " +
                          std::to_string(info->state) + ", not READY, after " +
                          std::to_string(seconds) + " s");
}

OpenNebulaProcess::CliResult OpenNebulaProcess::Cli(const std::string& command,
                                                    const std::string& cwd,
                                                    const std::string& auth_file) const {
  std::string line =
      ". " + Quote(dir_ + "/one.env") + " && cd " + Quote(cwd.empty() ? dir_ + "/var" : cwd);
  if (!auth_file.empty()) line += " && export ONE_AUTH=" + Quote(auth_file);
  line += " && " + command + " 2>&1";
  FILE* out = popen(("sh -c " + Quote(line)).c_str(), "r");
  if (out == nullptr) throw std::runtime_error("cannot run " + command);
  CliResult result;
  char buf[4096];
  size_t n = 0;
  while ((n = fread(buf, 1, sizeof buf, out)) > 0) result.output.append(buf, n);
  const int status = pclose(out);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

}  // namespace onedock::testing
