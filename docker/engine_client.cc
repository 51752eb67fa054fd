#include "docker/engine_client.h"

namespace onedock::docker {
namespace {

bool IsVersionComplaint(const HttpResponse& r) {
  if (r.status != 400) return false;
  const std::string m = EngineMessage(r.body);
  return m.find("client version") != std::string::npos &&
         (m.find("too new") != std::string::npos || m.find("too old") != std::string::npos);
}

}  // namespace

EngineClient::EngineClient(std::string name, Endpoint endpoint)
    : name_(std::move(name)), transport_(std::move(endpoint)) {}

Result<ApiVersion> EngineClient::Negotiate() {
  if (api_) return *api_;
  // Unversioned endpoints: every engine answers these whatever versions it supports.
  HttpRequest ping{.method = "GET", .target = "/_ping"};
  auto pong = transport_.Perform(ping);
  if (!pong.ok()) return pong.status().WithContext(Context("negotiate API version"));
  if (pong->status != 200) {
    return StatusFromHttp(pong->status, pong->body).WithContext(Context("ping"));
  }
  auto reply = transport_.Perform(HttpRequest{.method = "GET", .target = "/version"});
  if (!reply.ok()) return reply.status().WithContext(Context("version"));
  if (reply->status != 200) {
    return StatusFromHttp(reply->status, reply->body).WithContext(Context("version"));
  }
  auto version = ParseVersion(reply->body);
  if (!version.ok()) return version.status().WithContext(Context("version"));
  auto use = NegotiateApi(version->api_version, version->min_api_version);
  if (!use.ok()) return use.status().WithContext(Context("negotiate API version"));
  api_ = *use;
  return *api_;
}

Result<HttpResponse> EngineClient::Send(const Call& call) {
  for (int attempt = 0;; ++attempt) {
    auto api = Negotiate();
    if (!api.ok()) return api.status();
    HttpRequest request;
    request.method = call.method;
    request.target = "/v" + api->ToString() + call.path;
    request.body = call.body;
    request.upload_file = call.upload_file;
    request.download_file = call.download_file;
    request.timeout_ms = call.timeout_ms;
    request.on_line = call.on_line;
    request.on_data = call.on_data;
    request.keep_going = call.keep_going;
    request.headers = call.headers;
    if ((call.method == "POST" || call.method == "PUT") && !call.content_type.empty()) {
      request.headers.push_back("Content-Type: " + call.content_type);
    }
    auto response = transport_.Perform(request);
    if (response.ok() && attempt == 0 && IsVersionComplaint(*response)) {
      api_.reset();  // the engine changed under us
      continue;
    }
    return response;
  }
}

Result<HttpResponse> EngineClient::Expect(const Call& call, const std::string& what,
                                          ErrorMapper map_error) {
  auto response = Send(call);
  if (!response.ok()) return response.status().WithContext(Context(what));
  if (response->status < 200 || response->status >= 300) {
    return map_error(response->status, response->body).WithContext(Context(what));
  }
  return response;
}

Result<EngineInfo> EngineClient::Info() {
  auto r = Expect({.path = "/info"}, "info");
  if (!r.ok()) return r.status();
  auto info = ParseInfo(r->body);
  if (!info.ok()) return info.status().WithContext(Context("info"));
  return info;
}

Result<DiskUsage> EngineClient::SystemDiskUsage() {
  auto r = Expect({.path = "/system/df", .timeout_ms = 120000}, "system df");
  if (!r.ok()) return r.status();
  auto usage = ParseDiskUsage(r->body);
  if (!usage.ok()) return usage.status().WithContext(Context("system df"));
  return usage;
}
Result<Outcome> EngineClient::StateChange(const std::string& path, const std::string& what,
                                          long timeout_ms) {
  auto response = Send({.method = "POST", .path = path, .timeout_ms = timeout_ms});
  if (!response.ok()) return response.status().WithContext(Context(what));
  if (response->status == 304) return Outcome::kAlreadyDone;
  if (response->status < 200 || response->status >= 300) {
    return StatusFromHttp(response->status, response->body).WithContext(Context(what));
  }
  return Outcome::kDone;
}

Status EngineClient::ProgressCall(Call call, const std::string& what,
                                  const std::function<void(std::string_view)>& on_progress,
                                  std::string* last_aux_digest) {
  Status stream_error;
  call.on_line = [&](std::string_view line) {
    if (on_progress) on_progress(line);
    if (Status s = StreamLineStatus(line); !s.ok()) {
      if (stream_error.ok()) stream_error = s;
      return true;  // read to the end so the connection stays reusable
    }
    if (last_aux_digest) {
      if (std::string d = PushDigestFromLine(line); !d.empty()) *last_aux_digest = d;
    }
    return true;
  };
  auto r = Expect(call, what);
  if (!r.ok()) return r.status();
  return stream_error.WithContext(Context(what));
}

Status EngineClient::StreamEvents(const EventFilter& filter,
                                  const std::function<bool(const Event&)>& on_event,
                                  const std::function<bool()>& keep_going) {
  std::string path = "/events?filters=" + UrlEscape(EventFiltersJson(filter));
  if (filter.since > 0) path += "&since=" + std::to_string(filter.since);
  Status parse_error;
  Call call{.path = path, .timeout_ms = 0, .keep_going = keep_going};
  call.on_line = [&](std::string_view line) {
    auto e = ParseEvent(line);
    if (!e.ok()) {
      parse_error = e.status();
      return false;
    }
    return on_event(*e);
  };
  auto r = Expect(call, "event stream");
  if (!r.ok()) return r.status();
  return parse_error.WithContext(Context("event stream"));
}

}  // namespace onedock::docker
