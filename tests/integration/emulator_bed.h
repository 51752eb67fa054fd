// A test world around the OpenNebula emulator with recording shell drivers: every VMM, TM,
// datastore and IM script records its argv and stdin under <root>/records and answers like a
// driver would; marker files under <root> make chosen calls fail. Helpers compare recorded calls
// with the captures of a real oned 7.4 and send monitord messages.
#ifndef ONEDOCK_TESTS_INTEGRATION_EMULATOR_BED_H_
#define ONEDOCK_TESTS_INTEGRATION_EMULATOR_BED_H_

#include <arpa/inet.h>
#include <doctest/doctest.h>
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
#include "rpc/monitord_message.h"
#include "rpc/one_client.h"
#include "rpc/one_parse.h"
#include "rpc/xml_node.h"
#include "tests/integration/emulator_process.h"
#include "tests/unit/fixtures.h"

namespace onedock::rpc::emulator_bed {

using namespace onedock::rpc;  // NOLINT: test helper

namespace fs = std::filesystem;
using testing::EmulatorProcess;

inline const char* kRecorder = R"SH(#!/bin/sh
# Records argv and stdin of each call, then answers like a driver would.
# A call that comes after its test removed the directory has nowhere to record: it ends at once
# (dirname of an empty root would be "." for ever).
root=$(cd "$(dirname "$0")" && pwd) || exit 1
while [ ! -d "$root/records" ] && [ "$root" != / ]; do root=$(dirname "$root"); done
[ -d "$root/records" ] || exit 1
rec="$root/records/$(date +%s%N).$(basename "$0")"
{ printf '%s\n' "$0"; for a in "$@"; do printf '%s\n' "$a"; done; } > "$rec.argv"
cat > "$rec.stdin"
case "$0" in
  */datastore/*/clone) echo "127.0.0.1:5000/clone:$1 docker"; exit 0 ;;
esac
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
  stat) echo 5 ;;
  snapshot_create) echo "snap-$2" ;;
  clone)
    if [ -e "$root/fail-clone" ]; then echo "image not in the private registry" >&2; exit 1; fi ;;
  cp)
    if [ -e "$root/fail-cp" ]; then echo "registry refused: manifest unknown" >&2; exit 1; fi
    echo "127.0.0.1:5000/img:$1 docker" ;;
  mkfs) echo "onedock-volume://$1" ;;
  monitord-client_control.sh)
    [ "$1" = stop ] && exit 0
    [ -e "$root/im-silent" ] && exit 0
    if [ -e "$root/im-system" ]; then
      sys=$(printf 'HYPERVISOR=docker\nTOTALCPU=200\nTOTALMEMORY=2000000\nDS_LOCATION_FREE_MB=5000\n' | base64 -w0)
      echo "<MONITOR_MESSAGES><SYSTEM_HOST>$sys</SYSTEM_HOST><TIMESTAMP>$(date +%s)</TIMESTAMP></MONITOR_MESSAGES>"
    else
      echo "<MONITOR_MESSAGES></MONITOR_MESSAGES>"
    fi ;;
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
  explicit Bed(const std::string& extra_config = "", const std::vector<std::string>& markers = {})
      : root_(MakeRoot(markers)), emu_(Config(root_) + extra_config) {
    client_ = std::make_unique<XmlRpcOneClient>(OneEndpoint{emu_.endpoint(), emu_.session()});
    auto s = [](const std::string& v) { return xmlrpc_c::value(xmlrpc_c::value_string(v)); };
    auto i = [](int v) { return xmlrpc_c::value(xmlrpc_c::value_int(v)); };
    host_ =
        emu_.Allocate("one.host.allocate", {s("onedock-host"), s("onedock"), s("onedock"), i(-1)});
    sys_ds_ = emu_.Allocate("one.datastore.allocate",
                            {s("NAME = sys\nTYPE = SYSTEM_DS\nTM_MAD = onedock"), i(-1)});
    img_ds_ = emu_.Allocate("one.datastore.allocate",
                            {s("NAME = img\nDS_MAD = onedock\nTM_MAD = onedock"), i(-1)});
    // With a SOURCE, oned registers the image READY without running the datastore's cp.
    image_ = emu_.Allocate(
        "one.image.allocate",
        {s("NAME = busybox\nSOURCE = docker://busybox:latest\nFORMAT = docker"), i(img_ds_)});
  }
  ~Bed() { fs::remove_all(root_); }

  // `more` is added to the template (further DISKs, say).
  int NewVm(const std::string& more = "") {
    return emu_.Allocate(
        "one.vm.allocate",
        {xmlrpc_c::value_string(
            "NAME = odvm\nCPU = 0.1\nMEMORY = 64\nDISK = [ IMAGE_ID = " + std::to_string(image_) +
            " ]\nCONTEXT = [ NETWORK = YES, SET_HOSTNAME = odvm ]\n" + more)});
  }
  void Deploy(int vm) {
    auto reply = emu_.Call("one.vm.deploy", {xmlrpc_c::value_int(vm), xmlrpc_c::value_int(host_)});
    REQUIRE(static_cast<bool>(xmlrpc_c::value_boolean(reply[0])));
  }
  void Action(const std::string& action, int vm) {
    auto reply =
        emu_.Call("one.vm.action", {xmlrpc_c::value_string(action), xmlrpc_c::value_int(vm)});
    // The second item is the error text only on failure (the id on success).
    if (!static_cast<bool>(xmlrpc_c::value_boolean(reply[0])))
      FAIL(std::string(xmlrpc_c::value_string(reply[1])));
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
    FAIL("VM " << vm << " is " << info->state << "/" << info->lcm_state << ", expected " << state
               << "/" << lcm);
    return *info;
  }
  // The VMM and TM calls so far, in order (the host's IM start runs in the background).
  std::vector<Recorded> Calls() const {
    std::vector<Recorded> out;
    for (auto& r : AllCalls()) {
      if (r.script.rfind("vmm/", 0) == 0 || r.script.rfind("tm/", 0) == 0) out.push_back(r);
    }
    return out;
  }
  // Calls of scripts whose path starts with `prefix` ("im/", "datastore/").
  std::vector<Recorded> CallsOf(const std::string& prefix) const {
    std::vector<Recorded> out;
    for (auto& r : AllCalls()) {
      if (r.script.rfind(prefix, 0) == 0) out.push_back(r);
    }
    return out;
  }
  std::vector<Recorded> AllCalls() const {
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
    auto reply =
        emu_.Call("one.vm.action", {xmlrpc_c::value_string(action), xmlrpc_c::value_int(vm)});
    REQUIRE_FALSE(static_cast<bool>(xmlrpc_c::value_boolean(reply[0])));
    return {static_cast<int>(xmlrpc_c::value_int(reply[2])),
            std::string(xmlrpc_c::value_string(reply[1]))};
  }
  void Touch(const std::string& name) { std::ofstream(root_ + "/" + name); }
  void Forget() {
    fs::remove_all(root_ + "/records");
    fs::create_directories(root_ + "/records");
  }
  const std::string& root() const { return root_; }
  int host() const { return host_; }
  int image_datastore() const { return img_ds_; }
  EmulatorProcess& emu() { return emu_; }
  int monitord_port() const { return emu_.monitord_port(); }
  XmlRpcOneClient& client() { return *client_; }

 private:
  static std::string MakeRoot(const std::vector<std::string>& markers) {
    char dir[] = "/tmp/onedock-life-XXXXXX";
    REQUIRE(mkdtemp(dir) != nullptr);
    const std::string root = dir;
    for (const auto& m : markers) std::ofstream(root + "/" + m);
    fs::create_directories(root + "/records");
    for (const char* d :
         {"vmm/onedock", "tm/onedock", "datastore/onedock", "im/onedock.d", "vnm/onedock"}) {
      fs::create_directories(root + "/remotes/" + d);
    }
    auto install = [&root](const std::string& path) {
      std::ofstream(root + "/remotes/" + path) << kRecorder;
      chmod((root + "/remotes/" + path).c_str(), 0755);
    };
    for (const char* a :
         {"deploy", "shutdown", "cancel", "reboot", "reset", "attach_nic", "detach_nic", "resize",
          "save", "restore", "snapshot_create", "snapshot_revert", "snapshot_delete"}) {
      install(std::string("vmm/onedock/") + a);
    }
    for (const char* a : {"clone", "ln", "context", "delete", "mv", "mvds", "mkimage", "mkswap"}) {
      install(std::string("tm/onedock/") + a);
    }
    for (const char* a : {"stat", "cp", "rm", "mkfs", "clone"})
      install(std::string("datastore/onedock/") + a);
    install("im/onedock.d/monitord-client_control.sh");
    for (const char* a : {"pre", "post", "clean"}) install(std::string("vnm/onedock/") + a);
    return root;
  }
  // onedock's oned.conf and monitord.conf entries exactly as shipped in etc/, with the TM and
  // datastore driver lists they tell operators to extend.
  static std::string Config(const std::string& root) {
    auto read = [](const std::string& name) {
      std::ifstream in(std::string(ONEDOCK_SOURCE_DIR) + "/etc/" + name);
      REQUIRE_MESSAGE(in, "cannot read etc/" << name);
      std::stringstream text;
      text << in.rdbuf();
      return text.str();
    };
    return "REMOTES_DIR = \"" + root + "/remotes\"\nVMS_LOCATION = \"" + root + "/vms\"\n" +
           "DATASTORE_LOCATION = \"" + root + "/datastores\"\n" + read("oned-onedock.conf") +
           "TM_MAD = [ EXECUTABLE = \"one_tm\", ARGUMENTS = \"-t 15 -d onedock,dummy\" ]\n"
           "DATASTORE_MAD = [ EXECUTABLE = \"one_datastore\", ARGUMENTS = \"-t 15 -d "
           "onedock,dummy,fs\" ]\n" +
           read("monitord-onedock.conf");
  }

  std::string root_;
  EmulatorProcess emu_;
  std::unique_ptr<XmlRpcOneClient> client_;
  int host_, sys_ds_, img_ds_, image_;
};

// The argv of one captured call, with the capture's host, VM id, deploy id and paths replaced by
// placeholders.
inline std::string Shape(std::vector<std::string> args,
                         const std::map<std::string, std::string>& values) {
  for (auto& a : args) {
    for (const auto& [value, placeholder] : values) {
      for (size_t pos; !value.empty() && (pos = a.find(value)) != std::string::npos;)
        a.replace(pos, value.size(), placeholder);
    }
    if (a.find_first_not_of("0123456789") == std::string::npos) a = "<N>";
    a = std::regex_replace(a, std::regex(R"(/\d+(?=/|$))"), "/<N>");
  }
  std::string joined;
  for (const auto& a : args) joined += "[" + a + "] ";
  return joined;
}

inline std::vector<std::string> CapturedArgv(const std::string& file, int index = 0) {
  std::ifstream in(std::string(ONEDOCK_FIXTURES_DIR) + "/captures/" + file);
  std::vector<std::string> args;
  std::string line;
  int seen = -1;
  while (std::getline(in, line)) {
    if (line.rfind("# capture:", 0) == 0) ++seen;
    if (seen == index && line.rfind("ARGV[", 0) == 0)
      args.push_back(line.substr(line.find(": ") + 2));
    if (seen > index) break;
  }
  return args;
}

inline const std::map<std::string, std::string> kCaptureValues = {
    {"/opt/one/var//datastores", "<DS>"},
    {"/opt/one/var/vms", "<VMS>"},
    {"onedock-host", "<HOST>"},
    {"onedock-1", "<DEPLOY_ID>"}};

inline std::vector<std::string> ChildNames(const std::string& base64_stdin) {
  auto xml = Base64Decode(base64_stdin);
  REQUIRE_MESSAGE(xml.ok(), xml.status().ToString());
  auto doc = ParseXml(*xml);
  REQUIRE_MESSAGE(doc.ok(), doc.status().ToString());
  std::vector<std::string> names = {doc->name};
  for (const auto& c : doc->children) names.push_back(c.name);
  return names;
}

inline void Send(int type, int port, const std::string& wire) {
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

inline std::string Wire(const std::string& type, int host, int64_t ts, const std::string& payload,
                        bool ok = true) {
  return EncodeMonitordMessage({type, ok, host, ts, payload});
}

}  // namespace onedock::rpc::emulator_bed

#endif  // ONEDOCK_TESTS_INTEGRATION_EMULATOR_BED_H_
