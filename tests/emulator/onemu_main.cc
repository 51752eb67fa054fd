// onemu: a tiny command line for the OpenNebula emulator (or any oned), for the demo and for
// people. Endpoint from $ONE_XMLRPC, session from $ONE_AUTH (or ~/.one/one_auth).
//
//   onemu host create NAME [IM_MAD VM_MAD]      onemu host status ID enable|disable|offline
//   onemu datastore create TEMPLATE             onemu image create DS_ID TEMPLATE
//   onemu vnet create TEMPLATE                  onemu vm create TEMPLATE
//   onemu vm deploy ID HOST_ID                  onemu vm action ACTION ID
//   onemu vm resize ID TEMPLATE                 onemu vm nic-attach ID TEMPLATE / nic-detach ID
//   NIC_ID onemu show vm|host|image|datastore|vnet ID  (the XML document) onemu list vm|host (one
//   line per object)
// TEMPLATE is OpenNebula template text, or @FILE to read it from a file.
#include <curl/curl.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>
#include <xmlrpc-c/base.hpp>
#include <xmlrpc-c/client.hpp>
#include <xmlrpc-c/girerr.hpp>

#include "rpc/one_client.h"
#include "rpc/one_parse.h"

namespace {

using xmlrpc_c::value;

const char* kVmStates[] = {"INIT",     "PENDING",    "HOLD",    "ACTIVE",
                           "STOPPED",  "SUSPENDED",  "DONE",    "FAILED",
                           "POWEROFF", "UNDEPLOYED", "CLONING", "CLONING_FAILURE"};
const std::map<int, const char*> kLcmNames = {{0, "LCM_INIT"},
                                              {1, "PROLOG"},
                                              {2, "BOOT"},
                                              {3, "RUNNING"},
                                              {11, "EPILOG"},
                                              {12, "SHUTDOWN"},
                                              {16, "UNKNOWN"},
                                              {18, "SHUTDOWN_POWEROFF"},
                                              {20, "BOOT_POWEROFF"},
                                              {23, "CLEANUP_DELETE"},
                                              {25, "HOTPLUG_NIC"},
                                              {36, "BOOT_FAILURE"},
                                              {39, "PROLOG_FAILURE"},
                                              {40, "EPILOG_FAILURE"},
                                              {65, "HOTPLUG_NIC_POWEROFF"},
                                              {66, "HOTPLUG_RESIZE"}};
const char* kHostStates[] = {"INIT", "MONITORING", "MONITORED", "ERROR",  "DISABLED",
                             "",     "",           "",          "OFFLINE"};

std::string Text(const std::string& arg) {
  if (arg.empty() || arg[0] != '@') return arg;
  std::ifstream in(arg.substr(1));
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class Cli {
 public:
  explicit Cli(onedock::rpc::OneEndpoint e) : endpoint_(std::move(e)) {}

  // Returns element 1 of a successful reply; prints oned's message and exits 1 otherwise.
  value Call(const std::string& method, std::vector<value> params) {
    xmlrpc_c::clientXmlTransport_curl transport;
    xmlrpc_c::client_xml client(&transport);
    xmlrpc_c::paramList list;
    list.add(xmlrpc_c::value_string(endpoint_.session));
    for (auto& p : params) list.add(p);
    try {
      xmlrpc_c::rpcPtr rpc(method, list);
      xmlrpc_c::carriageParm_curl0 carriage(endpoint_.endpoint);
      rpc->call(&client, &carriage);
      auto reply = xmlrpc_c::value_array(rpc->getResult()).vectorValueValue();
      if (!static_cast<bool>(xmlrpc_c::value_boolean(reply[0]))) {
        std::fprintf(stderr, "%s\n", std::string(xmlrpc_c::value_string(reply[1])).c_str());
        std::exit(1);
      }
      return reply[1];
    } catch (const girerr::error& e) {
      std::fprintf(stderr, "%s: %s\n", method.c_str(), e.what());
      std::exit(1);
    }
  }
  int Id(const std::string& method, std::vector<value> params) {
    const int id = xmlrpc_c::value_int(Call(method, std::move(params)));
    std::printf("ID: %d\n", id);
    return 0;
  }

 private:
  onedock::rpc::OneEndpoint endpoint_;
};

value S(const std::string& s) { return xmlrpc_c::value_string(s); }
value I(const std::string& s) { return xmlrpc_c::value_int(std::stoi(s)); }

int Usage() {
  std::fprintf(stderr,
               "usage: onemu host|datastore|image|vnet|vm|show|list … (see the source header)\n");
  return 2;
}

int Run(Cli& cli, const std::vector<std::string>& a) {
  auto need = [&a](size_t n) { return a.size() >= n; };
  if (!need(2)) return Usage();
  const std::string& noun = a[0];
  const std::string& verb = a[1];
  if (noun == "host" && verb == "create" && need(3)) {
    return cli.Id("one.host.allocate", {S(a[2]), S(need(4) ? a[3] : "onedock"),
                                        S(need(5) ? a[4] : "onedock"), xmlrpc_c::value_int(-1)});
  }
  if (noun == "host" && verb == "status" && need(4)) {
    const std::map<std::string, int> codes = {{"enable", 0}, {"disable", 1}, {"offline", 2}};
    if (!codes.count(a[3])) return Usage();
    return cli.Id("one.host.status", {I(a[2]), xmlrpc_c::value_int(codes.at(a[3]))});
  }
  if (noun == "datastore" && verb == "create" && need(3)) {
    return cli.Id("one.datastore.allocate", {S(Text(a[2])), xmlrpc_c::value_int(-1)});
  }
  if (noun == "image" && verb == "create" && need(4))
    return cli.Id("one.image.allocate", {S(Text(a[3])), I(a[2])});
  if (noun == "vnet" && verb == "create" && need(3)) {
    return cli.Id("one.vn.allocate", {S(Text(a[2])), xmlrpc_c::value_int(-1)});
  }
  if (noun == "vm" && verb == "create" && need(3))
    return cli.Id("one.vm.allocate", {S(Text(a[2]))});
  if (noun == "vm" && verb == "deploy" && need(4))
    return cli.Id("one.vm.deploy", {I(a[2]), I(a[3])});
  if (noun == "vm" && verb == "action" && need(4))
    return cli.Id("one.vm.action", {S(a[2]), I(a[3])});
  if (noun == "vm" && verb == "resize" && need(4)) {
    return cli.Id("one.vm.resize", {I(a[2]), S(Text(a[3])), xmlrpc_c::value_boolean(true)});
  }
  if (noun == "vm" && verb == "nic-attach" && need(4))
    return cli.Id("one.vm.attachnic", {I(a[2]), S(Text(a[3]))});
  if (noun == "vm" && verb == "nic-detach" && need(4))
    return cli.Id("one.vm.detachnic", {I(a[2]), I(a[3])});
  if (noun == "show" && need(3)) {
    const std::map<std::string, std::string> methods = {{"vm", "one.vm.info"},
                                                        {"host", "one.host.info"},
                                                        {"image", "one.image.info"},
                                                        {"datastore", "one.datastore.info"},
                                                        {"vnet", "one.vn.info"}};
    if (!methods.count(verb)) return Usage();
    std::printf("%s\n",
                std::string(xmlrpc_c::value_string(cli.Call(methods.at(verb), {I(a[2])}))).c_str());
    return 0;
  }
  if (noun == "list" && verb == "vm") {
    auto vms = onedock::rpc::ParseVmPoolXml(std::string(xmlrpc_c::value_string(
        cli.Call("one.vmpool.infoextended", {xmlrpc_c::value_int(-2), xmlrpc_c::value_int(-1),
                                             xmlrpc_c::value_int(-1), xmlrpc_c::value_int(-1)}))));
    if (!vms.ok()) return std::fprintf(stderr, "%s\n", vms.status().ToString().c_str()), 1;
    std::printf("%-4s %-14s %-10s %-20s %-10s %-12s %s\n", "ID", "NAME", "STATE", "LCM_STATE",
                "HOST", "DEPLOY_ID", "IPS");
    for (const auto& vm : *vms) {
      std::string ips;
      for (const auto& n : vm.nics) ips += (ips.empty() ? "" : ",") + n.ip;
      auto lcm = kLcmNames.find(vm.lcm_state);
      std::printf("%-4d %-14s %-10s %-20s %-10s %-12s %s\n", vm.id, vm.name.c_str(),
                  vm.state >= 0 && vm.state <= 11 ? kVmStates[vm.state] : "?",
                  lcm != kLcmNames.end() ? lcm->second : std::to_string(vm.lcm_state).c_str(),
                  vm.CurrentHistory() ? vm.CurrentHistory()->hostname.c_str() : "-",
                  vm.deploy_id.c_str(), ips.c_str());
    }
    return 0;
  }
  if (noun == "list" && verb == "host") {
    auto hosts = onedock::rpc::ParseHostPoolXml(
        std::string(xmlrpc_c::value_string(cli.Call("one.hostpool.info", {}))));
    if (!hosts.ok()) return std::fprintf(stderr, "%s\n", hosts.status().ToString().c_str()), 1;
    std::printf("%-4s %-14s %-10s %-8s %-12s %s\n", "ID", "NAME", "STATE", "TOTALCPU",
                "TOTALMEM_KB", "VMS");
    for (const auto& h : *hosts) {
      std::printf("%-4d %-14s %-10s %-8lld %-12lld %zu\n", h.id, h.name.c_str(),
                  h.state >= 0 && h.state <= 8 ? kHostStates[h.state] : "?",
                  static_cast<long long>(h.total_cpu), static_cast<long long>(h.total_mem),
                  h.vm_ids.size());
    }
    return 0;
  }
  return Usage();
}

}  // namespace

int main(int argc, char** argv) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  auto endpoint = onedock::rpc::ResolveOneEndpoint("", "");
  if (!endpoint.ok()) {
    std::fprintf(stderr, "onemu: %s\n", endpoint.status().ToString().c_str());
    return 1;
  }
  Cli cli(*endpoint);
  const int rc = Run(cli, std::vector<std::string>(argv + 1, argv + argc));
  curl_global_cleanup();
  return rc;
}
