// The emulator's virtual networks (address ranges and leases), templates and VMs: allocation as
// oned validates and fills it (disks from images, NIC leases with the vnet's attributes, CONTEXT
// network variables, TEMPLATE vs USER_TEMPLATE), and their XML.
#include <arpa/inet.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <set>

#include "tests/emulator/one_state.h"
#include "tests/emulator/xml_render.h"

namespace onedock::emulator {
using render::Cdata;
using render::Owned;
using render::Tag;

namespace {

bool PositiveInt(const std::string& s, int64_t* out) {
  if (s.empty()) return false;
  char* end = nullptr;
  const long long v = std::strtoll(s.c_str(), &end, 10);
  if (*end != '\0' || v <= 0) return false;
  *out = v;
  return true;
}

bool PositiveFloat(const std::string& s) {
  if (s.empty()) return false;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  return *end == '\0' && v > 0;
}

// oned's default MAC for a leased IPv4: the 02:00 prefix followed by the address bytes.
std::string MacFor(uint32_t ip) {
  char mac[18];
  std::snprintf(mac, sizeof mac, "02:00:%02x:%02x:%02x:%02x", (ip >> 24) & 0xff, (ip >> 16) & 0xff,
                (ip >> 8) & 0xff, ip & 0xff);
  return mac;
}

std::string IpString(uint32_t ip) {
  in_addr a{htonl(ip)};
  char buf[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &a, buf, sizeof buf);
  return buf;
}

// Attributes oned keeps in TEMPLATE; all others go to USER_TEMPLATE (reference §7).
const std::set<std::string> kTemplateAttributes = {
    "CPU",         "VCPU",       "MEMORY",   "DISK",     "NIC",
    "NIC_ALIAS",   "CONTEXT",    "OS",       "GRAPHICS", "FEATURES",
    "INPUT",       "RAW",        "VIDEO",    "PCI",      "NUMA_NODE",
    "TOPOLOGY",    "MEMORY_MAX", "VCPU_MAX", "SNAPSHOT", "SECURITY_GROUP_RULE",
    "TEMPLATE_ID", "VMID"};

}  // namespace

// ---- virtual networks ---------------------------------------------------------------------------

Answer OneState::VnetAllocate(const std::string& text, int cluster_id) {
  auto parsed = ParseTemplateOrXml(text);
  if (!parsed.ok()) return Answer::BadTemplate(parsed.status());
  std::lock_guard lock(mu_);
  if (cluster_id > 0) return Answer::Missing("cluster", cluster_id);
  Template t = std::move(*parsed);
  const std::string prefix = "Error allocating a new virtual network. ";
  Vnet v;
  v.id = next_vnet_;
  v.name = t.Get("NAME");
  if (v.name.empty()) return Answer::Error(kInternalError, prefix + "No NAME in template.");
  v.vn_mad = t.Get("VN_MAD");
  if (v.vn_mad.empty()) return Answer::Error(kInternalError, prefix + "VN_MAD is required");
  v.bridge = t.Get("BRIDGE", "onebr" + std::to_string(v.id));
  v.phydev = t.Get("PHYDEV");
  int ar_id = 0;
  for (const TemplateAttribute* a : t.All("AR")) {
    Range r{ar_id++,
            a->Get("TYPE", "IP4"),
            a->Get("IP"),
            a->Get("MAC"),
            std::atoi(a->Get("SIZE").c_str()),
            {}};
    in_addr addr{};
    if (r.size <= 0 || inet_pton(AF_INET, r.ip.c_str(), &addr) != 1) {
      return Answer::Error(
          kInternalError, prefix + "Wrong AR definition: IP4 needs a valid IP and a positive SIZE");
    }
    if (r.mac.empty()) r.mac = MacFor(ntohl(addr.s_addr));
    v.ranges.push_back(r);
  }
  for (const char* k : {"NAME", "VN_MAD", "BRIDGE", "PHYDEV", "AR"}) t.Erase(k);
  v.templ = t;
  vnets_[v.id] = v;
  return Answer::Id(next_vnet_++);
}

std::string OneState::VnetXml(const Vnet& v) const {
  std::string ars;
  size_t used = 0;
  for (const Range& r : v.ranges) {
    std::string leases;
    for (const Lease& l : r.leases) {
      leases += "<LEASE>" + Cdata("IP", l.ip) + Cdata("MAC", l.mac) +
                Cdata("VM", std::to_string(l.vm_id)) + "</LEASE>";
    }
    used += r.leases.size();
    ars += "<AR>" + Cdata("AR_ID", std::to_string(r.ar_id)) + Cdata("IP", r.ip) +
           Cdata("MAC", r.mac) + Cdata("SIZE", std::to_string(r.size)) + Cdata("TYPE", r.type) +
           Tag("USED_LEASES", static_cast<int64_t>(r.leases.size())) + "<LEASES>" + leases +
           "</LEASES></AR>";
  }
  return "<VNET>" + Tag("ID", v.id) + Owned(v.name) + Cdata("BRIDGE", v.bridge) +
         Cdata("BRIDGE_TYPE", "linux") + Tag("STATE", 1) + "<PARENT_NETWORK_ID/>" +
         Cdata("VN_MAD", v.vn_mad) + Cdata("PHYDEV", v.phydev) + "<VLAN_ID/>" +
         Tag("USED_LEASES", static_cast<int64_t>(used)) + "<VROUTERS/>" +
         v.templ.ToXml("TEMPLATE") + "<AR_POOL>" + ars + "</AR_POOL></VNET>";
}

Answer OneState::VnetInfo(int id) const {
  std::lock_guard lock(mu_);
  auto it = vnets_.find(id);
  if (it == vnets_.end()) return Answer::Missing("virtual network", id);
  return Answer::Text(VnetXml(it->second));
}

// Takes the first free address of the NIC's network and fills the NIC as oned does.
Answer OneState::LeaseNic(int vm_id, int nic_id, TemplateAttribute* nic) {
  Vnet* vnet = nullptr;
  const std::string by_id = nic->Get("NETWORK_ID"), by_name = nic->Get("NETWORK");
  for (auto& [id, v] : vnets_) {
    if ((!by_id.empty() && std::to_string(id) == by_id) || (by_id.empty() && v.name == by_name))
      vnet = &v;
  }
  if (vnet == nullptr) {
    return Answer::Missing("virtual network", by_id.empty() ? by_name : by_id);
  }
  for (Range& r : vnet->ranges) {
    in_addr base{};
    inet_pton(AF_INET, r.ip.c_str(), &base);
    for (int k = 0; k < r.size; ++k) {
      const uint32_t ip = ntohl(base.s_addr) + static_cast<uint32_t>(k);
      const std::string ip_text = IpString(ip);
      bool taken = false;
      for (const Lease& l : r.leases) taken = taken || l.ip == ip_text;
      if (taken) continue;
      const std::string mac = MacFor(ip);
      r.leases.push_back({ip_text, mac, vm_id});
      nic->Set("NETWORK", vnet->name);
      nic->Set("NETWORK_ID", std::to_string(vnet->id));
      nic->Set("AR_ID", std::to_string(r.ar_id));
      nic->Set("IP", ip_text);
      nic->Set("MAC", mac);
      nic->Set("BRIDGE", vnet->bridge);
      nic->Set("BRIDGE_TYPE", "linux");
      nic->Set("VN_MAD", vnet->vn_mad);
      if (!vnet->phydev.empty()) nic->Set("PHYDEV", vnet->phydev);
      for (const char* inherited : {"GATEWAY", "DNS", "MTU", "NETWORK_MASK", "NETWORK_ADDRESS"}) {
        if (const std::string v = vnet->templ.Get(inherited); !v.empty()) nic->Set(inherited, v);
      }
      nic->Set("NIC_ID", std::to_string(nic_id));
      nic->Set("TARGET", "one-" + std::to_string(vm_id) + "-" + std::to_string(nic_id));
      return Answer::Id(vm_id);
    }
  }
  return Answer::Error(kInternalError, "Cannot get IP/MAC lease from virtual network " +
                                           std::to_string(vnet->id) + ".");
}

// ---- templates and VMs --------------------------------------------------------------------------

Answer OneState::TemplateAllocate(const std::string& text) {
  auto parsed = ParseTemplateOrXml(text);
  if (!parsed.ok()) return Answer::BadTemplate(parsed.status());
  std::lock_guard lock(mu_);
  templates_[next_template_] = std::move(*parsed);
  return Answer::Id(next_template_++);
}

Answer OneState::TemplateInstantiate(int id, const std::string& name, bool hold,
                                     const std::string& extra) {
  std::lock_guard lock(mu_);
  auto it = templates_.find(id);
  if (it == templates_.end()) return Answer::Missing("VM template", id);
  Template t = it->second;
  if (!extra.empty()) {
    auto parsed = ParseTemplateOrXml(extra);
    if (!parsed.ok()) return Answer::BadTemplate(parsed.status());
    t.Merge(*parsed);
  }
  t.Set("TEMPLATE_ID", std::to_string(id));
  return VmAllocateLocked(std::move(t), name, hold);
}

Answer OneState::VmAllocate(const std::string& text, bool hold) {
  auto parsed = ParseTemplateOrXml(text);
  if (!parsed.ok()) return Answer::BadTemplate(parsed.status());
  std::lock_guard lock(mu_);
  return VmAllocateLocked(std::move(*parsed), "", hold);
}

Answer OneState::VmAllocateLocked(Template t, const std::string& name, bool hold) {
  const std::string prefix = "Error allocating a new virtual machine template. ";
  int64_t memory = 0;
  if (!PositiveInt(t.Get("MEMORY"), &memory)) {
    return Answer::Error(kInternalError,
                         prefix + "MEMORY attribute must be a positive integer value.");
  }
  if (!PositiveFloat(t.Get("CPU"))) {
    return Answer::Error(kInternalError,
                         prefix + "CPU attribute must be a positive float or integer value.");
  }
  Vm vm;
  vm.id = next_vm_;
  vm.name = !name.empty() ? name : t.Get("NAME", "vm-" + std::to_string(vm.id));
  vm.state = hold ? 2 : 1;
  vm.stime = std::time(nullptr);
  // Split TEMPLATE and USER_TEMPLATE.
  for (auto& a : t.attributes) {
    if (a.name == "NAME") continue;
    (kTemplateAttributes.count(a.name) ? vm.templ : vm.user_templ).attributes.push_back(a);
  }
  // Disks: image attributes copied in, as Image::disk_attribute does.
  int disk_id = 0;
  for (TemplateAttribute* d : vm.templ.All("DISK")) {
    const std::string image_id = d->Get("IMAGE_ID");
    if (!image_id.empty()) {
      auto it = images_.find(std::atoi(image_id.c_str()));
      if (it == images_.end()) return Answer::Missing("image", image_id);
      const Image& i = it->second;
      const Datastore& ds = datastores_.at(i.ds_id);
      d->Set("IMAGE", i.name);
      d->Set("IMAGE_STATE", std::to_string(i.state));
      d->Set("SOURCE", i.source);
      d->Set("FORMAT", i.format);
      d->Set("DRIVER", i.format);
      d->Set("DATASTORE", ds.name);
      d->Set("DATASTORE_ID", std::to_string(ds.id));
      d->Set("TM_MAD", ds.tm_mad);
      d->Set("SIZE", std::to_string(i.size_mb));
      d->Set("PERSISTENT", i.persistent ? "YES" : "NO");
      d->Set("CLONE", i.persistent ? "NO" : "YES");
      if (i.persistent) d->Set("SAVE", "YES");  // the epilog saves it back (MVDS)
      d->Set("TYPE", "FILE");
      // oned.conf's INHERIT_IMAGE_ATTR: image template attributes copied into the DISK.
      for (const TemplateAttribute* inherit : config_.All("INHERIT_IMAGE_ATTR")) {
        const std::string value = i.templ.Get(inherit->value);
        if (!value.empty() && d->Get(inherit->value).empty()) d->Set(inherit->value, value);
      }
    } else if (d->Get("TYPE") == "fs" && d->Get("FORMAT").empty()) {
      d->Set("FORMAT", "raw");  // a volatile fs disk without FORMAT is raw
    }
    d->Set("DISK_ID", std::to_string(disk_id));
    d->Set("TARGET", std::string("sd") + static_cast<char>('a' + disk_id));
    ++disk_id;
  }
  // NICs: leases and the vnet's attributes.
  int nic_id = 0;
  for (TemplateAttribute* n : vm.templ.All("NIC")) {
    Answer leased = LeaseNic(vm.id, nic_id++, n);
    if (!leased.ok()) {
      for (auto& [vid, v] : vnets_) {
        for (Range& r : v.ranges)
          std::erase_if(r.leases, [&vm](const Lease& l) { return l.vm_id == vm.id; });
      }
      return leased;
    }
  }
  // CONTEXT with NETWORK=YES gets the ETHi_ variables (reference §7).
  for (TemplateAttribute* c : vm.templ.All("CONTEXT")) {
    if (c->Get("NETWORK") != "YES") continue;
    int i = 0;
    for (const TemplateAttribute* n : vm.templ.All("NIC")) {
      const std::string eth = "ETH" + std::to_string(i++) + "_";
      c->Set(eth + "IP", n->Get("IP"));
      c->Set(eth + "MAC", n->Get("MAC"));
      if (!n->Get("NETWORK_MASK").empty()) c->Set(eth + "MASK", n->Get("NETWORK_MASK"));
      if (!n->Get("NETWORK_ADDRESS").empty()) c->Set(eth + "NETWORK", n->Get("NETWORK_ADDRESS"));
      if (!n->Get("GATEWAY").empty()) c->Set(eth + "GATEWAY", n->Get("GATEWAY"));
      if (!n->Get("DNS").empty()) c->Set(eth + "DNS", n->Get("DNS"));
    }
    c->Set("DISK_ID", std::to_string(disk_id));
    c->Set("TARGET", std::string("sd") + static_cast<char>('a' + disk_id));
  }
  vm.templ.Set("VMID", std::to_string(vm.id));
  vms_[vm.id] = vm;
  return Answer::Id(next_vm_++);
}

std::string OneState::HistoryXml(const std::vector<HistoryRecord>& history) {
  std::string xml = "<HISTORY_RECORDS>";
  for (const HistoryRecord& h : history) {
    xml += "<HISTORY>" + Tag("SEQ", h.seq) + Tag("HOSTNAME", h.hostname) + Tag("HID", h.hid) +
           Tag("CID", 0) + Tag("STIME", h.stime) + Tag("ETIME", 0) + Cdata("VM_MAD", h.vm_mad) +
           Cdata("TM_MAD", h.tm_mad) + Tag("DS_ID", h.ds_id) + Tag("ACTION", h.action) +
           "</HISTORY>";
  }
  return xml + "</HISTORY_RECORDS>";
}

std::string OneState::VmXml(const Vm& vm, bool extended) const {
  Template shown = vm.templ;
  Template user = vm.user_templ;
  if (!extended) {
    // The short pool body keeps only these USER_TEMPLATE attributes (reference §1.6).
    static const std::set<std::string> kShort = {"LABELS",
                                                 "ERROR",
                                                 "SCHED_MESSAGE",
                                                 "SCHED_RANK",
                                                 "SCHED_DS_RANK",
                                                 "SCHED_REQUIREMENTS",
                                                 "SCHED_DS_REQUIREMENTS",
                                                 "USER_PRIORITY",
                                                 "SCHED_ACTION"};
    std::erase_if(user.attributes,
                  [](const TemplateAttribute& a) { return !kShort.count(a.name); });
    std::erase_if(shown.attributes, [](const TemplateAttribute& a) {
      return a.name != "CPU" && a.name != "MEMORY" && a.name != "VCPU" && a.name != "DISK" &&
             a.name != "NIC" && a.name != "GRAPHICS";
    });
  }
  return "<VM>" + Tag("ID", vm.id) + Owned(vm.name) + Tag("LAST_POLL", 0) + Tag("STATE", vm.state) +
         Tag("LCM_STATE", vm.lcm_state) + Tag("PREV_STATE", vm.state) +
         Tag("PREV_LCM_STATE", vm.lcm_state) + Tag("RESCHED", 0) + Tag("STIME", vm.stime) +
         Tag("ETIME", 0) + Tag("DEPLOY_ID", vm.deploy_id) + vm.monitoring.ToXml("MONITORING") +
         "<SCHED_ACTIONS/>" + shown.ToXml("TEMPLATE") + user.ToXml("USER_TEMPLATE") +
         HistoryXml(vm.history) + "<BACKUPS><BACKUP_CONFIG/><BACKUP_IDS/></BACKUPS></VM>";
}

Answer OneState::VmInfo(int id) const {
  std::lock_guard lock(mu_);
  auto it = vms_.find(id);
  if (it == vms_.end()) return Answer::Missing("virtual machine", id);
  return Answer::Text(VmXml(it->second, true));
}

Answer OneState::VmPool(int state_filter, bool extended) const {
  std::lock_guard lock(mu_);
  if (state_filter < -2 || state_filter > 11) {
    return Answer::Error(kRpcApi, "Incorrect filter_flag, state " + std::to_string(state_filter));
  }
  std::string xml = "<VM_POOL>";
  for (const auto& [id, vm] : vms_) {
    const bool shown =
        state_filter == -2 || (state_filter == -1 && vm.state != 6) || vm.state == state_filter;
    if (shown) xml += VmXml(vm, extended);
  }
  return Answer::Text(xml + "</VM_POOL>");
}

Answer OneState::VmUpdate(int id, const std::string& text, int append) {
  auto parsed = ParseTemplateOrXml(text);
  if (!parsed.ok()) return Answer::BadTemplate(parsed.status());
  std::lock_guard lock(mu_);
  auto it = vms_.find(id);
  if (it == vms_.end()) return Answer::Missing("virtual machine", id);
  if (append == 1) {
    it->second.user_templ.Merge(*parsed);
  } else {
    it->second.user_templ = std::move(*parsed);
  }
  return Answer::Id(id);
}

}  // namespace onedock::emulator
