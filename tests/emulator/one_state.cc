// The emulator's pools of hosts, datastores and images: validation, oned's error texts and XML.
#include "tests/emulator/one_state.h"

#include <cstdlib>

#include "rpc/xml_node.h"
#include "tests/emulator/xml_render.h"

namespace onedock::emulator {

using render::Cdata;
using render::Owned;
using render::Tag;

Result<Template> ParseTemplateOrXml(std::string_view text) {
  size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos || text[first] != '<') return ParseTemplate(text);
  auto doc = rpc::ParseXml(text);
  if (!doc.ok()) return doc.status();
  Template t;
  for (const auto& c : doc->children) {
    TemplateAttribute a{c.name, c.text, {}, !c.children.empty()};
    for (const auto& v : c.children) a.vector.emplace_back(v.name, v.text);
    t.attributes.push_back(std::move(a));
  }
  return t;
}

OneState::OneState(Template config) : config_(std::move(config)) {
  // The datastores a fresh oned creates.
  datastores_[0] = {0, "system", "", "ssh", 1, {}};
  datastores_[1] = {1, "default", "fs", "ssh", 0, {}};
  datastores_[2] = {2, "files", "fs", "ssh", 2, {}};
}

bool OneState::Authenticate(const std::string& session) const {
  return session == "oneadmin:" + config_.Get("ONEADMIN_PASSWORD", "opennebula");
}

Answer OneState::SystemVersion() const { return Answer::Text(config_.Get("VERSION", "7.4.0")); }

Answer OneState::SystemConfig() const {
  std::lock_guard lock(mu_);
  return Answer::Text(config_.ToXml("OPENNEBULA_CONFIGURATION"));
}

// ---- hosts --------------------------------------------------------------------------------------

Answer OneState::HostAllocate(const std::string& name, const std::string& im_mad,
                              const std::string& vm_mad, int cluster_id) {
  std::lock_guard lock(mu_);
  if (name.empty())
    return Answer::Error(kAllocate, "Error allocating a new host. Name cannot be empty.");
  if (cluster_id > 0) return Answer::Missing("cluster", cluster_id);
  for (const auto& [id, h] : hosts_) {
    if (h.name == name) {
      return Answer::Error(
          kAllocate,
          "Error allocating a new host. NAME is already taken by HOST " + std::to_string(id) + ".");
    }
  }
  const int id = next_host_++;
  hosts_[id] = Host{id, name, im_mad, vm_mad};
  Background([this, id] { StartMonitorFlow(id); });  // monitord's START_MONITOR for a new host
  return Answer::Id(id);
}

std::string OneState::HostXml(const Host& h) const {
  std::string vms;
  int running = 0;
  for (const auto& [id, vm] : vms_) {
    if (vm.hid == h.id && vm.state != 6) {
      vms += Tag("ID", id);
      ++running;
    }
  }
  return "<HOST>" + Tag("ID", h.id) + Tag("NAME", h.name) + Tag("STATE", h.state) +
         Tag("PREV_STATE", h.state) + Cdata("IM_MAD", h.im_mad) + Cdata("VM_MAD", h.vm_mad) +
         Tag("CLUSTER_ID", 0) + Tag("CLUSTER", "default") + "<HOST_SHARE>" + Tag("MEM_USAGE", 0) +
         Tag("CPU_USAGE", 0) + Tag("TOTAL_MEM", h.total_mem) + Tag("TOTAL_CPU", h.total_cpu) +
         Tag("MAX_MEM", h.total_mem) + Tag("MAX_CPU", h.total_cpu) + Tag("RUNNING_VMS", running) +
         Tag("VMS_THREAD", 1) + "<DATASTORES>" + Cdata("DISK_USAGE", "0") +
         Cdata("FREE_DISK", std::to_string(h.free_disk_mb)) +
         "</DATASTORES><PCI_DEVICES/><NUMA_NODES/>" + "</HOST_SHARE><VMS>" + vms + "</VMS>" +
         h.templ.ToXml("TEMPLATE") + "<MONITORING><CAPACITY>" +
         Cdata("FREE_CPU", h.monitoring.Get("FREECPU")) +
         Cdata("FREE_MEMORY", h.monitoring.Get("FREEMEMORY")) +
         Cdata("USED_CPU", h.monitoring.Get("USEDCPU")) +
         Cdata("USED_MEMORY", h.monitoring.Get("USEDMEMORY")) + "</CAPACITY><SYSTEM>" +
         Cdata("NETRX", h.monitoring.Get("NETRX")) + Cdata("NETTX", h.monitoring.Get("NETTX")) +
         "</SYSTEM></MONITORING></HOST>";
}

