// Engine: the Docker engine of one OpenNebula host, as the VM actions use it. docker::EngineClient
// is the implementation; tests substitute a fake. Calls block until the engine answers or the
// call's deadline passes. An Engine is used by one thread at a time (see EngineProvider).
//
// Error contract. Callers branch on codes, never on message text; messages name the host and the
// operation. Every method may return:
//   kUnavailable       the engine does not answer (refused, unreachable, reset) or answers
//                      502/503/504; retryable
//   kDeadlineExceeded  no complete answer within the call's deadline; retryable
//   kUnauthenticated   TLS failed (server not trusted, client certificate refused) or 401
//   kFailedPrecondition  the engine's API is older than onedock supports, or a 403 not listed below
//   kInvalidArgument   400 (a malformed name, an impossible limit, an unknown signal)
//   kInternal          500 and other statuses not listed, a malformed reply, a libcurl failure
// and, by HTTP status: 404 kNotFound, 409 kConflict. A 304 is not an error: the state changes
// return Outcome::kAlreadyDone. What each method adds or narrows is written beside it.
#ifndef ONEDOCK_BRIDGE_ENGINE_H_
#define ONEDOCK_BRIDGE_ENGINE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bridge/engine_types.h"
#include "bridge/status.h"

namespace onedock {

class Engine {
 public:
  virtual ~Engine() = default;

  // Returns the id. kNotFound when the image is not on the engine (create never pulls),
  // kConflict when the name is taken, kInvalidArgument for a malformed name.
  virtual Result<std::string> CreateContainer(const ContainerSpec& spec) = 0;
  // kAlreadyDone when it runs already (304). kNotFound when there is no such container.
  virtual Result<Outcome> StartContainer(const std::string& id) = 0;
  // Graceful stop: SIGTERM, then SIGKILL after timeout_s. kAlreadyDone when it is not running
  // (304). kNotFound when there is no such container.
  virtual Result<Outcome> StopContainer(const std::string& id, int timeout_s) = 0;
  // Always kDone when it succeeds (running or not before). kNotFound for no such container.
  virtual Result<Outcome> RestartContainer(const std::string& id, int timeout_s) = 0;
  // kConflict when it is not running, kNotFound for no such container, kInvalidArgument for an
  // unknown signal.
  virtual Status KillContainer(const std::string& id, const std::string& signal) = 0;
  // kConflict when it runs and `force` is false, kNotFound when there is no such container.
  virtual Status RemoveContainer(const std::string& id, bool force,
                                 bool remove_anonymous_volumes) = 0;
  // kNotFound when there is no such container.
  virtual Result<ContainerInfo> InspectContainer(const std::string& id) = 0;
  // Waits at most timeout_ms for the container to stop running: true when it is not running
  // (at once if it was not), false when it still runs at the deadline. kNotFound for no such
  // container.
  virtual Result<bool> WaitStopped(const std::string& id, long timeout_ms) = 0;
  // The last `lines` lines the container's command wrote, stdout and stderr as written (at most
  // kExecTailBytes of them); `tty` is the container's Config.Tty, which decides how the engine
  // frames the stream. kNotFound for no such container.
  virtual Result<std::string> LogTail(const std::string& id, int lines, bool tty) = 0;
  // kNotFound for no such container; kInvalidArgument for limits the host cannot grant.
  virtual Status UpdateContainer(const std::string& id, const ResourceUpdate& update) = 0;
  // Returns the image id. kNotFound when there is no such container.
  virtual Result<std::string> Commit(const CommitRequest& request) = 0;
  // Extracts the in-memory tar archive at `path`. kNotFound when the container or `path` is
  // missing.
  virtual Status PutArchive(const std::string& id, const std::string& path,
                            const std::string& tar) = 0;
  // The tar archive of `path` in the container (running, stopped or only created), written to the
  // local `file`; its one top-level entry is the last component of `path`. kNotFound when the
  // container or `path` is missing; kInvalidArgument when `file` cannot be created.
  virtual Status GetArchiveToFile(const std::string& id, const std::string& path,
                                  const std::string& file) = 0;
  // Extracts the tar archive in the local `file` at `path` in the container. kNotFound when the
  // container or `path` is missing; kInvalidArgument when `file` cannot be read.
  virtual Status PutArchiveFromFile(const std::string& id, const std::string& path,
                                    const std::string& file) = 0;
  // Runs `cmd` without a TTY; a command that fails is a successful call with its exit code. The
  // output is read as it comes and only its tail kept (ExecResult), so memory stays bounded
  // whatever the command writes.
  // kConflict when the container is not running, kNotFound when there is no such container.
  virtual Result<ExecResult> Exec(const std::string& id, const std::vector<std::string>& cmd,
                                  const std::vector<std::string>& env, long timeout_ms) = 0;

  // kNotFound when the registry has no such repository or tag (the engine's 404). An unreachable
  // registry (the engine's 500) and a failure reported inside the 200 progress stream (a corrupt
  // layer) are kInternal with the engine's text.
  virtual Status PullImage(const std::string& reference, const RegistryAuth& auth,
                           const std::function<void(std::string_view)>& on_progress) = 0;
  // Returns the manifest digest. kNotFound when the image is not on the engine; a failure inside
  // the progress stream, or a push that reports no digest, is kInternal.
  virtual Result<std::string> PushImage(const std::string& reference, const RegistryAuth& auth) = 0;
  // kNotFound when there is no such image, kConflict when a container uses it.
  virtual Status RemoveImage(const std::string& reference, bool force) = 0;
  // kNotFound when there is no such image.
  virtual Result<ImageInfo> InspectImage(const std::string& reference) = 0;

