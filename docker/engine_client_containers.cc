// EngineClient's container calls: lifecycle, inspect and list, archives, exec, stats.
#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "docker/engine_client.h"
#include "docker/json_fields.h"

namespace onedock::docker {

Result<std::string> EngineClient::CreateContainer(const ContainerSpec& spec) {
  auto api = Negotiate();
  if (!api.ok()) return api.status();
  const std::string what = "create " + spec.name;
  auto r = Expect({.method = "POST",
                   .path = "/containers/create?name=" + UrlEscape(spec.name),
                   .body = ContainerCreateBody(spec, *api)},
                  what);
  if (!r.ok()) return r.status();
  auto id = json_fields::IdFromReply(r->body, "create");
  if (!id.ok()) return id.status().WithContext(Context(what));
  return id;
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

Result<bool> EngineClient::WaitStopped(const std::string& id, long timeout_ms) {
  // Asked again over the kept connection: a /wait request abandoned at its deadline would close
  // the connection with it, and the next call, on every deploy, would pay a new TLS handshake.
  constexpr auto kPoll = std::chrono::milliseconds(50);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    auto info = InspectContainer(id);
    if (!info.ok()) return info.status();
    if (!info->running) return true;
    const auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::steady_clock::duration::zero()) return false;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(left, kPoll));
  }
}

Result<std::string> EngineClient::LogTail(const std::string& id, int lines, bool tty) {
  const std::string what = "logs of " + id;
  StreamDemuxer demuxer(kExecTailBytes, /*merge=*/true);
  OutputTail raw;
  auto r = Expect({.path = "/containers/" + UrlEscape(id) +
                           "/logs?stdout=1&stderr=1&tail=" + std::to_string(std::max(1, lines)),
                   .on_data =
                       [&](std::string_view chunk) {
                         if (tty) {
                           raw.Append(chunk);
                           return true;
                         }
                         return demuxer.Feed(chunk).ok();
                       }},
                  what);
  if (!r.ok()) return r.status();
  if (tty) return raw.Tail();
  if (Status s = demuxer.Finish(); !s.ok()) return s.WithContext(Context(what));
  return demuxer.out().Tail();
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
  auto r = Expect(
      {.method = "POST", .path = path, .body = json_fields::Wire(body), .timeout_ms = 10 * 60000},
      what);
  if (!r.ok()) return r.status();
  auto id = json_fields::IdFromReply(r->body, "commit");
  if (!id.ok()) return id.status().WithContext(Context(what));
  return id;
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
  nlohmann::json create = {
      {"AttachStdout", true}, {"AttachStderr", true}, {"Tty", false}, {"Cmd", cmd}, {"Env", env}};
  auto created = Expect({.method = "POST",
                         .path = "/containers/" + UrlEscape(id) + "/exec",
                         .body = json_fields::Wire(create)},
                        what);
  if (!created.ok()) return created.status();
  auto created_id = json_fields::IdFromReply(created->body, "exec create");
  if (!created_id.ok()) return created_id.status().WithContext(Context(what));
  const std::string exec_id = *created_id;
  // The output is demultiplexed as it arrives and only its tail kept: a command may write
  // gigabytes.
  StreamDemuxer demuxer;
  auto started =
      Expect({.method = "POST",
              .path = "/exec/" + UrlEscape(exec_id) + "/start",
              .body = R"({"Detach":false,"Tty":false})",
              .timeout_ms = timeout_ms,
              .on_data = [&demuxer](std::string_view chunk) { return demuxer.Feed(chunk).ok(); }},
             what);
  if (!started.ok()) return started.status();
  if (Status s = demuxer.Finish(); !s.ok()) return s.WithContext(Context(what));
  ExecResult result;
  result.out = demuxer.out().Tail();
  result.err = demuxer.err().Tail();
  result.out_bytes = demuxer.out().total();
  result.err_bytes = demuxer.err().total();
  auto inspected = Expect({.path = "/exec/" + UrlEscape(exec_id) + "/json"}, what);
  if (!inspected.ok()) return inspected.status();
  auto state = nlohmann::json::parse(inspected->body, nullptr, false);
  if (state.is_discarded() || !state.contains("ExitCode") || !state["ExitCode"].is_number()) {
    return Internal("exec finished without an exit code").WithContext(Context(what));
  }
  result.exit_code = state["ExitCode"].get<int>();
  return result;
}

namespace {

// one-shot skips the engine's second collection cycle (API >= 1.41).
std::string StatsPath(const std::string& id) {
  return "/containers/" + UrlEscape(id) + "/stats?stream=false&one-shot=true";
}

}  // namespace

Result<StatsSample> EngineClient::Stats(const std::string& id) {
  auto r = Expect({.path = StatsPath(id)}, "stats " + id);
  if (!r.ok()) return r.status();
  auto s = ParseStats(r->body);
  if (!s.ok()) return s.status().WithContext(Context("stats " + id));
  return s;
}

std::vector<Result<StatsSample>> EngineClient::StatsOfMany(const std::vector<std::string>& ids,
                                                           size_t max_in_flight) {
  std::vector<Result<StatsSample>> samples;
  samples.reserve(ids.size());
  auto api = Negotiate();
  if (!api.ok()) {
    for (size_t i = 0; i < ids.size(); ++i) samples.push_back(api.status());
    return samples;
  }
  std::vector<HttpRequest> requests(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    requests[i].target = "/v" + api->ToString() + StatsPath(ids[i]);
    requests[i].timeout_ms = kDefaultTimeoutMs;
  }
  auto replies = transport_.PerformAll(requests, max_in_flight);
  for (size_t i = 0; i < ids.size(); ++i) {
    const std::string what = Context("stats " + ids[i]);
    auto& reply = replies[i];
    if (!reply.ok()) {
      samples.push_back(reply.status().WithContext(what));
    } else if (reply->status < 200 || reply->status >= 300) {
      samples.push_back(StatusFromHttp(reply->status, reply->body).WithContext(what));
    } else if (auto s = ParseStats(reply->body); !s.ok()) {
      samples.push_back(s.status().WithContext(what));
    } else {
      samples.push_back(std::move(*s));
    }
  }
  return samples;
}
}  // namespace onedock::docker
