// Plain values exchanged with a Docker engine: what onedock asks for (specs) and what it reads back
// (container, image, network, stats, event records). Only the fields onedock uses are modelled;
// the JSON shapes behind them are in docker/engine_json.cc.
#ifndef ONEDOCK_BRIDGE_ENGINE_TYPES_H_
#define ONEDOCK_BRIDGE_ENGINE_TYPES_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace onedock {

// Whether a start/stop/pause call changed anything (204) or found it already so (304).
enum class Outcome { kDone, kAlreadyDone };

// An attachment of a container to a network with a fixed address.
struct NetworkAttachment {
  std::string network;  // network name or id
  std::string ipv4;     // static address, empty = engine's choice
  std::string mac;      // requested MAC ("02:00:0a:2a:00:2a"); see EngineClient::CreateContainer
  std::vector<std::string> aliases;
};

// A resource limit of the container's processes (setrlimit): RLIMIT_<name> with soft and hard
// values; -1 is unlimited.
struct Ulimit {
  std::string name;  // "nofile", "nproc", …
  int64_t soft = 0;
  int64_t hard = 0;
  bool operator==(const Ulimit&) const = default;
};

struct ContainerSpec {
  std::string name;  // becomes the container name ("one-42")
  std::string image;
  std::vector<std::string> cmd;         // empty = the image's CMD
  std::vector<std::string> entrypoint;  // empty = the image's ENTRYPOINT
  std::vector<std::string> env;         // "KEY=value"
  std::map<std::string, std::string> labels;
  std::string hostname;
  std::string domainname;
  std::string working_dir;
  std::string user;  // "name", "uid", "name:group"; empty = the image's USER
  // A terminal and an open stdin, as `docker run -ti`: a shell as the main command keeps running.
  bool tty = false;
  bool open_stdin = false;
  int64_t nano_cpus = 0;     // 0 = unlimited
  int64_t memory_bytes = 0;  // 0 = unlimited; MemorySwap is set equal (no swap)
  bool init = true;          // docker-init as PID 1, so stop is fast
  bool privileged = false;
  std::vector<std::string> cap_add;
  std::vector<std::string> binds;  // "host:container[:ro]"
  std::vector<std::string> dns;
  std::vector<std::string> dns_search;
  std::vector<std::string> volumes;  // "volume-name:/path"
  int64_t shm_size_bytes = 0;        // /dev/shm; 0 = the engine's default (64 MB)
  std::vector<Ulimit> ulimits;
  std::map<std::string, std::string> sysctls;
  std::string network_mode;   // "none", "bridge", or the primary network's name
  NetworkAttachment primary;  // used when network_mode names a network
  int stop_timeout_s = 10;
};

struct EndpointState {
  std::string network_id;
  std::string ipv4;
  int prefix_length = 0;
  std::string gateway;
  std::string mac;
};

struct ContainerInfo {
  std::string id;
  std::string name;      // without the leading "/"
  std::string image;     // as given at create
  std::string image_id;  // "sha256:…"
  std::string status;    // created, running, paused, restarting, removing, exited, dead
  bool running = false;
  bool paused = false;
  bool oom_killed = false;
  int exit_code = 0;
  int pid = 0;
  std::string error;
  std::string started_at;
  std::string finished_at;
  std::string hostname;
  std::map<std::string, std::string> labels;
  std::vector<std::string> env;
  std::vector<std::string> cmd;
  std::vector<std::string> entrypoint;
  std::string working_dir;
  std::string user;
  bool tty = false;
  bool open_stdin = false;
  std::string health;  // healthy, unhealthy, starting; empty without a HEALTHCHECK
  int64_t nano_cpus = 0;
  int64_t memory_bytes = 0;
  int64_t memory_swap_bytes = 0;
  int64_t shm_size_bytes = 0;
  std::vector<Ulimit> ulimits;
  std::map<std::string, std::string> sysctls;
  bool init = false;
  bool privileged = false;
  std::vector<std::string> cap_add;
  std::vector<std::string> binds;
  std::vector<std::string> dns;
  std::string network_mode;
  std::map<std::string, EndpointState> networks;  // by network name
};

// One row of GET /containers/json.
struct ContainerSummary {
  std::string id;
  std::string name;  // first name, without the leading "/"
  std::string image;
  std::string state;  // running, exited, paused, created, …
  std::string status_text;
  int64_t created = 0;
  std::map<std::string, std::string> labels;
  std::map<std::string, EndpointState> networks;
};