  // Returns the id. kConflict when the name is taken; kFailedPrecondition when the subnet
  // overlaps another network's (the engine's 403).
  virtual Result<std::string> CreateNetwork(const NetworkSpec& spec) = 0;
  // kNotFound when there is no such network.
  virtual Result<NetworkInfo> InspectNetwork(const std::string& network) = 0;
  // Every network of the engine (no endpoints).
  virtual Result<std::vector<NetworkInfo>> ListNetworks() = 0;
  // kNotFound when there is none; kFailedPrecondition (the engine's 403) while a container has an
  // endpoint on it.
  virtual Status RemoveNetwork(const std::string& network) = 0;
  // kConflict when the running container is already on the network (it has one endpoint per
  // network); a container that is not running gets OK and keeps its first endpoint's settings.
  // kNotFound when the network or the container does not exist.
  virtual Status ConnectNetwork(const std::string& network, const std::string& container,
                                const NetworkAttachment& nic) = 0;
  // kNotFound when the container is not on the network, or the network or the container does not
  // exist: all mean the container has no endpoint there.
  virtual Status DisconnectNetwork(const std::string& network, const std::string& container,
                                   bool force) = 0;

  // Creating a name that exists returns the existing volume as it is (the engine answers 201 and
  // keeps the first labels): callers check its labels.
  virtual Result<VolumeInfo> CreateVolume(const std::string& name,
                                          const std::map<std::string, std::string>& labels) = 0;
  // Volumes carrying every label ("key" or "key=value").
  virtual Result<std::vector<VolumeInfo>> ListVolumes(const std::vector<std::string>& labels) = 0;
  // kConflict while a container (even a stopped one) uses it; kNotFound when there is none.
  virtual Status RemoveVolume(const std::string& name) = 0;

  // What the monitor reads.
  virtual Result<EngineInfo> Info() = 0;
  // Sizes of layers, writable layers and volumes; the engine computes them, which takes a while on
  // a busy host, and refuses a second computation while one runs.
  virtual Result<DiskUsage> SystemDiskUsage() = 0;
  // Containers carrying all `labels` ("key" or "key=value"); stopped ones too when `all`.
  virtual Result<std::vector<ContainerSummary>> ListContainers(
      const std::vector<std::string>& labels, bool all) = 0;
  // One stats sample (rates need the caller's previous one); kNotFound for a container gone.
  virtual Result<StatsSample> Stats(const std::string& id) = 0;
  // The stats of many containers, the i-th result for the i-th id, at most `max_in_flight` asked
  // at once from the calling thread. An engine answers every waiting stats request at its next
  // collection tick, so asked together they cost about one tick, not one per container. This
  // default asks one after another.
  virtual std::vector<Result<StatsSample>> StatsOfMany(const std::vector<std::string>& ids,
                                                       size_t max_in_flight) {
    (void)max_in_flight;
    std::vector<Result<StatsSample>> samples;
    samples.reserve(ids.size());
    for (const auto& id : ids) samples.push_back(Stats(id));
    return samples;
  }
  // Live events from filter.since (0 = now) until `on_event` or `keep_going` returns false
  // (keep_going is polled about once a second) or the connection fails.
  virtual Status StreamEvents(const EventFilter& filter,
                              const std::function<bool(const Event&)>& on_event,
                              const std::function<bool()>& keep_going) = 0;
};

// Hands out the Engine of a host for the duration of one action. Thread-safe. Engines are pooled
// per host so consecutive actions reuse their TLS connections; a lease returns its engine on
// destruction.
class EngineProvider {
 public:
  using Lease = std::unique_ptr<Engine, std::function<void(Engine*)>>;
  virtual ~EngineProvider() = default;
  // kInvalidArgument when the host has no usable engine address.
  virtual Result<Lease> Acquire(const std::string& host) = 0;
  // An engine of the host's for one user that keeps it (a host's VM rounds, which keep their
  // stats connections between rounds): what it holds is not shared with other leases and goes
  // when the lease ends. This default is Acquire.
  virtual Result<Lease> AcquireOwn(const std::string& host) { return Acquire(host); }
  // The engine address of the host, for messages ("https://127.0.0.2:2376").
  virtual std::string Describe(const std::string& host) const = 0;
};

// Follows the event streams of many hosts' engines together, so that following a host costs no
// thread of its own (docker::MultiEventFeed; the monitor's tests hand events over directly).
// Thread-safe.
class EventFeed {
 public:
  using Handler = std::function<void(const Event&)>;
  virtual ~EventFeed() = default;
  // Follows the events of `host`'s engine that pass `filter` (its since is ignored), under `key`,
  // until Unfollow(key); each goes to `on_event` on the feed's own thread, which it must not
  // block. A stream that breaks or cannot be opened is opened again about a second later, from
  // the second of the last event handed over. kInvalidArgument when the host has no usable engine
  // address.
  virtual Status Follow(int key, const std::string& host, const EventFilter& filter,
                        Handler on_event) = 0;
  // Once it returns, the handler of `key` is not running and is not called again.
  virtual void Unfollow(int key) = 0;
  // Which opening of `key`'s stream is live: a number, new at each opening, while the engine has
  // answered it and it has not ended since; 0 while it is opening again, or is not followed. The
  // same number at two moments means the stream did not break in between and every event the
  // engine streamed meanwhile was (or is being) handed over; a handler that throws makes a new
  // number. What it does not say: an engine answers a stream just before it subscribes it to
  // its events, and drops events for a subscriber that does not keep up.
  virtual uint64_t Live(int key) = 0;
};

}  // namespace onedock

#endif  // ONEDOCK_BRIDGE_ENGINE_H_
