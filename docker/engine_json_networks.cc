// Network and volume shapes of the Engine API: create and connect bodies, inspect and list replies.
#include <charconv>

#include "docker/engine_json.h"
#include "docker/json_fields.h"

namespace onedock::docker {

using json_fields::json;
using json_fields::MapToJson;
using json_fields::Obj;
using json_fields::ParseJson;
using json_fields::Str;
using json_fields::StringMap;

Status NetworkConnectStatus(long http_status, std::string_view body) {
  Status s = StatusFromHttp(http_status, body);
  if (s.code() == Status::Code::kFailedPrecondition &&
      EngineMessage(body).find("already exists in network") != std::string::npos) {
    return Conflict(s.message());
  }
  return s;
}

Status NetworkDisconnectStatus(long http_status, std::string_view body) {
  Status s = StatusFromHttp(http_status, body);
  if (!s.ok() && EngineMessage(body).find("is not connected to") != std::string::npos) {
    return NotFound(s.message());
  }
  return s;
}

std::string NetworkCreateBody(const NetworkSpec& spec) {
  json j;
  j["Name"] = spec.name;
  j["Driver"] = spec.driver;
  j["CheckDuplicate"] = true;
  j["Attachable"] = true;
  j["Internal"] = spec.internal;
  j["EnableIPv6"] = false;
  if (!spec.subnet.empty()) {
    json config = {{"Subnet", spec.subnet}};
    if (!spec.gateway.empty()) config["Gateway"] = spec.gateway;
    if (!spec.ip_range.empty()) config["IPRange"] = spec.ip_range;
    j["IPAM"] = {{"Driver", "default"}, {"Config", json::array({config})}};
  }
  j["Options"] = MapToJson(spec.options);
  j["Labels"] = MapToJson(spec.labels);
  return json_fields::Wire(j);
}

std::string NetworkConnectBody(const std::string& container, const NetworkAttachment& nic) {
  json endpoint = json::object();
  if (!nic.ipv4.empty()) endpoint["IPAMConfig"] = {{"IPv4Address", nic.ipv4}};
  if (!nic.mac.empty()) endpoint["MacAddress"] = nic.mac;  // applied by engines from API 1.54
  if (!nic.aliases.empty()) endpoint["Aliases"] = nic.aliases;
  return json_fields::Wire(json{{"Container", container}, {"EndpointConfig", endpoint}});
}

namespace {

VolumeInfo VolumeOf(const json& j) {
  return {Str(j, "Name"), StringMap(j, "Labels"), Str(j, "Mountpoint")};
}

}  // namespace

Result<VolumeInfo> ParseVolume(std::string_view body) {
  auto parsed = ParseJson(body, "volume");
  if (!parsed.ok()) return parsed.status();
  if (!parsed->is_object() || Str(*parsed, "Name").empty())
    return Internal("volume reply without a Name");
  return VolumeOf(*parsed);
}

Result<std::vector<VolumeInfo>> ParseVolumeList(std::string_view body) {
  auto parsed = ParseJson(body, "volume list");
  if (!parsed.ok()) return parsed.status();
  std::vector<VolumeInfo> out;
  if (!parsed->is_object()) return Internal("malformed volume list reply from the engine");
  auto list = parsed->find("Volumes");
  if (list == parsed->end() || list->is_null()) return out;  // the engine sends null for none
  if (!list->is_array()) return Internal("malformed volume list reply from the engine");
  for (const auto& v : *list) {
    if (v.is_object()) out.push_back(VolumeOf(v));
  }
  return out;
}

namespace {

Result<NetworkInfo> NetworkFromJson(const json& j) {
  NetworkInfo n;
  n.id = Str(j, "Id");
  n.name = Str(j, "Name");
  n.driver = Str(j, "Driver");
  n.options = StringMap(j, "Options");
  n.labels = StringMap(j, "Labels");
  auto config = Obj(j, "IPAM").find("Config");
  if (config != Obj(j, "IPAM").end() && config->is_array() && !config->empty()) {
    n.subnet = Str((*config)[0], "Subnet");
    n.gateway = Str((*config)[0], "Gateway");
  }
  for (const auto& [id, e] : Obj(j, "Containers").items()) {
    EndpointState s;
    s.mac = Str(e, "MacAddress");
    std::string cidr = Str(e, "IPv4Address");  // "10.42.0.42/24"
    if (auto slash = cidr.find('/'); slash != std::string::npos) {
      std::from_chars(cidr.data() + slash + 1, cidr.data() + cidr.size(), s.prefix_length);
      cidr.resize(slash);
    }
    s.ipv4 = cidr;
    s.network_id = n.id;
    n.containers[id] = s;
  }
  if (n.id.empty()) return Internal("network without an Id");
  return n;
}

}  // namespace

Result<NetworkInfo> ParseNetworkInspect(std::string_view body) {
  auto parsed = ParseJson(body, "network inspect");
  if (!parsed.ok()) return parsed.status();
  return NetworkFromJson(*parsed);
}

Result<std::vector<NetworkInfo>> ParseNetworkList(std::string_view body) {
  auto parsed = ParseJson(body, "network list");
  if (!parsed.ok()) return parsed.status();
  if (!parsed->is_array()) return Internal("network list reply is not an array");
  std::vector<NetworkInfo> out;
  for (const auto& item : *parsed) {
    auto n = NetworkFromJson(item);
    if (!n.ok()) return n.status();
    out.push_back(std::move(*n));
  }
  return out;
}

}  // namespace onedock::docker
