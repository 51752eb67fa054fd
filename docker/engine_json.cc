#include "docker/engine_json.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "bridge/base64.h"
#include "docker/json_fields.h"

namespace onedock::docker {

using json_fields::Int;
using json_fields::json;
using json_fields::Obj;
using json_fields::ParseJson;
using json_fields::Str;
using json_fields::StringMap;

Result<ApiVersion> ApiVersion::Parse(std::string_view text) {
  ApiVersion v;
  const size_t dot = text.find('.');
  if (dot == std::string_view::npos)
    return InvalidArgument("bad API version '" + std::string(text) + "'");
  const char* b = text.data();
  auto r1 = std::from_chars(b, b + dot, v.major);
  auto r2 = std::from_chars(b + dot + 1, b + text.size(), v.minor);
  if (r1.ec != std::errc() || r1.ptr != b + dot || r2.ec != std::errc() ||
      r2.ptr != b + text.size()) {
    return InvalidArgument("bad API version '" + std::string(text) + "'");
  }
  return v;
}

std::string ApiVersion::ToString() const {
  return std::to_string(major) + "." + std::to_string(minor);
}

Result<ApiVersion> NegotiateApi(std::string_view engine_api, std::string_view engine_min_api) {
  auto newest = ApiVersion::Parse(engine_api);
  if (!newest.ok()) return newest.status().WithContext("engine");
  ApiVersion use = std::min(*newest, kNewestApi);
  if (use < kOldestApi) {
    return FailedPrecondition("engine API " + newest->ToString() + " is older than " +
                              kOldestApi.ToString() + ", the oldest onedock supports");
  }
  if (!engine_min_api.empty()) {
    auto oldest = ApiVersion::Parse(engine_min_api);
    if (!oldest.ok()) return oldest.status().WithContext("engine");
    if (use < *oldest) {
      return FailedPrecondition("engine requires API " + oldest->ToString() +
                                " or newer; onedock speaks up to " + kNewestApi.ToString());
    }
  }
  return use;
}

std::string EngineMessage(std::string_view body) {
  json j = json::parse(body, nullptr, false);
  if (!j.is_discarded() && j.is_object()) {
    if (auto m = Str(j, "message"); !m.empty()) return m;
  }
  std::string text(body);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  if (text.size() > 500) text.resize(500);
  return text;
}

Status StatusFromHttp(long http_status, std::string_view body) {
  std::string message = std::to_string(http_status);
  switch (http_status) {
    case 400:
      message += " Bad Request";
      break;
    case 401:
      message += " Unauthorized";
      break;
    case 403:
      message += " Forbidden";
      break;
    case 404:
      message += " Not Found";
      break;
    case 409:
      message += " Conflict";
      break;
    case 500:
      message += " Internal Server Error";
      break;
    case 503:
      message += " Service Unavailable";
      break;
    default:
      break;
  }
  if (const std::string text = EngineMessage(body); !text.empty()) message += ": " + text;
  switch (http_status) {
    case 400:
      return InvalidArgument(message);
    case 401:
      return Unauthenticated(message);
    case 403:
      return FailedPrecondition(message);
    case 404:
      return NotFound(message);
    case 409:
      return Conflict(message);
    case 502:
    case 503:
    case 504:
      return Unavailable(message);
    default:
      return Internal(message);
  }
}

Status StreamLineStatus(std::string_view line) {
  json j = json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return Internal("malformed progress line from the engine: " + std::string(line.substr(0, 200)));
  }
  if (auto detail = Obj(j, "errorDetail"); !detail.empty()) {
    const std::string m = Str(detail, "message");
    return Internal(m.empty() ? Str(j, "error") : m);
  }
  if (auto e = Str(j, "error"); !e.empty()) return Internal(e);
  return Status::Ok();
}

std::string PushDigestFromLine(std::string_view line) {
  json j = json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return {};
  return Str(Obj(j, "aux"), "Digest");
}

std::string LoadedImageFromLine(std::string_view line) {
  json j = json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return {};
  std::string text = Str(j, "stream");
  for (std::string_view prefix : {"Loaded image ID: ", "Loaded image: "}) {
    if (text.rfind(prefix, 0) == 0) {
      text.erase(0, prefix.size());
      while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
        text.pop_back();
      return text;
    }
  }
  return {};
}

std::string RegistryAuthHeader(const RegistryAuth& auth) {
  json j = json::object();
  if (!auth.username.empty()) {
    j["username"] = auth.username;
    j["password"] = auth.password;
    if (!auth.server.empty()) j["serveraddress"] = auth.server;
  }
  return Base64Encode(json_fields::Wire(j), Base64Alphabet::kUrl);
}

std::string EventFiltersJson(const EventFilter& filter) {
  json j = json::object();
  if (!filter.types.empty()) j["type"] = filter.types;
  if (!filter.events.empty()) j["event"] = filter.events;
  if (!filter.labels.empty()) j["label"] = filter.labels;
  return json_fields::Wire(j);
}

