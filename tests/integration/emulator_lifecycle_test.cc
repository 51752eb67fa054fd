// The emulator's life cycle with a trivial recording shell driver: deploy, poweroff, resume,
// reboot, reset, poweroff-hard and terminate reproduce the argv and the decoded stdin shape that a
// real oned 7.4 gave drivers (tests/fixtures/captures); failures end in the states and error
// messages oned shows.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <thread>

#include "bridge/base64.h"
#include "rpc/one_client.h"
#include "rpc/monitord_message.h"
#include "rpc/one_parse.h"
#include "rpc/xml_node.h"
#include "tests/integration/emulator_process.h"
#include "tests/unit/fixtures.h"

namespace onedock::rpc {
namespace {

namespace fs = std::filesystem;
using testing::EmulatorProcess;

const char* kRecorder = R"SH(#!/bin/sh
# Records argv and stdin of each call, then answers like a driver would.
root=$(cd "$(dirname "$0")/../../.." && pwd)
rec="$root/records/$(date +%s%N).$(basename "$0")"
{ printf '%s\n' "$0"; for a in "$@"; do printf '%s\n' "$a"; done; } > "$rec.argv"
cat > "$rec.stdin"
case "$(basename "$0")" in
  deploy)
    if [ -e "$root/fail-deploy" ]; then
      echo "ERROR: recorder: simulated deploy failure" >&2
      echo "simulated deploy failure detail" >&2
      exit 1
    fi
    [ -e "$root/empty-deploy-id" ] || echo "one-$3" ;;
  shutdown)
    if [ -e "$root/fail-shutdown" ]; then echo "simulated shutdown failure" >&2; exit 1; fi ;;
esac
exit 0
)SH";

struct Recorded {
  std::string script;  // vmm/onedock/deploy
  std::vector<std::string> args;
  std::string stdin_text;
};

class Bed {
 public:
  explicit Bed(const std::string& extra_config = "") : root_(MakeRoot()), emu_(Config(root_) + extra_config) {
    client_ = std::make_unique<XmlRpcOneClient>(OneEndpoint{emu_.endpoint(), emu_.session()});
    auto s = [](const std::string& v) { return xmlrpc_c::value(xmlrpc_c::value_string(v)); };
    auto i = [](int v) { return xmlrpc_c::value(xmlrpc_c::value_int(v)); };
    host_ = emu_.Allocate("one.host.allocate", {s("onedock-host"), s("onedock"), s("onedock"), i(-1)});
    sys_ds_ = emu_.Allocate("one.datastore.allocate", {s("NAME = sys\nTYPE = SYSTEM_DS\nTM_MAD = onedock"), i(-1)});
    img_ds_ = emu_.Allocate("one.datastore.allocate", {s("NAME = img\nDS_MAD = onedock\nTM_MAD = onedock"), i(-1)});
    // With a SOURCE, oned registers the image READY without running the datastore's cp.
    image_ = emu_.Allocate("one.image.allocate",
                           {s("NAME = busybox\nSOURCE = docker://busybox:latest\nFORMAT = docker"), i(img_ds_)});
  }
  ~Bed() { fs::remove_all(root_); }

