// VmActions against a fake engine and a fake oned: what reaches the engine for each action, and
// how a deploy converges from every state a crash or a retry can leave behind.
#include "bridge/vm_actions.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "bridge/driver_dispatch.h"
#include "bridge/log.h"
#include "rpc/one_parse.h"
#include "tests/unit/fixtures.h"

namespace onedock::bridge {
namespace {

// An engine held in memory. Records every mutating call; `fail_start` makes starts fail the way
// an engine does for a bad static IP.
class FakeEngine : public Engine {
 public:
  std::map<std::string, ContainerInfo> containers;
  std::set<std::string> images;
  std::map<std::string, NetworkInfo> networks;
  std::map<std::string, VolumeInfo> volumes;
  std::map<std::string, std::string> volume_data;                  // by volume: what a test wrote
  std::map<std::string, std::vector<std::string>> mounts;           // by container: "volume:/path"
  std::vector<std::string> calls;
  bool fail_start = false;
  int execs = 0;

  Result<std::string> CreateContainer(const ContainerSpec& spec) override {
    calls.push_back("create " + spec.name);
    if (containers.count(spec.name) != 0) return Conflict("name in use");
    ContainerInfo c;
    c.id = "id-" + spec.name;
    c.name = spec.name;
    c.image = spec.image;
    c.status = "created";
    c.labels = spec.labels;
    c.nano_cpus = spec.nano_cpus;
    c.memory_bytes = spec.memory_bytes;
    c.memory_swap_bytes = spec.memory_bytes;
    if (!spec.primary.network.empty()) c.networks[spec.primary.network] = {"", spec.primary.ipv4, 24, "", spec.primary.mac};
    containers[spec.name] = c;
    mounts[spec.name] = spec.volumes;
    for (const auto& m : spec.volumes) volumes.try_emplace(m.substr(0, m.find(':')), VolumeInfo{m.substr(0, m.find(':')), {}, ""});
    return c.id;
  }
  Result<Outcome> StartContainer(const std::string& id) override {
    calls.push_back("start " + id);
    auto* c = Find(id);
    if (c == nullptr) return NotFound("no such container");
    if (fail_start) return Internal("start " + id + ": Invalid address");
    if (c->running) return Outcome::kAlreadyDone;
    c->running = true;
    c->status = "running";
    return Outcome::kDone;
  }
  Result<Outcome> StopContainer(const std::string& id, int) override {
    calls.push_back("stop " + id);
    auto* c = Find(id);
    if (c == nullptr) return NotFound("no such container");
    if (!c->running) return Outcome::kAlreadyDone;
    c->running = false;
    c->status = "exited";
    return Outcome::kDone;
  }
  Result<Outcome> RestartContainer(const std::string& id, int t) override {
    calls.push_back("restart " + id + " t=" + std::to_string(t));
    return Find(id) ? Result<Outcome>(Outcome::kDone) : Result<Outcome>(NotFound("no such container"));
  }
  Status KillContainer(const std::string& id, const std::string&) override {
    calls.push_back("kill " + id);
    auto* c = Find(id);
    if (c == nullptr) return NotFound("no such container");
    if (!c->running) return Conflict("is not running");
    c->running = false;
    return Status::Ok();
  }
  Status RemoveContainer(const std::string& id, bool, bool) override {
    calls.push_back("remove " + id);
    mounts.erase(id);
    return containers.erase(id) != 0 ? Status::Ok() : NotFound("no such container");
  }
  Result<ContainerInfo> InspectContainer(const std::string& id) override {
    auto* c = Find(id);
    if (c == nullptr) return NotFound("No such container: " + id);
    return *c;
  }
  Status UpdateContainer(const std::string& id, const ResourceUpdate& u) override {
    calls.push_back("update " + id);
    auto* c = Find(id);
    if (c == nullptr) return NotFound("no such container");
    c->nano_cpus = u.nano_cpus;
    c->memory_bytes = c->memory_swap_bytes = u.memory_bytes;
    return Status::Ok();
  }
  Result<std::string> Commit(const CommitRequest& r) override {
    calls.push_back("commit " + r.container + " " + r.repo + ":" + r.tag);
    images.insert(r.repo + ":" + r.tag);
    return std::string("sha256:c0");
  }
  Status PutArchive(const std::string& id, const std::string& path, const std::string&) override {
    calls.push_back("archive " + id + " " + path);
    return Status::Ok();
  }
  // Archives of a mounted volume carry the volume's data.
  Status GetArchiveToFile(const std::string& id, const std::string& path, const std::string& file) override {
    calls.push_back("get-archive " + id + " " + path);
    if (Find(id) == nullptr) return NotFound("no such container");
    for (const auto& m : mounts[id]) {
      if (m.substr(m.find(':') + 1) == path) {
        std::ofstream(file) << volume_data[m.substr(0, m.find(':'))];
        return Status::Ok();
      }
    }
    return NotFound("Could not find the file " + path + " in container " + id);
  }
  Status PutArchiveFromFile(const std::string& id, const std::string& path, const std::string& file) override {
    calls.push_back("put-archive " + id + " " + path);
    if (Find(id) == nullptr) return NotFound("no such container");
    std::ifstream in(file);
    const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (const auto& m : mounts[id]) {
      const std::string mount = m.substr(m.find(':') + 1);
      if (mount.substr(0, std::max<size_t>(1, mount.find_last_of('/'))) == path) volume_data[m.substr(0, m.find(':'))] = data;
    }
    return Status::Ok();
  }
  Result<ExecResult> Exec(const std::string& id, const std::vector<std::string>&, const std::vector<std::string>&,
                          long) override {
    calls.push_back("exec " + id);
    ++execs;
    return ExecResult{0, "", ""};
  }
  Status PullImage(const std::string& ref, const RegistryAuth&, const std::function<void(std::string_view)>&) override {
    calls.push_back("pull " + ref);
    images.insert(ref);
    return Status::Ok();
  }
  Result<std::string> PushImage(const std::string& ref, const RegistryAuth&) override {
    calls.push_back("push " + ref);
    return std::string("sha256:d1");
  }
  Status RemoveImage(const std::string& ref, bool) override {
    calls.push_back("rmi " + ref);
    return images.erase(ref) != 0 ? Status::Ok() : NotFound("no such image");
  }
  Result<ImageInfo> InspectImage(const std::string& ref) override {
    if (images.count(ref) == 0) return NotFound("No such image: " + ref);
    return ImageInfo{"sha256:i", {ref}, {}, 1, {}, {}};
  }
  Result<std::string> CreateNetwork(const NetworkSpec& spec) override {
    calls.push_back("network " + spec.name + " " + spec.subnet);
    if (networks.count(spec.name) != 0) return Conflict("exists");
    for (const auto& [name, n] : networks) {
      // The engine's 403, as Debian 12's dockerd words it.
      if (n.subnet == spec.subnet) return FailedPrecondition("Pool overlaps with other one on this address space");
    }
    networks[spec.name] = {"n-" + spec.name, spec.name, spec.driver, spec.subnet, spec.gateway, {}, {}, {}};
    return networks[spec.name].id;
  }
  Result<NetworkInfo> InspectNetwork(const std::string& name) override {
    if (networks.count(name) == 0) return NotFound("network " + name + " not found");
    return networks[name];
  }
  Result<std::vector<NetworkInfo>> ListNetworks() override {
    std::vector<NetworkInfo> out;
    for (const auto& [name, n] : networks) out.push_back(n);
    return out;
  }
  Status ConnectNetwork(const std::string& net, const std::string& id, const NetworkAttachment& nic) override {
    calls.push_back("connect " + id + " " + net);
    auto* c = Find(id);
    if (c == nullptr) return NotFound("no such container");
    if (c->networks.count(net) != 0) return FailedPrecondition("endpoint with name " + id + " already exists in network " + net);
    c->networks[net] = {"", nic.ipv4, 24, "", "02:42:00:00:00:01"};
    return Status::Ok();
  }
  Status DisconnectNetwork(const std::string& net, const std::string& id, bool) override {
    calls.push_back("disconnect " + id + " " + net);
    auto* c = Find(id);
    if (c == nullptr) return NotFound("no such container");
    if (c->networks.erase(net) == 0) return Internal("container " + id + " is not connected to network " + net);
    return Status::Ok();
  }

