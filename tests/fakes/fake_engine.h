// FakeEngine: Engine held in memory, for the unit tier.
#ifndef ONEDOCK_TESTS_FAKES_FAKE_ENGINE_H_
#define ONEDOCK_TESTS_FAKES_FAKE_ENGINE_H_

#include <algorithm>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "bridge/engine.h"

namespace onedock::fakes {

// An engine held in memory, following bridge/engine.h's error contract. Records every mutating
// call; `fail_start` makes starts fail the way an engine does for a bad static IP; `down` makes
// what the monitor reads fail as an engine that does not answer. Not thread-safe: one test thread.
class FakeEngine : public Engine {
 public:
  using ImageLabels = std::map<std::string, std::string>;
  EngineInfo info;
  DiskUsage disk;
  std::map<std::string, StatsSample> stats;  // by container name
  bool down = false;
  std::map<std::string, ContainerInfo> containers;
  std::set<std::string> images;
  std::map<std::string, NetworkInfo> networks;
  std::map<std::string, VolumeInfo> volumes;
  std::map<std::string, std::string> volume_data;          // by volume: what a test wrote
  std::map<std::string, std::vector<std::string>> mounts;  // by container: "volume:/path"
  std::vector<std::string> calls;
  bool fail_start = false;
  int execs = 0;
  // What an exec does, when set (its output, a failure, or a throw that stands for onedockd being
  // killed while the command runs); otherwise it exits 0 with no output.
  std::function<Result<ExecResult>(const std::string& id)> on_exec;
  // Called with each mutating call as it is recorded, before it acts: a test throws from it to
  // stand for onedockd being killed at that point.
  std::function<void(const std::string& call)> on_call;
  // Called at each read the monitor makes (info, disk usage, listing, stats), before it answers: a
  // test advances its clock from it to give a round a duration.
  std::function<void()> on_read;
  // Called when a start has made the container run: a test stops it there (status, exit code,
  // OOM flag) to stand for a command that exits at once.
  std::function<void(ContainerInfo&)> on_started;
  // What each container's command wrote, by container name (LogTail answers its last lines).
  std::map<std::string, std::string> logs;
  // Labels of committed images, by "repo:tag".
  std::map<std::string, std::map<std::string, std::string>> image_labels;