struct ResourceUpdate {
  int64_t nano_cpus = 0;     // 0 = leave as is
  int64_t memory_bytes = 0;  // 0 = leave as is; MemorySwap follows (no swap)
};

struct CommitRequest {
  std::string container;
  std::string repo;  // "127.0.0.1:5000/one-42-snap"
  std::string tag;
  std::string comment;
  std::string author;
  std::map<std::string, std::string> labels;
  bool pause = true;
};

// out and err hold the last kExecTailBytes (bridge/output_tail.h) of each stream, whatever the
// command wrote; out_bytes and err_bytes count all it wrote.
struct ExecResult {
  int exit_code = -1;
  std::string out;
  std::string err;
  int64_t out_bytes = 0;
  int64_t err_bytes = 0;
};

struct ImageInfo {
  std::string id;
  std::vector<std::string> repo_tags;
  std::vector<std::string> repo_digests;
  int64_t size = 0;
  std::vector<std::string> cmd;
  std::map<std::string, std::string> labels;
};

// The registry credentials for a pull or push; empty = anonymous.
struct RegistryAuth {
  std::string username;
  std::string password;
  std::string server;  // "127.0.0.1:5000"
};

struct NetworkSpec {
  std::string name;
  std::string driver = "bridge";  // bridge or macvlan
  std::string subnet;             // "10.42.0.0/24"
  std::string gateway;
  std::string ip_range;
  std::map<std::string, std::string> options;  // e.g. com.docker.network.bridge.name, parent
  std::map<std::string, std::string> labels;
  bool internal = false;
};

struct NetworkInfo {
  std::string id;
  std::string name;
  std::string driver;
  std::string subnet;
  std::string gateway;
  std::map<std::string, std::string> options;
  std::map<std::string, std::string> labels;
  std::map<std::string, EndpointState> containers;  // by container id
};

// A named volume of the engine's `local` driver.
struct VolumeInfo {
  std::string name;
  std::map<std::string, std::string> labels;
  std::string mountpoint;  // on the host
};

// A one-shot stats sample (raw counters; rates need the previous sample).
struct StatsSample {
  std::string read;  // RFC 3339 time of the sample; "0001-01-01…" for a stopped container
  uint64_t cpu_total_ns = 0;
  uint64_t system_cpu_ns = 0;
  uint32_t online_cpus = 0;
  uint64_t memory_usage = 0;
  uint64_t memory_inactive_file = 0;  // cgroup v1 total_inactive_file, v2 inactive_file
  uint64_t memory_limit = 0;
  uint64_t net_rx_bytes = 0;  // summed over interfaces
  uint64_t net_tx_bytes = 0;
  uint64_t disk_read_bytes = 0;
  uint64_t disk_write_bytes = 0;
  uint32_t pids = 0;
};

struct Event {
  std::string type;    // container, network, image, …
  std::string action;  // start, die, …; may carry a suffix ("exec_start: sh")
  std::string id;
  std::map<std::string, std::string> attributes;  // container labels, name, exitCode, …
  int64_t time_nano = 0;
};

struct EventFilter {
  int64_t since = 0;                // unix seconds; 0 = from now
  int64_t until = 0;                // unix seconds; 0 = stream without end
  std::vector<std::string> types;   // "container"
  std::vector<std::string> events;  // "start", "die", …
  std::vector<std::string> labels;  // "one.vmid" or "one.vmid=42"
};

struct EngineVersion {
  std::string api_version;      // the engine's newest
  std::string min_api_version;  // the engine's oldest
  std::string version;          // "20.10.24+dfsg1"
  std::string os;
  std::string arch;
  std::string kernel;
};

struct EngineInfo {
  std::string name;
  std::string server_version;
  int ncpu = 0;
  int64_t mem_total = 0;
  int containers = 0;
  int containers_running = 0;
  int containers_paused = 0;
  int containers_stopped = 0;
  std::string docker_root_dir;
  std::string cgroup_version;
  std::string operating_system;
  std::string architecture;
  std::string kernel_version;
};

// What the engine's storage holds (GET /system/df), in bytes. The engine does not report the
// free space of its filesystem.
struct DiskUsage {
  int64_t layers = 0;      // image layers, shared ones once
  int64_t containers = 0;  // containers' writable layers
  int64_t volumes = 0;     // local volumes
  int64_t total() const { return layers + containers + volumes; }
};

}  // namespace onedock

#endif  // ONEDOCK_BRIDGE_ENGINE_TYPES_H_
