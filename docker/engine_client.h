// EngineClient: the Docker Engine API of one host, over one CurlTransport (mutual TLS or a unix
// socket). The API version is negotiated on first use (GET /_ping and /version) and renegotiated
// once when the engine answers "client version … is too new/too old" (an engine upgraded behind
// our back). Every call blocks until the engine answers or its deadline passes.
//
// It carries the calls onedockd makes; those only tests make (ping, version, pause, save, network
// removal, bounded event queries) are tests/support/engine_admin.h's.
//
// Not thread-safe: one client per thread (a streaming call such as StreamEvents holds the
// connection for its whole duration, so it needs a client of its own).
//
// Errors: engine replies map through StatusFromHttp (404 kNotFound, 409 kConflict, 400
// kInvalidArgument, …) with the engine's text kept, and network connect and disconnect through
// NetworkConnectStatus and NetworkDisconnectStatus (the contract is bridge/engine.h's); transport
// failures through StatusFromCurl (kUnavailable for a host that is down, kUnauthenticated for TLS
// failures). Every message is prefixed with the client's name and the operation:
// "h1: start one-42: 404 Not Found: …".
#ifndef ONEDOCK_DOCKER_ENGINE_CLIENT_H_
#define ONEDOCK_DOCKER_ENGINE_CLIENT_H_

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "bridge/engine.h"
#include "bridge/engine_types.h"
#include "bridge/status.h"
#include "docker/curl_transport.h"
#include "docker/engine_json.h"

namespace onedock::docker {

class EngineClient : public Engine {
 public:
  // `name` prefixes every error message (an OpenNebula host name, say).
  EngineClient(std::string name, Endpoint endpoint);

  const std::string& name() const { return name_; }

  // Negotiates (if not yet done) and returns the API version in use. Every call starts with it;
  // public so a caller can tell an unreachable or too old engine from its first call's errors
  // (tests and benchmarks do; onedockd lets the first call negotiate).
  Result<ApiVersion> Negotiate();

  // Also in Engine: what monitor/ reads.
  Result<EngineInfo> Info() override;
  // Sizes of layers, writable layers and volumes; the engine computes them, which takes a while
  // on a busy host.
  Result<DiskUsage> SystemDiskUsage() override;

  // --- containers (id or name) ---
  Result<std::string> CreateContainer(const ContainerSpec& spec) override;  // returns the id
  Result<Outcome> StartContainer(const std::string& id) override;
  // Waits up to timeout_s for a graceful exit, then the engine kills; the call's own deadline is
  // longer than timeout_s.
  Result<Outcome> StopContainer(const std::string& id, int timeout_s) override;
  Result<Outcome> RestartContainer(const std::string& id, int timeout_s) override;
  Status KillContainer(const std::string& id, const std::string& signal = "SIGKILL") override;
  Status RemoveContainer(const std::string& id, bool force, bool remove_anonymous_volumes) override;
  Result<ContainerInfo> InspectContainer(const std::string& id) override;
  Result<bool> WaitStopped(const std::string& id, long timeout_ms) override;
  Result<std::string> LogTail(const std::string& id, int lines, bool tty) override;
  // Containers carrying all `labels` ("key" or "key=value"); all states when `all`.
  Result<std::vector<ContainerSummary>> ListContainers(const std::vector<std::string>& labels,
                                                       bool all = true) override;
  Status UpdateContainer(const std::string& id, const ResourceUpdate& update) override;
  Result<std::string> Commit(const CommitRequest& request) override;  // returns the image id
  // Extracts a tar archive into the container's filesystem at `path` (the container may be
  // stopped or only created).
  Status PutArchive(const std::string& id, const std::string& path,
                    const std::string& tar) override;
  Status GetArchiveToFile(const std::string& id, const std::string& path,
                          const std::string& file) override;
  Status PutArchiveFromFile(const std::string& id, const std::string& path,
                            const std::string& file) override;
  // Runs `cmd` in the running container without a TTY and collects its output and exit code.
  Result<ExecResult> Exec(const std::string& id, const std::vector<std::string>& cmd,
                          const std::vector<std::string>& env = {},
                          long timeout_ms = 60000) override;
  // One-shot stats sample (no second sample: rates need the caller's previous one).
  Result<StatsSample> Stats(const std::string& id) override;
  std::vector<Result<StatsSample>> StatsOfMany(const std::vector<std::string>& ids,
                                               size_t max_in_flight) override;

