#include "tests/fleet/fleet_model.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

namespace onedock::fleet {
namespace {

constexpr char kImage[] = "127.0.0.1:5001/onedock/httpd:1.0";
constexpr char kImageId[] =
    "sha256:2a6dae6c750828c3204a673727cdfbbc211e1b0914426ebf5a141c4b7b9d3825";
constexpr int64_t kNs = 1000000000;
constexpr uint64_t kHostMemory = uint64_t{64} << 30;
constexpr uint64_t kContainerLimit = uint64_t{512} << 20;
constexpr int kHostCpus = 16;

uint64_t SplitMix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::string HexId(uint64_t seed) {
  char buf[65];
  for (int i = 0; i < 4; ++i) {
    std::snprintf(buf + 16 * i, 17, "%016" PRIx64, SplitMix(seed * 4 + static_cast<uint64_t>(i)));
  }
  return std::string(buf, 64);
}

// dockerd's units.HumanDuration, which its Status texts use.
std::string HumanDuration(int64_t seconds) {
  if (seconds < 1) return "Less than a second";
  if (seconds == 1) return "1 second";
  if (seconds < 60) return std::to_string(seconds) + " seconds";
  const int64_t minutes = seconds / 60;
  if (minutes == 1) return "About a minute";
  if (minutes < 60) return std::to_string(minutes) + " minutes";
  const int64_t hours = minutes / 60;
  if (hours == 1) return "About an hour";
  if (hours < 48) return std::to_string(hours) + " hours";
  return std::to_string(hours / 24) + " days";
}

std::string StatusText(const Container& c, int64_t now_ns) {
  if (c.running) return "Up " + HumanDuration((now_ns - c.started_ns) / kNs);
  return "Exited (" + std::to_string(c.exit_code) + ") " +
         HumanDuration((now_ns - c.finished_ns) / kNs) + " ago";
}

std::vector<std::string> StringsOf(const nlohmann::json& v) {
  std::vector<std::string> out;
  if (v.is_array()) {
    for (const auto& s : v) {
      if (s.is_string()) out.push_back(s.get<std::string>());
    }
  } else if (v.is_object()) {
    for (const auto& [k, on] : v.items()) {
      if (on.is_boolean() && on.get<bool>()) out.push_back(k);
    }
  }
  return out;
}

bool Contains(const std::vector<std::string>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

}  // namespace

std::string JsonEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += ch;
    }
  }
  return out;
}

std::string Rfc3339(int64_t time_ns) {
  if (time_ns <= 0) return "0001-01-01T00:00:00Z";
  const std::time_t s = static_cast<std::time_t>(time_ns / kNs);
  std::tm tm{};
  gmtime_r(&s, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%09" PRId64 "Z", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, time_ns % kNs);
  return buf;
}

Filters ParseFilters(std::string_view text) {
  Filters f;
  if (text.empty()) return f;
  const auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    f.bad = true;
    return f;
  }
  if (auto it = j.find("label"); it != j.end()) f.labels = StringsOf(*it);
  if (auto it = j.find("type"); it != j.end()) f.types = StringsOf(*it);
  if (auto it = j.find("event"); it != j.end()) f.events = StringsOf(*it);
  return f;
}

FleetModel::FleetModel(int hosts, int containers, std::string instance, int64_t now_ns)
    : hosts_(static_cast<size_t>(hosts)), instance_(std::move(instance)) {
  for (int h = 0; h < hosts; ++h) {
    Host& host = hosts_[static_cast<size_t>(h)];
    host.containers.resize(static_cast<size_t>(containers));
    for (int j = 0; j < containers; ++j) {
      Container& c = host.containers[static_cast<size_t>(j)];
      c.host = h;
      c.vm_id = h * containers + j;
      c.id = HexId(static_cast<uint64_t>(c.vm_id));
      c.name = "one-" + std::to_string(c.vm_id);
      c.ip = "10." + std::to_string(100 + h / 250) + "." + std::to_string(h % 250) + "." +
             std::to_string(2 + j % 250);
      c.created_s = now_ns / kNs - 60 - j;
      c.started_ns = now_ns - (60 + j) * kNs + 500000000;
      c.cpu_ns = static_cast<uint64_t>(c.vm_id % 97) * 10000000;
      c.memory = (uint64_t{8} << 20) + static_cast<uint64_t>(c.vm_id % 50) * (uint64_t{1} << 20);
    }
    // Keys are added once the vector no longer moves.
    for (Container& c : host.containers) {
      host.by_key[c.id] = &c;
      host.by_key[c.id.substr(0, 12)] = &c;
      host.by_key[c.name] = &c;
    }
  }
}

