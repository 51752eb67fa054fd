#include "docker/engine_json.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "bridge/base64.h"

namespace onedock::docker {
namespace {

using nlohmann::json;

// Tolerant readers: a missing key, a null or a value of another type reads as empty.
std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

int64_t Int(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) return 0;
  if (it->is_number_integer()) return it->get<int64_t>();
  if (it->is_number_unsigned()) return static_cast<int64_t>(it->get<uint64_t>());
  if (it->is_number_float()) return static_cast<int64_t>(it->get<double>());
  return 0;
}

uint64_t UInt(const json& j, const char* key) {
  const int64_t v = Int(j, key);
  auto it = j.find(key);
  if (it != j.end() && it->is_number_unsigned()) return it->get<uint64_t>();
  return v < 0 ? 0 : static_cast<uint64_t>(v);
}

bool Bool(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_boolean() && it->get<bool>();
}

const json& Obj(const json& j, const char* key) {
  static const json kEmpty = json::object();
  auto it = j.find(key);
  return it != j.end() && it->is_object() ? *it : kEmpty;
}

std::vector<std::string> Strings(const json& j, const char* key) {
  std::vector<std::string> out;
  auto it = j.find(key);
  if (it == j.end() || !it->is_array()) return out;
  for (const auto& v : *it) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

std::map<std::string, std::string> StringMap(const json& j, const char* key) {
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : Obj(j, key).items()) {
    if (v.is_string()) out[k] = v.get<std::string>();
  }
  return out;
}

Result<json> ParseJson(std::string_view body, std::string_view what) {
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return Internal("malformed " + std::string(what) + " reply from the engine");
  }
  return j;
}

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

json MapToJson(const std::map<std::string, std::string>& m) {
  json j = json::object();
  for (const auto& [k, v] : m) j[k] = v;
  return j;
}

std::string StripSlash(std::string name) {
  if (!name.empty() && name.front() == '/') name.erase(0, 1);
  return name;
}

}  // namespace

Result<ApiVersion> ApiVersion::Parse(std::string_view text) {
  ApiVersion v;
  const size_t dot = text.find('.');
  if (dot == std::string_view::npos) return InvalidArgument("bad API version '" + std::string(text) + "'");
  const char* b = text.data();
  auto r1 = std::from_chars(b, b + dot, v.major);
  auto r2 = std::from_chars(b + dot + 1, b + text.size(), v.minor);
  if (r1.ec != std::errc() || r1.ptr != b + dot || r2.ec != std::errc() ||
      r2.ptr != b + text.size()) {
    return InvalidArgument("bad API version '" + std::string(text) + "'");
  }
  return v;
}

std::string ApiVersion::ToString() const {
  return std::to_string(major) + "." + std::to_string(minor);
}

Result<ApiVersion> NegotiateApi(std::string_view engine_api, std::string_view engine_min_api) {
  auto newest = ApiVersion::Parse(engine_api);
  if (!newest.ok()) return newest.status().WithContext("engine");
  ApiVersion use = std::min(*newest, kNewestApi);
  if (use < kOldestApi) {
    return FailedPrecondition("engine API " + newest->ToString() + " is older than " +
                              kOldestApi.ToString() + ", the oldest onedock supports");
  }
  if (!engine_min_api.empty()) {
    auto oldest = ApiVersion::Parse(engine_min_api);
    if (!oldest.ok()) return oldest.status().WithContext("engine");
    if (use < *oldest) {
      return FailedPrecondition("engine requires API " + oldest->ToString() +
                                " or newer; onedock speaks up to " + kNewestApi.ToString());
    }
  }
  return use;
}

std::string EngineMessage(std::string_view body) {
  json j = json::parse(body, nullptr, false);
  if (!j.is_discarded() && j.is_object()) {
    if (auto m = Str(j, "message"); !m.empty()) return m;
  }
  std::string text(body);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  if (text.size() > 500) text.resize(500);
  return text;
}

