// Container and image shapes of the Engine API: the create and update bodies, inspect and list
// replies, stats samples.
#include <algorithm>
#include <map>
#include <optional>
#include <utility>
#include <vector>

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

// UInt's reading of one number (json_fields.h): negative ones are 0.
uint64_t Unsigned(int64_t v) { return v < 0 ? 0 : static_cast<uint64_t>(v); }
uint64_t Unsigned(double v) {  // 0 past int64's range too, where the DOM reader's cast is undefined
  return v > 0 && v < 9223372036854775808.0 ? static_cast<uint64_t>(static_cast<int64_t>(v)) : 0;
}

// A stats reply read as it is lexed, keeping only a StatsSample's fields: a DOM of the whole
// sample (about a hundred values, each allocated and freed) cost a VM round more CPU than its own
// work per container. It reads what the tolerant DOM readers of json_fields.h would: a field of
// another type, or under a section of another type, reads as empty, and of duplicate keys the last
// one wins, with everything under it.
class StatsReader final : public json::json_sax_t {
 public:
  StatsSample Sample() const {
    StatsSample s = sample_;
    s.online_cpus = static_cast<uint32_t>(online_cpus_);
    s.pids = static_cast<uint32_t>(pids_);
    if (s.online_cpus == 0 && percpu_) s.online_cpus = static_cast<uint32_t>(*percpu_);
    s.memory_inactive_file = has_total_inactive_ ? total_inactive_ : inactive_;
    for (const auto& [iface, bytes] : networks_) {
      s.net_rx_bytes += bytes.first;
      s.net_tx_bytes += bytes.second;
    }
    return s;
  }

  bool null() override { return Scalar(0, nullptr); }
  bool boolean(bool) override { return Scalar(0, nullptr); }
  bool number_integer(number_integer_t v) override { return Scalar(Unsigned(v), nullptr); }
  bool number_unsigned(number_unsigned_t v) override { return Scalar(v, nullptr); }
  bool number_float(number_float_t v, const string_t&) override {
    return Scalar(Unsigned(v), nullptr);
  }
  bool string(string_t& v) override { return Scalar(0, &v); }
  bool binary(binary_t&) override { return Scalar(0, nullptr); }
  bool key(string_t& k) override {
    key_ = k;
    return true;
  }
  bool start_object(std::size_t) override { return Open(true); }
  bool start_array(std::size_t) override { return Open(false); }
  bool end_object() override {
    if (frames_.back().where == kIoRow) {
      if (row_op_ == "Read" || row_op_ == "read") sample_.disk_read_bytes += row_value_;
      if (row_op_ == "Write" || row_op_ == "write") sample_.disk_write_bytes += row_value_;
    }
    frames_.pop_back();
    return true;
  }
  bool end_array() override {
    frames_.pop_back();
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;
  }

 private:
  // The places of a sample this reader keeps something under; kOther for everything else.
  enum Where {
    kOther,
    kRoot,
    kCpu,
    kCpuUsage,
    kPercpu,
    kMemory,
    kMemoryStats,
    kNetworks,
    kInterface,
    kBlkio,
    kIoRows,
    kIoRow,
    kPids
  };
  struct Frame {
    Where where;
    bool object;
  };

  // The number or the text a member named `k` of `where` fills; null for any other member.
  uint64_t* Number(Where where, const std::string& k) {
    switch (where) {
      case kCpu:
        if (k == "system_cpu_usage") return &sample_.system_cpu_ns;
        return k == "online_cpus" ? &online_cpus_ : nullptr;
      case kCpuUsage:
        return k == "total_usage" ? &sample_.cpu_total_ns : nullptr;
      case kMemory:
        if (k == "usage") return &sample_.memory_usage;
        return k == "limit" ? &sample_.memory_limit : nullptr;
      case kMemoryStats:
        if (k == "total_inactive_file") return &total_inactive_;
        return k == "inactive_file" ? &inactive_ : nullptr;
      case kInterface:
        if (k == "rx_bytes") return &networks_[interface_].first;
        return k == "tx_bytes" ? &networks_[interface_].second : nullptr;
      case kIoRow:
        return k == "value" ? &row_value_ : nullptr;
      case kPids:
        return k == "current" ? &pids_ : nullptr;
      default:
        return nullptr;
    }
  }
  std::string* Text(Where where, const std::string& k) {
    if (where == kRoot && k == "read") return &sample_.read;
    if (where == kIoRow && k == "op") return &row_op_;
    return nullptr;
  }

