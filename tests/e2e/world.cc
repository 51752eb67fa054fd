#include "tests/free_port.h"
#include "tests/e2e/world.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "bridge/container_plan.h"
#include "docker/curl_transport.h"
#include "tests/integration/bed.h"

extern char** environ;

namespace onedock::e2e {
namespace {

namespace fs = std::filesystem;
using xmlrpc_c::value;
using xmlrpc_c::value_int;
using xmlrpc_c::value_string;


bool Answers(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

// The httpd test image, copied once per process into the private registry where onedock
// requires VM images to be.
std::string PrivateImage() {
  static std::once_flag once;
  static std::string reference;
  std::call_once(once, [] {
    docker::EngineClient h1("h1", testbed::Engine("h1"));
    const std::string repo = testbed::RegistryHost("private") + "/onedock/httpd";
    REQUIRE(h1.PullImage(testbed::TestImage()).ok());
    REQUIRE(h1.TagImage(testbed::TestImage(), repo, "1.0").ok());
    auto pushed = h1.PushImage(repo + ":1.0");
    REQUIRE_MESSAGE(pushed.ok(), pushed.status().ToString());
    reference = repo + ":1.0";
  });
  return reference;
}

}  // namespace

World::World(const std::string& onedockd_extra) {
  char dir[] = "/tmp/onedock-e2e-XXXXXX";
  REQUIRE(mkdtemp(dir) != nullptr);
  root_ = dir;
  instance_ = testbed::UniqueName("e2e");
  stub_port_ = testing::FreeLoopbackPort();
  image_ = PrivateImage();
  for (const char* d : {"remotes", "vms", "datastores", "od"}) fs::create_directories(root_ + "/" + d);

  // The driver scripts exactly as shipped, with a stub.conf pointing at this world's onedockd.
  std::ofstream(root_ + "/stub.conf") << "endpoint = http://127.0.0.1:" << stub_port_ << "/RPC2\n"
                                      << "token_file = " << root_ << "/od/token\nretry_seconds = 120\n";
  const std::string install = std::string(ONEDOCK_DRIVERS_DIR) + "/install.sh " + root_ + "/remotes " +
                              ONEDOCK_STUB_BIN + " " + root_ + "/stub.conf";
  REQUIRE(std::system(install.c_str()) == 0);

  emu_ = std::make_unique<testing::EmulatorProcess>(
      "REMOTES_DIR = \"" + root_ + "/remotes\"\nVMS_LOCATION = \"" + root_ + "/vms\"\n" +
      "DATASTORE_LOCATION = \"" + root_ + "/datastores\"\n" +
      "VM_MAD = [ NAME = \"onedock\", EXECUTABLE = \"one_vmm_exec\", TYPE = \"xml\", LIVE_RESIZE = \"yes\",\n"
      "  COLD_NIC_ATTACH = \"yes\",\n"
      "  ARGUMENTS = \"-t 15 -r 0 -l deploy,shutdown,reboot,reset,cancel,save,restore,attach_nic,detach_nic,"
      "resize,snapshot_create,snapshot_revert,snapshot_delete,prereconfigure,reconfigure onedock\" ]\n"
      "TM_MAD = [ EXECUTABLE = \"one_tm\", ARGUMENTS = \"-t 15 -d dummy,onedock\" ]\n"
      "DATASTORE_MAD = [ EXECUTABLE = \"one_datastore\", ARGUMENTS = \"-t 15 -d dummy,fs,onedock -s onedock\" ]\n"
      "IM_MAD = [ NAME = \"onedock\", EXECUTABLE = \"one_im_sh\", ARGUMENTS = \"-r 3 -t 15 -w 90 onedock\" ]\n"
      // Probe periods and oned's STATE_VM guard shortened from 5-600 s and 30 s, so that a
      // test sees several rounds in seconds.
      "PROBES_PERIOD = [ BEACON_HOST = 5, SYSTEM_HOST = 30, MONITOR_HOST = 3, STATE_VM = 2, MONITOR_VM = 3,\n"
      "  SYNC_STATE_VM = 20 ]\n"
      "STATE_VM_GUARD = 2\n"
      "INHERIT_IMAGE_ATTR = \"DOCKER_MOUNT\"\n");
  client_ = std::make_unique<rpc::XmlRpcOneClient>(rpc::OneEndpoint{emu_->endpoint(), emu_->session()});

  const std::string certs = testbed::Get("ONEDOCK_CERTS");
  std::ofstream(root_ + "/od/one_auth") << emu_->session() << "\n";
  std::ofstream(root_ + "/od/onedockd.conf")
      << "[oned]\nendpoint = " << emu_->endpoint() << "\nauth_file = " << root_ << "/od/one_auth\n"
      << "[stub]\nlisten = 127.0.0.1:" << stub_port_ << "\ntoken_file = " << root_ << "/od/token\n"
      << "[engines]\nca = " << certs << "/ca.pem\ncert = " << certs << "/cert.pem\nkey = " << certs << "/key.pem\n"
      << "[host h1]\nurl = https://" << testbed::Get("ONEDOCK_ENGINE_H1") << "\n"
      << "[host h2]\nurl = https://" << testbed::Get("ONEDOCK_ENGINE_H2") << "\n"
      // Nothing listens on 127.0.0.9: the engine of a host that is down.
      << "[host dead]\nurl = https://127.0.0.9:2376\n"
      << "[registry]\naddress = " << testbed::RegistryHost("private") << "\nstorage = "
      << testbed::Get("ONEDOCK_LAB") << "/registry-private/data\n"
      << "[images]\nstaging_host = h1\nspool = " << root_ << "/od/spool\n"
      << "[journal]\npath = " << root_ << "/od/journal.db\n"
      << "[containers]\ninstance = " << instance_ << "\nstop_timeout = 5\n"
      << "[log]\nlevel = debug\n"
      << onedockd_extra;
  StartOnedockd();

  auto s = [](const std::string& v) { return value(value_string(v)); };
  auto i = [](int v) { return value(value_int(v)); };
  for (const char* h : {"h1", "h2", "dead"}) {
    hosts_[h] = emu_->Allocate("one.host.allocate", {s(h), s("onedock"), s("onedock"), i(-1)});
  }
  emu_->Allocate("one.datastore.allocate", {s("NAME = sys\nTYPE = SYSTEM_DS\nTM_MAD = onedock"), i(-1)});
  const int img_ds = image_ds_ = emu_->Allocate("one.datastore.allocate", {s("NAME = img\nDS_MAD = onedock\nTM_MAD = onedock"), i(-1)});
  // With a SOURCE, oned registers the image READY without running the datastore's cp.
  image_id_ = emu_->Allocate("one.image.allocate", {s("NAME = httpd\nSOURCE = " + image_ + "\nFORMAT = docker"), i(img_ds)});
  for (const auto& v : kVnets) {
    std::string ar_start = v.address;
    ar_start.back() = '1';
    ar_start += "0";  // x.x.x.10
    vnets_.push_back(emu_->Allocate(
        "one.vn.allocate", {s(std::string("NAME = ") + v.bridge + "\nBRIDGE = " + v.bridge + "\nVN_MAD = bridge\n" +
                              "NETWORK_ADDRESS = " + v.address + "\nNETWORK_MASK = 255.255.255.0\nGATEWAY = " +
                              v.gateway + "\nAR = [ TYPE = IP4, IP = " + ar_start + ", SIZE = 200 ]"),
                            i(-1)}));
  }
  engines_["h1"] = std::make_unique<docker::EngineClient>("h1", testbed::Engine("h1"));
  engines_["h2"] = std::make_unique<docker::EngineClient>("h2", testbed::Engine("h2"));
}

World::~World() {
  if (onedockd_ > 0) {
    kill(onedockd_, SIGTERM);
    int status = 0;
    waitpid(onedockd_, &status, 0);
  }
  for (auto& [name, engine] : engines_) {
    auto ours = engine->ListContainers({std::string(bridge::kLabelInstance) + "=" + instance_});
    if (!ours.ok()) continue;
    for (const auto& c : *ours) engine->RemoveContainer(c.id, true, true);
    auto volumes = engine->ListVolumes({std::string(bridge::kLabelInstance) + "=" + instance_});
    if (!volumes.ok()) continue;
    for (const auto& v : *volumes) engine->RemoveVolume(v.name);
  }
  client_.reset();
  emu_.reset();
  // ONEDOCK_E2E_KEEP=1 keeps the world's directory (onedockd.log, journal) for a post-mortem.
  if (const char* keep = std::getenv("ONEDOCK_E2E_KEEP"); keep != nullptr && std::string(keep) == "1") {
    MESSAGE("kept " << root_);
  } else {
    fs::remove_all(root_);
  }
}

void World::StartOnedockd() {
  const std::string bin = ONEDOCKD_BIN, conf = root_ + "/od/onedockd.conf", log = root_ + "/od/onedockd.log";
  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  posix_spawn_file_actions_addopen(&files, 2, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  std::vector<const char*> argv = {bin.c_str(), "-c", conf.c_str(), nullptr};
  REQUIRE(posix_spawn(&onedockd_, bin.c_str(), &files, nullptr, const_cast<char**>(argv.data()), environ) == 0);
  posix_spawn_file_actions_destroy(&files);
  for (int n = 0; n < 200 && !Answers(stub_port_); ++n) std::this_thread::sleep_for(std::chrono::milliseconds(25));
  REQUIRE_MESSAGE(Answers(stub_port_), "onedockd did not start; see " << log);
}

void World::KillOnedockd() {
  REQUIRE(onedockd_ > 0);
  kill(onedockd_, SIGKILL);
  int status = 0;
  waitpid(onedockd_, &status, 0);
  onedockd_ = -1;
}

int World::CreateImage(const std::string& template_text) {
  return emu_->Allocate("one.image.allocate", {value_string(template_text), value_int(image_ds_)});
}

Image World::WaitForImage(int image, int state, double seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  auto info = client_->ImageInfo(image);
  while ((!info.ok() || info->state != state) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    info = client_->ImageInfo(image);
  }
  REQUIRE_MESSAGE(info.ok(), info.status().ToString());
  auto error = info->template_attributes.find("ERROR");
  REQUIRE_MESSAGE(info->state == state, "image " << image << " is in state " << info->state << ", not " << state
                                                 << (error == info->template_attributes.end() ? "" : "; ERROR: " + error->second));
  return *info;
}

int World::CreateVm(const std::string& name, double cpu, int memory_mb, const std::string& extra,
                    const std::string& context, int image) {
  // On hold: the scheduler places VMs on MONITORED hosts by itself; here only Deploy does.
  return emu_->Allocate("one.vm.allocate",
                        {value_string("NAME = " + name + "\nCPU = " + std::to_string(cpu) + "\nMEMORY = " +
                                      std::to_string(memory_mb) + "\nDISK = [ IMAGE_ID = " + std::to_string(image < 0 ? image_id_ : image) +
                                      " ]\nNIC = [ NETWORK_ID = " + std::to_string(vnets_[0]) +
                                      " ]\nCONTEXT = [ NETWORK = YES, SET_HOSTNAME = " + name + context + " ]\n" + extra),
                         xmlrpc_c::value_boolean(true)});
}

xmlrpc_c::value World::Call(const std::string& method, const std::vector<xmlrpc_c::value>& params) {
  auto reply = emu_->Call(method, params);
  // The second item is the error text only on failure (an id, say, on success).
  if (!static_cast<bool>(xmlrpc_c::value_boolean(reply[0]))) FAIL(method << ": " << std::string(value_string(reply[1])));
  return reply[1];
}

void World::Deploy(int vm, const std::string& host_name) {
  Call("one.vm.deploy", {value_int(vm), value_int(hosts_.at(host_name))});
}

void World::Action(const std::string& action, int vm) { Call("one.vm.action", {value_string(action), value_int(vm)}); }

Vm World::Info(int vm) {
  auto info = client_->VmInfo(vm);
  REQUIRE_MESSAGE(info.ok(), info.status().ToString());
  return *info;
}

Host World::HostInfo(const std::string& name) {
  auto info = client_->HostInfo(hosts_.at(name));
  REQUIRE_MESSAGE(info.ok(), info.status().ToString());
  return *info;
}

Host World::WaitForHost(const std::string& name, int state, double seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  Host host = HostInfo(name);
  while (host.state != state && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    host = HostInfo(name);
  }
  auto error = host.template_attributes.find("ERROR");
  REQUIRE_MESSAGE(host.state == state, "host " << name << " is in state " << host.state << ", not " << state << " after "
                                                << seconds << " s"
                                                << (error == host.template_attributes.end() ? "" : "; ERROR: " + error->second));
  return host;
}

void World::EngineControl(const std::string& verb, const std::string& engine) {
  const std::string command = std::string("bash ") + ONEDOCK_SOURCE_DIR + "/tests/bed/testbed.sh " + verb + " " + engine +
                              " >/dev/null 2>&1";
  REQUIRE_MESSAGE(std::system(command.c_str()) == 0, command);
}

Vm World::WaitFor(int vm, int state, int lcm, double seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  Result<Vm> info = NotFound("not read");
  while (std::chrono::steady_clock::now() < deadline) {
    info = client_->VmInfo(vm);
    if (info.ok() && info->state == state && info->lcm_state == lcm) return *info;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  REQUIRE_MESSAGE(info.ok(), info.status().ToString());
  auto error = info->user_template.find("ERROR");
  FAIL("VM " << vm << " is " << info->state << "/" << info->lcm_state << ", expected " << state << "/" << lcm
             << "; ERROR: " << (error == info->user_template.end() ? "-" : error->second));
  return *info;
}

docker::EngineClient& World::Engine(const std::string& name) { return *engines_.at(name); }

std::vector<ContainerSummary> World::ContainersOf(const std::string& engine, int vm) {
  auto list = engines_.at(engine)->ListContainers(
      {std::string(bridge::kLabelInstance) + "=" + instance_, "one.vmid=" + std::to_string(vm)});
  REQUIRE_MESSAGE(list.ok(), list.status().ToString());
  return *list;
}

std::string World::HttpGet(const std::string& ip, double seconds, const std::string& path) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (true) {
    docker::CurlTransport http(docker::Endpoint{"http://" + ip});
    auto reply = http.Perform({.method = "GET", .target = path, .timeout_ms = 2000});
    if (reply.ok() && reply->status == 200) return reply->body;
    if (std::chrono::steady_clock::now() > deadline) return "";
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

std::string World::ExecOut(const std::string& engine, const std::string& container, const std::string& command) {
  auto r = engines_.at(engine)->Exec(container, {"/bin/sh", "-c", command});
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  return r->out;
}

}  // namespace onedock::e2e