Status StatusFromHttp(long http_status, std::string_view body) {
  std::string message = std::to_string(http_status);
  switch (http_status) {
    case 400: message += " Bad Request"; break;
    case 401: message += " Unauthorized"; break;
    case 403: message += " Forbidden"; break;
    case 404: message += " Not Found"; break;
    case 409: message += " Conflict"; break;
    case 500: message += " Internal Server Error"; break;
    case 503: message += " Service Unavailable"; break;
    default: break;
  }
  if (const std::string text = EngineMessage(body); !text.empty()) message += ": " + text;
  switch (http_status) {
    case 400: return InvalidArgument(message);
    case 401: return Unauthenticated(message);
    case 403: return FailedPrecondition(message);
    case 404: return NotFound(message);
    case 409: return Conflict(message);
    case 502:
    case 503:
    case 504: return Unavailable(message);
    default: return Internal(message);
  }
}

Status StreamLineStatus(std::string_view line) {
  json j = json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return Internal("malformed progress line from the engine: " + std::string(line.substr(0, 200)));
  }
  if (auto detail = Obj(j, "errorDetail"); !detail.empty()) {
    const std::string m = Str(detail, "message");
    return Internal(m.empty() ? Str(j, "error") : m);
  }
  if (auto e = Str(j, "error"); !e.empty()) return Internal(e);
  return Status::Ok();
}

std::string PushDigestFromLine(std::string_view line) {
  json j = json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return {};
  return Str(Obj(j, "aux"), "Digest");
}

std::string LoadedImageFromLine(std::string_view line) {
  json j = json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return {};
  std::string text = Str(j, "stream");
  for (std::string_view prefix : {"Loaded image ID: ", "Loaded image: "}) {
    if (text.rfind(prefix, 0) == 0) {
      text.erase(0, prefix.size());
      while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
      return text;
    }
  }
  return {};
}

std::string RegistryAuthHeader(const RegistryAuth& auth) {
  json j = json::object();
  if (!auth.username.empty()) {
    j["username"] = auth.username;
    j["password"] = auth.password;
    if (!auth.server.empty()) j["serveraddress"] = auth.server;
  }
  return Base64Encode(j.dump(), Base64Alphabet::kUrl);
}

std::string EventFiltersJson(const EventFilter& filter) {
  json j = json::object();
  if (!filter.types.empty()) j["type"] = filter.types;
  if (!filter.events.empty()) j["event"] = filter.events;
  if (!filter.labels.empty()) j["label"] = filter.labels;
  return j.dump();
}

std::string LabelFiltersJson(const std::vector<std::string>& labels) {
  json j = json::object();
  if (!labels.empty()) j["label"] = labels;
  return j.dump();
}

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
  return j.dump();
}

std::string NetworkCreateBody(const NetworkSpec& spec) {
  json j;
  j["Name"] = spec.name;
  j["Driver"] = spec.driver;
  j["CheckDuplicate"] = true;
  j["Attachable"] = true;
  j["Internal"] = spec.internal;
  j["EnableIPv6"] = false;
  if (!spec.subnet.empty()) {
    json config = {{"Subnet", spec.subnet}};
    if (!spec.gateway.empty()) config["Gateway"] = spec.gateway;
    if (!spec.ip_range.empty()) config["IPRange"] = spec.ip_range;
    j["IPAM"] = {{"Driver", "default"}, {"Config", json::array({config})}};
  }
  j["Options"] = MapToJson(spec.options);
  j["Labels"] = MapToJson(spec.labels);
  return j.dump();
}

std::string NetworkConnectBody(const std::string& container, const NetworkAttachment& nic) {
  json endpoint = json::object();
  if (!nic.ipv4.empty()) endpoint["IPAMConfig"] = {{"IPv4Address", nic.ipv4}};
  if (!nic.mac.empty()) endpoint["MacAddress"] = nic.mac;  // applied by engines from API 1.54
  if (!nic.aliases.empty()) endpoint["Aliases"] = nic.aliases;
  return json{{"Container", container}, {"EndpointConfig", endpoint}}.dump();
}