  Result<std::string> CreateContainer(const ContainerSpec& spec) override {
    Record("create " + spec.name);
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
    c.cmd = spec.cmd;
    c.entrypoint = spec.entrypoint;
    c.working_dir = spec.working_dir;
    c.user = spec.user;
    c.tty = spec.tty;
    c.open_stdin = spec.open_stdin;
    c.env = spec.env;
    c.shm_size_bytes = spec.shm_size_bytes;
    c.ulimits = spec.ulimits;
    c.sysctls = spec.sysctls;
    if (!spec.primary.network.empty())
      c.networks[spec.primary.network] = {"", spec.primary.ipv4, 24, "", spec.primary.mac};
    containers[spec.name] = c;
    mounts[spec.name] = spec.volumes;
    for (const auto& m : spec.volumes)
      volumes.try_emplace(m.substr(0, m.find(':')), VolumeInfo{m.substr(0, m.find(':')), {}, ""});
    return c.id;
  }
  Result<Outcome> StartContainer(const std::string& id) override {
    Record("start " + id);
    auto* c = Find(id);
    if (c == nullptr) return NotFound("no such container");
    if (fail_start) return Internal("start " + id + ": Invalid address");
    if (c->running) return Outcome::kAlreadyDone;
    c->running = true;
    c->status = "running";
    if (on_started) on_started(*c);
    return Outcome::kDone;
  }
  Result<Outcome> StopContainer(const std::string& id, int) override {
    Record("stop " + id);
    auto* c = Find(id);
    if (c == nullptr) return NotFound("no such container");
    if (!c->running) return Outcome::kAlreadyDone;
    c->running = false;
    c->status = "exited";
    return Outcome::kDone;
  }
  Result<Outcome> RestartContainer(const std::string& id, int t) override {
    Record("restart " + id + " t=" + std::to_string(t));
    return Find(id) ? Result<Outcome>(Outcome::kDone)
                    : Result<Outcome>(NotFound("no such container"));
  }
  Status KillContainer(const std::string& id, const std::string&) override {
    Record("kill " + id);
    auto* c = Find(id);
    if (c == nullptr) return NotFound("no such container");
    if (!c->running) return Conflict("is not running");
    c->running = false;
    return Status::Ok();
  }
  Status RemoveContainer(const std::string& id, bool, bool) override {
    Record("remove " + id);
    mounts.erase(id);
    return containers.erase(id) != 0 ? Status::Ok() : NotFound("no such container");
  }
  Result<ContainerInfo> InspectContainer(const std::string& id) override {
    auto* c = Find(id);
    if (c == nullptr) return NotFound("No such container: " + id);
    return *c;
  }
  Result<bool> WaitStopped(const std::string& id, long) override {
    auto* c = Find(id);
    if (c == nullptr) return NotFound("No such container: " + id);
    return !c->running;
  }
  Result<std::string> LogTail(const std::string& id, int lines, bool) override {
    const ContainerInfo* c = Find(id);
    if (c == nullptr) return NotFound("No such container: " + id);
    const std::string& all = logs[c->name];
    // Back from the end over `lines` line ends (a final newline ends the last line).
    size_t from = all.size();
    int seen = 0;
    while (from > 0) {
      if (all[from - 1] == '\n' && from != all.size() && ++seen == lines) break;
      --from;
    }
    return all.substr(from);
  }
  Status UpdateContainer(const std::string& id, const ResourceUpdate& u) override {
    Record("update " + id);
    auto* c = Find(id);
    if (c == nullptr) return NotFound("no such container");
    c->nano_cpus = u.nano_cpus;
    c->memory_bytes = c->memory_swap_bytes = u.memory_bytes;
    return Status::Ok();
  }
  Result<std::string> Commit(const CommitRequest& r) override {
    Record("commit " + r.container + " " + r.repo + ":" + r.tag);
    if (Find(r.container) == nullptr) return NotFound("no such container");
    images.insert(r.repo + ":" + r.tag);
    image_labels[r.repo + ":" + r.tag] = r.labels;
    return std::string("sha256:c0");
  }
  Status PutArchive(const std::string& id, const std::string& path, const std::string&) override {
    Record("archive " + id + " " + path);
    return Status::Ok();
  }
  // Archives of a mounted volume carry the volume's data.
  Status GetArchiveToFile(const std::string& id, const std::string& path,
                          const std::string& file) override {
    Record("get-archive " + id + " " + path);
    if (Find(id) == nullptr) return NotFound("no such container");
    for (const auto& m : mounts[id]) {
      if (m.substr(m.find(':') + 1) == path) {
        std::ofstream(file) << volume_data[m.substr(0, m.find(':'))];
        return Status::Ok();
      }
    }
    return NotFound("Could not find the file " + path + " in container " + id);
  }
  Status PutArchiveFromFile(const std::string& id, const std::string& path,
                            const std::string& file) override {
    Record("put-archive " + id + " " + path);
    if (Find(id) == nullptr) return NotFound("no such container");
    std::ifstream in(file);
    const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (const auto& m : mounts[id]) {
      const std::string mount = m.substr(m.find(':') + 1);
      if (mount.substr(0, std::max<size_t>(1, mount.find_last_of('/'))) == path)
        volume_data[m.substr(0, m.find(':'))] = data;
    }
    return Status::Ok();
  }
  Result<ExecResult> Exec(const std::string& id, const std::vector<std::string>&,
                          const std::vector<std::string>&, long) override {
    Record("exec " + id);
    auto* c = Find(id);
    if (c == nullptr) return NotFound("no such container");
    if (!c->running) return Conflict("container " + id + " is not running");
    ++execs;
    if (on_exec) return on_exec(id);
    return ExecResult{};
  }
  Status PullImage(const std::string& ref, const RegistryAuth&,
                   const std::function<void(std::string_view)>&) override {
    Record("pull " + ref);
    images.insert(ref);
    return Status::Ok();
  }
  Result<std::string> PushImage(const std::string& ref, const RegistryAuth&) override {
    Record("push " + ref);
    return std::string("sha256:d1");
  }
  Status RemoveImage(const std::string& ref, bool) override {
    Record("rmi " + ref);
    return images.erase(ref) != 0 ? Status::Ok() : NotFound("no such image");
  }
  Result<ImageInfo> InspectImage(const std::string& ref) override {
    if (images.count(ref) == 0) return NotFound("No such image: " + ref);
    auto labels = image_labels.find(ref);
    return ImageInfo{"sha256:i", {ref},
                     {},         1,
                     {},         labels == image_labels.end() ? ImageLabels{} : labels->second};
  }
  Result<std::string> CreateNetwork(const NetworkSpec& spec) override {
    Record("network " + spec.name + " " + spec.subnet);
    // The pool before the name, as the engine answers a create that raced another of the same
    // name: the other one took the pool after this one's name check.
    for (const auto& [name, n] : networks) {
      // The engine's 403, as Debian 12's dockerd words it.
      if (n.subnet == spec.subnet)
        return FailedPrecondition("Pool overlaps with other one on this address space");
    }
    if (networks.count(spec.name) != 0) return Conflict("exists");
    networks[spec.name] = {"n-" + spec.name, spec.name,    spec.driver, spec.subnet,
                           spec.gateway,     spec.options, spec.labels, {}};
    return networks[spec.name].id;
  }
  Result<NetworkInfo> InspectNetwork(const std::string& name) override {
    if (networks.count(name) == 0) return NotFound("network " + name + " not found");
    return networks[name];
  }
  Result<std::vector<NetworkInfo>> ListNetworks() override {
    if (down) return Unavailable("engine does not answer");
    std::vector<NetworkInfo> out;
    for (const auto& [name, n] : networks) out.push_back(n);
    return out;
  }
  Status RemoveNetwork(const std::string& name) override {
    Record("rmnet " + name);
    auto it = networks.find(name);
    if (it == networks.end()) return NotFound("network " + name + " not found");
    if (!it->second.containers.empty())
      return FailedPrecondition("error while removing network: network " + name +
                                " has active endpoints");
    networks.erase(it);
    return Status::Ok();
  }
  Status ConnectNetwork(const std::string& net, const std::string& id,
                        const NetworkAttachment& nic) override {
    Record("connect " + id + " " + net);
    auto* c = Find(id);
    if (c == nullptr) return NotFound("no such container");
    if (c->networks.count(net) != 0)
      return Conflict("endpoint with name " + id + " already exists in network " + net);
    c->networks[net] = {"", nic.ipv4, 24, "", "02:42:00:00:00:01"};
    return Status::Ok();
  }
  Status DisconnectNetwork(const std::string& net, const std::string& id, bool) override {
    Record("disconnect " + id + " " + net);
    auto* c = Find(id);
    if (c == nullptr) return NotFound("no such container");
    if (c->networks.erase(net) == 0)
      return NotFound("container " + id + " is not connected to network " + net);
    return Status::Ok();
  }

