// EngineAdmin: the Engine API calls that only tests and benchmarks make (ping, version, pause,
// save, network removal, bounded event queries, a create from a raw body), over a CurlTransport of
// their own, so docker::EngineClient carries only what onedockd uses. Replies map like
// EngineClient's (StatusFromHttp, StatusFromCurl), with messages prefixed "<name>: <operation>".
// Blocking; not thread-safe: one instance per thread.
#ifndef ONEDOCK_TESTS_SUPPORT_ENGINE_ADMIN_H_
#define ONEDOCK_TESTS_SUPPORT_ENGINE_ADMIN_H_

#include <optional>
#include <string>
#include <vector>

#include "bridge/engine_types.h"
#include "bridge/status.h"
#include "docker/curl_transport.h"
#include "docker/engine_json.h"

namespace onedock::testing {

class EngineAdmin {
 public:
  EngineAdmin(std::string name, docker::Endpoint endpoint);

  // GET /_ping (unversioned): OK when the engine answers 200.
  Status Ping();
  // GET /version (unversioned).
  Result<EngineVersion> Version();
  // kAlreadyDone on the engine's 304; dockerd 20.10 answers a repeated pause with 409
  // (kConflict) and an unpause of a container that is not paused with 500 (kInternal).
  Result<Outcome> PauseContainer(const std::string& id);
  Result<Outcome> UnpauseContainer(const std::string& id);
  // Writes the `docker save` tarball of `reference` to `tar_path`.
  Status SaveImage(const std::string& reference, const std::string& tar_path);
  // kFailedPrecondition while containers are connected (the engine's 403), kNotFound when absent.
  Status RemoveNetwork(const std::string& network);
  // A container created from a whole create body of the test's own (what onedock never sends,
  // such as a Healthcheck, as an image's HEALTHCHECK would give it).
  Status CreateContainerFrom(const std::string& name, const std::string& body_json);
  // Past events between filter.since and filter.until (both required, else kInvalidArgument);
  // returns when the engine closes the reply.
  Result<std::vector<Event>> Events(const EventFilter& filter);

 private:
  // A versioned call ("/containers/x/pause" becomes "/v1.41/containers/x/pause"); only a
  // transport failure is a Status, with `what` as context.
  Result<docker::HttpResponse> Send(docker::HttpRequest request, const std::string& what);
  // Send, and a reply outside 2xx becomes a Status too.
  Result<docker::HttpResponse> Expect(docker::HttpRequest request, const std::string& what);
  Result<Outcome> StateChange(const std::string& path, const std::string& what);
  std::string Context(const std::string& what) const { return name_ + ": " + what; }

  std::string name_;
  docker::CurlTransport transport_;
  std::optional<docker::ApiVersion> api_;
};

}  // namespace onedock::testing

#endif  // ONEDOCK_TESTS_SUPPORT_ENGINE_ADMIN_H_