Container* FleetModel::Find(int host, std::string_view key) {
  if (!key.empty() && key.front() == '/') key.remove_prefix(1);
  if (key.empty()) return nullptr;
  const std::string k(key);
  auto look = [&](Host& h) -> Container* {
    if (auto it = h.by_key.find(k); it != h.by_key.end()) return it->second;
    if (k.size() > 12 && k.size() < 64) {  // a longer prefix than the indexed 12 digits
      auto it = h.by_key.find(k.substr(0, 12));
      if (it != h.by_key.end() && it->second->id.compare(0, k.size(), k) == 0) return it->second;
    }
    return nullptr;
  };
  if (host >= 0) return host < hosts() ? look(hosts_[static_cast<size_t>(host)]) : nullptr;
  for (Host& h : hosts_) {
    if (Container* c = look(h)) return c;
  }
  return nullptr;
}

void FleetModel::Tick(int64_t now_ns) {
  ++ticks_;
  for (Host& h : hosts_) {
    for (Container& c : h.containers) {
      if (!c.running) continue;
      // Each container has its own steady load (1-8 % of a CPU) with a little variation.
      const uint64_t seed =
          SplitMix(static_cast<uint64_t>(c.vm_id) ^ static_cast<uint64_t>(ticks_));
      c.cpu_ns += static_cast<uint64_t>(10000000 * (1 + c.vm_id % 8)) + seed % 5000000;
      const uint64_t base =
          (uint64_t{8} << 20) + static_cast<uint64_t>(c.vm_id % 50) * (uint64_t{1} << 20);
      c.memory = base + (seed >> 8) % (uint64_t{2} << 20);
      c.rx += 600 + seed % 4000;
      c.tx += 300 + (seed >> 16) % 2000;
      if (ticks_ % 10 == c.vm_id % 10) c.written += 4096 * (1 + seed % 8);
    }
  }
  (void)now_ns;
}

void FleetModel::Record(Container& c, std::string action, int signal, int64_t now_ns) {
  FleetEvent e{now_ns, &c, std::move(action), signal};
  auto& events = hosts_[static_cast<size_t>(c.host)].events;
  events.push_back(e);
  if (events.size() > kEventsKept) events.pop_front();
  new_events_.push_back(std::move(e));
}

bool FleetModel::Kill(Container& c, int64_t now_ns) {
  if (!c.running) return false;
  Record(c, "kill", 9, now_ns);
  c.running = false;
  c.exit_code = 137;
  c.finished_ns = now_ns + 1000;
  Record(c, "die", 0, c.finished_ns);
  return true;
}

bool FleetModel::Start(Container& c, int64_t now_ns) {
  if (c.running) return false;
  c.running = true;
  c.exit_code = 0;
  c.started_ns = now_ns;
  Record(c, "start", 0, now_ns);
  return true;
}

std::vector<FleetEvent> FleetModel::EventsSince(int host, int64_t since_ns) const {
  std::vector<FleetEvent> out;
  for (const FleetEvent& e : hosts_[static_cast<size_t>(host)].events) {
    if (e.time_ns >= since_ns) out.push_back(e);
  }
  return out;
}

std::vector<FleetEvent> FleetModel::TakeNewEvents() {
  std::vector<FleetEvent> out;
  out.swap(new_events_);
  return out;
}

