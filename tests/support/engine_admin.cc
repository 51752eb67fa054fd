#include "tests/support/engine_admin.h"

#include <utility>

namespace onedock::testing {

using docker::HttpRequest;
using docker::HttpResponse;
using docker::StatusFromHttp;
using docker::UrlEscape;

EngineAdmin::EngineAdmin(std::string name, docker::Endpoint endpoint)
    : name_(std::move(name)), transport_(std::move(endpoint)) {}

Status EngineAdmin::Ping() {
  auto reply = transport_.Perform({.target = "/_ping"});
  if (!reply.ok()) return reply.status().WithContext(Context("ping"));
  if (reply->status != 200)
    return StatusFromHttp(reply->status, reply->body).WithContext(Context("ping"));
  return Status::Ok();
}

Result<EngineVersion> EngineAdmin::Version() {
  auto reply = transport_.Perform({.target = "/version"});
  if (!reply.ok()) return reply.status().WithContext(Context("version"));
  if (reply->status != 200) {
    return StatusFromHttp(reply->status, reply->body).WithContext(Context("version"));
  }
  auto version = docker::ParseVersion(reply->body);
  if (!version.ok()) return version.status().WithContext(Context("version"));
  return version;
}

Result<HttpResponse> EngineAdmin::Send(HttpRequest request, const std::string& what) {
  if (!api_) {
    auto version = Version();
    if (!version.ok()) return version.status();
    auto api = docker::NegotiateApi(version->api_version, version->min_api_version);
    if (!api.ok()) return api.status().WithContext(Context(what));
    api_ = *api;
  }
  request.target = "/v" + api_->ToString() + request.target;
  auto reply = transport_.Perform(request);
  if (!reply.ok()) return reply.status().WithContext(Context(what));
  return reply;
}

Result<HttpResponse> EngineAdmin::Expect(HttpRequest request, const std::string& what) {
  auto reply = Send(std::move(request), what);
  if (!reply.ok()) return reply.status();
  if (reply->status < 200 || reply->status >= 300) {
    return StatusFromHttp(reply->status, reply->body).WithContext(Context(what));
  }
  return reply;
}

Result<Outcome> EngineAdmin::StateChange(const std::string& path, const std::string& what) {
  auto r = Send({.method = "POST", .target = path}, what);
  if (!r.ok()) return r.status();
  if (r->status == 304) return Outcome::kAlreadyDone;
  if (r->status < 200 || r->status >= 300) {
    return StatusFromHttp(r->status, r->body).WithContext(Context(what));
  }
  return Outcome::kDone;
}

Result<Outcome> EngineAdmin::PauseContainer(const std::string& id) {
  return StateChange("/containers/" + UrlEscape(id) + "/pause", "pause " + id);
}

Result<Outcome> EngineAdmin::UnpauseContainer(const std::string& id) {
  return StateChange("/containers/" + UrlEscape(id) + "/unpause", "unpause " + id);
}

Status EngineAdmin::SaveImage(const std::string& reference, const std::string& tar_path) {
  return Expect({.target = "/images/" + UrlEscape(reference) + "/get",
                 .download_file = tar_path,
                 .timeout_ms = 30 * 60 * 1000},
                "save " + reference)
      .status();
}

Status EngineAdmin::RemoveNetwork(const std::string& network) {
  return Expect({.method = "DELETE", .target = "/networks/" + UrlEscape(network)},
                "remove network " + network)
      .status();
}

Status EngineAdmin::CreateContainerFrom(const std::string& name, const std::string& body_json) {
  return Expect({.method = "POST",
                 .target = "/containers/create?name=" + UrlEscape(name),
                 .headers = {"Content-Type: application/json"},
                 .body = body_json},
                "create " + name)
      .status();
}

Result<std::vector<Event>> EngineAdmin::Events(const EventFilter& filter) {
  if (filter.since <= 0 || filter.until <= 0) {
    return InvalidArgument("a bounded event query needs since and until")
        .WithContext(Context("events"));
  }
  std::vector<Event> events;
  Status parse_error;
  HttpRequest request{.target = "/events?since=" + std::to_string(filter.since) +
                                "&until=" + std::to_string(filter.until) +
                                "&filters=" + UrlEscape(docker::EventFiltersJson(filter))};
  request.on_line = [&](std::string_view line) {
    auto e = docker::ParseEvent(line);
    if (!e.ok()) {
      parse_error = e.status();
      return false;
    }
    events.push_back(std::move(*e));
    return true;
  };
  auto r = Expect(std::move(request), "events");
  if (!r.ok()) return r.status();
  if (!parse_error.ok()) return parse_error.WithContext(Context("events"));
  return events;
}

}  // namespace onedock::testing
