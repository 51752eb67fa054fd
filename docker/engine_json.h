// The Engine API's wire shapes: request bodies built from specs, replies parsed into plain values,
// error replies and stream lines turned into Status. Pure functions, no I/O, so every shape is
// pinned by unit tests without an engine.
#ifndef ONEDOCK_DOCKER_ENGINE_JSON_H_
#define ONEDOCK_DOCKER_ENGINE_JSON_H_

#include <string>
#include <string_view>
#include <vector>

#include "bridge/engine_types.h"
#include "bridge/output_tail.h"
#include "bridge/status.h"

namespace onedock::docker {

// An API version "1.41", ordered numerically (1.9 < 1.10).
struct ApiVersion {
  int major = 0;
  int minor = 0;
  static Result<ApiVersion> Parse(std::string_view text);
  std::string ToString() const;
  auto operator<=>(const ApiVersion&) const = default;
};

inline constexpr ApiVersion kOldestApi{1, 41};  // Debian 12's engine
inline constexpr ApiVersion kNewestApi{1, 47};  // the newest whose bodies this client knows

// min(kNewestApi, engine's newest); refused when below both kOldestApi and the engine's oldest
// range, with a message naming both versions.
Result<ApiVersion> NegotiateApi(std::string_view engine_api, std::string_view engine_min_api);

// The engine's error text from an error reply: the "message" of a JSON body, or the trimmed text
// of a non-JSON body (some engines answer text/plain).
std::string EngineMessage(std::string_view body);

// Maps an HTTP status outside 2xx to a Status carrying the engine's text:
// 400 invalid argument, 401 unauthenticated, 403 failed precondition (the engine's "address in
// use", "pool overlaps", "endpoint exists"), 404 not found, 409 conflict, 5xx internal,
// 503 unavailable.
Status StatusFromHttp(long http_status, std::string_view body);

// Replies of POST /networks/{id}/connect. A container already on the network is kConflict:
// dockerd 20.10 (API 1.41) answers 403 "endpoint with name … already exists in network …" for a
// running container; a created or stopped one gets 200 instead. Anything else maps as
// StatusFromHttp (404 for an unknown network or container).
Status NetworkConnectStatus(long http_status, std::string_view body);
// Replies of POST /networks/{id}/disconnect. A container that is not on the network is kNotFound,
// like the 404 for an unknown network or container: dockerd 20.10 answers 500 "container … is not
// connected to [the ]network …", with or without Force. Anything else maps as StatusFromHttp.
Status NetworkDisconnectStatus(long http_status, std::string_view body);

// An NDJSON progress line (pull, push, load) that reports a failure inside a 200 reply becomes a
// non-OK Status; any other line is OK. A line that is not JSON is an internal error.
Status StreamLineStatus(std::string_view line);

// From a push progress line: the manifest digest of {"aux":{"Digest":…}}, else empty.
std::string PushDigestFromLine(std::string_view line);
// From a load progress line: "repo:tag" or "sha256:…" of {"stream":"Loaded image[ ID]: …"},
// else empty.
std::string LoadedImageFromLine(std::string_view line);

// The X-Registry-Auth header value: base64url of the JSON credentials; "{}" when anonymous.
std::string RegistryAuthHeader(const RegistryAuth& auth);

// JSON "filters" for list and events queries.
std::string EventFiltersJson(const EventFilter& filter);
std::string LabelFiltersJson(const std::vector<std::string>& labels);

std::string ContainerCreateBody(const ContainerSpec& spec, ApiVersion api);
std::string NetworkCreateBody(const NetworkSpec& spec);
std::string NetworkConnectBody(const std::string& container, const NetworkAttachment& nic);
std::string ResourceUpdateBody(const ResourceUpdate& update);

Result<ContainerInfo> ParseContainerInspect(std::string_view body);
Result<std::vector<ContainerSummary>> ParseContainerList(std::string_view body);
Result<ImageInfo> ParseImageInspect(std::string_view body);
Result<NetworkInfo> ParseNetworkInspect(std::string_view body);
// GET /networks: an array of the same objects.
Result<std::vector<NetworkInfo>> ParseNetworkList(std::string_view body);
Result<VolumeInfo> ParseVolume(std::string_view body);                   // create or inspect reply
Result<std::vector<VolumeInfo>> ParseVolumeList(std::string_view body);  // {"Volumes":[…]}
Result<StatsSample> ParseStats(std::string_view body);
Result<Event> ParseEvent(std::string_view line);
Result<EngineVersion> ParseVersion(std::string_view body);
Result<EngineInfo> ParseInfo(std::string_view body);
Result<DiskUsage> ParseDiskUsage(std::string_view body);

// Splits the multiplexed exec/logs stream of a container without a TTY (8-byte frame headers:
// stream 1 stdout / 2 stderr, 3 zero bytes, big-endian length) as it arrives in chunks of any
// size, keeping the tail of each stream (bridge/output_tail.h): memory stays bounded whatever the
// length of the stream.
class StreamDemuxer {
 public:
  // With `merge`, stderr's frames go to out() too, in the order they came (a log's tail).
  explicit StreamDemuxer(size_t keep = kExecTailBytes, bool merge = false)
      : merge_(merge), out_(keep), err_(keep) {}
  // kInternal on a frame for another stream; nothing is read after an error.
  Status Feed(std::string_view chunk);
  // kInternal when the stream ended inside a frame.
  Status Finish() const;
  const OutputTail& out() const { return out_; }
  const OutputTail& err() const { return err_; }

 private:
  std::string header_;      // the part of a frame header received so far
  uint32_t remaining_ = 0;  // bytes of the current frame's payload still to come
  int stream_ = 0;
  Status error_;
  bool merge_ = false;
  OutputTail out_;
  OutputTail err_;
};

}  // namespace onedock::docker

#endif  // ONEDOCK_DOCKER_ENGINE_JSON_H_
