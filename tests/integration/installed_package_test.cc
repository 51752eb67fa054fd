// The installed package at work: the emulator runs the driver scripts and onedock-stub that the
// .deb put in /var/lib/one/remotes (and reads the oned.conf and monitord.conf entries it put in
// /usr/share/onedock) against a onedockd of this build and engine h1, for a deploy and a
// terminate. tests/package/check_package.sh installs the package and runs this case with
// ONEDOCK_EXPECT_PACKAGE=1, so that a missing installation is a failure, not a skip.
#include <doctest/doctest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "bridge/version.h"
#include "docker/engine_client.h"
#include "rpc/one_client.h"
#include "tests/free_port.h"
#include "tests/integration/bed.h"
#include "tests/integration/emulator_process.h"
#include "tests/support/onedockd_process.h"
#include "tests/support/stub_binary.h"
#include "tests/support/temp_dir.h"

namespace onedock {
namespace {

namespace fs = std::filesystem;

constexpr char kRemotes[] = "/var/lib/one/remotes";
constexpr char kShare[] = "/usr/share/onedock";
constexpr char kInstance[] = "onedock-pkg-test";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  REQUIRE_MESSAGE(in, "cannot read " << path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Sets an environment variable for the emulator (and the scripts it runs) and restores it.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_.empty()) {
      unsetenv(name_);
    } else {
      setenv(name_, old_.c_str(), 1);
    }
  }

 private:
  const char* name_;
  std::string old_;
};

// Waits (bounded) until the VM is in state/lcm_state; fails naming where it is, at once when a
// driver reported an ERROR.
void WaitForVm(rpc::XmlRpcOneClient& one, int vm, int state, int lcm, int seconds) {
  Result<Vm> info = NotFound("not read");
  for (int n = 0; n < seconds * 10; ++n) {
    info = one.VmInfo(vm);
    if (info.ok() && info->state == state && info->lcm_state == lcm) return;
    if (info.ok() && info->user_template.count("ERROR") > 0) break;  // a driver failed
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  REQUIRE_MESSAGE(info.ok(), info.status().ToString());
  FAIL("VM " << vm << " is " << info->state << "/" << info->lcm_state << ", expected " << state
             << "/" << lcm << "; its ERROR: " << info->user_template["ERROR"]);
}

}  // namespace

