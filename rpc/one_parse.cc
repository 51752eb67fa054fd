#include "rpc/one_parse.h"

#include <charconv>
#include <cstdlib>
#include <limits>

#include "bridge/net_address.h"

namespace onedock::rpc {
namespace {

// Integer text of oned's documents; `fallback` when absent, empty or not a number.
int64_t Int(const XmlNode& node, std::string_view path, int64_t fallback = 0) {
  const XmlNode* n = node.Find(path);
  if (n == nullptr) return fallback;
  std::string_view t = n->text;
  while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
  while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec != std::errc() || ptr != t.data() + t.size() || t.empty()) return fallback;
  return v;
}

// An id, state or count that fits an int; `fallback` when absent, not a number or out of range,
// so that a huge id never narrows into another object's id.
int Int32(const XmlNode& node, std::string_view path, int fallback = 0) {
  const int64_t v = Int(node, path, fallback);
  return v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max()
             ? fallback
             : static_cast<int>(v);
}

double Float(const XmlNode& node, std::string_view path) {
  const std::string text = node.Get(path);
  if (text.empty()) return 0;
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  return end != nullptr && *end == '\0' ? v : 0;
}

Status ExpectRoot(const XmlNode& node, std::string_view name) {
  if (node.name != name) {
    return InvalidArgument("expected <" + std::string(name) + ">, got <" + node.name + ">");
  }
  const int64_t id = Int(node, "ID", -1);
  if (id < 0 || id > std::numeric_limits<int>::max()) {
    // Built by append: GCC 12 at -O3 reports a false -Wrestrict for "<" + std::string(name).
    std::string message = "<";
    message.append(name).append("> without a valid ID");
    return InvalidArgument(message);
  }
  return Status::Ok();
}

Disk ParseDisk(const XmlNode& d) {
  Disk disk;
  disk.all = FlatAttributes(&d);
  disk.disk_id = Int32(d, "DISK_ID", -1);
  disk.image = d.Get("IMAGE");
  disk.image_id = Int32(d, "IMAGE_ID", -1);
  disk.source = d.Get("SOURCE");
  disk.format = d.Get("FORMAT");
  disk.type = d.Get("TYPE");
  disk.target = d.Get("TARGET");
  disk.datastore_id = Int32(d, "DATASTORE_ID", -1);
  disk.tm_mad = d.Get("TM_MAD");
  disk.size_mb = Int(d, "SIZE");
  disk.persistent = IsYes(d.Get("PERSISTENT"));
  return disk;
}

Nic ParseNic(const XmlNode& n) {
  Nic nic;
  nic.all = FlatAttributes(&n);
  nic.nic_id = Int32(n, "NIC_ID", -1);
  nic.network = n.Get("NETWORK");
  nic.network_id = Int32(n, "NETWORK_ID", -1);
  nic.ip = n.Get("IP");
  nic.mac = n.Get("MAC");
  nic.bridge = n.Get("BRIDGE");
  nic.bridge_type = n.Get("BRIDGE_TYPE");
  nic.vn_mad = n.Get("VN_MAD");
  nic.phydev = n.Get("PHYDEV");
  nic.vlan_id = n.Get("VLAN_ID");
  nic.gateway = n.Get("GATEWAY");
  nic.network_mask = n.Get("NETWORK_MASK");
  nic.network_address = n.Get("NETWORK_ADDRESS");
  nic.dns = n.Get("DNS");
  nic.mtu = n.Get("MTU");
  nic.target = n.Get("TARGET");
  return nic;
}

template <typename T>
Result<T> ParseDocument(std::string_view xml, Result<T> (*parse)(const XmlNode&)) {
  auto doc = ParseXml(xml);
  if (!doc.ok()) return doc.status();
  return parse(*doc);
}

}  // namespace

Attributes FlatAttributes(const XmlNode* section) {
  Attributes out;
  if (section == nullptr) return out;
  for (const auto& c : section->children) {
    if (c.children.empty()) out.emplace(c.name, c.text);
  }
  return out;
}