bool FleetModel::Matches(const Container& c, const std::vector<std::string>& labels) const {
  for (const std::string& l : labels) {
    const size_t eq = l.find('=');
    const std::string key = l.substr(0, eq);
    std::string value;
    if (key == "one.host") {
      value = HostName(c.host);
    } else if (key == "one.instance") {
      value = instance_;
    } else if (key == "one.vmid") {
      value = std::to_string(c.vm_id);
    } else {
      return false;  // a label none of the fleet's containers carries
    }
    if (eq != std::string::npos && l.compare(eq + 1, std::string::npos, value) != 0) return false;
  }
  return true;
}

void FleetModel::AppendLabels(std::string& out, const Container& c) const {
  out += R"({"one.host":")" + HostName(c.host) + R"(","one.instance":")" + JsonEscape(instance_) +
         R"(","one.vmid":")" + std::to_string(c.vm_id) + R"("})";
}

std::string FleetModel::Version() const {
  return R"({"Platform":{"Name":""},"Components":[{"Name":"Engine","Version":"20.10.24+dfsg1",)"
         R"("Details":{"ApiVersion":"1.41","Arch":"amd64","MinAPIVersion":"1.12","Os":"linux"}}],)"
         R"("Version":"20.10.24+dfsg1","ApiVersion":"1.41","MinAPIVersion":"1.12",)"
         R"("GitCommit":"5d6db84","GoVersion":"go1.19.8","Os":"linux","Arch":"amd64",)"
         R"("KernelVersion":"6.1.0-fleet","BuildTime":"2026-05-07T21:09:36.000000000+00:00"})";
}

std::string FleetModel::Info(int host, int64_t now_ns) const {
  const auto& cs = hosts_[static_cast<size_t>(host)].containers;
  const auto running =
      std::count_if(cs.begin(), cs.end(), [](const Container& c) { return c.running; });
  const std::string name = HostName(host);
  return R"({"ID":"FLEET:)" + std::to_string(host) + R"(","Containers":)" +
         std::to_string(cs.size()) + R"(,"ContainersRunning":)" + std::to_string(running) +
         R"(,"ContainersPaused":0,"ContainersStopped":)" +
         std::to_string(static_cast<long>(cs.size()) - running) +
         R"(,"Images":1,"Driver":"overlay2","DriverStatus":[["Backing Filesystem","extfs"]],)"
         R"("Plugins":{"Volume":["local"],"Network":["bridge","host","null"],"Authorization":null,)"
         R"("Log":["json-file","local"]},"MemoryLimit":true,"SwapLimit":true,"CpuCfsPeriod":true,)"
         R"("CpuCfsQuota":true,"CPUShares":true,"CPUSet":true,"PidsLimit":true,)"
         R"("IPv4Forwarding":true,"Debug":false,"NFd":30,"OomKillDisable":true,"NGoroutines":40,)"
         R"("SystemTime":")" +
         Rfc3339(now_ns) +
         R"(","LoggingDriver":"json-file","CgroupDriver":"cgroupfs","CgroupVersion":"1",)"
         R"("KernelVersion":"6.1.0-fleet",)"
         "\"OperatingSystem\":\"Debian GNU/Linux 12 (bookworm)\","
         R"("OSVersion":"12","OSType":"linux","Architecture":"x86_64","NCPU":)" +
         std::to_string(kHostCpus) + R"(,"MemTotal":)" + std::to_string(kHostMemory) +
         R"(,"DockerRootDir":"/var/lib/docker","Name":")" + name +
         R"(","Labels":[],"ExperimentalBuild":false,"ServerVersion":"20.10.24+dfsg1",)"
         R"("DefaultRuntime":"runc","LiveRestoreEnabled":true,"Isolation":"",)"
         R"("SecurityOptions":["name=seccomp,profile=default"],"Warnings":null})";
}