  // A value arrives in the innermost container (as the member key_ when that is an object):
  // whatever it replaces under that name is cleared, and the place it opens, when it is a
  // container of the right kind there, is returned (kOther if not).
  Where Arrive(bool object, bool array) {
    if (frames_.empty()) return object ? kRoot : kOther;
    const Frame& in = frames_.back();
    if (!in.object) {
      if (in.where == kPercpu) ++*percpu_;
      if (in.where == kIoRows && object) {
        row_op_.clear();
        row_value_ = 0;
        return kIoRow;
      }
      return kOther;
    }
    const std::string& k = key_;
    if (uint64_t* n = Number(in.where, k)) *n = 0;
    if (std::string* text = Text(in.where, k)) text->clear();
    switch (in.where) {
      case kRoot:
        if (k == "cpu_stats") {
          sample_.cpu_total_ns = sample_.system_cpu_ns = online_cpus_ = 0;
          percpu_.reset();
          return object ? kCpu : kOther;
        }
        if (k == "memory_stats") {
          sample_.memory_usage = sample_.memory_limit = 0;
          has_total_inactive_ = false;
          total_inactive_ = inactive_ = 0;
          return object ? kMemory : kOther;
        }
        if (k == "networks") {
          networks_.clear();
          return object ? kNetworks : kOther;
        }
        if (k == "blkio_stats") {
          sample_.disk_read_bytes = sample_.disk_write_bytes = 0;
          return object ? kBlkio : kOther;
        }
        if (k == "pids_stats") {
          pids_ = 0;
          return object ? kPids : kOther;
        }
        return kOther;
      case kCpu:
        if (k == "cpu_usage") {
          sample_.cpu_total_ns = 0;
          percpu_.reset();
          return object ? kCpuUsage : kOther;
        }
        return kOther;
      case kCpuUsage:
        if (k == "percpu_usage") {
          percpu_ = array ? std::optional<size_t>(0) : std::nullopt;
          return array ? kPercpu : kOther;
        }
        return kOther;
      case kMemory:
        if (k == "stats") {
          has_total_inactive_ = false;
          total_inactive_ = inactive_ = 0;
          return object ? kMemoryStats : kOther;
        }
        return kOther;
      case kMemoryStats:
        if (k == "total_inactive_file") has_total_inactive_ = true;
        return kOther;
      case kNetworks:
        networks_[k] = {0, 0};
        interface_ = k;
        return object ? kInterface : kOther;
      case kBlkio:
        if (k == "io_service_bytes_recursive") {
          sample_.disk_read_bytes = sample_.disk_write_bytes = 0;
          return array ? kIoRows : kOther;
        }
        return kOther;
      default:
        return kOther;
    }
  }

  bool Open(bool object) {
    frames_.push_back({Arrive(object, !object), object});
    return true;
  }

  // A number (`n`) or a string (`text`) arrives; a field of the other kind stays empty.
  bool Scalar(uint64_t n, const std::string* text) {
    Arrive(false, false);
    if (frames_.empty() || !frames_.back().object) return true;
    if (text == nullptr) {
      if (uint64_t* field = Number(frames_.back().where, key_)) *field = n;
    } else if (std::string* field = Text(frames_.back().where, key_)) {
      *field = *text;
    }
    return true;
  }

  std::vector<Frame> frames_;
  std::string key_;  // the last key read
  StatsSample sample_;
  uint64_t online_cpus_ = 0, pids_ = 0;  // StatsSample's, read as every other number
  std::optional<size_t> percpu_;  // the length of cpu_usage.percpu_usage, when it is an array
  bool has_total_inactive_ = false;
  uint64_t total_inactive_ = 0, inactive_ = 0;
  std::map<std::string, std::pair<uint64_t, uint64_t>> networks_;  // rx, tx by interface
  std::string interface_;
  std::string row_op_;  // of the io_service_bytes_recursive row being read
  uint64_t row_value_ = 0;
};

// A container listing read as it is lexed, keeping only a ContainerSummary's fields: the DOM of a
// listing of 200 containers (each row with its ports, mounts, labels and networks) was most of a
// state round's CPU. It reads what the DOM readers of json_fields.h would: a row that is no
// object is skipped, a field of another type, or under a section of another type, reads as
// empty, the name is the first string of Names, and of duplicate keys the last one wins, with
// everything under it.
class ListingReader final : public json::json_sax_t {
 public:
  // kInternal when the reply is JSON but no array (the caller checks that it is JSON).
  Result<std::vector<ContainerSummary>> Rows() && {
    if (!array_) return Internal("container list reply is not an array");
    return std::move(rows_);
  }

  bool null() override { return Scalar(nullptr, nullptr); }
  bool boolean(bool) override { return Scalar(nullptr, nullptr); }
  bool number_integer(number_integer_t v) override { return Number(v); }
  bool number_unsigned(number_unsigned_t v) override {
    return Number(static_cast<int64_t>(v));  // as Int() reads it
  }
  bool number_float(number_float_t v, const string_t&) override {
    // Int() truncates a float; one past int64's range, where that cast is undefined, reads as 0.
    return Number(v >= -9223372036854775808.0 && v < 9223372036854775808.0 ? static_cast<int64_t>(v)
                                                                           : 0);
  }
  bool string(string_t& v) override { return Scalar(nullptr, &v); }
  bool binary(binary_t&) override { return Scalar(nullptr, nullptr); }
  bool key(string_t& k) override {
    key_ = k;
    return true;
  }
  bool start_object(std::size_t) override { return Open(true); }
  bool start_array(std::size_t) override { return Open(false); }
  bool end_object() override {
    frames_.pop_back();
    return true;
  }
  bool end_array() override {
    frames_.pop_back();
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;
  }