Result<Vm> ParseVm(const XmlNode& node) {
  if (Status s = ExpectRoot(node, "VM"); !s.ok()) return s;
  Vm vm;
  vm.id = Int32(node, "ID");
  vm.name = node.Get("NAME");
  vm.uname = node.Get("UNAME");
  vm.state = Int32(node, "STATE");
  vm.lcm_state = Int32(node, "LCM_STATE");
  vm.deploy_id = node.Get("DEPLOY_ID");
  if (const XmlNode* t = node.Child("TEMPLATE")) {
    vm.template_attributes = FlatAttributes(t);
    vm.cpu = Float(*t, "CPU");
    vm.vcpu = Int32(*t, "VCPU");
    vm.memory_mb = Int(*t, "MEMORY");
    for (const XmlNode* d : t->Children("DISK")) vm.disks.push_back(ParseDisk(*d));
    for (const XmlNode* n : t->Children("NIC")) vm.nics.push_back(ParseNic(*n));
    for (const XmlNode* s : t->Children("SNAPSHOT")) {
      vm.snapshots.push_back(
          {Int32(*s, "SNAPSHOT_ID", -1), s->Get("NAME"), s->Get("HYPERVISOR_ID")});
    }
    vm.context = FlatAttributes(t->Child("CONTEXT"));
  }
  vm.user_template = FlatAttributes(node.Child("USER_TEMPLATE"));
  vm.monitoring = FlatAttributes(node.Child("MONITORING"));
  if (const XmlNode* records = node.Child("HISTORY_RECORDS")) {
    for (const XmlNode* h : records->Children("HISTORY")) {
      History history;
      history.seq = Int32(*h, "SEQ", -1);
      history.hostname = h->Get("HOSTNAME");
      history.hid = Int32(*h, "HID", -1);
      history.ds_id = Int32(*h, "DS_ID", -1);
      history.vm_mad = h->Get("VM_MAD");
      history.tm_mad = h->Get("TM_MAD");
      history.action = Int32(*h, "ACTION");
      history.running_since = Int(*h, "RSTIME");
      vm.history.push_back(std::move(history));
    }
  }
  return vm;
}

Result<Host> ParseHost(const XmlNode& node) {
  if (Status s = ExpectRoot(node, "HOST"); !s.ok()) return s;
  Host host;
  host.id = Int32(node, "ID");
  host.name = node.Get("NAME");
  host.state = Int32(node, "STATE");
  host.im_mad = node.Get("IM_MAD");
  host.vm_mad = node.Get("VM_MAD");
  host.cluster_id = Int32(node, "CLUSTER_ID", -1);
  if (const XmlNode* share = node.Child("HOST_SHARE")) {
    host.total_cpu = Int(*share, "TOTAL_CPU");
    host.total_mem = Int(*share, "TOTAL_MEM");
    host.max_cpu = Int(*share, "MAX_CPU");
    host.max_mem = Int(*share, "MAX_MEM");
    host.cpu_usage = Int(*share, "CPU_USAGE");
    host.mem_usage = Int(*share, "MEM_USAGE");
    host.running_vms = Int32(*share, "RUNNING_VMS");
    host.free_disk_mb = Int(*share, "DATASTORES/FREE_DISK");
  }
  if (const XmlNode* vms = node.Child("VMS")) {
    for (const XmlNode* id : vms->Children("ID")) host.vm_ids.push_back(Int32(*id, "", -1));
  }
  host.template_attributes = FlatAttributes(node.Child("TEMPLATE"));
  return host;
}

Result<Image> ParseActionImage(const XmlNode& node) {
  if (node.name != "IMAGE") return InvalidArgument("expected <IMAGE>, got <" + node.name + ">");
  Image image;
  image.id = Int32(node, "ID", -1);
  image.name = node.Get("NAME");
  image.uname = node.Get("UNAME");
  image.state = Int32(node, "STATE");
  image.type = Int32(node, "TYPE");
  image.persistent = Int(node, "PERSISTENT") != 0;
  image.path = node.Get("PATH");
  image.source = node.Get("SOURCE");
  image.format = node.Get("FORMAT");
  image.size_mb = Int(node, "SIZE");
  image.datastore_id = Int32(node, "DATASTORE_ID", -1);
  image.datastore = node.Get("DATASTORE");
  image.cloning_id = Int32(node, "CLONING_ID", -1);
  image.template_attributes = FlatAttributes(node.Child("TEMPLATE"));
  return image;
}

Result<Image> ParseImage(const XmlNode& node) {
  if (Status s = ExpectRoot(node, "IMAGE"); !s.ok()) return s;
  return ParseActionImage(node);
}

Result<Datastore> ParseDatastore(const XmlNode& node) {
  if (Status s = ExpectRoot(node, "DATASTORE"); !s.ok()) return s;
  Datastore ds;
  ds.id = Int32(node, "ID");
  ds.name = node.Get("NAME");
  ds.type = Int32(node, "TYPE");
  ds.ds_mad = node.Get("DS_MAD");
  ds.tm_mad = node.Get("TM_MAD");
  ds.base_path = node.Get("BASE_PATH");
  ds.total_mb = Int(node, "TOTAL_MB");
  ds.free_mb = Int(node, "FREE_MB");
  ds.used_mb = Int(node, "USED_MB");
  ds.template_attributes = FlatAttributes(node.Child("TEMPLATE"));
  return ds;
}