std::string ResourceUpdateBody(const ResourceUpdate& update) {
  json j = json::object();
  if (update.nano_cpus > 0) j["NanoCpus"] = update.nano_cpus;
  if (update.memory_bytes > 0) {
    j["Memory"] = update.memory_bytes;
    j["MemorySwap"] = update.memory_bytes;  // the engine refuses Memory above the current swap
  }
  return j.dump();
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
  const json& host = Obj(j, "HostConfig");
  c.nano_cpus = Int(host, "NanoCpus");
  c.memory_bytes = Int(host, "Memory");
  c.memory_swap_bytes = Int(host, "MemorySwap");
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

namespace {

VolumeInfo VolumeOf(const json& j) {
  return {Str(j, "Name"), StringMap(j, "Labels"), Str(j, "Mountpoint")};
}

}  // namespace

Result<VolumeInfo> ParseVolume(std::string_view body) {
  auto parsed = ParseJson(body, "volume");
  if (!parsed.ok()) return parsed.status();
  if (!parsed->is_object() || Str(*parsed, "Name").empty()) return Internal("volume reply without a Name");
  return VolumeOf(*parsed);
}

Result<std::vector<VolumeInfo>> ParseVolumeList(std::string_view body) {
  auto parsed = ParseJson(body, "volume list");
  if (!parsed.ok()) return parsed.status();
  std::vector<VolumeInfo> out;
  if (!parsed->is_object()) return Internal("malformed volume list reply from the engine");
  auto list = parsed->find("Volumes");
  if (list == parsed->end() || list->is_null()) return out;  // the engine sends null for none
  if (!list->is_array()) return Internal("malformed volume list reply from the engine");
  for (const auto& v : *list) {
    if (v.is_object()) out.push_back(VolumeOf(v));
  }
  return out;
}

namespace {

Result<NetworkInfo> NetworkFromJson(const json& j) {
  NetworkInfo n;
  n.id = Str(j, "Id");
  n.name = Str(j, "Name");
  n.driver = Str(j, "Driver");
  n.options = StringMap(j, "Options");
  n.labels = StringMap(j, "Labels");
  auto config = Obj(j, "IPAM").find("Config");
  if (config != Obj(j, "IPAM").end() && config->is_array() && !config->empty()) {
    n.subnet = Str((*config)[0], "Subnet");
    n.gateway = Str((*config)[0], "Gateway");
  }
  for (const auto& [id, e] : Obj(j, "Containers").items()) {
    EndpointState s;
    s.mac = Str(e, "MacAddress");
    std::string cidr = Str(e, "IPv4Address");  // "10.42.0.42/24"
    if (auto slash = cidr.find('/'); slash != std::string::npos) {
      std::from_chars(cidr.data() + slash + 1, cidr.data() + cidr.size(), s.prefix_length);
      cidr.resize(slash);
    }
    s.ipv4 = cidr;
    s.network_id = n.id;
    n.containers[id] = s;
  }
  if (n.id.empty()) return Internal("network without an Id");
  return n;
}

}  // namespace

Result<NetworkInfo> ParseNetworkInspect(std::string_view body) {
  auto parsed = ParseJson(body, "network inspect");
  if (!parsed.ok()) return parsed.status();
  return NetworkFromJson(*parsed);
}

Result<std::vector<NetworkInfo>> ParseNetworkList(std::string_view body) {
  auto parsed = ParseJson(body, "network list");
  if (!parsed.ok()) return parsed.status();
  if (!parsed->is_array()) return Internal("network list reply is not an array");
  std::vector<NetworkInfo> out;
  for (const auto& item : *parsed) {
    auto n = NetworkFromJson(item);
    if (!n.ok()) return n.status();
    out.push_back(std::move(*n));
  }
  return out;
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

Result<Event> ParseEvent(std::string_view line) {
  auto parsed = ParseJson(line, "event");
  if (!parsed.ok()) return parsed.status();
  const json& j = *parsed;
  Event e;
  e.type = Str(j, "Type");
  e.action = Str(j, "Action");
  const json& actor = Obj(j, "Actor");
  e.id = Str(actor, "ID");
  if (e.id.empty()) e.id = Str(j, "id");
  e.attributes = StringMap(actor, "Attributes");
  e.time_nano = Int(j, "timeNano");
  if (e.time_nano == 0) e.time_nano = Int(j, "time") * 1000000000;
  return e;
}

Result<EngineVersion> ParseVersion(std::string_view body) {
  auto parsed = ParseJson(body, "version");
  if (!parsed.ok()) return parsed.status();
  const json& j = *parsed;
  EngineVersion v;
  v.api_version = Str(j, "ApiVersion");
  v.min_api_version = Str(j, "MinAPIVersion");
  v.version = Str(j, "Version");
  v.os = Str(j, "Os");
  v.arch = Str(j, "Arch");
  v.kernel = Str(j, "KernelVersion");
  if (v.api_version.empty()) return Internal("version reply without ApiVersion");
  return v;
}

Result<EngineInfo> ParseInfo(std::string_view body) {
  auto parsed = ParseJson(body, "info");
  if (!parsed.ok()) return parsed.status();
  const json& j = *parsed;
  EngineInfo i;
  i.name = Str(j, "Name");
  i.server_version = Str(j, "ServerVersion");
  i.ncpu = static_cast<int>(Int(j, "NCPU"));
  i.mem_total = Int(j, "MemTotal");
  i.containers = static_cast<int>(Int(j, "Containers"));
  i.containers_running = static_cast<int>(Int(j, "ContainersRunning"));
  i.containers_paused = static_cast<int>(Int(j, "ContainersPaused"));
  i.containers_stopped = static_cast<int>(Int(j, "ContainersStopped"));
  i.docker_root_dir = Str(j, "DockerRootDir");
  i.cgroup_version = Str(j, "CgroupVersion");
  i.operating_system = Str(j, "OperatingSystem");
  i.architecture = Str(j, "Architecture");
  i.kernel_version = Str(j, "KernelVersion");
  return i;
}

Result<DiskUsage> ParseDiskUsage(std::string_view body) {
  auto parsed = ParseJson(body, "system df");
  if (!parsed.ok()) return parsed.status();
  const json& j = *parsed;
  DiskUsage d;
  d.layers = Int(j, "LayersSize");
  if (j.contains("Containers") && j["Containers"].is_array()) {
    for (const json& c : j["Containers"]) d.containers += std::max<int64_t>(0, Int(c, "SizeRw"));
  }
  if (j.contains("Volumes") && j["Volumes"].is_array()) {
    for (const json& v : j["Volumes"]) {
      if (v.contains("UsageData") && v["UsageData"].is_object()) d.volumes += std::max<int64_t>(0, Int(v["UsageData"], "Size"));
    }
  }
  return d;
}

Status DemuxStream(std::string_view raw, std::string* out, std::string* err) {
  while (!raw.empty()) {
    if (raw.size() < 8) return Internal("truncated stream frame header");
    const auto stream = static_cast<uint8_t>(raw[0]);
    const uint32_t len = (static_cast<uint32_t>(static_cast<uint8_t>(raw[4])) << 24) |
                         (static_cast<uint32_t>(static_cast<uint8_t>(raw[5])) << 16) |
                         (static_cast<uint32_t>(static_cast<uint8_t>(raw[6])) << 8) |
                         static_cast<uint32_t>(static_cast<uint8_t>(raw[7]));
    raw.remove_prefix(8);
    if (len > raw.size()) return Internal("stream frame runs past the end of the reply");
    if (stream == 1 || stream == 0) {
      out->append(raw.substr(0, len));
    } else if (stream == 2) {
      err->append(raw.substr(0, len));
    } else {
      return Internal("stream frame for unknown stream " + std::to_string(stream));
    }
    raw.remove_prefix(len);
  }
  return Status::Ok();
}

}  // namespace onedock::docker