Answer OneState::HostInfo(int id) const {
  std::lock_guard lock(mu_);
  auto it = hosts_.find(id);
  if (it == hosts_.end()) return Answer::Missing("host", id);
  return Answer::Text(HostXml(it->second));
}

Answer OneState::HostPool() const {
  std::lock_guard lock(mu_);
  std::string xml = "<HOST_POOL>";
  for (const auto& [id, h] : hosts_) xml += HostXml(h);
  return Answer::Text(xml + "</HOST_POOL>");
}

Answer OneState::HostDelete(int id) {
  std::lock_guard lock(mu_);
  auto it = hosts_.find(id);
  if (it == hosts_.end()) return Answer::Missing("host", id);
  for (const auto& [vid, vm] : vms_) {
    if (vm.hid == id && vm.state != 6) {
      return Answer::Error(kAction, "Cannot delete host. Host has VMs");
    }
  }
  Background([this, id, name = it->second.name, im = it->second.im_mad] {
    StopMonitorFlow(id, name, im);
  });
  hosts_.erase(it);
  return Answer::Id(id);
}

// ---- datastores ---------------------------------------------------------------------------------

Answer OneState::DatastoreAllocate(const std::string& text, int cluster_id) {
  auto parsed = ParseTemplateOrXml(text);
  if (!parsed.ok()) return Answer::BadTemplate(parsed.status());
  std::lock_guard lock(mu_);
  if (cluster_id > 0) return Answer::Missing("cluster", cluster_id);
  Template t = std::move(*parsed);
  const std::string prefix = "Error allocating a new datastore. ";
  Datastore d{next_ds_, t.Get("NAME"), t.Get("DS_MAD"), t.Get("TM_MAD"), 0, {}};
  if (d.name.empty()) return Answer::Error(kAllocate, prefix + "No NAME in template.");
  const std::string type = t.Get("TYPE", "IMAGE_DS");
  if (type == "SYSTEM_DS")
    d.type = 1;
  else if (type == "FILE_DS")
    d.type = 2;
  else if (type == "BACKUP_DS")
    d.type = 3;
  else if (type != "IMAGE_DS")
    return Answer::Error(kAllocate, prefix + "Unknown datastore type " + type);
  auto configured = [this](const std::string& section, const std::string& name) {
    for (const auto* a : config_.All(section)) {
      if (a->Get("NAME") == name) return true;
    }
    return false;
  };
  if (d.type == 1) {
    if (!d.ds_mad.empty())
      return Answer::Error(kAllocate, prefix + "SYSTEM datastores cannot have DS_MAD defined.");
  } else if (!configured("DS_MAD_CONF", d.ds_mad)) {
    return Answer::Error(kAllocate,
                         prefix + "DS_MAD named \"" + d.ds_mad + "\" is not defined in oned.conf");
  }
  if (!configured("TM_MAD_CONF", d.tm_mad)) {
    return Answer::Error(kAllocate,
                         prefix + "TM_MAD named \"" + d.tm_mad + "\" is not defined in oned.conf");
  }
  for (const auto& [id, other] : datastores_) {
    if (other.name == d.name) {
      return Answer::Error(
          kAllocate, prefix + "NAME is already taken by DATASTORE " + std::to_string(id) + ".");
    }
  }
  d.templ = t;
  datastores_[d.id] = d;
  return Answer::Id(next_ds_++);
}

std::string OneState::DatastoreXml(const Datastore& d) const {
  std::string images;
  for (const auto& [id, i] : images_) {
    if (i.ds_id == d.id) images += Tag("ID", id);
  }
  const std::string location = config_.Get("DATASTORE_LOCATION", "/var/lib/one/datastores");
  return "<DATASTORE>" + Tag("ID", d.id) + Owned(d.name) + Cdata("DS_MAD", d.ds_mad) +
         Cdata("TM_MAD", d.tm_mad) + Cdata("BASE_PATH", location + "/" + std::to_string(d.id)) +
         Tag("TYPE", d.type) + Tag("DISK_TYPE", 0) + Tag("STATE", 0) +
         "<CLUSTERS><ID>0</ID></CLUSTERS>" + Tag("TOTAL_MB", 0) + Tag("FREE_MB", 0) +
         Tag("USED_MB", 0) + "<IMAGES>" + images + "</IMAGES>" + d.templ.ToXml("TEMPLATE") +
         "</DATASTORE>";
}

Answer OneState::DatastoreInfo(int id) const {
  std::lock_guard lock(mu_);
  auto it = datastores_.find(id);
  if (it == datastores_.end()) return Answer::Missing("datastore", id);
  return Answer::Text(DatastoreXml(it->second));
}

Answer OneState::DatastorePool() const {
  std::lock_guard lock(mu_);
  std::string xml = "<DATASTORE_POOL>";
  for (const auto& [id, d] : datastores_) xml += DatastoreXml(d);
  return Answer::Text(xml + "</DATASTORE_POOL>");
}

