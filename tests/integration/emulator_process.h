// Runs the OpenNebula emulator binary for a test: a temporary oned.conf-like config, a free
// loopback port read back from the port file, SIGTERM at the end. Also a raw XML-RPC call helper
// for the methods onedock's client does not make (allocations done by users, not by onedock).
#ifndef ONEDOCK_TESTS_INTEGRATION_EMULATOR_PROCESS_H_
#define ONEDOCK_TESTS_INTEGRATION_EMULATOR_PROCESS_H_

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>
#include <xmlrpc-c/base.hpp>
#include <xmlrpc-c/client.hpp>

extern char** environ;

namespace onedock::testing {

class EmulatorProcess {
 public:
  static constexpr const char* kPassword = "emulator-secret";

  explicit EmulatorProcess(const std::string& extra_config = "") {
    char dir[] = "/tmp/onedock-emu-XXXXXX";
    if (mkdtemp(dir) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = dir;
    std::ofstream(dir_ + "/oned.conf")
        << "PORT = 0\nONEADMIN_PASSWORD = \"" << kPassword << "\"\n"
        << "DS_MAD_CONF = [ NAME = \"onedock\", REQUIRED_ATTRS = \"\", PERSISTENT_ONLY = \"NO\" ]\n"
        << "TM_MAD_CONF = [ NAME = \"onedock\", LN_TARGET = \"NONE\", CLONE_TARGET = \"NONE\", "
           "SHARED = \"NO\" ]\n"
        << extra_config;
    const std::string conf = dir_ + "/oned.conf", port_file = dir_ + "/port";
    std::vector<const char*> argv = {ONEDOCK_EMULATOR_BIN, "--config",        conf.c_str(),
                                     "--port-file",        port_file.c_str(), nullptr};
    if (posix_spawn(&pid_, ONEDOCK_EMULATOR_BIN, nullptr, nullptr, const_cast<char**>(argv.data()),
                    environ) != 0) {
      throw std::runtime_error("cannot start the emulator");
    }
    for (int i = 0; i < 100 && port_ == 0; ++i) {
      std::ifstream in(port_file);
      if (!(in >> port_ >> monitord_port_)) {
        port_ = 0;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
    if (port_ == 0) throw std::runtime_error("the emulator did not report its port");
  }

  ~EmulatorProcess() {
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_) + "/RPC2"; }
  std::string session() const { return std::string("oneadmin:") + kPassword; }
  int monitord_port() const { return monitord_port_; }

  // Calls `method` with the session and `params`; returns the reply array.
  std::vector<xmlrpc_c::value> Call(const std::string& method,
                                    std::vector<xmlrpc_c::value> params) const {
    xmlrpc_c::clientXmlTransport_curl transport;
    xmlrpc_c::client_xml client(&transport);
    xmlrpc_c::paramList list;
    list.add(xmlrpc_c::value_string(session()));
    for (auto& p : params) list.add(p);
    xmlrpc_c::rpcPtr rpc(method, list);
    xmlrpc_c::carriageParm_curl0 carriage(endpoint());
    rpc->call(&client, &carriage);
    return xmlrpc_c::value_array(rpc->getResult()).vectorValueValue();
  }

  // Calls an allocate-like method and returns the new id, throwing on a failure reply.
  int Allocate(const std::string& method, std::vector<xmlrpc_c::value> params) const {
    auto reply = Call(method, std::move(params));
    if (!static_cast<bool>(xmlrpc_c::value_boolean(reply[0]))) {
      throw std::runtime_error(std::string(xmlrpc_c::value_string(reply[1])));
    }
    return xmlrpc_c::value_int(reply[1]);
  }

 private:
  std::string dir_;
  pid_t pid_ = -1;
  int port_ = 0;
  int monitord_port_ = 0;
};

}  // namespace onedock::testing

#endif  // ONEDOCK_TESTS_INTEGRATION_EMULATOR_PROCESS_H_