  // --- images ---
  // Pulls `reference` ("repo:tag" or "repo@sha256:…"; a bare repo means ":latest", never all
  // tags). Errors inside the 200 progress stream are reported. `on_progress` sees every line.
  Status PullImage(const std::string& reference, const RegistryAuth& auth = {},
                   const std::function<void(std::string_view)>& on_progress = nullptr) override;
  // Pushes "repo:tag"; returns the manifest digest the registry reported.
  Result<std::string> PushImage(const std::string& reference,
                                const RegistryAuth& auth = {}) override;
  // TagImage and LoadImage serve the image datastore (docker::StagingEngine).
  Status TagImage(const std::string& source, const std::string& repo, const std::string& tag);
  Status RemoveImage(const std::string& reference, bool force) override;
  Result<ImageInfo> InspectImage(const std::string& reference) override;
  // Loads a `docker save` tarball streamed from `tar_path`; returns what the engine reported as
  // loaded ("repo:tag" or "sha256:…").
  Result<std::vector<std::string>> LoadImage(const std::string& tar_path);

  // --- networks and volumes ---
  Result<std::string> CreateNetwork(const NetworkSpec& spec) override;  // returns the id
  Result<NetworkInfo> InspectNetwork(const std::string& network) override;
  Result<std::vector<NetworkInfo>> ListNetworks() override;
  Status RemoveNetwork(const std::string& network) override;
  Status ConnectNetwork(const std::string& network, const std::string& container,
                        const NetworkAttachment& nic) override;
  Status DisconnectNetwork(const std::string& network, const std::string& container,
                           bool force) override;
  Result<VolumeInfo> CreateVolume(const std::string& name,
                                  const std::map<std::string, std::string>& labels) override;
  Result<std::vector<VolumeInfo>> ListVolumes(const std::vector<std::string>& labels) override;
  Status RemoveVolume(const std::string& name) override;

  // --- events ---
  // Live events from filter.since (0 = now) until `on_event` or `keep_going` returns false
  // (keep_going is polled about once a second) or the connection fails.
  Status StreamEvents(const EventFilter& filter, const std::function<bool(const Event&)>& on_event,
                      const std::function<bool()>& keep_going) override;

  // New TLS/TCP connections opened so far (reuse keeps this at 1). Read by tests and benchmarks:
  // connection reuse is what makes a call cost 0.2 ms rather than a 20-30 ms handshake.
  long connections_opened() const { return transport_.connections_opened(); }

 private:
  static constexpr long kDefaultTimeoutMs = 30000;
  static constexpr long kImageTransferTimeoutMs = 30 * 60 * 1000;  // pull, push, load, archives

  struct Call {
    std::string method = "GET";
    std::string path;  // after the version prefix: "/containers/json?all=1"
    std::string body;
    std::string content_type = "application/json";
    std::vector<std::string> headers;
    std::string upload_file;
    std::string download_file;  // a 2xx body goes to this file
    long timeout_ms = 30000;
    std::function<bool(std::string_view)> on_line;
    std::function<bool(std::string_view)> on_data;
    std::function<bool()> keep_going;
  };

  // Sends a versioned call; renegotiates once on a version complaint. Transport failures come back
  // as a Status; HTTP errors come back as a response for the caller to map.
  Result<HttpResponse> Send(const Call& call);
  // Send + "2xx or error Status" with `what` as context; `map_error` turns a reply outside 2xx
  // into the Status (calls whose engine replies need more than the status code pass their own).
  using ErrorMapper = Status (*)(long http_status, std::string_view body);
  Result<HttpResponse> Expect(const Call& call, const std::string& what,
                              ErrorMapper map_error = StatusFromHttp);
  Result<Outcome> StateChange(const std::string& path, const std::string& what, long timeout_ms);
  Status ProgressCall(Call call, const std::string& what,
                      const std::function<void(std::string_view)>& on_progress,
                      std::string* last_aux_digest);
  std::string Context(const std::string& what) const { return name_ + ": " + what; }

  std::string name_;
  CurlTransport transport_;
  std::optional<ApiVersion> api_;
};

}  // namespace onedock::docker

#endif  // ONEDOCK_DOCKER_ENGINE_CLIENT_H_