std::string FleetModel::DiskUsage(int host) const {
  const auto& cs = hosts_[static_cast<size_t>(host)].containers;
  std::string out = R"({"LayersSize":1984267,"Images":[{"Containers":)" +
                    std::to_string(cs.size()) + R"(,"Created":1796306079,"Id":")" + kImageId +
                    R"(","Labels":null,"ParentId":"","RepoDigests":[],"RepoTags":[")" + kImage +
                    R"("],"SharedSize":0,"Size":1984267,"VirtualSize":1984267}],"Containers":[)";
  for (size_t i = 0; i < cs.size(); ++i) {
    const Container& c = cs[i];
    if (i > 0) out += ',';
    out += R"({"Id":")" + c.id + R"(","Names":["/)" + c.name + R"("],"Image":")" + kImage +
           R"(","ImageID":")" + kImageId + R"(","Created":)" + std::to_string(c.created_s) +
           R"(,"SizeRw":)" + std::to_string(4096 + c.written) +
           R"(,"SizeRootFs":1984267,"Labels":)";
    AppendLabels(out, c);
    out += R"(,"State":")" + std::string(c.running ? "running" : "exited") + R"("})";
  }
  out += R"(],"Volumes":[],"BuildCache":[],"BuilderSize":0})";
  return out;
}

std::string FleetModel::List(int host, bool all, const Filters& filters, int64_t now_ns) const {
  std::string out = "[";
  bool first = true;
  for (const Container& c : hosts_[static_cast<size_t>(host)].containers) {
    if ((!all && !c.running) || !Matches(c, filters.labels)) continue;
    if (!first) out += ',';
    first = false;
    out += R"({"Id":")" + c.id + R"(","Names":["/)" + c.name + R"("],"Image":")" + kImage +
           R"(","ImageID":")" + kImageId +
           R"(","Command":"/bin/httpd -f -p 80 -h /www","Created":)" + std::to_string(c.created_s) +
           R"(,"Ports":[],"Labels":)";
    AppendLabels(out, c);
    out += R"(,"State":")" + std::string(c.running ? "running" : "exited") + R"(","Status":")" +
           StatusText(c, now_ns) +
           R"(","HostConfig":{"NetworkMode":"default"},"NetworkSettings":{"Networks":{"bridge":)"
           R"({"IPAMConfig":null,"Links":null,"Aliases":null,"NetworkID":"fleet-bridge",)"
           R"("EndpointID":"","Gateway":")" +
           std::string(c.running ? c.ip.substr(0, c.ip.rfind('.')) + ".1" : "") +
           R"(","IPAddress":")" + (c.running ? c.ip : "") + R"(","IPPrefixLen":)" +
           (c.running ? "24" : "0") +
           R"(,"IPv6Gateway":"","GlobalIPv6Address":"","GlobalIPv6PrefixLen":0,"MacAddress":"",)"
           R"("DriverOpts":null}}},"Mounts":[]})";
  }
  out += ']';
  return out;
}