  Result<VolumeInfo> CreateVolume(const std::string& name, const std::map<std::string, std::string>& labels) override {
    calls.push_back("volume " + name);
    return volumes.try_emplace(name, VolumeInfo{name, labels, "/var/lib/docker/volumes/" + name}).first->second;
  }
  Result<std::vector<VolumeInfo>> ListVolumes(const std::vector<std::string>& labels) override {
    std::vector<VolumeInfo> out;
    for (const auto& [name, v] : volumes) {
      bool all = true;
      for (const auto& l : labels) {
        const auto eq = l.find('=');
        auto it = v.labels.find(l.substr(0, eq));
        all = all && it != v.labels.end() && (eq == std::string::npos || it->second == l.substr(eq + 1));
      }
      if (all) out.push_back(v);
    }
    return out;
  }
  Status RemoveVolume(const std::string& name) override {
    calls.push_back("rmvol " + name);
    for (const auto& [id, ms] : mounts) {
      for (const auto& m : ms) {
        if (m.substr(0, m.find(':')) == name) return Conflict("volume is in use - [" + id + "]");
      }
    }
    volume_data.erase(name);
    return volumes.erase(name) != 0 ? Status::Ok() : NotFound("no such volume");
  }

 private:
  ContainerInfo* Find(const std::string& id) {
    auto it = containers.find(id);
    return it == containers.end() ? nullptr : &it->second;
  }
};

class FakeEngines : public EngineProvider {
 public:
  std::map<std::string, FakeEngine> hosts;
  Result<Lease> Acquire(const std::string& host) override {
    auto it = hosts.find(host);
    if (it == hosts.end()) return Unavailable("engine of " + host + " does not answer");
    return Lease(&it->second, [](Engine*) {});
  }
  std::string Describe(const std::string& host) const override { return "fake://" + host; }
};

class FakeOne : public OneApi {
 public:
  std::map<int, Vm> vms;
  std::map<int, Vnet> vnets;
  bool down = false;
  Result<Vm> VmInfo(int id) override {
    if (down) return Unavailable("oned does not answer");
    if (vms.count(id) == 0) return NotFound("vm " + std::to_string(id));
    return vms[id];
  }
  Result<Image> ImageInfo(int id) override { return NotFound("image " + std::to_string(id)); }
  Result<Vnet> VnetInfo(int id) override {
    if (vnets.count(id) == 0) return NotFound("vnet " + std::to_string(id));
    return vnets[id];
  }
};

struct Rig {
  Rig() {
    ConfigureLogging("off", "");  // assertions read state, not logs
    char d[] = "/tmp/onedock-actions-XXXXXX";
    REQUIRE(mkdtemp(d) != nullptr);
    dir = d;
    auto j = SqliteJournal::Open(dir + "/journal.db");
    REQUIRE(j.ok());
    journal = std::move(*j);
    engines.hosts["h1"];
    engines.hosts["h2"];
    auto parsed = rpc::ParseVmXml(fixtures::Read("vm_two_nics.xml"));
    REQUIRE(parsed.ok());
    vm = *parsed;
    auto front = rpc::ParseVnetXml(fixtures::Read("vnet.xml"));
    REQUIRE(front.ok());
    one.vnets[0] = *front;
    Vnet back;
    back.id = 1;
    back.bridge = "onebr1";
    back.template_attributes = {{"NETWORK_ADDRESS", "10.43.0.0"}, {"NETWORK_MASK", "255.255.255.0"}};
    one.vnets[1] = back;
    ActionSettings settings;
    settings.plan.instance = "test";
    settings.plan.registry = "127.0.0.1:5000";
    settings.spool_dir = dir + "/spool";
    actions = std::make_unique<VmActions>(engines, one, *journal, settings);
  }
  ~Rig() { std::filesystem::remove_all(dir); }
  FakeEngine& h1() { return engines.hosts["h1"]; }
  FakeEngine& h2() { return engines.hosts["h2"]; }
  // DISK 1: a non-persistent empty datablock mounted at /data; DISK 2: a volatile fs disk;
  // DISK 3: a persistent datablock (image 8).
  void AddDataDisks() {
    Disk clone;
    clone.disk_id = 1;
    clone.image_id = 7;
    clone.source = "onedock-volume://7";
    clone.size_mb = 10;
    clone.all = {{"CLONE", "YES"}, {"DOCKER_MOUNT", "/data/"}};
    Disk scratch;
    scratch.disk_id = 2;
    scratch.type = "fs";
    scratch.size_mb = 64;
    Disk kept;
    kept.disk_id = 3;
    kept.image_id = 8;
    kept.source = "onedock-volume://8";
    kept.persistent = true;
    kept.all = {{"CLONE", "NO"}};
    vm.disks.insert(vm.disks.end(), {clone, scratch, kept});
  }