std::string LabelFiltersJson(const std::vector<std::string>& labels) {
  json j = json::object();
  if (!labels.empty()) j["label"] = labels;
  return json_fields::Wire(j);
}

Result<Event> ParseEvent(std::string_view line) {
  auto parsed = ParseJson(line, "event");
  if (!parsed.ok()) return parsed.status();
  const json& j = *parsed;
  Event e;
  e.type = Str(j, "Type");
  e.action = Str(j, "Action");
  const json& actor = Obj(j, "Actor");
  e.id = Str(actor, "ID");
  if (e.id.empty()) e.id = Str(j, "id");
  e.attributes = StringMap(actor, "Attributes");
  e.time_nano = Int(j, "timeNano");
  if (e.time_nano == 0) e.time_nano = Int(j, "time") * 1000000000;
  return e;
}

Result<EngineVersion> ParseVersion(std::string_view body) {
  auto parsed = ParseJson(body, "version");
  if (!parsed.ok()) return parsed.status();
  const json& j = *parsed;
  EngineVersion v;
  v.api_version = Str(j, "ApiVersion");
  v.min_api_version = Str(j, "MinAPIVersion");
  v.version = Str(j, "Version");
  v.os = Str(j, "Os");
  v.arch = Str(j, "Arch");
  v.kernel = Str(j, "KernelVersion");
  if (v.api_version.empty()) return Internal("version reply without ApiVersion");
  return v;
}

Result<EngineInfo> ParseInfo(std::string_view body) {
  auto parsed = ParseJson(body, "info");
  if (!parsed.ok()) return parsed.status();
  const json& j = *parsed;
  EngineInfo i;
  i.name = Str(j, "Name");
  i.server_version = Str(j, "ServerVersion");
  i.ncpu = static_cast<int>(Int(j, "NCPU"));
  i.mem_total = Int(j, "MemTotal");
  i.containers = static_cast<int>(Int(j, "Containers"));
  i.containers_running = static_cast<int>(Int(j, "ContainersRunning"));
  i.containers_paused = static_cast<int>(Int(j, "ContainersPaused"));
  i.containers_stopped = static_cast<int>(Int(j, "ContainersStopped"));
  i.docker_root_dir = Str(j, "DockerRootDir");
  i.cgroup_version = Str(j, "CgroupVersion");
  i.operating_system = Str(j, "OperatingSystem");
  i.architecture = Str(j, "Architecture");
  i.kernel_version = Str(j, "KernelVersion");
  return i;
}

Result<DiskUsage> ParseDiskUsage(std::string_view body) {
  auto parsed = ParseJson(body, "system df");
  if (!parsed.ok()) return parsed.status();
  const json& j = *parsed;
  DiskUsage d;
  d.layers = Int(j, "LayersSize");
  if (j.contains("Containers") && j["Containers"].is_array()) {
    for (const json& c : j["Containers"]) d.containers += std::max<int64_t>(0, Int(c, "SizeRw"));
  }
  if (j.contains("Volumes") && j["Volumes"].is_array()) {
    for (const json& v : j["Volumes"]) {
      if (v.contains("UsageData") && v["UsageData"].is_object())
        d.volumes += std::max<int64_t>(0, Int(v["UsageData"], "Size"));
    }
  }
  return d;
}

Status StreamDemuxer::Feed(std::string_view chunk) {
  while (error_.ok() && !chunk.empty()) {
    if (remaining_ == 0) {
      const size_t need = 8 - header_.size();
      header_.append(chunk.substr(0, need));
      chunk.remove_prefix(std::min(need, chunk.size()));
      if (header_.size() < 8) break;
      stream_ = static_cast<uint8_t>(header_[0]);
      remaining_ = (static_cast<uint32_t>(static_cast<uint8_t>(header_[4])) << 24) |
                   (static_cast<uint32_t>(static_cast<uint8_t>(header_[5])) << 16) |
                   (static_cast<uint32_t>(static_cast<uint8_t>(header_[6])) << 8) |
                   static_cast<uint32_t>(static_cast<uint8_t>(header_[7]));
      header_.clear();
      if (stream_ > 2)
        error_ = Internal("stream frame for unknown stream " + std::to_string(stream_));
      continue;
    }
    const std::string_view part = chunk.substr(0, remaining_);
    (stream_ == 2 && !merge_ ? err_ : out_).Append(part);
    remaining_ -= static_cast<uint32_t>(part.size());
    chunk.remove_prefix(part.size());
  }
  return error_;
}

Status StreamDemuxer::Finish() const {
  if (!error_.ok()) return error_;
  if (!header_.empty()) return Internal("truncated stream frame header");
  if (remaining_ != 0) return Internal("stream frame runs past the end of the reply");
  return Status::Ok();
}

}  // namespace onedock::docker
