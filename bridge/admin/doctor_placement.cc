// CheckPlacement (doctor_oned_checks.h): which system datastores and vnets the scheduler may pair
// with each onedock host, decided over the pools oned returns.
#include <charconv>
#include <map>
#include <set>

#include "bridge/admin/doctor_oned_checks.h"
#include "rpc/xml_node.h"

namespace onedock::admin {
namespace {

struct Named {
  std::string name;
  std::string driver;  // TM_MAD of a datastore, VN_MAD of a vnet, VM_MAD of a host
  int type = -1;       // a datastore's TYPE (1 system)
  int cluster = -1;    // a host's CLUSTER_ID
};

struct Cluster {
  std::string name;
  std::vector<int> datastores;
  std::vector<int> vnets;
};

int Number(const std::string& text) {
  int value = -1;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() && end == text.data() + text.size() ? value : -1;
}

std::vector<int> Ids(const rpc::XmlNode* list) {
  std::vector<int> ids;
  if (list == nullptr) return ids;
  for (const rpc::XmlNode* id : list->Children("ID")) ids.push_back(Number(id->text));
  return ids;
}

// The elements `item` of `pool`, by ID; false when the document is not that pool.
bool ReadPool(const std::string& xml, std::string_view pool, std::string_view item,
              const std::string& driver_field, std::map<int, Named>* out) {
  auto root = rpc::ParseXml(xml);
  if (!root.ok() || root->name != pool) return false;
  for (const rpc::XmlNode* n : root->Children(item)) {
    Named entry{n->Get("NAME"), n->Get(driver_field), Number(n->Get("TYPE", "-1")),
                Number(n->Get("CLUSTER_ID", "-1"))};
    (*out)[Number(n->Get("ID"))] = entry;
  }
  return true;
}

std::string Label(const std::string& name, int id) {
  return name + " (" + std::to_string(id) + ")";
}

}  // namespace

std::vector<Finding> CheckPlacement(const OnedPools& pools) {
  std::map<int, Named> hosts, datastores, vnets;
  std::map<int, Cluster> clusters;
  auto cluster_root = rpc::ParseXml(pools.clusters);
  if (!ReadPool(pools.hosts, "HOST_POOL", "HOST", "VM_MAD", &hosts) ||
      !ReadPool(pools.datastores, "DATASTORE_POOL", "DATASTORE", "TM_MAD", &datastores) ||
      !ReadPool(pools.vnets, "VNET_POOL", "VNET", "VN_MAD", &vnets) || !cluster_root.ok() ||
      cluster_root->name != "CLUSTER_POOL") {
    return {Fail("oned pools", "oned's host, cluster, datastore or vnet pool did not parse",
                 "run the doctor as oneadmin against this oned")};
  }
  for (const rpc::XmlNode* c : cluster_root->Children("CLUSTER")) {
    clusters[Number(c->Get("ID"))] =
        Cluster{c->Get("NAME"), Ids(c->Child("DATASTORES")), Ids(c->Child("VNETS"))};
  }

  std::vector<Finding> findings;
  std::set<int> onedock_clusters;
  for (const auto& [id, host] : hosts) {
    if (host.driver != "onedock") continue;
    onedock_clusters.insert(host.cluster);
    const std::string check = "host " + host.name + " placement";
    auto cluster = clusters.find(host.cluster);
    const std::string cluster_name = cluster == clusters.end()
                                         ? "cluster " + std::to_string(host.cluster)
                                         : "cluster " + Label(cluster->second.name, host.cluster);
    std::vector<std::string> onedock, other;
    if (cluster != clusters.end()) {
      for (int ds : cluster->second.datastores) {
        auto d = datastores.find(ds);
        if (d == datastores.end() || d->second.type != 1) continue;
        (d->second.driver == "onedock" ? onedock : other).push_back(Label(d->second.name, ds));
      }
    }
    auto join = [](const std::vector<std::string>& v) {
      std::string out;
      for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
      return out;
    };
    if (!other.empty()) {
      findings.push_back(
          Fail(check,
               cluster_name + " has system datastores whose TM_MAD is not onedock: " + join(other),
               "the scheduler may deploy there and copy disks over ssh: move the host "
               "to a cluster whose system datastores all have TM_MAD onedock "
               "(onecluster addhost), or remove those datastores from " +
                   cluster_name + " (onecluster deldatastore)"));
    } else if (onedock.empty()) {
      findings.push_back(Fail(check, cluster_name + " has no system datastore",
                              "create one with TM_MAD = onedock and TYPE = SYSTEM_DS in " +
                                  cluster_name + " (onedatastore create … -c)"));
    } else {
      findings.push_back(Ok(check, cluster_name + ", system datastores " + join(onedock)));
    }
  }
  if (onedock_clusters.empty()) {
    return {Warn("onedock hosts", "no host has VM_MAD onedock",
                 "onehost create NAME -i onedock -v onedock -c CLUSTER")};
  }
  for (int c : onedock_clusters) {
    auto cluster = clusters.find(c);
    if (cluster == clusters.end()) continue;
    const std::string check = "cluster " + cluster->second.name + " vnets";
    std::vector<std::string> wrong;
    int good = 0;
    for (int v : cluster->second.vnets) {
      auto vnet = vnets.find(v);
      if (vnet == vnets.end()) continue;
      if (vnet->second.driver == "onedock") {
        ++good;
      } else {
        wrong.push_back(Label(vnet->second.name, v) + " VN_MAD " + vnet->second.driver);
      }
    }
    if (!wrong.empty()) {
      std::string list;
      for (const auto& w : wrong) list += (list.empty() ? "" : ", ") + w;
      findings.push_back(Fail(check, list,
                              "a onedock host's vnets need VN_MAD onedock (another network driver "
                              "runs its steps on the front-end): remove them from the cluster "
                              "(onecluster delvnet) or recreate them with VN_MAD = onedock"));
    } else {
      findings.push_back(Ok(check, std::to_string(good) + " vnet(s), all VN_MAD onedock"));
    }
  }
  return findings;
}

}  // namespace onedock::admin