std::string FleetModel::Inspect(const Container& c) const {
  std::string out =
      R"({"Id":")" + c.id + R"(","Created":")" + Rfc3339(c.created_s * kNs) +
      R"(","Path":"/bin/httpd","Args":["-f","-p","80","-h","/www"],)"
      R"("State":{"Status":")" +
      (c.running ? "running" : "exited") + R"(","Running":)" + (c.running ? "true" : "false") +
      R"(,"Paused":false,"Restarting":false,"OOMKilled":false,"Dead":false,"Pid":)" +
      std::to_string(c.running ? 10000 + c.vm_id : 0) + R"(,"ExitCode":)" +
      std::to_string(c.exit_code) + R"(,"Error":"","StartedAt":")" + Rfc3339(c.started_ns) +
      R"(","FinishedAt":")" + Rfc3339(c.finished_ns) + R"("},"Image":")" + kImageId +
      R"(","Name":"/)" + c.name +
      R"(","RestartCount":0,"Driver":"overlay2","Platform":"linux",)"
      R"("HostConfig":{"Binds":null,"LogConfig":{"Type":"json-file","Config":{}},)"
      R"("NetworkMode":"default","RestartPolicy":{"Name":"no","MaximumRetryCount":0},)"
      R"("CapAdd":null,"Dns":[],"Privileged":false,"ShmSize":67108864,)"
      R"("Memory":)" +
      std::to_string(kContainerLimit) + R"(,"MemorySwap":)" + std::to_string(kContainerLimit) +
      R"(,"NanoCpus":1000000000,"Init":false,"Ulimits":[]},)"
      R"("Config":{"Hostname":")" +
      c.id.substr(0, 12) +
      R"(","Domainname":"","User":"","Tty":false,"OpenStdin":false,)"
      R"("Env":["PATH=/bin"],"Cmd":["/bin/httpd","-f","-p","80","-h","/www"],)"
      R"("Image":")" +
      kImage + R"(","WorkingDir":"","Entrypoint":null,"Labels":)";
  AppendLabels(out, c);
  out += R"(},"NetworkSettings":{"Networks":{"bridge":{"NetworkID":"fleet-bridge","Gateway":")" +
         std::string(c.running ? c.ip.substr(0, c.ip.rfind('.')) + ".1" : "") +
         R"(","IPAddress":")" + (c.running ? c.ip : "") + R"(","IPPrefixLen":)" +
         (c.running ? "24" : "0") + R"(,"MacAddress":""}}}})";
  return out;
}