  int NewVm() {
    return emu_.Allocate("one.vm.allocate",
                         {xmlrpc_c::value_string("NAME = odvm\nCPU = 0.1\nMEMORY = 64\nDISK = [ IMAGE_ID = " +
                                                 std::to_string(image_) +
                                                 " ]\nCONTEXT = [ NETWORK = YES, SET_HOSTNAME = odvm ]")});
  }
  void Deploy(int vm) {
    auto reply = emu_.Call("one.vm.deploy", {xmlrpc_c::value_int(vm), xmlrpc_c::value_int(host_)});
    REQUIRE(static_cast<bool>(xmlrpc_c::value_boolean(reply[0])));
  }
  void Action(const std::string& action, int vm) {
    auto reply = emu_.Call("one.vm.action", {xmlrpc_c::value_string(action), xmlrpc_c::value_int(vm)});
    REQUIRE_MESSAGE(static_cast<bool>(xmlrpc_c::value_boolean(reply[0])),
                    std::string(xmlrpc_c::value_string(reply[1])));
  }
  // Waits (bounded) until the VM reaches state/lcm_state; returns the VM.
  Vm WaitFor(int vm, int state, int lcm) {
    Result<Vm> info = NotFound("not read");
    for (int n = 0; n < 200; ++n) {
      info = client_->VmInfo(vm);
      if (info.ok() && info->state == state && info->lcm_state == lcm) return *info;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    REQUIRE_MESSAGE(info.ok(), info.status().ToString());
    FAIL("VM " << vm << " is " << info->state << "/" << info->lcm_state << ", expected " << state << "/" << lcm);
    return *info;
  }
  // Every driver call so far, in order.
  std::vector<Recorded> Calls() const {
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(root_ + "/records")) {
      if (e.path().extension() == ".argv") files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    std::vector<Recorded> out;
    for (const auto& f : files) {
      std::ifstream in(f);
      Recorded r;
      std::string line;
      std::getline(in, line);
      r.script = line.substr(root_.size() + std::string("/remotes/").size());
      while (std::getline(in, line)) r.args.push_back(line);
      std::ifstream sin(f.parent_path() / (f.stem().string() + ".stdin"));
      std::stringstream ss;
      ss << sin.rdbuf();
      r.stdin_text = ss.str();
      out.push_back(r);
    }
    return out;
  }
  // The code and message of a refused one.vm.action.
  std::pair<int, std::string> Refusal(const std::string& action, int vm) {
    auto reply = emu_.Call("one.vm.action", {xmlrpc_c::value_string(action), xmlrpc_c::value_int(vm)});
    REQUIRE_FALSE(static_cast<bool>(xmlrpc_c::value_boolean(reply[0])));
    return {static_cast<int>(xmlrpc_c::value_int(reply[2])), std::string(xmlrpc_c::value_string(reply[1]))};
  }
  void Touch(const std::string& name) { std::ofstream(root_ + "/" + name); }
  void Forget() {
    fs::remove_all(root_ + "/records");
    fs::create_directories(root_ + "/records");
  }
  const std::string& root() const { return root_; }
  int host() const { return host_; }
  int monitord_port() const { return emu_.monitord_port(); }
  XmlRpcOneClient& client() { return *client_; }

 private:
  static std::string MakeRoot() {
    char dir[] = "/tmp/onedock-life-XXXXXX";
    REQUIRE(mkdtemp(dir) != nullptr);
    const std::string root = dir;
    fs::create_directories(root + "/records");
    for (const char* d : {"vmm/onedock", "tm/onedock"}) fs::create_directories(root + "/remotes/" + d);
    auto install = [&root](const std::string& path) {
      std::ofstream(root + "/remotes/" + path) << kRecorder;
      chmod((root + "/remotes/" + path).c_str(), 0755);
    };
    for (const char* a : {"deploy", "shutdown", "cancel", "reboot", "reset"}) install(std::string("vmm/onedock/") + a);
    for (const char* a : {"clone", "ln", "context", "delete"}) install(std::string("tm/onedock/") + a);
    return root;
  }
  static std::string Config(const std::string& root) {
    return "REMOTES_DIR = \"" + root + "/remotes\"\nVMS_LOCATION = \"" + root + "/vms\"\n" +
           "DATASTORE_LOCATION = \"" + root + "/datastores\"\n" +
           "VM_MAD = [ NAME = \"onedock\", EXECUTABLE = \"one_vmm_exec\", TYPE = \"xml\",\n"
           "  ARGUMENTS = \"-t 15 -r 0 -l deploy,shutdown,reboot,reset,cancel,save,restore onedock\" ]\n"
           "TM_MAD = [ EXECUTABLE = \"one_tm\", ARGUMENTS = \"-t 15 -d dummy,onedock\" ]\n";
  }

  std::string root_;
  EmulatorProcess emu_;
  std::unique_ptr<XmlRpcOneClient> client_;
  int host_, sys_ds_, img_ds_, image_;
};

// The argv of one captured call, with the capture's host, VM id, deploy id and paths replaced by
// placeholders.
std::string Shape(std::vector<std::string> args, const std::map<std::string, std::string>& values) {
  for (auto& a : args) {
    for (const auto& [value, placeholder] : values) {
      for (size_t pos; !value.empty() && (pos = a.find(value)) != std::string::npos;) a.replace(pos, value.size(), placeholder);
    }
    if (a.find_first_not_of("0123456789") == std::string::npos) a = "<N>";
    a = std::regex_replace(a, std::regex(R"(/\d+(?=/|$))"), "/<N>");
  }
  std::string joined;
  for (const auto& a : args) joined += "[" + a + "] ";
  return joined;
}

std::vector<std::string> CapturedArgv(const std::string& file, int index = 0) {
  std::ifstream in(std::string(ONEDOCK_FIXTURES_DIR) + "/captures/" + file);
  std::vector<std::string> args;
  std::string line;
  int seen = -1;
  while (std::getline(in, line)) {
    if (line.rfind("# capture:", 0) == 0) ++seen;
    if (seen == index && line.rfind("ARGV[", 0) == 0) args.push_back(line.substr(line.find(": ") + 2));
    if (seen > index) break;
  }
  return args;
}

const std::map<std::string, std::string> kCaptureValues = {
    {"/opt/one/var//datastores", "<DS>"}, {"/opt/one/var/vms", "<VMS>"},
    {"onedock-host", "<HOST>"}, {"onedock-1", "<DEPLOY_ID>"}};

std::vector<std::string> ChildNames(const std::string& base64_stdin) {
  auto xml = Base64Decode(base64_stdin);
  REQUIRE_MESSAGE(xml.ok(), xml.status().ToString());
  auto doc = ParseXml(*xml);
  REQUIRE_MESSAGE(doc.ok(), doc.status().ToString());
  std::vector<std::string> names = {doc->name};
  for (const auto& c : doc->children) names.push_back(c.name);
  return names;
}

void Send(int type, int port, const std::string& wire) {
  int fd = socket(AF_INET, type, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (type == SOCK_DGRAM) {
    sendto(fd, wire.data(), wire.size(), 0, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  } else {
    REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(send(fd, wire.data(), wire.size(), 0) == static_cast<ssize_t>(wire.size()));
  }
  close(fd);
}

std::string Wire(const std::string& type, int host, int64_t ts, const std::string& payload, bool ok = true) {
  return EncodeMonitordMessage({type, ok, host, ts, payload});
}

}  // namespace

TEST_CASE("lifecycle: deploy poweroff resume reboot reset cancel and terminate as oned runs them") {
  Bed bed;
  const int vm = bed.NewVm();
  bed.Deploy(vm);
  Vm running = bed.WaitFor(vm, 3, 3);
  CHECK(running.deploy_id == "one-" + std::to_string(vm));
  const std::map<std::string, std::string> ours = {
      {bed.root() + "/datastores", "<DS>"}, {bed.root() + "/vms", "<VMS>"},
      {"onedock-host", "<HOST>"}, {running.deploy_id, "<DEPLOY_ID>"}};
  auto same_shape = [&](const Recorded& call, const std::string& capture, int index = 0) {
    CHECK(Shape(call.args, ours) == Shape(CapturedArgv(capture, index), kCaptureValues));
    if (!call.stdin_text.empty()) {
      CHECK(ChildNames(call.stdin_text) == ChildNames(fixtures::CapturedStdin(capture, index)));
    }
  };

  auto calls = bed.Calls();
  REQUIRE(calls.size() == 3);  // TM clone, TM context, VMM deploy
  CHECK(calls[0].script == "tm/onedock/clone");
  same_shape(calls[0], "tm-clone.txt");
  CHECK(calls[1].script == "tm/onedock/context");
  same_shape(calls[1], "tm-context.txt");
  CHECK(calls[2].script == "vmm/onedock/deploy");
  same_shape(calls[2], "vmm-deploy.txt");
  CHECK(calls[2].args[0] == bed.root() + "/vms/" + std::to_string(vm) + "/deployment.0");
  // The deployment file holds the same VM document as stdin (TYPE = "xml").
  std::ifstream dfile(calls[2].args[0]);
  std::stringstream dtext;
  dtext << dfile.rdbuf();
  CHECK(*Base64Decode(calls[2].stdin_text) == dtext.str());
  CHECK(ParseVmXml(dtext.str())->context.at("SET_HOSTNAME") == "odvm");

  bed.Forget();
  bed.Action("poweroff", vm);
  bed.WaitFor(vm, 8, 0);
  bed.Action("resume", vm);
  Vm resumed = bed.WaitFor(vm, 3, 3);
  CHECK(resumed.CurrentHistory()->seq == 1);
  calls = bed.Calls();
  REQUIRE(calls.size() == 3);  // VMM shutdown, TM context, VMM deploy (deployment.1)
  CHECK(calls[0].script == "vmm/onedock/shutdown");
  same_shape(calls[0], "vmm-shutdown.txt");
  CHECK(calls[1].script == "tm/onedock/context");
  CHECK(calls[2].script == "vmm/onedock/deploy");
  same_shape(calls[2], "vmm-deploy.txt", 1);
  CHECK(ParseVmXml(*Base64Decode(calls[2].stdin_text))->deploy_id == running.deploy_id);

  bed.Forget();
  bed.Action("reboot", vm);
  bed.Action("reboot-hard", vm);
  for (int n = 0; n < 100 && bed.Calls().size() < 2; ++n) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  calls = bed.Calls();
  REQUIRE(calls.size() == 2);
  std::sort(calls.begin(), calls.end(), [](const Recorded& a, const Recorded& b) { return a.script < b.script; });
  CHECK(calls[0].script == "vmm/onedock/reboot");
  same_shape(calls[0], "vmm-reboot.txt");
  CHECK(calls[1].script == "vmm/onedock/reset");
  same_shape(calls[1], "vmm-reset.txt");
  bed.WaitFor(vm, 3, 3);

  bed.Forget();
  bed.Action("poweroff-hard", vm);
  bed.WaitFor(vm, 8, 0);
  calls = bed.Calls();
  REQUIRE(calls.size() == 1);
  CHECK(calls[0].script == "vmm/onedock/cancel");
  same_shape(calls[0], "vmm-cancel.txt");

  bed.Forget();
  bed.Action("resume", vm);
  bed.WaitFor(vm, 3, 3);
  bed.Forget();
  bed.Action("terminate", vm);
  bed.WaitFor(vm, 6, 0);
  calls = bed.Calls();
  REQUIRE(calls.size() == 3);  // VMM shutdown, TM delete disk.0, TM delete system dir
  CHECK(calls[0].script == "vmm/onedock/shutdown");
  CHECK(calls[1].script == "tm/onedock/delete");
  same_shape(calls[1], "tm-delete.txt", 0);
  CHECK(calls[2].script == "tm/onedock/delete");
  CHECK(Shape(calls[2].args, ours) ==
        "[<HOST>:<DS>/<N>/<N>] [<N>] [<N>] ");
}

TEST_CASE("lifecycle: a failing deploy ends in BOOT_FAILURE with the plain stderr as the error") {
  Bed bed;
  bed.Touch("fail-deploy");
  const int vm = bed.NewVm();
  bed.Deploy(vm);
  Vm failed = bed.WaitFor(vm, 3, 36);
  const std::string error = failed.user_template.at("ERROR");
  INFO(error);
  CHECK(error.find("DEPLOY: simulated deploy failure detail") != std::string::npos);
  CHECK(error.find("ERROR:") == std::string::npos);  // log lines are not the message

  // terminate from BOOT_FAILURE cleans up through the TM.
  bed.Forget();
  bed.Action("terminate", vm);
  bed.WaitFor(vm, 6, 0);
  auto calls = bed.Calls();
  REQUIRE_FALSE(calls.empty());
  CHECK(calls.back().script == "tm/onedock/delete");
}

TEST_CASE("lifecycle: an empty deploy id is a failure and a failing shutdown leaves the VM RUNNING") {
  Bed bed;
  bed.Touch("empty-deploy-id");
  const int first = bed.NewVm();
  bed.Deploy(first);
  Vm failed = bed.WaitFor(first, 3, 36);
  CHECK(failed.user_template.at("ERROR").find("Empty deploy ID") != std::string::npos);

  std::filesystem::remove(bed.root() + "/empty-deploy-id");
  bed.Touch("fail-shutdown");
  const int second = bed.NewVm();
  bed.Deploy(second);
  bed.WaitFor(second, 3, 3);
  bed.Action("poweroff", second);
  Vm still = bed.WaitFor(second, 3, 3);
  CHECK(still.user_template.at("ERROR").find("SHUTDOWN: simulated shutdown failure") != std::string::npos);
}

TEST_CASE("lifecycle: actions outside their states are refused with ACTION") {
  Bed bed;
  const int vm = bed.NewVm();
  for (const char* action : {"poweroff", "resume", "reboot", "release"}) {
    CAPTURE(action);
    auto reply = bed.Refusal(action, vm);
    CHECK(reply.first == 0x0800);
    CHECK(reply.second.find("[one.vm.action] ") == 0);
  }
  CHECK(bed.Refusal("undeploy", vm).second.find("not supported by the emulator") != std::string::npos);
  CHECK(bed.client().VmInfo(vm)->state == kVmPending);
  CHECK(bed.Calls().empty());
}

}  // namespace onedock::rpc

namespace onedock::rpc {

TEST_CASE("monitord: SYSTEM_HOST MONITOR_VM STATE_VM failures stale and malformed messages") {
  Bed bed("STATE_VM_GUARD = 0\n");
  const int port = bed.monitord_port();
  const int host = bed.host();
  CHECK(bed.client().HostInfo(host)->state == kHostInit);

  Send(SOCK_DGRAM, port, Wire("SYSTEM_HOST", host, 100,
                              "HYPERVISOR=docker\nTOTALCPU=200\nTOTALMEMORY=24683620\nDS_LOCATION_FREE_MB=80000\n"));
  Host monitored;
  for (int n = 0; n < 100; ++n) {
    monitored = *bed.client().HostInfo(host);
    if (monitored.state == kHostMonitored) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(monitored.state == kHostMonitored);
  CHECK(monitored.total_cpu == 200);
  CHECK(monitored.total_mem == 24683620);
  CHECK(monitored.free_disk_mb == 80000);
  CHECK(monitored.template_attributes.at("HYPERVISOR") == "docker");
  CHECK(monitored.template_attributes.count("DS_LOCATION_FREE_MB") == 0);

  const int vm = bed.NewVm();
  bed.Deploy(vm);
  bed.WaitFor(vm, 3, 3);

  // MONITOR_VM over UDP fills the VM's monitoring.
  const std::string record = Base64Encode("CPU=\"1.5\"\nMEMORY=\"65536\"\nNETRX=\"10\"\n");
  Send(SOCK_DGRAM, port, Wire("MONITOR_VM", host, 101,
                              "VM = [ ID=\"" + std::to_string(vm) + "\", DEPLOY_ID=\"one-" + std::to_string(vm) +
                                  "\", MONITOR=\"" + record + "\" ]\n"));
  // A malformed message and garbage are dropped without harm.
  Send(SOCK_DGRAM, port, "MONITOR_VM SUCCESS " + std::to_string(host) + " 102 !!!not-base64");
  Send(SOCK_STREAM, port, "complete garbage");
  Send(SOCK_STREAM, port, Wire("STATE_VM", host, 103, "VM = [ ID=\"unterminated"));
  Vm monitored_vm;
  for (int n = 0; n < 100; ++n) {
    monitored_vm = *bed.client().VmInfo(vm);
    if (monitored_vm.monitoring.count("CPU")) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(monitored_vm.monitoring["CPU"] == "1.5");
  CHECK(monitored_vm.monitoring["MEMORY"] == "65536");
  CHECK(bed.client().VmInfo(vm)->state == kVmActive);

  // STATE_VM over TCP: the container died -> POWEROFF.
  Send(SOCK_STREAM, port, Wire("STATE_VM", host, 110,
                               "VM = [ ID=\"" + std::to_string(vm) + "\", DEPLOY_ID=\"one-" + std::to_string(vm) +
                                   "\", STATE=\"POWEROFF\" ]\n"));
  bed.WaitFor(vm, 8, 0);
  // A stale STATE_VM (older timestamp) is dropped: the VM stays POWEROFF.
  Send(SOCK_STREAM, port, Wire("STATE_VM", host, 105,
                               "VM = [ ID=\"" + std::to_string(vm) + "\", STATE=\"RUNNING\" ]\n"));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK(bed.client().VmInfo(vm)->state == kVmPoweroff);
  // A newer RUNNING report brings it back ("found again").
  Send(SOCK_STREAM, port, Wire("STATE_VM", host, 111,
                               "VM = [ ID=\"" + std::to_string(vm) + "\", STATE=\"RUNNING\" ]\n"));
  bed.WaitFor(vm, 3, 3);

  // A failing host probe puts the host in ERROR and its running VMs in UNKNOWN.
  Send(SOCK_DGRAM, port, Wire("MONITOR_HOST", host, 120, "engine unreachable", false));
  bed.WaitFor(vm, 3, 16);
  CHECK(bed.client().HostInfo(host)->state == kHostError);
  // SYSTEM_HOST brings the host back; a RUNNING report brings the VM back without a redeploy.
  bed.Forget();
  Send(SOCK_DGRAM, port, Wire("SYSTEM_HOST", host, 121, "TOTALCPU=200\nTOTALMEMORY=24683620\n"));
  Send(SOCK_STREAM, port, Wire("STATE_VM", host, 122,
                               "SYNC_STATE=yes\nMISSING_STATE=POWEROFF\nVM = [ ID=\"" + std::to_string(vm) +
                                   "\", STATE=\"RUNNING\" ]\n"));
  bed.WaitFor(vm, 3, 3);
  CHECK(bed.client().HostInfo(host)->state == kHostMonitored);
  CHECK(bed.Calls().empty());  // no driver ran
  // SYNC_STATE with the VM missing applies MISSING_STATE.
  Send(SOCK_STREAM, port, Wire("STATE_VM", host, 130, "SYNC_STATE=yes\nMISSING_STATE=POWEROFF\n"));
  bed.WaitFor(vm, 8, 0);
  // Messages for unknown hosts are ignored.
  Send(SOCK_DGRAM, port, Wire("SYSTEM_HOST", 99, 1, "TOTALCPU=1\n"));
  CHECK(bed.client().HostPool()->size() == 1);
}

TEST_CASE("monitord: STATE_VM is ignored inside the guard after a VM starts running") {
  Bed bed("STATE_VM_GUARD = 30\n");
  const int vm = bed.NewVm();
  bed.Deploy(vm);
  bed.WaitFor(vm, 3, 3);
  Send(SOCK_STREAM, bed.monitord_port(), Wire("STATE_VM", bed.host(), 10,
                                              "VM = [ ID=\"" + std::to_string(vm) + "\", STATE=\"POWEROFF\" ]\n"));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK(bed.client().VmInfo(vm)->state == kVmActive);
}

}  // namespace onedock::rpc
