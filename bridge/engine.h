// Engine: the Docker engine of one OpenNebula host, as the VM actions use it. docker::EngineClient
// is the implementation; tests substitute a fake. Calls block until the engine answers or the
// call's deadline passes. An Engine is used by one thread at a time (see EngineProvider).
//
// Errors keep the engine's meaning: kNotFound (404), kConflict (409), kFailedPrecondition (403),
// kInvalidArgument (400), kUnavailable for an engine that does not answer, kUnauthenticated for
// TLS failures. Messages name the host and the operation.
#ifndef ONEDOCK_BRIDGE_ENGINE_H_
#define ONEDOCK_BRIDGE_ENGINE_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bridge/engine_types.h"
#include "bridge/status.h"

namespace onedock::bridge {

class Engine {
 public:
  virtual ~Engine() = default;

  virtual Result<std::string> CreateContainer(const ContainerSpec& spec) = 0;  // the id
  virtual Result<Outcome> StartContainer(const std::string& id) = 0;
  // Graceful stop: SIGTERM, then SIGKILL after timeout_s.
  virtual Result<Outcome> StopContainer(const std::string& id, int timeout_s) = 0;
  virtual Result<Outcome> RestartContainer(const std::string& id, int timeout_s) = 0;
  virtual Status KillContainer(const std::string& id, const std::string& signal) = 0;
  virtual Status RemoveContainer(const std::string& id, bool force, bool remove_anonymous_volumes) = 0;
  virtual Result<ContainerInfo> InspectContainer(const std::string& id) = 0;
  virtual Status UpdateContainer(const std::string& id, const ResourceUpdate& update) = 0;
  virtual Result<std::string> Commit(const CommitRequest& request) = 0;  // the image id
  virtual Status PutArchive(const std::string& id, const std::string& path, const std::string& tar) = 0;
  // The tar archive of `path` in the container (running, stopped or only created), written to the
  // local `file`; its one top-level entry is the last component of `path`.
  virtual Status GetArchiveToFile(const std::string& id, const std::string& path, const std::string& file) = 0;
  // Extracts the tar archive in the local `file` at `path` in the container.
  virtual Status PutArchiveFromFile(const std::string& id, const std::string& path, const std::string& file) = 0;
  virtual Result<ExecResult> Exec(const std::string& id, const std::vector<std::string>& cmd,
                                  const std::vector<std::string>& env, long timeout_ms) = 0;

  virtual Status PullImage(const std::string& reference, const RegistryAuth& auth,
                           const std::function<void(std::string_view)>& on_progress) = 0;
  virtual Result<std::string> PushImage(const std::string& reference, const RegistryAuth& auth) = 0;
  virtual Status RemoveImage(const std::string& reference, bool force) = 0;
  virtual Result<ImageInfo> InspectImage(const std::string& reference) = 0;

  virtual Result<std::string> CreateNetwork(const NetworkSpec& spec) = 0;  // the id
  virtual Result<NetworkInfo> InspectNetwork(const std::string& network) = 0;
  // Every network of the engine (no endpoints).
  virtual Result<std::vector<NetworkInfo>> ListNetworks() = 0;
  virtual Status ConnectNetwork(const std::string& network, const std::string& container,
                                const NetworkAttachment& nic) = 0;
  virtual Status DisconnectNetwork(const std::string& network, const std::string& container,
                                   bool force) = 0;

  // Creating a name that exists returns the existing volume as it is (the engine answers 201 and
  // keeps the first labels): callers check its labels.
  virtual Result<VolumeInfo> CreateVolume(const std::string& name, const std::map<std::string, std::string>& labels) = 0;
  // Volumes carrying every label ("key" or "key=value").
  virtual Result<std::vector<VolumeInfo>> ListVolumes(const std::vector<std::string>& labels) = 0;
  // kConflict while a container (even a stopped one) uses it.
  virtual Status RemoveVolume(const std::string& name) = 0;

  // What the monitor reads.
  virtual Result<EngineInfo> Info() = 0;
  // Sizes of layers, writable layers and volumes; the engine computes them, which takes a while on
  // a busy host, and refuses a second computation while one runs.
  virtual Result<DiskUsage> SystemDiskUsage() = 0;
  // Containers carrying all `labels` ("key" or "key=value"); stopped ones too when `all`.
  virtual Result<std::vector<ContainerSummary>> ListContainers(const std::vector<std::string>& labels, bool all) = 0;
  // One stats sample (rates need the caller's previous one); kNotFound for a container gone.
  virtual Result<StatsSample> Stats(const std::string& id) = 0;
  // Live events from filter.since (0 = now) until `on_event` or `keep_going` returns false
  // (keep_going is polled about once a second) or the connection fails.
  virtual Status StreamEvents(const EventFilter& filter, const std::function<bool(const Event&)>& on_event,
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
  // The engine address of the host, for messages ("https://127.0.0.2:2376").
  virtual std::string Describe(const std::string& host) const = 0;
};

}  // namespace onedock::bridge

#endif  // ONEDOCK_BRIDGE_ENGINE_H_
