// Tolerant readers of the engine's JSON replies, shared by the engine_json*.cc files: a missing
// key, a null or a value of another type reads as empty, so a field an engine version omits never
// fails a parse. Internal to docker/; pure functions.
#ifndef ONEDOCK_DOCKER_JSON_FIELDS_H_
#define ONEDOCK_DOCKER_JSON_FIELDS_H_

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "bridge/status.h"

namespace onedock::docker::json_fields {

using nlohmann::json;

// A request body: text that is not UTF-8 (which JSON cannot hold, and which run attributes and
// context values are checked against before) becomes U+FFFD instead of throwing.
inline std::string Wire(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

inline std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

inline int64_t Int(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) return 0;
  if (it->is_number_integer()) return it->get<int64_t>();
  if (it->is_number_unsigned()) return static_cast<int64_t>(it->get<uint64_t>());
  if (it->is_number_float()) return static_cast<int64_t>(it->get<double>());
  return 0;
}

inline uint64_t UInt(const json& j, const char* key) {
  const int64_t v = Int(j, key);
  auto it = j.find(key);
  if (it != j.end() && it->is_number_unsigned()) return it->get<uint64_t>();
  return v < 0 ? 0 : static_cast<uint64_t>(v);
}

inline bool Bool(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_boolean() && it->get<bool>();
}

inline const json& Obj(const json& j, const char* key) {
  static const json kEmpty = json::object();
  auto it = j.find(key);
  return it != j.end() && it->is_object() ? *it : kEmpty;
}

inline std::vector<std::string> Strings(const json& j, const char* key) {
  std::vector<std::string> out;
  auto it = j.find(key);
  if (it == j.end() || !it->is_array()) return out;
  for (const auto& v : *it) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

inline std::map<std::string, std::string> StringMap(const json& j, const char* key) {
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : Obj(j, key).items()) {
    if (v.is_string()) out[k] = v.get<std::string>();
  }
  return out;
}

inline json MapToJson(const std::map<std::string, std::string>& m) {
  json j = json::object();
  for (const auto& [k, v] : m) j[k] = v;
  return j;
}

// Parses a whole reply; kInternal naming `what` when it is not JSON.
inline Result<json> ParseJson(std::string_view body, std::string_view what) {
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return Internal("malformed " + std::string(what) + " reply from the engine");
  }
  return j;
}

// The "Id" string of a create or commit reply; kInternal naming `what` when there is none.
inline Result<std::string> IdFromReply(std::string_view body, std::string_view what) {
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object() || !j.contains("Id") || !j["Id"].is_string()) {
    return Internal("malformed " + std::string(what) + " reply");
  }
  return j["Id"].get<std::string>();
}

}  // namespace onedock::docker::json_fields

#endif  // ONEDOCK_DOCKER_JSON_FIELDS_H_