// ---- images -------------------------------------------------------------------------------------

Answer OneState::ImageAllocate(const std::string& text, int ds_id) {
  auto parsed = ParseTemplateOrXml(text);
  if (!parsed.ok()) return Answer::BadTemplate(parsed.status());
  std::unique_lock lock(mu_);
  auto ds = datastores_.find(ds_id);
  if (ds == datastores_.end()) return Answer::Missing("datastore", ds_id);
  const std::string prefix = "Error allocating a new image. ";
  if (ds->second.type == 1)
    return Answer::Error(kAllocate,
                         prefix + "New images cannot be allocated in a system datastore.");
  Template t = std::move(*parsed);
  Image i;
  i.name = t.Get("NAME");
  if (i.name.empty()) return Answer::Error(kAllocate, prefix + "No NAME in template.");
  i.path = t.Get("PATH");
  i.source = t.Get("SOURCE");
  // TYPE by name or number (reference §2.4); OS when absent.
  static const std::vector<std::string> kTypes = {"OS",      "CDROM",   "DATABLOCK", "KERNEL",
                                                  "RAMDISK", "CONTEXT", "BACKUP",    "FILESYSTEM"};
  const std::string type = t.Get("TYPE", "OS");
  const auto named = std::find(kTypes.begin(), kTypes.end(), type);
  if (named != kTypes.end()) {
    i.type = static_cast<int>(named - kTypes.begin());
  } else if (type.size() == 1 && type[0] >= '0' && type[0] <= '7') {
    i.type = type[0] - '0';
  } else {
    return Answer::Error(kAllocate, prefix + "Incorrect TYPE in template.");
  }
  if (!i.path.empty() && !i.source.empty()) {
    return Answer::Error(kAllocate,
                         prefix + "Template malformed, PATH and SOURCE are mutually exclusive.");
  }
  // An empty DATABLOCK (no PATH, no SOURCE) is made by the datastore's mkfs, raw unless FSTYPE
  // says.
  const bool empty_datablock = i.path.empty() && i.source.empty() && i.type == 2;
  if (i.path.empty() && i.source.empty() && !empty_datablock) {
    return Answer::Error(kAllocate, prefix + "No PATH in template.");
  }
  if (empty_datablock) {
    const std::string size = t.Get("SIZE");
    if (size.empty() || size.find_first_not_of("0123456789") != std::string::npos) {
      return Answer::Error(kAllocate, prefix + "Wrong number in SIZE.");
    }
    i.size_mb = std::atoll(size.c_str());
  }
  // oned runs the datastore's stat inside the call, before the image exists: argv is the number
  // of its waiting request and <IMAGE> holds PATH and SIZE only (ImageManager::stat_image); what
  // stat refuses is never allocated.
  if (!i.path.empty()) {
    Step stat = DatastoreStep("stat", ++stat_requests_,
                              "<DS_DRIVER_ACTION_DATA><IMAGE>" + Cdata("PATH", i.path) +
                                  Cdata("SIZE", t.Get("SIZE")) + "</IMAGE>" +
                                  DatastoreXml(ds->second) + "</DS_DRIVER_ACTION_DATA>",
                              ds_id);
    lock.unlock();
    const DriverRun size = RunStep(stat);
    lock.lock();
    const std::vector<std::string> words = SplitWords(size.out);
    if (!stat.error.empty() || !size.ok() || words.empty() ||
        words[0].find_first_not_of("0123456789") != std::string::npos) {
      const std::string why = !stat.error.empty() ? stat.error
                              : !size.ok()        ? FailureMessage(size.err)
                                                  : size.out;
      return Answer::Error(kInternalError, "Cannot parse image SIZE: " + why);
    }
    i.size_mb = std::atoll(words[0].c_str());
    if (datastores_.count(ds_id) == 0) return Answer::Missing("datastore", ds_id);
  }
  i.persistent = t.Get("PERSISTENT") == "YES";
  i.ds_id = ds_id;
  // With a SOURCE the image is registered as is; otherwise it stays LOCKED until the datastore
  // driver's cp (or mkfs) answers.
  i.state = i.source.empty() ? 4 : 1;
  i.format = t.Get("FORMAT");
  if (empty_datablock && i.format.empty()) i.format = "raw";
  for (const char* k : {"NAME", "PATH", "SOURCE", "PERSISTENT", "TYPE", "FORMAT", "SIZE"})
    t.Erase(k);
  i.templ = t;
  i.id = next_image_;  // taken now: another allocation may have run while stat did
  images_[i.id] = i;
  if (i.state == 4) {
    Background([this, id = i.id, empty_datablock] {
      empty_datablock ? ImageMkfsFlow(id) : ImageCopyFlow(id);
    });
  }
  return Answer::Id(next_image_++);
}