  std::string dir;
  std::unique_ptr<SqliteJournal> journal;
  FakeEngines engines;
  FakeOne one;
  Vm vm;
  std::unique_ptr<VmActions> actions;
};

TEST_CASE("a deploy whose vnet overlaps a network the host already has fails naming that network") {
  Rig r;
  r.h1().networks["leftover"] = {"n-leftover", "leftover", "bridge", "10.42.0.0/24", "10.42.0.1", {}, {}, {}};
  auto id = r.actions->Deploy(r.vm, "h1");
  REQUIRE_FALSE(id.ok());
  CHECK_MESSAGE(id.status().message().find("overlaps network leftover (10.42.0.0/24) on the host") != std::string::npos,
                id.status().message());
  CHECK(r.h1().containers.empty());
}

TEST_CASE("a first deploy pulls creates networks connects uploads starts and runs the start script once") {
  Rig r;
  auto id = r.actions->Deploy(r.vm, "h1");
  REQUIRE_MESSAGE(id.ok(), id.status().ToString());
  CHECK(*id == "one-42");
  const std::string image =
      "127.0.0.1:5000/httpd:3@sha256:6db7e5c9a3b0d86f0a2e3c1b7f6a5d4c3b2a19080706050403020100ffeeddcc";
  CHECK(r.h1().calls == std::vector<std::string>{"pull " + image, "network onebr0 10.42.0.0/24",
                                                 "network onebr1 10.43.0.0/24", "create one-42",
                                                 "connect one-42 onebr1", "archive one-42 /", "start one-42",
                                                 "exec one-42"});
  CHECK(r.h1().containers["one-42"].running);
  CHECK(r.journal->Pending()->empty());

  // Resume after poweroff: the same container is started again; nothing is recreated or re-run.
  REQUIRE(r.actions->Shutdown(42, "h1").ok());
  r.h1().calls.clear();
  REQUIRE(r.actions->Deploy(r.vm, "h1").ok());
  CHECK(r.h1().calls == std::vector<std::string>{"archive one-42 /", "start one-42"});
  CHECK(r.h1().execs == 1);
}

TEST_CASE("a deploy adopts the container a crashed run created and applies a resize made while off") {
  Rig r;
  REQUIRE(r.actions->Deploy(r.vm, "h1").ok());
  REQUIRE(r.actions->Shutdown(42, "h1").ok());
  r.vm.cpu = 1.0;
  r.vm.memory_mb = 256;
  r.h1().calls.clear();
  REQUIRE(r.actions->Deploy(r.vm, "h1").ok());
  CHECK(r.h1().calls == std::vector<std::string>{"update one-42", "archive one-42 /", "start one-42"});
  CHECK(r.h1().containers["one-42"].nano_cpus == 1000000000);
  CHECK(r.h1().containers.size() == 1);
}

TEST_CASE("a start failure removes a never-started container but keeps a stopped VM's one") {
  Rig r;
  r.h1().fail_start = true;
  auto first = r.actions->Deploy(r.vm, "h1");
  REQUIRE_FALSE(first.ok());
  CHECK(first.status().message().rfind("deploy vm 42 on host h1: engine fake://h1: start one-42", 0) == 0);
  CHECK(r.h1().containers.empty());  // the name is free for the next attempt

  r.h1().fail_start = false;
  REQUIRE(r.actions->Deploy(r.vm, "h1").ok());
  REQUIRE(r.actions->Shutdown(42, "h1").ok());
  r.h1().fail_start = true;
  CHECK_FALSE(r.actions->Deploy(r.vm, "h1").ok());
  CHECK(r.h1().containers.count("one-42") == 1);  // the VM's files are still there
}

TEST_CASE("a container of the same name that is not this VM's is never adopted or removed") {
  Rig r;
  ContainerInfo foreign;
  foreign.id = "x";
  foreign.name = "one-42";
  foreign.labels = {{"one.vmid", "42"}, {"one.instance", "someone-else"}};
  r.h1().containers["one-42"] = foreign;
  auto d = r.actions->Deploy(r.vm, "h1");
  REQUIRE_FALSE(d.ok());
  CHECK(d.status().code() == Status::Code::kConflict);
  r.h1().containers["one-42"].labels.erase("one.vmid");
  CHECK(r.actions->Remove(42, "h1").ok());
  CHECK(r.h1().containers.count("one-42") == 1);
}

TEST_CASE("stop kill and remove of what is already gone succeed") {
  Rig r;
  CHECK(r.actions->Shutdown(42, "h1").ok());
  CHECK(r.actions->Cancel(42, "h1").ok());
  CHECK(r.actions->Remove(42, "h1").ok());
  REQUIRE(r.actions->Deploy(r.vm, "h1").ok());
  REQUIRE(r.actions->Cancel(42, "h1").ok());
  CHECK(r.actions->Cancel(42, "h1").ok());  // 409 not running
  CHECK(r.actions->Reboot(42, "h1", true).ok());
  CHECK(r.h1().calls.back() == "restart one-42 t=0");
  CHECK(r.actions->Remove(42, "h1").ok());
  CHECK(r.h1().containers.empty());
  CHECK_FALSE(r.journal->PlacementOf(42)->has_value());
}

TEST_CASE("an unreachable engine fails the action with the host in the message and nothing journaled open") {
  Rig r;
  auto d = r.actions->Deploy(r.vm, "h9");
  REQUIRE_FALSE(d.ok());
  CHECK(d.status().message().find("deploy vm 42 on host h9") == 0);
  CHECK(d.status().IsRetryable());
  CHECK(r.journal->Pending()->empty());
}

TEST_CASE("save then restore on another host moves the container through the registry") {
  Rig r;
  REQUIRE(r.actions->Deploy(r.vm, "h1").ok());
  REQUIRE(r.actions->Save(r.vm, "h1").ok());
  const std::string checkpoint = "127.0.0.1:5000/onedock-checkpoint/one-42:latest";
  CHECK(std::find(r.h1().calls.begin(), r.h1().calls.end(), "push " + checkpoint) != r.h1().calls.end());
  CHECK_FALSE(r.h1().containers["one-42"].running);
  // h2 holds an older image of the checkpoint's name: the restore pulls the one saved, by digest.
  FakeEngine& h2 = r.engines.hosts["h2"];
  h2.images.insert(checkpoint);
  auto restored = r.actions->Restore(r.vm, "h2");
  REQUIRE_MESSAGE(restored.ok(), restored.status().ToString());
  CHECK(h2.calls.front() == "pull " + checkpoint + "@sha256:d1");
  CHECK(h2.containers["one-42"].image == checkpoint + "@sha256:d1");
  CHECK(h2.containers["one-42"].running);
  CHECK(r.h1().containers.empty());  // no twin left behind
  CHECK(h2.execs == 0);              // the start script ran once, on h1
  CHECK((*r.journal->PlacementOf(42))->host == "h2");
}

TEST_CASE("data disks become labelled volumes, and terminate removes the VM's own but keeps the image's") {
  Rig r;
  r.AddDataDisks();
  REQUIRE(r.actions->Deploy(r.vm, "h1").ok());
  CHECK(r.h1().mounts["one-42"] ==
        std::vector<std::string>{"one-42-disk1:/data", "one-42-disk2:/mnt/disk2", "one-image-8:/mnt/disk3"});
  const auto& disk1 = r.h1().volumes.at("one-42-disk1").labels;
  CHECK(disk1.at("one.vmid") == "42");
  CHECK(disk1.at("one.instance") == "test");
  CHECK(disk1.at("one.disk_id") == "1");
  CHECK(disk1.at("one.size_mb") == "10");
  CHECK(r.h1().volumes.at("one-42-disk2").labels.at("one.size_mb") == "64");
  const auto& image = r.h1().volumes.at("one-image-8").labels;
  CHECK(image.at("one.image_id") == "8");
  CHECK(image.count("one.vmid") == 0);
  CHECK(**r.journal->VolumeHome(8) == "h1");

  // Poweroff and resume keep every volume; terminate removes the VM's own.
  REQUIRE(r.actions->Shutdown(42, "h1").ok());
  REQUIRE(r.actions->Deploy(r.vm, "h1").ok());
  CHECK(r.h1().volumes.size() == 3);
  REQUIRE(r.actions->Remove(42, "h1").ok());
  CHECK(r.h1().volumes.size() == 1);
  CHECK(r.h1().volumes.count("one-image-8") == 1);

  // Deleting the image removes its volume from the host that holds it.
  REQUIRE(r.actions->RemoveImageVolume(8).ok());
  CHECK(r.h1().volumes.empty());
  CHECK_FALSE(r.journal->VolumeHome(8)->has_value());
  CHECK(r.actions->RemoveImageVolume(8).ok());  // nothing left: done
}

TEST_CASE("a VM restored on another host takes its volumes' data along, and the image's volume follows") {
  Rig r;
  r.AddDataDisks();
  REQUIRE(r.actions->Deploy(r.vm, "h1").ok());
  r.h1().volume_data["one-42-disk1"] = "written on h1";
  r.h1().volume_data["one-image-8"] = "kept by image 8";
  REQUIRE(r.actions->Save(r.vm, "h1").ok());
  auto restored = r.actions->Restore(r.vm, "h2");
  REQUIRE_MESSAGE(restored.ok(), restored.status().ToString());
  CHECK(r.h2().volume_data["one-42-disk1"] == "written on h1");
  CHECK(r.h2().volume_data["one-image-8"] == "kept by image 8");
  CHECK(std::count(r.h2().calls.begin(), r.h2().calls.end(), "put-archive one-42 /") == 1);  // /data
  CHECK(std::count(r.h2().calls.begin(), r.h2().calls.end(), "put-archive one-42 /mnt") == 2);
  // The data was in place before the first start.
  auto start = std::find(r.h2().calls.begin(), r.h2().calls.end(), "start one-42");
  CHECK(std::find(start, r.h2().calls.end(), "put-archive one-42 /mnt") == r.h2().calls.end());
  // Nothing is left on h1: the container, its volumes, the helper and the image's old copy.
  CHECK(r.h1().containers.empty());
  CHECK(r.h1().volumes.empty());
  CHECK(**r.journal->VolumeHome(8) == "h2");
}

TEST_CASE("a persistent image's volume is copied through a helper container when a new VM runs elsewhere") {
  Rig r;
  r.AddDataDisks();
  REQUIRE(r.actions->Deploy(r.vm, "h1").ok());
  r.h1().volume_data["one-image-8"] = "kept by image 8";
  REQUIRE(r.actions->Remove(42, "h1").ok());
  Vm next = r.vm;
  next.id = 43;
  REQUIRE(r.actions->Deploy(next, "h2").ok());
  CHECK(r.h2().volume_data["one-image-8"] == "kept by image 8");
  CHECK(std::count(r.h1().calls.begin(), r.h1().calls.end(), "create one-image-8-copy-43") == 1);
  CHECK(std::count(r.h1().calls.begin(), r.h1().calls.end(), "start one-image-8-copy-43") == 0);
  CHECK(r.h1().containers.empty());
  CHECK(r.h1().volumes.empty());
  CHECK(r.h2().volumes.count("one-43-disk1") == 1);  // the clone is the new VM's own, empty
  CHECK(r.h2().volume_data["one-43-disk1"].empty());
}

TEST_CASE("a non-persistent copy of an image that holds data starts with that data, once") {
  Rig r;
  r.AddDataDisks();
  REQUIRE(r.actions->Deploy(r.vm, "h1").ok());
  r.h1().volume_data["one-image-8"] = "image 8's data";
  REQUIRE(r.actions->Remove(42, "h1").ok());
  // Image 8 made non-persistent: VM 44 gets its own copy of the image's data.
  Vm copy = r.vm;
  copy.id = 44;
  copy.disks[3].persistent = false;
  copy.disks[3].all = {{"CLONE", "YES"}};
  REQUIRE(r.actions->Deploy(copy, "h2").ok());
  CHECK(r.h2().volume_data["one-44-disk3"] == "image 8's data");
  CHECK(r.h2().volume_data["one-44-disk1"].empty());  // image 7 never held data
  CHECK(r.h1().volume_data["one-image-8"] == "image 8's data");  // the image keeps its volume
  CHECK(**r.journal->VolumeHome(8) == "h1");
  CHECK(r.h1().containers.empty());  // the helper is gone

  // Once the VM has its copy, a new container (a snapshot revert, say) keeps the VM's data.
  r.h2().volume_data["one-44-disk3"] = "changed by VM 44";
  REQUIRE(r.actions->Shutdown(44, "h2").ok());
  REQUIRE(r.h2().RemoveContainer("one-44", true, false).ok());
  REQUIRE(r.actions->Deploy(copy, "h2").ok());
  CHECK(r.h2().volume_data["one-44-disk3"] == "changed by VM 44");
}

TEST_CASE("volume data that cannot be moved fails the deploy and is left where it is") {
  Rig r;
  r.AddDataDisks();
  REQUIRE(r.actions->Deploy(r.vm, "h1").ok());
  r.h1().volume_data["one-42-disk1"] = "only copy";
  REQUIRE(r.actions->Shutdown(42, "h1").ok());
  // The container went away behind onedock's back; its volume did not.
  r.h1().containers.erase("one-42");
  r.h1().mounts.erase("one-42");
  auto moved = r.actions->Deploy(r.vm, "h2");
  REQUIRE_FALSE(moved.ok());
  CHECK(moved.status().message().find("without its container") != std::string::npos);
  CHECK(r.h1().volume_data["one-42-disk1"] == "only copy");
  CHECK(r.h2().containers.empty());  // created, then removed so a retry seeds again

  // A host that does not answer holds the data: the deploy fails and names it.
  r.engines.hosts.erase("h1");
  auto down = r.actions->Deploy(r.vm, "h2");
  REQUIRE_FALSE(down.ok());
  CHECK(down.status().message().find("from host h1") != std::string::npos);
}

TEST_CASE("a volume of that name that is not this VM's is refused, not adopted") {
  Rig r;
  r.AddDataDisks();
  REQUIRE(r.h1().CreateVolume("one-42-disk2", {{"owner", "someone"}}).ok());
  auto d = r.actions->Deploy(r.vm, "h1");
  REQUIRE_FALSE(d.ok());
  CHECK(d.status().code() == Status::Code::kConflict);
  CHECK(d.status().message().find("volume one-42-disk2 exists on the host and is not this VM's") != std::string::npos);
}

TEST_CASE("TM calls for data disks: volatile ones are made at deploy, swap and disk snapshots are refused with why") {
  Rig r;
  auto tm = [&](const std::string& action, std::vector<std::string> argv) {
    return Dispatch(*r.actions, DriverCall{"tm", action, std::move(argv), "", std::nullopt, std::nullopt, std::nullopt});
  };
  const std::string disk = "h1:/var/lib/one/datastores/100/42/disk.2";
  CHECK(tm("mkimage", {"64", "raw", disk, "42", "100"}).exit_code == 0);
  CHECK(tm("mvds", {disk, "onedock-volume://8", "42", "101"}).exit_code == 0);
  CHECK(tm("delete", {disk, "42", "100"}).exit_code == 0);  // the VM directory's delete removes volumes
  const std::vector<std::pair<std::string, std::string>> refused = {
      {"mkswap", "swap disks are not supported"},
      {"snap_create", "disk snapshots are not supported"},
      {"cpds", "disk-saveas) is not supported"},
      {"resize", "a volume has no size to change"},
      {"prebackup", "VM backups are not supported"},
  };
  for (const auto& [action, why] : refused) {
    const DriverAnswer a = tm(action, {disk, "42", "100"});
    CHECK(a.exit_code == 1);
    CHECK_MESSAGE(a.error.find(why) != std::string::npos, a.error);
  }
  CHECK(r.h1().calls.empty());  // nothing reached the engine
}

TEST_CASE("network driver steps change nothing, and pre refuses a VM with a NIC of another network driver") {
  Rig r;
  auto vnm = [&](const std::string& action, std::vector<std::string> argv, std::optional<Vm> vm) {
    return Dispatch(*r.actions, DriverCall{"vnm", action, std::move(argv), "", std::move(vm), std::nullopt, std::nullopt});
  };
  for (auto& nic : r.vm.nics) nic.vn_mad = "onedock";
  CHECK(vnm("pre", {}, r.vm).exit_code == 0);
  CHECK(vnm("post", {"one-42", "h1"}, r.vm).exit_code == 0);
  CHECK(vnm("clean", {"h1"}, r.vm).exit_code == 0);
  CHECK(vnm("update_sg", {"one-42"}, r.vm).exit_code == 0);
  CHECK(vnm("update_nic", {"one-42", "0"}, r.vm).exit_code == 0);
  CHECK(vnm("vnet_create", {"0"}, std::nullopt).exit_code == 0);
  CHECK(vnm("vnet_delete", {"0"}, std::nullopt).exit_code == 0);
  r.vm.nics[1].vn_mad = "bridge";
  const DriverAnswer mixed = vnm("pre", {}, r.vm);
  CHECK(mixed.exit_code == 1);
  CHECK_MESSAGE(mixed.error.find("is on a vnet with VN_MAD bridge") != std::string::npos, mixed.error);
  CHECK(vnm("rename", {}, r.vm).exit_code == 1);
  CHECK(r.h1().calls.empty());
  CHECK(r.h2().calls.empty());
}

TEST_CASE("attach refuses a second NIC on a network the container is already on and detach is idempotent") {
  Rig r;
  REQUIRE(r.actions->Deploy(r.vm, "h1").ok());
  CHECK(r.actions->AttachNic(r.vm, "h1", "02:00:0a:2b:00:07").ok());  // already connected with that IP
  CHECK(r.actions->DetachNic(r.vm, "h1", "02:00:0a:2b:00:07").ok());
  CHECK(r.actions->DetachNic(r.vm, "h1", "02:00:0a:2b:00:07").ok());
  CHECK(r.actions->AttachNic(r.vm, "h1", "02:00:0a:2b:00:07").ok());
  Vm twin = r.vm;
  twin.nics[1].ip = "10.43.0.8";
  auto refused = r.actions->AttachNic(twin, "h1", "02:00:0a:2b:00:07");
  CHECK(refused.code() == Status::Code::kFailedPrecondition);
  CHECK(r.actions->AttachNic(r.vm, "h1", "02:00:00:00:00:99").code() == Status::Code::kInvalidArgument);
}

TEST_CASE("recovery finishes a deploy oned still wants and rolls back one whose VM is gone") {
  Rig r;
  // Two deploys were in flight when the previous run died: 42 had its container created, 43 too.
  REQUIRE(r.journal->Begin(42, "deploy", "h1").ok());
  REQUIRE(r.journal->Begin(43, "deploy", "h1").ok());
  REQUIRE(r.journal->Begin(44, "shutdown", "h1").ok());
  ContainerSpec half;
  half.name = "one-43";
  half.labels = {{"one.vmid", "43"}, {"one.instance", "test"}};
  REQUIRE(r.h1().CreateContainer(half).ok());
  Vm wanted = r.vm;
  wanted.state = kVmActive;
  wanted.lcm_state = kLcmBoot;
  wanted.history = {History{0, "h1", 0, 0, "onedock", "onedock", 0}};
  r.one.vms[42] = wanted;  // 43 is not in oned any more

  r.one.down = true;
  CHECK(r.actions->Recover() == 2);  // nothing decided while oned does not answer
  CHECK(r.h1().containers.count("one-43") == 1);
  r.one.down = false;
  CHECK(r.actions->Recover() == 0);
  CHECK(r.h1().containers["one-42"].running);
  CHECK(r.h1().containers.count("one-43") == 0);
  CHECK(r.journal->Pending()->empty());
}

}  // namespace
}  // namespace onedock::bridge
