// onedock-stub: what every driver script execs. Forwards its argv and stdin unchanged to
// onedockd's stub endpoint, prints the answer (stdout text, error text on stderr) and exits with
// the answer's code. While onedockd cannot be reached (restarting, say) it retries for
// retry_seconds, since every onedock action is idempotent.
//
//   onedock-stub <kind> <action> [argv…]     kind: vmm, tm, ds, im, vnm
//
// Configuration: $ONEDOCK_STUB_CONFIG, else <dir of this binary>/../etc/onedock/stub.conf.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>
#include <xmlrpc-c/base.hpp>
#include <xmlrpc-c/client.hpp>
#include <xmlrpc-c/girerr.hpp>

namespace {

constexpr char kMethod[] = "onedock.driver";

std::string Trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r");
  const auto e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

int Fail(const std::string& message) {
  std::cerr << "onedock-stub: " << message << "\n";
  return 1;
}

std::map<std::string, std::string> ReadConfig(const std::string& path, std::string* error) {
  std::map<std::string, std::string> out = {{"endpoint", "http://127.0.0.1:2640/RPC2"},
                                            {"token_file", "/var/lib/one/.onedock/stub_token"},
                                            {"retry_seconds", "300"},
                                            {"timeout_seconds", "900"}};
  std::ifstream in(path);
  if (!in) {
    *error = "cannot read " + path;
    return out;
  }
  std::string line;
  while (std::getline(in, line)) {
    line = Trim(line);
    if (line.empty() || line[0] == '#') continue;
    const auto eq = line.find('=');
    if (eq != std::string::npos) out[Trim(line.substr(0, eq))] = Trim(line.substr(eq + 1));
  }
  return out;
}

std::string ConfigPath() {
  if (const char* env = std::getenv("ONEDOCK_STUB_CONFIG"); env != nullptr && *env != '\0')
    return env;
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return (self.parent_path() / ".." / "etc" / "onedock" / "stub.conf").lexically_normal().string();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) return Fail("usage: onedock-stub <vmm|tm|ds|im|vnm> <action> [argv...]");
  const std::string kind = argv[1];
  const std::string action = argv[2];
  std::string error;
  const std::string config_path = ConfigPath();
  auto config = ReadConfig(config_path, &error);
  if (!error.empty()) return Fail(error);
  std::ifstream token_in(config["token_file"]);
  std::string token;
  if (!token_in || !std::getline(token_in, token) || Trim(token).empty()) {
    return Fail("cannot read the stub token from " + config["token_file"] + " (named in " +
                config_path + ")");
  }
  token = Trim(token);
  // TM actions get no stdin from oned (and may inherit one that never closes).
  std::string input;
  if (kind != "tm") {
    std::ostringstream buf;
    buf << std::cin.rdbuf();
    input = buf.str();
  }
  xmlrpc_c::paramList params;
  params.add(xmlrpc_c::value_string(token));
  params.add(xmlrpc_c::value_string(kind));
  params.add(xmlrpc_c::value_string(action));
  std::vector<xmlrpc_c::value> args;
  for (int i = 3; i < argc; ++i) args.push_back(xmlrpc_c::value_string(argv[i]));
  params.add(xmlrpc_c::value_array(args));
  params.add(xmlrpc_c::value_string(input));

  xmlrpc_limit_set(XMLRPC_XML_SIZE_LIMIT_ID, 64u << 20);
  const auto retry_for = std::chrono::seconds(std::stol(config["retry_seconds"]));
  const auto deadline = std::chrono::steady_clock::now() + retry_for;
  auto backoff = std::chrono::milliseconds(100);
  while (true) {
    try {
      xmlrpc_c::clientXmlTransport_curl transport(
          xmlrpc_c::clientXmlTransport_curl::constrOpt().timeout(
              std::stoul(config["timeout_seconds"]) * 1000));
      xmlrpc_c::client_xml client(&transport);
      xmlrpc_c::rpcPtr rpc(kMethod, params);
      xmlrpc_c::carriageParm_curl0 carriage(config["endpoint"]);
      rpc->call(&client, &carriage);
      if (!rpc->isSuccessful())
        return Fail("onedockd refused the call: " + rpc->getFault().getDescription());
      const std::vector<xmlrpc_c::value> answer =
          xmlrpc_c::value_array(rpc->getResult()).vectorValueValue();
      if (answer.size() != 3)
        return Fail("onedockd answered with " + std::to_string(answer.size()) + " items, not 3");
      const int code = xmlrpc_c::value_int(answer[0]);
      const std::string out = xmlrpc_c::value_string(answer[1]);
      const std::string err = xmlrpc_c::value_string(answer[2]);
      if (!out.empty()) std::cout << out << (out.back() == '\n' ? "" : "\n");
      if (!err.empty()) std::cerr << err << (err.back() == '\n' ? "" : "\n");
      return code;
    } catch (const girerr::error& e) {
      if (std::chrono::steady_clock::now() + backoff > deadline) {
        return Fail("onedockd at " + config["endpoint"] + " did not answer within " +
                    config["retry_seconds"] + " s: " + e.what());
      }
    } catch (const std::exception& e) {
      return Fail(std::string("bad answer from onedockd: ") + e.what());
    }
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
  }
}
