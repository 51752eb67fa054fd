// The stub endpoint's request limit against the largest documents a real oned passes: a VM with
// 32 NICs, 16 disks and a 16 KB start script is deployed through the real scripts and onedock-stub
// (onedock refuses two NICs on one network, which is how the deploy ends; what counts is that the
// request reached it), and its document is measured against [stub] max_request_bytes.
#include <chrono>
#include <thread>

#include "bridge/base64.h"
#include "rpc/stub_server.h"
#include "tests/e2e/world.h"

namespace onedock::e2e {

TEST_CASE("a VM with 32 NICs, 16 disks and a 16 KB start script passes the stub endpoint") {
  World w;
  std::string extra;
  for (int i = 1; i < 32; ++i)
    extra += "NIC = [ NETWORK_ID = " + std::to_string(w.vnet(i % 2)) + " ]\n";
  for (int i = 1; i < 16; ++i) extra += "DISK = [ TYPE = fs, SIZE = 1 ]\n";
  std::string script = "#!/bin/sh\ntrue\n";
  while (script.size() < 12 * 1024) script += "# padding of a start script of some size\n";
  const std::string context = ", START_SCRIPT_BASE64 = \"" + Base64Encode(script) + "\"";
  const int vm = w.CreateVm("big", 0.1, 64, extra, context);
  w.Deploy(vm, "h1");
  // The deploy reaches onedockd's actions: it runs, or fails for a reason of onedock's own, never
  // for the endpoint's limits.
  Vm info;
  for (int i = 0; i < 240; ++i) {
    info = w.Info(vm);
    if (info.lcm_state == 3 || info.lcm_state == 36 || info.state != 3) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  const auto error = info.user_template.find("ERROR");
  const std::string why = error == info.user_template.end() ? "" : error->second;
  INFO("state " << info.state << "/" << info.lcm_state << "; ERROR: " << why);
  CHECK((info.lcm_state == 3 || info.lcm_state == 36));
  CHECK(why.find("refused the call") == std::string::npos);
  CHECK(why.find("max_request_bytes") == std::string::npos);
  CHECK(info.nics.size() == 32);
  CHECK(info.disks.size() == 16);

  // Measured after the deploy, with its history record.
  const std::string xml = xmlrpc_c::value_string(w.Call("one.vm.info", {xmlrpc_c::value_int(vm)}));
  // What the deploy script gets on stdin: VMM_DRIVER_ACTION_DATA (about 300 bytes around the VM
  // document) in base64, inside the envelope.
  const size_t stdin_bytes = (xml.size() + 300 + 2) / 3 * 4;
  MESSAGE("VM document " << xml.size() << " bytes; deploy stdin about " << stdin_bytes
                         << " bytes; limit " << rpc::kDefaultStubRequestBytes);
  CHECK(stdin_bytes * 10 < rpc::kDefaultStubRequestBytes);
}

}  // namespace onedock::e2e
