// Container and image shapes of the Engine API: the create and update bodies, inspect and list
// replies, stats samples.
#include <algorithm>

#include "docker/engine_json.h"
#include "docker/json_fields.h"

namespace onedock::docker {

using json_fields::Bool;
using json_fields::Int;
using json_fields::json;
using json_fields::MapToJson;
using json_fields::Obj;
using json_fields::ParseJson;
using json_fields::Str;
using json_fields::StringMap;
using json_fields::Strings;
using json_fields::UInt;

namespace {

EndpointState ParseEndpoint(const json& e) {
  EndpointState s;
  s.network_id = Str(e, "NetworkID");
  s.ipv4 = Str(e, "IPAddress");
  s.prefix_length = static_cast<int>(Int(e, "IPPrefixLen"));
  s.gateway = Str(e, "Gateway");
  s.mac = Str(e, "MacAddress");
  return s;
}

std::map<std::string, EndpointState> ParseEndpoints(const json& networks) {
  std::map<std::string, EndpointState> out;
  for (const auto& [name, e] : networks.items()) {
    if (e.is_object()) out[name] = ParseEndpoint(e);
  }
  return out;
}

std::string StripSlash(std::string name) {
  if (!name.empty() && name.front() == '/') name.erase(0, 1);
  return name;
}

}  // namespace
std::string ContainerCreateBody(const ContainerSpec& spec, ApiVersion api) {
  json j;
  j["Image"] = spec.image;
  if (!spec.cmd.empty()) j["Cmd"] = spec.cmd;
  if (!spec.entrypoint.empty()) j["Entrypoint"] = spec.entrypoint;
  j["Env"] = spec.env;
  j["Labels"] = MapToJson(spec.labels);
  if (!spec.hostname.empty()) j["Hostname"] = spec.hostname;
  if (!spec.domainname.empty()) j["Domainname"] = spec.domainname;
  if (!spec.working_dir.empty()) j["WorkingDir"] = spec.working_dir;
  if (!spec.user.empty()) j["User"] = spec.user;
  j["Tty"] = spec.tty;
  j["OpenStdin"] = spec.open_stdin;
  j["StopTimeout"] = spec.stop_timeout_s;

  json host;
  if (spec.nano_cpus > 0) host["NanoCpus"] = spec.nano_cpus;
  if (spec.memory_bytes > 0) {
    host["Memory"] = spec.memory_bytes;
    host["MemorySwap"] = spec.memory_bytes;  // without it the engine grants as much again as swap
  }
  host["Init"] = spec.init;
  host["Privileged"] = spec.privileged;
  if (!spec.cap_add.empty()) host["CapAdd"] = spec.cap_add;
  std::vector<std::string> binds = spec.binds;
  binds.insert(binds.end(), spec.volumes.begin(), spec.volumes.end());
  if (!binds.empty()) host["Binds"] = binds;
  if (!spec.dns.empty()) host["Dns"] = spec.dns;
  if (!spec.dns_search.empty()) host["DnsSearch"] = spec.dns_search;
  if (spec.shm_size_bytes > 0) host["ShmSize"] = spec.shm_size_bytes;
  if (!spec.ulimits.empty()) {
    json ulimits = json::array();
    for (const auto& u : spec.ulimits)
      ulimits.push_back({{"Name", u.name}, {"Soft", u.soft}, {"Hard", u.hard}});
    host["Ulimits"] = ulimits;
  }
  if (!spec.sysctls.empty()) host["Sysctls"] = MapToJson(spec.sysctls);
  host["RestartPolicy"] = {{"Name", "no"}};
  host["LogConfig"] = {{"Type", "json-file"}, {"Config", {{"max-size", "10m"}, {"max-file", "2"}}}};
  if (!spec.network_mode.empty()) host["NetworkMode"] = spec.network_mode;
  j["HostConfig"] = host;

  const NetworkAttachment& nic = spec.primary;
  const bool named_network = !spec.network_mode.empty() && spec.network_mode != "none" &&
                             spec.network_mode != "host" && spec.network_mode != "bridge";
  if (named_network) {
    json endpoint = json::object();
    if (!nic.ipv4.empty()) endpoint["IPAMConfig"] = {{"IPv4Address", nic.ipv4}};
    if (!nic.aliases.empty()) endpoint["Aliases"] = nic.aliases;
    if (!nic.mac.empty()) {
      // Before 1.44 only the container-wide MacAddress is honoured (for the primary network);
      // from 1.44 it belongs to the endpoint and the container-wide field is deprecated.
      if (api < ApiVersion{1, 44}) {
        j["MacAddress"] = nic.mac;
      } else {
        endpoint["MacAddress"] = nic.mac;
      }
    }
    j["NetworkingConfig"] = {{"EndpointsConfig", {{spec.network_mode, endpoint}}}};
  } else if (!nic.mac.empty()) {
    j["MacAddress"] = nic.mac;
  }
  return json_fields::Wire(j);
}
std::string ResourceUpdateBody(const ResourceUpdate& update) {
  json j = json::object();
  if (update.nano_cpus > 0) j["NanoCpus"] = update.nano_cpus;
  if (update.memory_bytes > 0) {
    j["Memory"] = update.memory_bytes;
    j["MemorySwap"] = update.memory_bytes;  // the engine refuses Memory above the current swap
  }
  return json_fields::Wire(j);
}

Result<ContainerInfo> ParseContainerInspect(std::string_view body) {
  auto parsed = ParseJson(body, "container inspect");
  if (!parsed.ok()) return parsed.status();
  const json& j = *parsed;
  ContainerInfo c;
  c.id = Str(j, "Id");
  c.name = StripSlash(Str(j, "Name"));
  c.image_id = Str(j, "Image");
  const json& state = Obj(j, "State");
  c.status = Str(state, "Status");
  c.running = Bool(state, "Running");
  c.paused = Bool(state, "Paused");
  c.oom_killed = Bool(state, "OOMKilled");
  c.exit_code = static_cast<int>(Int(state, "ExitCode"));
  c.pid = static_cast<int>(Int(state, "Pid"));
  c.error = Str(state, "Error");
  c.started_at = Str(state, "StartedAt");
  c.finished_at = Str(state, "FinishedAt");
  const json& config = Obj(j, "Config");
  c.image = Str(config, "Image");
  c.hostname = Str(config, "Hostname");
  c.labels = StringMap(config, "Labels");
  c.env = Strings(config, "Env");
  c.cmd = Strings(config, "Cmd");
  c.entrypoint = Strings(config, "Entrypoint");
  c.working_dir = Str(config, "WorkingDir");
  c.user = Str(config, "User");
  c.tty = Bool(config, "Tty");
  c.open_stdin = Bool(config, "OpenStdin");
  c.health = Str(Obj(state, "Health"), "Status");
  const json& host = Obj(j, "HostConfig");
  c.nano_cpus = Int(host, "NanoCpus");
  c.memory_bytes = Int(host, "Memory");
  c.memory_swap_bytes = Int(host, "MemorySwap");
  c.shm_size_bytes = Int(host, "ShmSize");
  if (auto u = host.find("Ulimits"); u != host.end() && u->is_array()) {
    for (const json& row : *u) {
      if (row.is_object())
        c.ulimits.push_back({Str(row, "Name"), Int(row, "Soft"), Int(row, "Hard")});
    }
  }
  c.sysctls = StringMap(host, "Sysctls");
  c.init = Bool(host, "Init");
  c.privileged = Bool(host, "Privileged");
  c.cap_add = Strings(host, "CapAdd");
  c.binds = Strings(host, "Binds");
  c.dns = Strings(host, "Dns");
  c.network_mode = Str(host, "NetworkMode");
  c.networks = ParseEndpoints(Obj(Obj(j, "NetworkSettings"), "Networks"));
  if (c.id.empty()) return Internal("container inspect reply without an Id");
  return c;
}

Result<std::vector<ContainerSummary>> ParseContainerList(std::string_view body) {
  auto parsed = ParseJson(body, "container list");
  if (!parsed.ok()) return parsed.status();
  if (!parsed->is_array()) return Internal("container list reply is not an array");
  std::vector<ContainerSummary> out;
  for (const json& row : *parsed) {
    if (!row.is_object()) continue;
    ContainerSummary s;
    s.id = Str(row, "Id");
    auto names = Strings(row, "Names");
    if (!names.empty()) s.name = StripSlash(names.front());
    s.image = Str(row, "Image");
    s.state = Str(row, "State");
    s.status_text = Str(row, "Status");
    s.created = Int(row, "Created");
    s.labels = StringMap(row, "Labels");
    s.networks = ParseEndpoints(Obj(Obj(row, "NetworkSettings"), "Networks"));
    out.push_back(std::move(s));
  }
  return out;
}

Result<ImageInfo> ParseImageInspect(std::string_view body) {
  auto parsed = ParseJson(body, "image inspect");
  if (!parsed.ok()) return parsed.status();
  const json& j = *parsed;
  ImageInfo i;
  i.id = Str(j, "Id");
  i.repo_tags = Strings(j, "RepoTags");
  i.repo_digests = Strings(j, "RepoDigests");
  i.size = Int(j, "Size");
  const json& config = Obj(j, "Config");
  i.cmd = Strings(config, "Cmd");
  i.labels = StringMap(config, "Labels");
  if (i.id.empty()) return Internal("image inspect reply without an Id");
  return i;
}

Result<StatsSample> ParseStats(std::string_view body) {
  auto parsed = ParseJson(body, "stats");
  if (!parsed.ok()) return parsed.status();
  const json& j = *parsed;
  StatsSample s;
  s.read = Str(j, "read");
  const json& cpu = Obj(j, "cpu_stats");
  s.cpu_total_ns = UInt(Obj(cpu, "cpu_usage"), "total_usage");
  s.system_cpu_ns = UInt(cpu, "system_cpu_usage");
  s.online_cpus = static_cast<uint32_t>(UInt(cpu, "online_cpus"));
  if (s.online_cpus == 0) {
    auto per_cpu = Obj(cpu, "cpu_usage").find("percpu_usage");
    if (per_cpu != Obj(cpu, "cpu_usage").end() && per_cpu->is_array()) {
      s.online_cpus = static_cast<uint32_t>(per_cpu->size());
    }
  }
  const json& mem = Obj(j, "memory_stats");
  s.memory_usage = UInt(mem, "usage");
  s.memory_limit = UInt(mem, "limit");
  const json& mstats = Obj(mem, "stats");
  s.memory_inactive_file = mstats.contains("total_inactive_file")
                               ? UInt(mstats, "total_inactive_file")
                               : UInt(mstats, "inactive_file");
  for (const auto& [iface, n] : Obj(j, "networks").items()) {
    s.net_rx_bytes += UInt(n, "rx_bytes");
    s.net_tx_bytes += UInt(n, "tx_bytes");
  }
  auto io = Obj(j, "blkio_stats").find("io_service_bytes_recursive");
  if (io != Obj(j, "blkio_stats").end() && io->is_array()) {
    for (const json& row : *io) {
      const std::string op = Str(row, "op");
      if (op == "Read" || op == "read") s.disk_read_bytes += UInt(row, "value");
      if (op == "Write" || op == "write") s.disk_write_bytes += UInt(row, "value");
    }
  }
  s.pids = static_cast<uint32_t>(UInt(Obj(j, "pids_stats"), "current"));
  return s;
}

}  // namespace onedock::docker