  Result<VolumeInfo> CreateVolume(const std::string& name,
                                  const std::map<std::string, std::string>& labels) override {
    Record("volume " + name);
    return volumes.try_emplace(name, VolumeInfo{name, labels, "/var/lib/docker/volumes/" + name})
        .first->second;
  }
  Result<std::vector<VolumeInfo>> ListVolumes(const std::vector<std::string>& labels) override {
    if (down) return Unavailable("engine does not answer");
    std::vector<VolumeInfo> out;
    for (const auto& [name, v] : volumes) {
      if (HasLabels(v.labels, labels)) out.push_back(v);
    }
    return out;
  }
  Status RemoveVolume(const std::string& name) override {
    Record("rmvol " + name);
    for (const auto& [id, ms] : mounts) {
      for (const auto& m : ms) {
        if (m.substr(0, m.find(':')) == name) return Conflict("volume is in use - [" + id + "]");
      }
    }
    volume_data.erase(name);
    return volumes.erase(name) != 0 ? Status::Ok() : NotFound("no such volume");
  }

  Result<EngineInfo> Info() override {
    if (on_read) on_read();
    if (down) return Unavailable("engine does not answer");
    return info;
  }
  Result<DiskUsage> SystemDiskUsage() override {
    if (on_read) on_read();
    if (down) return Unavailable("engine does not answer");
    return disk;
  }
  // ListContainers calls with `all` (stopped containers too), as state rounds list, and without
  // (running ones only), as VM rounds list.
  size_t full_listings = 0;
  size_t running_listings = 0;
  Result<std::vector<ContainerSummary>> ListContainers(const std::vector<std::string>& labels,
                                                       bool all) override {
    ++(all ? full_listings : running_listings);
    if (on_read) on_read();
    if (down) return Unavailable("engine does not answer");
    std::vector<ContainerSummary> out;
    for (const auto& [name, c] : containers) {
      if (!all && !c.running) continue;
      if (!HasLabels(c.labels, labels)) continue;
      // The engine's status text carries the health: "Up 2 minutes (healthy)".
      std::string text = c.running ? "Up 1 second" : "Exited (" + std::to_string(c.exit_code) + ")";
      if (c.running && !c.health.empty())
        text += c.health == "starting" ? " (health: starting)" : " (" + c.health + ")";
      // A running container is listed as running unless a test made it paused or restarting.
      const bool held = c.status == "paused" || c.status == "restarting";
      out.push_back({c.id, c.name, c.image, c.running && !held ? "running" : c.status, text, 0,
                     c.labels, c.networks});
    }
    return out;
  }
  // What the last StatsOfMany was allowed to keep in flight.
  size_t stats_in_flight = 0;
  std::vector<std::string> stats_asked;  // … and the containers it asked
  std::vector<Result<StatsSample>> StatsOfMany(const std::vector<std::string>& ids,
                                               size_t max_in_flight) override {
    stats_in_flight = max_in_flight;
    stats_asked = ids;
    return Engine::StatsOfMany(ids, max_in_flight);
  }
  Result<StatsSample> Stats(const std::string& id) override {
    if (on_read) on_read();
    if (down) return Unavailable("engine does not answer");
    for (const auto& [name, c] : containers) {
      if (c.id == id || c.name == id) {
        auto s = stats.find(c.name);
        return s == stats.end() ? StatsSample{} : s->second;
      }
    }
    return NotFound("No such container: " + id);
  }
  // Events reach a HostMonitor under test through OnEvent; the fake has no stream.
  Status StreamEvents(const EventFilter&, const std::function<bool(const Event&)>&,
                      const std::function<bool()>&) override {
    return Unavailable("the fake engine streams no events");
  }

  // "key" or "key=value" filters, as the engine applies them.
  static bool HasLabels(const std::map<std::string, std::string>& have,
                        const std::vector<std::string>& wanted) {
    for (const auto& l : wanted) {
      const auto eq = l.find('=');
      auto it = have.find(l.substr(0, eq));
      if (it == have.end() || (eq != std::string::npos && it->second != l.substr(eq + 1)))
        return false;
    }
    return true;
  }

 private:
  void Record(std::string call) {
    calls.push_back(std::move(call));
    if (on_call) on_call(calls.back());
  }
  // By name, as onedock calls containers, or by id, as the engine's listings and events give them.
  ContainerInfo* Find(const std::string& id) {
    auto it = containers.find(id);
    if (it != containers.end()) return &it->second;
    for (auto& [name, c] : containers) {
      if (c.id == id) return &c;
    }
    return nullptr;
  }
};

}  // namespace onedock::fakes

#endif  // ONEDOCK_TESTS_FAKES_FAKE_ENGINE_H_