TEST_CASE(
    "installed package: the emulator deploys and terminates a VM through the installed remotes") {
  if (!fs::is_directory(std::string(kRemotes) + "/vmm/onedock")) {
    if (std::getenv("ONEDOCK_EXPECT_PACKAGE") != nullptr) {
      FAIL(kRemotes << "/vmm/onedock is missing: the package is not installed");
    }
    MESSAGE("the onedock package is not installed (no " << kRemotes
                                                        << "/vmm/onedock): nothing to check");
    return;
  }
  const std::string stub = std::string(kRemotes) + "/onedock/onedock-stub";
  testing::TempDir root("onedock-pkg");
  {
    std::ofstream(root.path() + "/empty");
    const auto version = testing::RunStubBinary(stub, root.path() + "/none", {"--version"},
                                                root.path() + "/empty", root.path() + "/version");
    CHECK(version.exit_code == 0);
    CHECK(version.output.find(kVersion) != std::string::npos);  // the package is this release
  }

  // The installed stub.conf names the production endpoint and token; this onedockd runs on a
  // free port with a token of its own, so the scripts are pointed at a stub.conf of the test.
  const int port = testing::FreeLoopbackPort();
  std::ofstream(root.path() + "/stub.conf")
      << "endpoint = http://127.0.0.1:" << port << "/RPC2\ntoken_file = " << root.path()
      << "/token\nretry_seconds = 30\ntimeout_seconds = 120\n";
  ScopedEnv stub_config("ONEDOCK_STUB_CONFIG", root.path() + "/stub.conf");
  testing::EmulatorProcess emu(
      "REMOTES_DIR = \"" + std::string(kRemotes) + "\"\nVMS_LOCATION = \"" + root.path() +
      "/vms\"\nDATASTORE_LOCATION = \"" + root.path() + "/datastores\"\n" +
      ReadFile(std::string(kShare) + "/oned-onedock.conf") +
      "TM_MAD = [ EXECUTABLE = \"one_tm\", ARGUMENTS = \"-t 15 -d onedock,dummy\" ]\n"
      "DATASTORE_MAD = [ EXECUTABLE = \"one_datastore\", ARGUMENTS = \"-t 15 -d onedock,fs\" ]\n" +
      ReadFile(std::string(kShare) + "/monitord-onedock.conf"));

  const std::string certs = testbed::Get("ONEDOCK_CERTS");
  std::ofstream(root.path() + "/one_auth") << emu.session() << "\n";
  std::ofstream(root.path() + "/onedockd.conf")
      << "[oned]\nendpoint = " << emu.endpoint() << "\nauth_file = " << root.path()
      << "/one_auth\n[stub]\nlisten = 127.0.0.1:" << port << "\ntoken_file = " << root.path()
      << "/token\n[engines]\nca = " << certs << "/ca.pem\ncert = " << certs
      << "/cert.pem\nkey = " << certs << "/key.pem\n[host h1]\nurl = https://"
      << testbed::Get("ONEDOCK_ENGINE_H1")
      << "\n[registry]\naddress = " << testbed::RegistryHost("private")
      << "\n[images]\nspool = " << root.path() << "/spool\n[journal]\npath = " << root.path()
      << "/journal.db\n[containers]\ninstance = " << kInstance
      << "\nstop_timeout = 2\n[log]\nlevel = info\n";
  fs::create_directories(root.path() + "/spool");
  testing::OnedockdProcess onedockd(ONEDOCKD_BIN, root.path() + "/onedockd.conf",
                                    root.path() + "/onedockd.log", port);
  REQUIRE_OK(onedockd.Start());

  // The test image, in the private registry under a name of this test.
  docker::EngineClient h1("h1", testbed::Engine("h1"));
  const std::string repo = testbed::RegistryHost("private") + "/onedock-pkg/httpd";
  const Status pulled = h1.PullImage(testbed::TestImage());
  REQUIRE_OK(pulled);
  const Status tagged = h1.TagImage(testbed::TestImage(), repo, "1.0");
  REQUIRE_OK(tagged);
  const auto pushed = h1.PushImage(repo + ":1.0");
  REQUIRE_OK(pushed);
  const Status removed = h1.RemoveImage(repo + ":1.0", false);  // the installed TM clone pulls it
  REQUIRE_OK(removed);

  auto str = [](const std::string& v) { return xmlrpc_c::value(xmlrpc_c::value_string(v)); };
  auto num = [](int v) { return xmlrpc_c::value(xmlrpc_c::value_int(v)); };
  const int host =
      emu.Allocate("one.host.allocate", {str("h1"), str("onedock"), str("onedock"), num(-1)});
  emu.Allocate("one.datastore.allocate",
               {str("NAME = sys\nTYPE = SYSTEM_DS\nTM_MAD = onedock"), num(-1)});
  const int ds = emu.Allocate("one.datastore.allocate",
                              {str("NAME = img\nDS_MAD = onedock\nTM_MAD = onedock"), num(-1)});
  const int image =
      emu.Allocate("one.image.allocate",
                   {str("NAME = httpd\nSOURCE = " + repo + ":1.0\nFORMAT = docker"), num(ds)});
  const int vm = emu.Allocate(
      "one.vm.allocate", {str("NAME = pkg\nCPU = 0.1\nMEMORY = 64\nDISK = [ IMAGE_ID = " +
                              std::to_string(image) + " ]\nCONTEXT = [ SET_HOSTNAME = pkg ]")});
  auto deployed = emu.Call("one.vm.deploy", {num(vm), num(host)});
  REQUIRE(static_cast<bool>(xmlrpc_c::value_boolean(deployed[0])));

  rpc::XmlRpcOneClient one(rpc::OneEndpoint{emu.endpoint(), emu.session()});
  WaitForVm(one, vm, 3, 3, 120);  // RUNNING
  const std::string name = "one-" + std::to_string(vm);
  auto container = h1.InspectContainer(name);
  REQUIRE_OK(container);
  CHECK(container->running);
  CHECK(container->labels["one.instance"] == kInstance);
  CHECK(container->labels["one.vmid"] == std::to_string(vm));
  CHECK(container->image.find(repo) == 0);

  auto terminated = emu.Call("one.vm.action", {str("terminate"), num(vm)});
  REQUIRE(static_cast<bool>(xmlrpc_c::value_boolean(terminated[0])));
  WaitForVm(one, vm, 6, 0, 60);  // DONE
  CHECK(h1.InspectContainer(name).status().code() == Status::Code::kNotFound);
}

}  // namespace onedock