std::string FleetModel::Stats(const Container& c, int64_t now_ns) const {
  const std::string head = R"({"read":")";
  if (!c.running) {
    return R"({"read":"0001-01-01T00:00:00Z","preread":"0001-01-01T00:00:00Z","pids_stats":{},)"
           R"("blkio_stats":{"io_service_bytes_recursive":null},"num_procs":0,"storage_stats":{},)"
           R"("cpu_stats":{"cpu_usage":{"total_usage":0,"usage_in_kernelmode":0,)"
           R"("usage_in_usermode":0},"throttling_data":{"periods":0,"throttled_periods":0,)"
           R"("throttled_time":0}},"precpu_stats":{"cpu_usage":{"total_usage":0,)"
           R"("usage_in_kernelmode":0,"usage_in_usermode":0},"throttling_data":{"periods":0,)"
           R"("throttled_periods":0,"throttled_time":0}},"memory_stats":{},"name":"/)" +
           c.name + R"(","id":")" + c.id + R"("})";
  }
  // The host's CPU time since boot, as the engine reads it from /proc/stat.
  const uint64_t system = static_cast<uint64_t>(now_ns) / 10000000 * 10000000 * kHostCpus;
  const uint64_t cpu0 = c.cpu_ns * 3 / 5;
  const uint64_t inactive = 8192 + c.memory / 64;
  char buf[2400];
  std::snprintf(
      buf, sizeof buf,
      R"(","preread":"0001-01-01T00:00:00Z","pids_stats":{"current":%d},)"
      R"("blkio_stats":{"io_service_bytes_recursive":[{"major":8,"minor":0,"op":"Read",)"
      R"("value":%)" PRIu64 R"(},{"major":8,"minor":0,"op":"Write","value":%)" PRIu64
      R"(},{"major":8,"minor":0,"op":"Sync","value":%)" PRIu64
      R"(},{"major":8,"minor":0,"op":"Async","value":0},{"major":8,"minor":0,"op":"Discard",)"
      R"("value":0},{"major":8,"minor":0,"op":"Total","value":%)" PRIu64
      R"(}],"io_serviced_recursive":[],"io_queue_recursive":[],"io_service_time_recursive":[],)"
      R"("io_wait_time_recursive":[],"io_merged_recursive":[],"io_time_recursive":[],)"
      R"("sectors_recursive":[]},"num_procs":0,"storage_stats":{},"cpu_stats":{"cpu_usage":)"
      R"({"total_usage":%)" PRIu64 R"(,"percpu_usage":[%)" PRIu64 R"(,%)" PRIu64
      R"(],"usage_in_kernelmode":%)" PRIu64 R"(,"usage_in_usermode":%)" PRIu64
      R"(},"system_cpu_usage":%)" PRIu64
      R"(,"online_cpus":%d,"throttling_data":{"periods":0,"throttled_periods":0,)"
      R"("throttled_time":0}},"precpu_stats":{"cpu_usage":{"total_usage":0,)"
      R"("usage_in_kernelmode":0,"usage_in_usermode":0},"throttling_data":{"periods":0,)"
      R"("throttled_periods":0,"throttled_time":0}},"memory_stats":{"usage":%)" PRIu64
      R"(,"max_usage":%)" PRIu64 R"(,"stats":{"active_anon":4096,"active_file":%)" PRIu64
      R"(,"cache":%)" PRIu64 R"(,"dirty":0,"hierarchical_memory_limit":%)" PRIu64
      R"(,"inactive_anon":49152,"inactive_file":%)" PRIu64
      R"(,"mapped_file":450560,"pgfault":1115,"pgmajfault":3,"rss":%)" PRIu64
      R"(,"rss_huge":0,"total_active_anon":4096,"total_active_file":%)" PRIu64
      R"(,"total_cache":%)" PRIu64 R"(,"total_inactive_anon":49152,"total_inactive_file":%)" PRIu64
      R"(,"total_mapped_file":450560,"total_rss":%)" PRIu64
      R"(,"total_unevictable":0,"unevictable":0,"writeback":0},"limit":%)" PRIu64
      R"(},"name":"/%s","id":"%s","networks":{"eth0":{"rx_bytes":%)" PRIu64
      R"(,"rx_packets":%)" PRIu64 R"(,"rx_errors":0,"rx_dropped":0,"tx_bytes":%)" PRIu64
      R"(,"tx_packets":%)" PRIu64 R"(,"tx_errors":0,"tx_dropped":0}}})",
      1 + c.vm_id % 4, c.read, c.written, c.written, c.read + c.written, c.cpu_ns, cpu0,
      c.cpu_ns - cpu0, c.cpu_ns / 5, c.cpu_ns * 4 / 5, system, kHostCpus, c.memory,
      c.memory + (uint64_t{2} << 20), c.memory / 2, c.memory / 2, kContainerLimit, inactive,
      c.memory / 2, c.memory / 2, c.memory / 2, inactive, c.memory / 2, kContainerLimit,
      c.name.c_str(), c.id.c_str(), c.rx, c.rx / 700, c.tx, c.tx / 700);
  return head + Rfc3339(now_ns) + buf;
}

std::string FleetModel::EventLine(const FleetEvent& e, const Filters& filters) const {
  const Container& c = *e.container;
  if (!filters.types.empty() && !Contains(filters.types, "container")) return "";
  if (!filters.events.empty() && !Contains(filters.events, e.action)) return "";
  if (!Matches(c, filters.labels)) return "";
  std::string attributes;
  if (e.action == "die") attributes += R"("exitCode":")" + std::to_string(c.exit_code) + R"(",)";
  attributes += R"("image":")" + std::string(kImage) + R"(","name":")" + c.name +
                R"(","one.host":")" + HostName(c.host) + R"(","one.instance":")" +
                JsonEscape(instance_) + R"(","one.vmid":")" + std::to_string(c.vm_id) + '"';
  if (e.action == "kill") attributes += R"(,"signal":")" + std::to_string(e.signal) + '"';
  return R"({"status":")" + e.action + R"(","id":")" + c.id + R"(","from":")" + kImage +
         R"(","Type":"container","Action":")" + e.action + R"(","Actor":{"ID":")" + c.id +
         R"(","Attributes":{)" + attributes + R"(}},"scope":"local","time":)" +
         std::to_string(e.time_ns / kNs) + R"(,"timeNano":)" + std::to_string(e.time_ns) + '}';
}

}  // namespace onedock::fleet
