#include "tests/e2e/world.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "bridge/container_plan.h"
#include "docker/curl_transport.h"
#include "tests/free_port.h"
#include "tests/integration/bed.h"

namespace onedock::e2e {
namespace {

namespace fs = std::filesystem;
using xmlrpc_c::value;
using xmlrpc_c::value_int;
using xmlrpc_c::value_string;

constexpr VnetDef kSlotVnets[2][2] = {
    {{"odke2e0", "10.231.0.0", "10.231.0.1"}, {"odke2e1", "10.232.0.0", "10.232.0.1"}},
    {{"odke2e2", "10.234.0.0", "10.234.0.1"}, {"odke2e3", "10.235.0.0", "10.235.0.1"}}};

Slot MakeSlot(int index) {
  Slot slot;
  slot.index = index;
  // Each slot's ports of its own: a port a world picks stays unbound for seconds (until its oned
  // or onedockd binds it) and again while a test restarts one of them.
  testing::LoopbackPortRange() =
      index == 0 ? testing::PortRange{10000, 21000} : testing::PortRange{21000, 0};
  slot.engines[0] = index == 0 ? "h1" : "h3";
  slot.engines[1] = index == 0 ? "h2" : "h4";
  slot.private_registry = index == 0 ? "private" : "private2";
  slot.vnets[0] = kSlotVnets[index][0];
  slot.vnets[1] = kSlotVnets[index][1];
  return slot;
}

// The httpd test image, copied once per process into the private registry where onedock
// requires VM images to be.
std::string PrivateImage() {
  static std::once_flag once;
  static std::string reference;
  std::call_once(once, [] {
    docker::EngineClient h1("h1", ThisSlot().Engine("h1"));
    const std::string repo = ThisSlot().RegistryHost() + "/onedock/httpd";
    REQUIRE(h1.PullImage(testbed::TestImage()).ok());
    REQUIRE(h1.TagImage(testbed::TestImage(), repo, "1.0").ok());
    auto pushed = h1.PushImage(repo + ":1.0");
    REQUIRE_MESSAGE(pushed.ok(), pushed.status().ToString());
    reference = repo + ":1.0";
  });
  return reference;
}

}  // namespace

const Slot& ThisSlot() {
  static const Slot slot = [] {
    while (true) {
      for (int index = 0; index < 2; ++index) {
        const std::string path =
            testbed::Get("ONEDOCK_LAB") + "/e2e-slot-" + std::to_string(index) + ".lock";
        // Close-on-exec, so that no oned or onedockd this process starts holds the slot after it.
        const int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        REQUIRE_MESSAGE(fd >= 0, "cannot open " << path);
        if (flock(fd, LOCK_EX | LOCK_NB) == 0) return MakeSlot(index);  // held until exit
        close(fd);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }();
  return slot;
}

const std::string& Slot::EngineOf(const std::string& host) const {
  if (host == "h1") return engines[0];
  if (host == "h2") return engines[1];
  throw std::runtime_error("no host \"" + host + "\" with an engine in an e2e world (h1, h2)");
}

docker::Endpoint Slot::Engine(const std::string& host) const {
  return testbed::Engine(EngineOf(host));
}

std::string Slot::EngineAddress(const std::string& host) const {
  return testbed::EngineAddress(EngineOf(host));
}

std::string Slot::RegistryHost() const { return testbed::RegistryHost(private_registry); }

docker::Endpoint Slot::Registry() const { return testbed::Registry(private_registry); }

World::World(const std::string& onedockd_extra) {
  // A failed set-up (REQUIRE throws) leaves nothing running behind it either.
  try {
    SetUp(onedockd_extra);
  } catch (...) {
    TearDown();
    throw;
  }
}

void World::SetUp(const std::string& onedockd_extra) {
  char dir[] = "/tmp/onedock-e2e-XXXXXX";
  REQUIRE(mkdtemp(dir) != nullptr);
  root_ = dir;
  const Slot& slot = ThisSlot();  // first: it decides the ports this process picks from
  instance_ = testbed::UniqueName("e2e");
  stub_port_ = testing::FreeLoopbackPort();
  image_ = PrivateImage();
  fs::create_directories(root_ + "/od");
  engines_["h1"] = std::make_unique<docker::EngineClient>("h1", slot.Engine("h1"));
  engines_["h2"] = std::make_unique<docker::EngineClient>("h2", slot.Engine("h2"));

  // The driver scripts exactly as shipped, with a stub.conf pointing at this world's onedockd.
  std::ofstream(root_ + "/stub.conf")
      << "endpoint = http://127.0.0.1:" << stub_port_ << "/RPC2\n"
      << "token_file = " << root_ << "/od/token\nretry_seconds = 120\n";
  one_ = std::make_unique<testing::OpenNebulaProcess>(root_ + "/one", root_ + "/stub.conf");
  client_ =
      std::make_unique<rpc::XmlRpcOneClient>(rpc::OneEndpoint{one_->endpoint(), one_->session()});

  const std::string certs = testbed::Get("ONEDOCK_CERTS");
  std::ofstream(root_ + "/od/one_auth") << one_->session() << "\n";
  std::ofstream(root_ + "/od/onedockd.conf")
      << "[oned]\nendpoint = " << one_->endpoint() << "\nauth_file = " << root_ << "/od/one_auth\n"
      << "[stub]\nlisten = 127.0.0.1:" << stub_port_ << "\ntoken_file = " << root_ << "/od/token\n"
      << "[engines]\nca = " << certs << "/ca.pem\ncert = " << certs << "/cert.pem\nkey = " << certs
      << "/key.pem\n"
      << "[host h1]\nurl = https://" << slot.EngineAddress("h1") << "\n"
      << "[host h2]\nurl = https://" << slot.EngineAddress("h2")
      << "\n"
      // Nothing listens on 127.0.0.9: the engine of a host that is down.
      << "[host dead]\nurl = https://127.0.0.9:2376\n"
      << "[registry]\naddress = " << slot.RegistryHost()
      << "\nstorage = " << testbed::Get("ONEDOCK_LAB") << "/registry-" << slot.private_registry
      << "/data\n"
      << "[images]\nstaging_host = h1\nspool = " << root_
      << "/od/spool\n"
      // The bed's registries and the tests' web servers are on 127.0.0.1, which the destination
      // policy refuses unless allowed; the engines on 127.0.0.2 to .5 stay refused.
      << "allow_destinations = 127.0.0.1/32\n"
      << "[journal]\npath = " << root_ << "/od/journal.db\n"
      << "[containers]\ninstance = " << instance_
      << "\nstop_timeout = 5\n"
      // Metrics are off: worlds and the sandbox must not compete for [metrics]'s default port.
      << "[metrics]\nlisten =\n"
      << "[log]\nlevel = debug\n"
      << onedockd_extra;
  StartOnedockd();

  // The README's set-up: one cluster for the onedock hosts, their datastores and vnets, so that
  // the scheduler never pairs a onedock host with another system datastore.
  auto s = [](const std::string& v) { return value(value_string(v)); };
  auto i = [](int v) { return value(value_int(v)); };
  cluster_ = one_->Allocate("one.cluster.allocate", {s("onedock")});
  system_ds_ =
      one_->Allocate("one.datastore.allocate",
                     {s("NAME = onedock_system\nTYPE = SYSTEM_DS\nTM_MAD = onedock"), i(cluster_)});
  image_ds_ =
      one_->Allocate("one.datastore.allocate",
                     {s("NAME = onedock_images\nDS_MAD = onedock\nTM_MAD = onedock\n"
                        // oned's default is /var/tmp: the tests' tarballs are in the world's root
                        "SAFE_DIRS = \"/var/tmp " +
                        root_ + "\""),
                      i(cluster_)});
  for (const char* h : {"h1", "h2", "dead"}) {
    hosts_[h] =
        one_->Allocate("one.host.allocate", {s(h), s("onedock"), s("onedock"), i(cluster_)});
  }
  // An image allocated before oned has monitored its datastore is refused ("Not enough space").
  const Status monitored = one_->AwaitDatastoreMonitored(image_ds_);
  REQUIRE_MESSAGE(monitored.ok(), monitored.ToString());
  // With a SOURCE (and its SIZE), oned registers the image READY without running the datastore.
  image_id_ = one_->Allocate(
      "one.image.allocate",
      {s("NAME = httpd\nSOURCE = " + image_ + "\nFORMAT = docker\nSIZE = 2"), i(image_ds_)});
  for (const auto& v : slot.vnets) {
    std::string ar_start = v.address;
    ar_start.back() = '1';
    ar_start += "0";  // x.x.x.10
    vnets_.push_back(one_->Allocate(
        "one.vn.allocate", {s(std::string("NAME = ") + v.bridge + "\nBRIDGE = " + v.bridge +
                              "\nVN_MAD = onedock\n" + "NETWORK_ADDRESS = " + v.address +
                              "\nNETWORK_MASK = 255.255.255.0\nGATEWAY = " + v.gateway +
                              "\nAR = [ TYPE = IP4, IP = " + ar_start + ", SIZE = 200 ]"),
                            i(cluster_)}));
  }
  for (int vnet : vnets_) {
    const Status ready = one_->AwaitVnetReady(vnet);
    REQUIRE_MESSAGE(ready.ok(), ready.ToString());
  }
}

World::~World() { TearDown(); }

void World::TearDown() {
  for (const auto& engine : stopped_engines_) {
    const std::string command = std::string("bash ") + ONEDOCK_SOURCE_DIR +
                                "/tests/bed/testbed.sh engine-start " +
                                ThisSlot().EngineOf(engine) + " >/dev/null 2>&1";
    if (std::system(command.c_str()) != 0)
      MESSAGE("could not start engine " << engine << " again: " << command);
  }
  stopped_engines_.clear();
  onedockd_.reset();
  for (auto& [name, engine] : engines_) {
    auto ours = engine->ListContainers({std::string(kLabelInstance) + "=" + instance_});
    if (!ours.ok()) continue;
    for (const auto& c : *ours) engine->RemoveContainer(c.id, true, true);
    auto volumes = engine->ListVolumes({std::string(kLabelInstance) + "=" + instance_});
    if (!volumes.ok()) continue;
    for (const auto& v : *volumes) engine->RemoveVolume(v.name);
  }
  client_.reset();
  one_.reset();
  // ONEDOCK_E2E_KEEP=1 keeps the world's directory (onedockd.log, journal) for a post-mortem.
  if (const char* keep = std::getenv("ONEDOCK_E2E_KEEP");
      keep != nullptr && std::string(keep) == "1") {
    MESSAGE("kept " << root_);
  } else {
    fs::remove_all(root_);
  }
}

void World::StartOnedockd() {
  onedockd_ = std::make_unique<testing::OnedockdProcess>(ONEDOCKD_BIN, root_ + "/od/onedockd.conf",
                                                         root_ + "/od/onedockd.log", stub_port_);
  const Status started = onedockd_->Start();
  REQUIRE_MESSAGE(started.ok(), started.ToString());
}

void World::KillOnedockd() {
  REQUIRE(onedockd_);
  onedockd_->Kill();
}

int World::CreateImage(const std::string& template_text) {
  return one_->Allocate("one.image.allocate", {value_string(template_text), value_int(image_ds_)});
}

std::pair<int, std::string> World::TryCreateImage(const std::string& template_text) {
  auto reply =
      one_->Call("one.image.allocate", {value_string(template_text), value_int(image_ds_)});
  if (static_cast<bool>(xmlrpc_c::value_boolean(reply[0]))) return {value_int(reply[1]), ""};
  return {-1, value_string(reply[1])};
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
  REQUIRE_MESSAGE(
      info->state == state,
      "image " << image << " is in state " << info->state << ", not " << state
               << (error == info->template_attributes.end() ? "" : "; ERROR: " + error->second));
  return *info;
}

std::string World::VmTemplate(const std::string& name, double cpu, int memory_mb,
                              const std::string& extra, const std::string& context,
                              int image) const {
  return "NAME = " + name + "\nCPU = " + std::to_string(cpu) +
         "\nMEMORY = " + std::to_string(memory_mb) +
         "\nDISK = [ IMAGE_ID = " + std::to_string(image < 0 ? image_id_ : image) +
         " ]\nNIC = [ NETWORK_ID = " + std::to_string(vnets_[0]) +
         " ]\nCONTEXT = [ NETWORK = YES, SET_HOSTNAME = " + name + context + " ]\n" + extra;
}

int World::CreateVm(const std::string& name, double cpu, int memory_mb, const std::string& extra,
                    const std::string& context, int image) {
  // On hold: the scheduler places VMs on MONITORED hosts by itself; here only Deploy does.
  return one_->Allocate("one.vm.allocate",
                        {value_string(VmTemplate(name, cpu, memory_mb, extra, context, image)),
                         xmlrpc_c::value_boolean(true)});
}

xmlrpc_c::value World::Call(const std::string& method, const std::vector<xmlrpc_c::value>& params) {
  auto reply = one_->Call(method, params);
  // The second item is the error text only on failure (an id, say, on success).
  if (!static_cast<bool>(xmlrpc_c::value_boolean(reply[0])))
    FAIL(method << ": " << std::string(value_string(reply[1])));
  return reply[1];
}

std::string World::CallError(const std::string& method,
                             const std::vector<xmlrpc_c::value>& params) {
  auto reply = one_->Call(method, params);
  if (static_cast<bool>(xmlrpc_c::value_boolean(reply[0]))) return "";
  return value_string(reply[1]);
}

testing::OpenNebulaProcess::CliResult World::Cli(const std::string& command, const std::string& cwd,
                                                 const std::string& auth_file) {
  return one_->Cli(command, cwd, auth_file);
}

void World::Deploy(int vm, const std::string& host_name) {
  Call("one.vm.deploy", {value_int(vm), value_int(hosts_.at(host_name))});
}

void World::Action(const std::string& action, int vm) {
  Call("one.vm.action", {value_string(action), value_int(vm)});
}

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
  REQUIRE_MESSAGE(
      host.state == state,
      "host " << name << " is in state " << host.state << ", not " << state << " after " << seconds
              << " s"
              << (error == host.template_attributes.end() ? "" : "; ERROR: " + error->second));
  return host;
}

namespace {

void EngineControl(const std::string& verb, const std::string& engine) {
  const std::string command = std::string("bash ") + ONEDOCK_SOURCE_DIR + "/tests/bed/testbed.sh " +
                              verb + " " + engine + " >/dev/null 2>&1";
  REQUIRE_MESSAGE(std::system(command.c_str()) == 0, command);
}

}  // namespace

void World::StopEngine(const std::string& engine) {
  stopped_engines_.insert(engine);
  EngineControl("engine-stop", ThisSlot().EngineOf(engine));
}

void World::StartEngine(const std::string& engine) {
  EngineControl("engine-start", ThisSlot().EngineOf(engine));
  stopped_engines_.erase(engine);
}

Vm World::Poll(int vm, const std::function<bool(const Vm&)>& done, const std::string& expected,
               double seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  Result<Vm> info = NotFound("not read");
  while (std::chrono::steady_clock::now() < deadline) {
    info = client_->VmInfo(vm);
    if (info.ok() && done(*info)) return *info;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  REQUIRE_MESSAGE(info.ok(), info.status().ToString());
  auto error = info->user_template.find("ERROR");
  FAIL("VM " << vm << " is " << info->state << "/" << info->lcm_state << ", not " << expected
             << " after " << seconds
             << " s; ERROR: " << (error == info->user_template.end() ? "-" : error->second));
  return *info;
}

Vm World::WaitFor(int vm, int state, int lcm, double seconds) {
  return Poll(
      vm, [&](const Vm& v) { return v.state == state && v.lcm_state == lcm; },
      std::to_string(state) + "/" + std::to_string(lcm), seconds);
}

Vm World::WaitUntil(int vm, const std::function<bool(const Vm&)>& done, const std::string& what,
                    double seconds) {
  return Poll(
      vm,
      [&](const Vm& v) { return v.state == kVmActive && v.lcm_state == kLcmRunning && done(v); },
      "RUNNING and " + what, seconds);
}

Vm World::WaitUntilRunningOn(int vm, const std::string& host, double seconds) {
  return WaitUntil(
      vm,
      [&host](const Vm& v) {
        return v.CurrentHistory() != nullptr && v.CurrentHistory()->hostname == host &&
               v.CurrentHistory()->running_since > 0;
      },
      "running on " + host, seconds);
}

docker::EngineClient& World::Engine(const std::string& name) { return *engines_.at(name); }

std::vector<ContainerSummary> World::ContainersOf(const std::string& engine, int vm) {
  auto list = engines_.at(engine)->ListContainers(
      {std::string(kLabelInstance) + "=" + instance_, "one.vmid=" + std::to_string(vm)});
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

std::string World::ExecOut(const std::string& engine, const std::string& container,
                           const std::string& command) {
  auto r = engines_.at(engine)->Exec(container, {"/bin/sh", "-c", command});
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  return r->out;
}

}  // namespace onedock::e2e
