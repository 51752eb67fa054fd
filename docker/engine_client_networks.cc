// EngineClient's network and volume calls.
#include <nlohmann/json.hpp>

#include "docker/engine_client.h"
#include "docker/json_fields.h"

namespace onedock::docker {

Result<std::string> EngineClient::CreateNetwork(const NetworkSpec& spec) {
  const std::string what = "create network " + spec.name;
  auto r =
      Expect({.method = "POST", .path = "/networks/create", .body = NetworkCreateBody(spec)}, what);
  if (!r.ok()) return r.status();
  auto id = json_fields::IdFromReply(r->body, "network create");
  if (!id.ok()) return id.status().WithContext(Context(what));
  return id;
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

Status EngineClient::RemoveNetwork(const std::string& network) {
  return Expect({.method = "DELETE", .path = "/networks/" + UrlEscape(network)},
                "remove network " + network)
      .status();
}

Status EngineClient::ConnectNetwork(const std::string& network, const std::string& container,
                                    const NetworkAttachment& nic) {
  return Expect({.method = "POST",
                 .path = "/networks/" + UrlEscape(network) + "/connect",
                 .body = NetworkConnectBody(container, nic)},
                "connect " + container + " to " + network, NetworkConnectStatus)
      .status();
}

Status EngineClient::DisconnectNetwork(const std::string& network, const std::string& container,
                                       bool force) {
  nlohmann::json body = {{"Container", container}, {"Force", force}};
  return Expect({.method = "POST",
                 .path = "/networks/" + UrlEscape(network) + "/disconnect",
                 .body = json_fields::Wire(body)},
                "disconnect " + container + " from " + network, NetworkDisconnectStatus)
      .status();
}

Result<VolumeInfo> EngineClient::CreateVolume(const std::string& name,
                                              const std::map<std::string, std::string>& labels) {
  const std::string what = "create volume " + name;
  nlohmann::json body = {{"Name", name}, {"Driver", "local"}, {"Labels", labels}};
  auto r =
      Expect({.method = "POST", .path = "/volumes/create", .body = json_fields::Wire(body)}, what);
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
  return Expect({.method = "DELETE", .path = "/volumes/" + UrlEscape(name)},
                "remove volume " + name)
      .status();
}
}  // namespace onedock::docker