 private:
  // The places of a listing this reader keeps something under; kOther for everything else.
  enum Where { kOther, kRows, kRow, kNames, kLabels, kSettings, kNetworks, kEndpoint };
  struct Frame {
    Where where;
    bool object;
  };

  ContainerSummary& row() { return rows_.back(); }

  // The text a member named `k` of `where` fills; null for any other member.
  std::string* Text(Where where, const std::string& k) {
    if (where == kRow) {
      if (k == "Id") return &row().id;
      if (k == "Image") return &row().image;
      if (k == "State") return &row().state;
      if (k == "Status") return &row().status_text;
      return nullptr;
    }
    if (where != kEndpoint) return nullptr;
    if (k == "NetworkID") return &endpoint_->network_id;
    if (k == "IPAddress") return &endpoint_->ipv4;
    if (k == "Gateway") return &endpoint_->gateway;
    if (k == "MacAddress") return &endpoint_->mac;
    return nullptr;
  }

  // A value arrives in the innermost container (as the member key_ when that is an object):
  // whatever it replaces under that name is cleared, and the place it opens, when it is a
  // container of the right kind there, is returned (kOther if not). `text` is the value when it
  // is a string.
  Where Arrive(bool object, bool array, const std::string* text) {
    if (frames_.empty()) {
      array_ = array;
      return array ? kRows : kOther;
    }
    const Frame& in = frames_.back();
    if (!in.object) {
      if (in.where == kRows && object) {
        rows_.emplace_back();
        named_ = false;
        return kRow;
      }
      if (in.where == kNames && text != nullptr && !named_) {
        row().name = !text->empty() && text->front() == '/' ? text->substr(1) : *text;
        named_ = true;
      }
      return kOther;
    }
    const std::string& k = key_;
    if (std::string* field = Text(in.where, k)) {
      *field = text != nullptr ? *text : std::string();
      return kOther;
    }
    switch (in.where) {
      case kRow:
        if (k == "Names") {
          row().name.clear();
          named_ = false;
          return array ? kNames : kOther;
        }
        if (k == "Created") {
          row().created = 0;
          return kOther;
        }
        if (k == "Labels") {
          row().labels.clear();
          return object ? kLabels : kOther;
        }
        if (k == "NetworkSettings") {
          row().networks.clear();
          return object ? kSettings : kOther;
        }
        return kOther;
      case kLabels:
        if (text != nullptr) {
          row().labels[k] = *text;
        } else {
          row().labels.erase(k);
        }
        return kOther;
      case kSettings:
        if (k == "Networks") {
          row().networks.clear();
          return object ? kNetworks : kOther;
        }
        return kOther;
      case kNetworks:
        if (!object) {
          row().networks.erase(k);
          return kOther;
        }
        endpoint_ = &(row().networks[k] = EndpointState{});
        return kEndpoint;
      case kEndpoint:
        if (k == "IPPrefixLen") endpoint_->prefix_length = 0;
        return kOther;
      default:
        return kOther;
    }
  }

  bool Open(bool object) {
    frames_.push_back({Arrive(object, !object, nullptr), object});
    return true;
  }

  bool Scalar(const int64_t* n, const std::string* text) {
    Arrive(false, false, text);
    if (n == nullptr || frames_.empty() || !frames_.back().object) return true;
    if (frames_.back().where == kRow && key_ == "Created") row().created = *n;
    if (frames_.back().where == kEndpoint && key_ == "IPPrefixLen") {
      endpoint_->prefix_length = static_cast<int>(*n);
    }
    return true;
  }
  bool Number(int64_t n) { return Scalar(&n, nullptr); }

  std::vector<Frame> frames_;
  std::string key_;  // the last key read
  bool array_ = false;
  std::vector<ContainerSummary> rows_;
  bool named_ = false;                 // the row's Names gave its name
  EndpointState* endpoint_ = nullptr;  // the network being read, in row().networks
};

}  // namespace

Result<StatsSample> ParseStats(std::string_view body) {
  StatsReader reader;
  if (!json::sax_parse(body, &reader)) {
    return Internal("malformed stats reply from the engine");
  }
  return reader.Sample();
}

Result<std::vector<ContainerSummary>> ParseContainerList(std::string_view body) {
  ListingReader reader;
  if (!json::sax_parse(body, &reader)) {
    return Internal("malformed container list reply from the engine");
  }
  return std::move(reader).Rows();
}

}  // namespace onedock::docker