Result<Vnet> ParseVnet(const XmlNode& node) {
  if (Status s = ExpectRoot(node, "VNET"); !s.ok()) return s;
  Vnet vnet;
  vnet.id = Int32(node, "ID");
  vnet.name = node.Get("NAME");
  vnet.state = Int32(node, "STATE", -1);
  vnet.bridge = node.Get("BRIDGE");
  vnet.bridge_type = node.Get("BRIDGE_TYPE");
  vnet.vn_mad = node.Get("VN_MAD");
  vnet.phydev = node.Get("PHYDEV");
  vnet.vlan_id = node.Get("VLAN_ID");
  vnet.template_attributes = FlatAttributes(node.Child("TEMPLATE"));
  if (const XmlNode* pool = node.Child("AR_POOL")) {
    for (const XmlNode* a : pool->Children("AR")) {
      AddressRange ar;
      ar.ar_id = Int32(*a, "AR_ID", -1);
      ar.type = a->Get("TYPE");
      ar.ip = a->Get("IP");
      ar.mac = a->Get("MAC");
      ar.size = Int32(*a, "SIZE");
      if (const XmlNode* leases = a->Child("LEASES")) {
        for (const XmlNode* l : leases->Children("LEASE")) {
          ar.leases.push_back({l->Get("IP"), l->Get("MAC"), Int32(*l, "VM", -1)});
        }
      }
      vnet.ranges.push_back(std::move(ar));
    }
  }
  return vnet;
}

Result<Vm> ParseVmXml(std::string_view xml) { return ParseDocument<Vm>(xml, ParseVm); }
Result<Host> ParseHostXml(std::string_view xml) { return ParseDocument<Host>(xml, ParseHost); }
Result<Image> ParseImageXml(std::string_view xml) { return ParseDocument<Image>(xml, ParseImage); }
Result<Datastore> ParseDatastoreXml(std::string_view xml) {
  return ParseDocument<Datastore>(xml, ParseDatastore);
}
Result<Vnet> ParseVnetXml(std::string_view xml) { return ParseDocument<Vnet>(xml, ParseVnet); }

namespace {

template <typename T>
Result<std::vector<T>> ParsePool(std::string_view xml, std::string_view pool, std::string_view item,
                                 Result<T> (*parse)(const XmlNode&)) {
  auto doc = ParseXml(xml);
  if (!doc.ok()) return doc.status();
  if (doc->name != pool) {
    return InvalidArgument("expected <" + std::string(pool) + ">, got <" + doc->name + ">");
  }
  std::vector<T> out;
  for (const XmlNode* n : doc->Children(item)) {
    auto parsed = parse(*n);
    if (!parsed.ok()) return parsed.status().WithContext(std::string(pool));
    out.push_back(std::move(*parsed));
  }
  return out;
}

}  // namespace

Result<std::vector<Vm>> ParseVmPoolXml(std::string_view xml) {
  return ParsePool<Vm>(xml, "VM_POOL", "VM", ParseVm);
}

Result<std::vector<Host>> ParseHostPoolXml(std::string_view xml) {
  return ParsePool<Host>(xml, "HOST_POOL", "HOST", ParseHost);
}

namespace {

// A positive whole number of seconds, or `fallback`.
int Seconds(const XmlNode& doc, const char* path, int fallback) {
  const int64_t v = Int(doc, path, fallback);
  return v > 0 && v < 10000000 ? static_cast<int>(v) : fallback;
}

}  // namespace

Result<MonitorConfiguration> ParseMonitorConfiguration(const std::string& xml,
                                                       const MonitordAddress& fallback) {
  MonitorConfiguration c;
  c.monitord = fallback;
  if (xml.empty()) return c;
  auto doc = ParseXml(xml);
  if (!doc.ok()) return doc.status().WithContext("monitor configuration");
  if (doc->name != "MONITOR_CONFIGURATION") {
    return InvalidArgument("monitor configuration: the document is <" + doc->name +
                           ">, not <MONITOR_CONFIGURATION>");
  }
  const std::string address = doc->Get("NETWORK/MONITOR_ADDRESS");
  if (IsIpLiteral(address)) c.monitord.ip = address;
  c.monitord.port = Seconds(*doc, "NETWORK/PORT", fallback.port);
  if (c.monitord.port > 65535) c.monitord.port = fallback.port;
  Periods& p = c.periods;
  p.beacon_host = Seconds(*doc, "PROBES_PERIOD/BEACON_HOST", p.beacon_host);
  p.system_host = Seconds(*doc, "PROBES_PERIOD/SYSTEM_HOST", p.system_host);
  p.monitor_host = Seconds(*doc, "PROBES_PERIOD/MONITOR_HOST", p.monitor_host);
  p.monitor_vm = Seconds(*doc, "PROBES_PERIOD/MONITOR_VM", p.monitor_vm);
  p.state_vm = Seconds(*doc, "PROBES_PERIOD/STATE_VM", p.state_vm);
  p.sync_state_vm = Seconds(*doc, "PROBES_PERIOD/SYNC_STATE_VM", p.sync_state_vm);
  return c;
}

}  // namespace onedock::rpc