std::string OneState::ImageXml(const Image& i) const {
  const auto& ds = datastores_.at(i.ds_id);
  return "<IMAGE>" + Tag("ID", i.id) + Owned(i.name) + Tag("TYPE", i.type) + Tag("DISK_TYPE", 0) +
         Tag("PERSISTENT", i.persistent ? 1 : 0) + Tag("REGTIME", 0) + Tag("MODTIME", 0) +
         Cdata("SOURCE", i.source) + Cdata("PATH", i.path) + Cdata("FORMAT", i.format) + "<FS/>" +
         Tag("SIZE", i.size_mb) + Tag("STATE", i.state) + Tag("PREV_STATE", 0) +
         Tag("RUNNING_VMS", 0) + Tag("CLONING_OPS", 0) + Tag("CLONING_ID", i.cloning_id) +
         Tag("TARGET_SNAPSHOT", -1) + Tag("DATASTORE_ID", i.ds_id) + Tag("DATASTORE", ds.name) +
         "<VMS/><CLONES/><APP_CLONES/>" + i.templ.ToXml("TEMPLATE") + "<SNAPSHOTS/></IMAGE>";
}

Answer OneState::ImageInfo(int id) const {
  std::lock_guard lock(mu_);
  auto it = images_.find(id);
  if (it == images_.end()) return Answer::Missing("image", id);
  return Answer::Text(ImageXml(it->second));
}

Answer OneState::ImagePool() const {
  std::lock_guard lock(mu_);
  std::string xml = "<IMAGE_POOL>";
  for (const auto& [id, i] : images_) xml += ImageXml(i);
  return Answer::Text(xml + "</IMAGE_POOL>");
}

int OneState::VmUsingImageLocked(int image_id) const {
  for (const auto& [vid, vm] : vms_) {
    if (vm.state == 6) continue;  // DONE
    for (const TemplateAttribute* d : vm.templ.All("DISK")) {
      if (d->Get("IMAGE_ID") == std::to_string(image_id)) return vid;
    }
  }
  return -1;
}

Answer OneState::ImageDelete(int id) {
  std::lock_guard lock(mu_);
  auto it = images_.find(id);
  if (it == images_.end()) return Answer::Missing("image", id);
  if (const int vid = VmUsingImageLocked(id); vid >= 0) {
    return Answer::Error(kAction, "Cannot delete image: it is used by VM " + std::to_string(vid));
  }
  if (it->second.state == 4) return Answer::Error(kAction, "Cannot delete image in LOCKED state");
  it->second.state = 7;  // DELETE, until the datastore's rm answers
  Background([this, id] { ImageRemoveFlow(id); });
  return Answer::Id(id);
}

// one.image.clone: a new LOCKED image with the original's type, format, size and template, made
// by the datastore's clone (CLONING_ID names the original). Simplifications: the original stays
// READY while it is cloned (oned marks it CLONE), and the copy is never persistent.
Answer OneState::ImageClone(int id, const std::string& name, int ds_id) {
  std::lock_guard lock(mu_);
  auto it = images_.find(id);
  if (it == images_.end()) return Answer::Missing("image", id);
  const Image& original = it->second;
  if (original.state != 1 && original.state != 2) {
    return Answer::Error(kAction, "Cannot clone image in state " + std::to_string(original.state));
  }
  if (ds_id < 0) ds_id = original.ds_id;
  if (datastores_.count(ds_id) == 0) return Answer::Missing("datastore", ds_id);
  if (name.empty())
    return Answer::Error(kAllocate, "Error allocating a new image. No NAME in template.");
  Image copy = original;
  copy.id = next_image_;
  copy.name = name;
  copy.ds_id = ds_id;
  copy.source.clear();
  copy.path.clear();
  copy.persistent = false;
  copy.state = 4;  // LOCKED until the datastore's clone answers
  copy.cloning_id = id;
  images_[copy.id] = copy;
  Background([this, clone = copy.id] { ImageCloneFlow(clone); });
  return Answer::Id(next_image_++);
}

// one.image.persistent: refused while a VM that is not DONE uses the image.
Answer OneState::ImagePersistent(int id, bool persistent) {
  std::lock_guard lock(mu_);
  auto it = images_.find(id);
  if (it == images_.end()) return Answer::Missing("image", id);
  if (const int vid = VmUsingImageLocked(id); vid >= 0) {
    return Answer::Error(
        kAction, "Cannot change persistent state of an image in use by VM " + std::to_string(vid));
  }
  it->second.persistent = persistent;
  return Answer::Id(id);
}

}  // namespace onedock::emulator
