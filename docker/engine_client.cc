#include "docker/engine_client.h"

#include <nlohmann/json.hpp>

#include <fstream>

#include "bridge/image_reference.h"

namespace onedock::docker {
namespace {

constexpr long kDefaultTimeoutMs = 30000;
constexpr long kImageTransferTimeoutMs = 30 * 60 * 1000;

bool IsVersionComplaint(const HttpResponse& r) {
  if (r.status != 400) return false;
  const std::string m = EngineMessage(r.body);
  return m.find("client version") != std::string::npos &&
         (m.find("too new") != std::string::npos || m.find("too old") != std::string::npos);
}

// "repo:tag" / "repo@digest" / "repo" -> fromImage and tag query values.
std::pair<std::string, std::string> SplitForPull(const std::string& reference) {
  auto parsed = bridge::ParseImageReference(reference);
  if (parsed.ok()) return {parsed->Repository(), parsed->TagOrDigest()};
  return {reference, "latest"};  // let the engine word the refusal
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

Result<HttpResponse> EngineClient::Expect(const Call& call, const std::string& what) {
  auto response = Send(call);
  if (!response.ok()) return response.status().WithContext(Context(what));
  if (response->status < 200 || response->status >= 300) {
    return StatusFromHttp(response->status, response->body).WithContext(Context(what));
  }
  return response;
}

Status EngineClient::Ping() {
  auto reply = transport_.Perform(HttpRequest{.method = "GET", .target = "/_ping"});
  if (!reply.ok()) return reply.status().WithContext(Context("ping"));
  if (reply->status != 200) return StatusFromHttp(reply->status, reply->body).WithContext(Context("ping"));
  return Status::Ok();
}

Result<EngineVersion> EngineClient::Version() {
  auto r = Expect({.path = "/version"}, "version");
  if (!r.ok()) return r.status();
  return ParseVersion(r->body);
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

Result<std::string> EngineClient::CreateContainer(const ContainerSpec& spec) {
  auto api = Negotiate();
  if (!api.ok()) return api.status();
  const std::string what = "create " + spec.name;
  auto r = Expect({.method = "POST",
                   .path = "/containers/create?name=" + UrlEscape(spec.name),
                   .body = ContainerCreateBody(spec, *api)},
                  what);
  if (!r.ok()) return r.status();
  auto j = nlohmann::json::parse(r->body, nullptr, false);
  if (j.is_discarded() || !j.contains("Id") || !j["Id"].is_string()) {
    return Internal("malformed create reply").WithContext(Context(what));
  }
  return j["Id"].get<std::string>();
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

Result<Outcome> EngineClient::StartContainer(const std::string& id) {
  return StateChange("/containers/" + UrlEscape(id) + "/start", "start " + id, kDefaultTimeoutMs);
}

Result<Outcome> EngineClient::StopContainer(const std::string& id, int timeout_s) {
  return StateChange("/containers/" + UrlEscape(id) + "/stop?t=" + std::to_string(timeout_s),
                     "stop " + id, kDefaultTimeoutMs + timeout_s * 1000L);
}

Result<Outcome> EngineClient::RestartContainer(const std::string& id, int timeout_s) {
  return StateChange("/containers/" + UrlEscape(id) + "/restart?t=" + std::to_string(timeout_s),
                     "restart " + id, kDefaultTimeoutMs + timeout_s * 1000L);
}

Result<Outcome> EngineClient::PauseContainer(const std::string& id) {
  return StateChange("/containers/" + UrlEscape(id) + "/pause", "pause " + id, kDefaultTimeoutMs);
}

Result<Outcome> EngineClient::UnpauseContainer(const std::string& id) {
  return StateChange("/containers/" + UrlEscape(id) + "/unpause", "unpause " + id, kDefaultTimeoutMs);
}

Status EngineClient::KillContainer(const std::string& id, const std::string& signal) {
  auto r = Expect({.method = "POST",
                   .path = "/containers/" + UrlEscape(id) + "/kill?signal=" + UrlEscape(signal)},
                  "kill " + id);
  return r.status();
}

Status EngineClient::RemoveContainer(const std::string& id, bool force,
                                     bool remove_anonymous_volumes) {
  auto r = Expect({.method = "DELETE",
                   .path = "/containers/" + UrlEscape(id) + "?force=" + (force ? "1" : "0") +
                           "&v=" + (remove_anonymous_volumes ? "1" : "0")},
                  "remove " + id);
  return r.status();
}

Result<ContainerInfo> EngineClient::InspectContainer(const std::string& id) {
  auto r = Expect({.path = "/containers/" + UrlEscape(id) + "/json"}, "inspect " + id);
  if (!r.ok()) return r.status();
  auto info = ParseContainerInspect(r->body);
  if (!info.ok()) return info.status().WithContext(Context("inspect " + id));
  return info;
}

Result<std::vector<ContainerSummary>> EngineClient::ListContainers(
    const std::vector<std::string>& labels, bool all) {
  std::string path = std::string("/containers/json?all=") + (all ? "1" : "0");
  if (!labels.empty()) path += "&filters=" + UrlEscape(LabelFiltersJson(labels));
  auto r = Expect({.path = path}, "list containers");
  if (!r.ok()) return r.status();
  auto list = ParseContainerList(r->body);
  if (!list.ok()) return list.status().WithContext(Context("list containers"));
  return list;
}

Status EngineClient::UpdateContainer(const std::string& id, const ResourceUpdate& update) {
  return Expect({.method = "POST",
                 .path = "/containers/" + UrlEscape(id) + "/update",
                 .body = ResourceUpdateBody(update)},
                "update " + id)
      .status();
}

Result<std::string> EngineClient::Commit(const CommitRequest& c) {
  std::string path = "/commit?container=" + UrlEscape(c.container) + "&repo=" + UrlEscape(c.repo) +
                     "&tag=" + UrlEscape(c.tag) + "&pause=" + (c.pause ? "1" : "0");
  if (!c.comment.empty()) path += "&comment=" + UrlEscape(c.comment);
  if (!c.author.empty()) path += "&author=" + UrlEscape(c.author);
  nlohmann::json body = nlohmann::json::object();
  if (!c.labels.empty()) body["Labels"] = c.labels;
  const std::string what = "commit " + c.container;
  auto r = Expect({.method = "POST", .path = path, .body = body.dump(), .timeout_ms = 10 * 60000},
                  what);
  if (!r.ok()) return r.status();
  auto j = nlohmann::json::parse(r->body, nullptr, false);
  if (j.is_discarded() || !j.contains("Id") || !j["Id"].is_string()) {
    return Internal("malformed commit reply").WithContext(Context(what));
  }
  return j["Id"].get<std::string>();
}

Status EngineClient::PutArchive(const std::string& id, const std::string& path,
                                const std::string& tar) {
  return Expect({.method = "PUT",
                 .path = "/containers/" + UrlEscape(id) + "/archive?path=" + UrlEscape(path),
                 .body = tar,
                 .content_type = "application/x-tar"},
                "upload archive into " + id)
      .status();
}

Status EngineClient::GetArchiveToFile(const std::string& id, const std::string& path,
                                      const std::string& file) {
  return Expect({.path = "/containers/" + UrlEscape(id) + "/archive?path=" + UrlEscape(path),
                 .download_file = file,
                 .timeout_ms = kImageTransferTimeoutMs},
                "download archive of " + path + " from " + id)
      .status();
}

Status EngineClient::PutArchiveFromFile(const std::string& id, const std::string& path,
                                        const std::string& file) {
  return Expect({.method = "PUT",
                 .path = "/containers/" + UrlEscape(id) + "/archive?path=" + UrlEscape(path),
                 .content_type = "application/x-tar",
                 .upload_file = file,
                 .timeout_ms = kImageTransferTimeoutMs},
                "upload archive into " + path + " of " + id)
      .status();
}

Result<ExecResult> EngineClient::Exec(const std::string& id, const std::vector<std::string>& cmd,
                                      const std::vector<std::string>& env, long timeout_ms) {
  const std::string what = "exec in " + id;
  nlohmann::json create = {{"AttachStdout", true}, {"AttachStderr", true}, {"Tty", false},
                           {"Cmd", cmd}, {"Env", env}};
  auto created = Expect(
      {.method = "POST", .path = "/containers/" + UrlEscape(id) + "/exec", .body = create.dump()}, what);
  if (!created.ok()) return created.status();
  auto j = nlohmann::json::parse(created->body, nullptr, false);
  if (j.is_discarded() || !j.contains("Id") || !j["Id"].is_string()) {
    return Internal("malformed exec create reply").WithContext(Context(what));
  }
  const std::string exec_id = j["Id"].get<std::string>();
  auto started = Expect({.method = "POST",
                         .path = "/exec/" + UrlEscape(exec_id) + "/start",
                         .body = R"({"Detach":false,"Tty":false})",
                         .timeout_ms = timeout_ms},
                        what);
  if (!started.ok()) return started.status();
  ExecResult result;
  if (Status s = DemuxStream(started->body, &result.out, &result.err); !s.ok()) {
    return s.WithContext(Context(what));
  }
  auto inspected = Expect({.path = "/exec/" + UrlEscape(exec_id) + "/json"}, what);
  if (!inspected.ok()) return inspected.status();
  auto state = nlohmann::json::parse(inspected->body, nullptr, false);
  if (state.is_discarded() || !state.contains("ExitCode") || !state["ExitCode"].is_number()) {
    return Internal("exec finished without an exit code").WithContext(Context(what));
  }
  result.exit_code = state["ExitCode"].get<int>();
  return result;
}

Result<StatsSample> EngineClient::Stats(const std::string& id) {
  // one-shot skips the engine's second collection cycle (API >= 1.41).
  auto r = Expect({.path = "/containers/" + UrlEscape(id) + "/stats?stream=false&one-shot=true"},
                  "stats " + id);
  if (!r.ok()) return r.status();
  auto s = ParseStats(r->body);
  if (!s.ok()) return s.status().WithContext(Context("stats " + id));
  return s;
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

Status EngineClient::PullImage(const std::string& reference, const RegistryAuth& auth,
                               const std::function<void(std::string_view)>& on_progress) {
  auto [repo, tag] = SplitForPull(reference);
  Call call{.method = "POST",
            .path = "/images/create?fromImage=" + UrlEscape(repo) + "&tag=" + UrlEscape(tag),
            .content_type = "",
            .headers = {"X-Registry-Auth: " + RegistryAuthHeader(auth)},
            .timeout_ms = kImageTransferTimeoutMs};
  return ProgressCall(std::move(call), "pull " + reference, on_progress, nullptr);
}

Result<std::string> EngineClient::PushImage(const std::string& reference,
                                            const RegistryAuth& auth) {
  auto [repo, tag] = SplitForPull(reference);
  std::string digest;
  Call call{.method = "POST",
            .path = "/images/" + UrlEscape(repo) + "/push?tag=" + UrlEscape(tag),
            .content_type = "",
            .headers = {"X-Registry-Auth: " + RegistryAuthHeader(auth)},
            .timeout_ms = kImageTransferTimeoutMs};
  const std::string what = "push " + reference;
  if (Status s = ProgressCall(std::move(call), what, nullptr, &digest); !s.ok()) return s;
  if (digest.empty()) return Internal("push finished without a digest").WithContext(Context(what));
  return digest;
}

Status EngineClient::TagImage(const std::string& source, const std::string& repo,
                              const std::string& tag) {
  return Expect({.method = "POST",
                 .path = "/images/" + UrlEscape(source) + "/tag?repo=" + UrlEscape(repo) +
                         "&tag=" + UrlEscape(tag)},
                "tag " + source)
      .status();
}

Status EngineClient::RemoveImage(const std::string& reference, bool force) {
  return Expect({.method = "DELETE",
                 .path = "/images/" + UrlEscape(reference) + "?force=" + (force ? "1" : "0")},
                "remove image " + reference)
      .status();
}

Result<ImageInfo> EngineClient::InspectImage(const std::string& reference) {
  const std::string what = "inspect image " + reference;
  auto r = Expect({.path = "/images/" + UrlEscape(reference) + "/json"}, what);
  if (!r.ok()) return r.status();
  auto info = ParseImageInspect(r->body);
  if (!info.ok()) return info.status().WithContext(Context(what));
  return info;
}

Result<std::vector<std::string>> EngineClient::LoadImage(const std::string& tar_path) {
  std::vector<std::string> loaded;
  Call call{.method = "POST",
            .path = "/images/load?quiet=1",
            .content_type = "application/x-tar",
            .upload_file = tar_path,
            .timeout_ms = kImageTransferTimeoutMs};
  auto collect = [&loaded](std::string_view line) {
    if (std::string ref = LoadedImageFromLine(line); !ref.empty()) loaded.push_back(ref);
  };
  const std::string what = "load " + tar_path;
  if (Status s = ProgressCall(std::move(call), what, collect, nullptr); !s.ok()) return s;
  if (loaded.empty()) return Internal("the engine loaded no image").WithContext(Context(what));
  return loaded;
}

Status EngineClient::SaveImage(const std::string& reference, const std::string& tar_path) {
  const std::string what = "save " + reference;
  auto r = Expect({.path = "/images/" + UrlEscape(reference) + "/get",
                   .timeout_ms = kImageTransferTimeoutMs},
                  what);
  if (!r.ok()) return r.status();
  std::ofstream out(tar_path, std::ios::binary | std::ios::trunc);
  out.write(r->body.data(), static_cast<std::streamsize>(r->body.size()));
  out.close();
  if (!out) return Internal("cannot write " + tar_path).WithContext(Context(what));
  return Status::Ok();
}

Result<std::string> EngineClient::CreateNetwork(const NetworkSpec& spec) {
  const std::string what = "create network " + spec.name;
  auto r = Expect({.method = "POST", .path = "/networks/create", .body = NetworkCreateBody(spec)},
                  what);
  if (!r.ok()) return r.status();
  auto j = nlohmann::json::parse(r->body, nullptr, false);
  if (j.is_discarded() || !j.contains("Id") || !j["Id"].is_string()) {
    return Internal("malformed network create reply").WithContext(Context(what));
  }
  return j["Id"].get<std::string>();
}

Result<NetworkInfo> EngineClient::InspectNetwork(const std::string& network) {
  const std::string what = "inspect network " + network;
  auto r = Expect({.path = "/networks/" + UrlEscape(network)}, what);
  if (!r.ok()) return r.status();
  auto info = ParseNetworkInspect(r->body);
  if (!info.ok()) return info.status().WithContext(Context(what));
  return info;
}

Result<std::vector<NetworkInfo>> EngineClient::ListNetworks() {
  auto r = Expect({.path = "/networks"}, "list networks");
  if (!r.ok()) return r.status();
  auto list = ParseNetworkList(r->body);
  if (!list.ok()) return list.status().WithContext(Context("list networks"));
  return list;
}

Status EngineClient::ConnectNetwork(const std::string& network, const std::string& container,
                                    const NetworkAttachment& nic) {
  return Expect({.method = "POST",
                 .path = "/networks/" + UrlEscape(network) + "/connect",
                 .body = NetworkConnectBody(container, nic)},
                "connect " + container + " to " + network)
      .status();
}

Status EngineClient::DisconnectNetwork(const std::string& network, const std::string& container,
                                       bool force) {
  nlohmann::json body = {{"Container", container}, {"Force", force}};
  return Expect({.method = "POST",
                 .path = "/networks/" + UrlEscape(network) + "/disconnect",
                 .body = body.dump()},
                "disconnect " + container + " from " + network)
      .status();
}

Status EngineClient::RemoveNetwork(const std::string& network) {
  return Expect({.method = "DELETE", .path = "/networks/" + UrlEscape(network)},
                "remove network " + network)
      .status();
}

Result<VolumeInfo> EngineClient::CreateVolume(const std::string& name,
                                              const std::map<std::string, std::string>& labels) {
  const std::string what = "create volume " + name;
  nlohmann::json body = {{"Name", name}, {"Driver", "local"}, {"Labels", labels}};
  auto r = Expect({.method = "POST", .path = "/volumes/create", .body = body.dump()}, what);
  if (!r.ok()) return r.status();
  auto v = ParseVolume(r->body);
  if (!v.ok()) return v.status().WithContext(Context(what));
  return v;
}

Result<std::vector<VolumeInfo>> EngineClient::ListVolumes(const std::vector<std::string>& labels) {
  std::string path = "/volumes";
  if (!labels.empty()) path += "?filters=" + UrlEscape(LabelFiltersJson(labels));
  auto r = Expect({.path = path}, "list volumes");
  if (!r.ok()) return r.status();
  auto list = ParseVolumeList(r->body);
  if (!list.ok()) return list.status().WithContext(Context("list volumes"));
  return list;
}

Status EngineClient::RemoveVolume(const std::string& name) {
  return Expect({.method = "DELETE", .path = "/volumes/" + UrlEscape(name)}, "remove volume " + name)
      .status();
}

Result<std::vector<Event>> EngineClient::Events(const EventFilter& filter) {
  if (filter.since <= 0 || filter.until <= 0) {
    return InvalidArgument("a bounded event query needs since and until").WithContext(Context("events"));
  }
  std::vector<Event> events;
  Status parse_error;
  Call call{.path = "/events?since=" + std::to_string(filter.since) +
                    "&until=" + std::to_string(filter.until) +
                    "&filters=" + UrlEscape(EventFiltersJson(filter))};
  call.on_line = [&](std::string_view line) {
    auto e = ParseEvent(line);
    if (!e.ok()) {
      parse_error = e.status();
      return false;
    }
    events.push_back(std::move(*e));
    return true;
  };
  auto r = Expect(call, "events");
  if (!r.ok()) return r.status();
  if (!parse_error.ok()) return parse_error.WithContext(Context("events"));
  return events;
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
