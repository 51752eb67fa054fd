// Plain records of the OpenNebula objects onedock reads (VM, host, image, datastore, virtual
// network), holding the fields onedock uses; parsed from oned's XML by rpc/one_parse.h.
#ifndef ONEDOCK_BRIDGE_ONE_TYPES_H_
#define ONEDOCK_BRIDGE_ONE_TYPES_H_

#include <cctype>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace onedock {

// Flat KEY -> value view of a template section (single-valued attributes only).
using Attributes = std::map<std::string, std::string>;

// The value of `key`; "" when absent.
inline std::string Get(const Attributes& attributes, const std::string& key) {
  auto it = attributes.find(key);
  return it == attributes.end() ? "" : it->second;
}

// A boolean attribute as OpenNebula reads one: YES, TRUE or 1, in any case.
inline bool IsYes(std::string value) {
  for (char& c : value) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return value == "YES" || value == "TRUE" || value == "1";
}

// VM STATE and LCM_STATE numbers of OpenNebula 7.4 (reference §2.1, §2.2): the ones onedock
// names; others are carried as plain numbers.
enum VmState : int {
  kVmInit = 0,
  kVmPending = 1,
  kVmHold = 2,
  kVmActive = 3,
  kVmStopped = 4,
  kVmSuspended = 5,
  kVmDone = 6,
  kVmPoweroff = 8,
  kVmUndeployed = 9,
  kVmCloning = 10,
  kVmCloningFailure = 11,
};
enum LcmState : int {
  kLcmInit = 0,
  kLcmProlog = 1,
  kLcmBoot = 2,
  kLcmRunning = 3,
  kLcmMigrate = 4,
  kLcmSaveStop = 5,
  kLcmSaveSuspend = 6,
  kLcmSaveMigrate = 7,
  kLcmPrologMigrate = 8,
  kLcmEpilog = 11,
  kLcmShutdown = 12,
  kLcmUnknown = 16,
  kLcmHotplug = 17,
  kLcmShutdownPoweroff = 18,
  kLcmBootUnknown = 19,
  kLcmBootPoweroff = 20,
  kLcmBootSuspended = 21,
  kLcmBootStopped = 22,
  kLcmCleanupDelete = 23,
  kLcmHotplugSnapshot = 24,
  kLcmHotplugNic = 25,
  kLcmShutdownUndeploy = 29,
  kLcmEpilogUndeploy = 30,
  kLcmBootUndeploy = 32,
  kLcmBootMigrate = 35,
  kLcmBootFailure = 36,
  kLcmBootMigrateFailure = 37,
  kLcmPrologMigrateFailure = 38,
  kLcmPrologFailure = 39,
  kLcmEpilogFailure = 40,
  kLcmHotplugNicPoweroff = 65,
  kLcmHotplugResize = 66,
};
enum HostState : int {
  kHostInit = 0,
  kHostMonitored = 2,
  kHostError = 3,
  kHostDisabled = 4,
  kHostOffline = 8,
};
enum ImageState : int {
  kImageInit = 0,
  kImageReady = 1,
  kImageUsed = 2,
  kImageDisabled = 3,
  kImageLocked = 4,
  kImageError = 5,
  kImageClone = 6,
  kImageDelete = 7,
  kImageUsedPers = 8,
};

struct Disk {
  int disk_id = -1;
  std::string image;
  int image_id = -1;
  std::string source;  // what the datastore's cp printed
  std::string format;
  std::string type;  // FILE, FS, SWAP, …
  std::string target;
  int datastore_id = -1;
  std::string tm_mad;
  int64_t size_mb = 0;
  bool persistent = false;
  Attributes all;
};

struct Nic {
  int nic_id = -1;
  std::string network;
  int network_id = -1;
  std::string ip;
  std::string mac;
  std::string bridge;
  std::string bridge_type;
  std::string vn_mad;
  std::string phydev;
  std::string vlan_id;
  std::string gateway;
  std::string network_mask;
  std::string network_address;
  std::string dns;
  std::string mtu;
  std::string target;
  Attributes all;
};

struct History {
  int seq = -1;
  std::string hostname;
  int hid = -1;
  int ds_id = -1;
  std::string vm_mad;
  std::string tm_mad;
  int action = 0;
  int64_t running_since = 0;  // RSTIME: when the VM started running on this host (0: not yet)
};

// A system snapshot the VM's template lists (TEMPLATE/SNAPSHOT); `hypervisor_id` is what the
// driver's snapshot_create printed, for onedock the image reference
// "reg/onedock-snapshot/one-42:s0".
struct Snapshot {
  int snapshot_id = -1;
  std::string name;
  std::string hypervisor_id;
};

struct Vm {
  int id = -1;
  std::string name;
  std::string uname;
  int state = 0;
  int lcm_state = 0;
  std::string deploy_id;
  double cpu = 0;
  int vcpu = 0;
  int64_t memory_mb = 0;
  std::vector<Disk> disks;
  std::vector<Nic> nics;
  std::vector<Snapshot> snapshots;
  Attributes context;
  Attributes user_template;
  Attributes template_attributes;  // single-valued attributes of TEMPLATE
  Attributes monitoring;           // last MONITORING record (CPU, MEMORY, NETRX, …)
  std::vector<History> history;    // in document order; the current record is last
  const History* CurrentHistory() const { return history.empty() ? nullptr : &history.back(); }
};

struct Host {
  int id = -1;
  std::string name;
  int state = 0;
  std::string im_mad;
  std::string vm_mad;
  int cluster_id = -1;
  int64_t total_cpu = 0;  // percent units, 100 per CPU
  int64_t total_mem = 0;  // KB
  int64_t max_cpu = 0;
  int64_t max_mem = 0;
  int64_t cpu_usage = 0;
  int64_t mem_usage = 0;
  int64_t free_disk_mb = 0;
  int running_vms = 0;
  std::vector<int> vm_ids;
  Attributes template_attributes;
};

// A datastore's size in MB, as OpenNebula reports one (TOTAL_MB, USED_MB, FREE_MB; a host's
// DS_LOCATION_*). `free_mb` when the source knows it (a filesystem's available blocks), else what
// is left of the total.
struct Capacity {
  int64_t total_mb = 0;
  int64_t used_mb = 0;
  std::optional<int64_t> free_mb;
  int64_t Free() const {
    return free_mb ? *free_mb : (total_mb > used_mb ? total_mb - used_mb : 0);
  }
};

// Image TYPE numbers (reference §2.4) onedock names.
inline constexpr int kImageTypeDatablock = 2;

struct Image {
  int id = -1;
  std::string name;
  std::string uname;
  int state = 0;
  int type = 0;
  bool persistent = false;
  std::string path;
  std::string source;
  std::string format;
  int64_t size_mb = 0;
  int datastore_id = -1;
  std::string datastore;
  int cloning_id = -1;  // the image a clone is made from
  Attributes template_attributes;
};

struct Datastore {
  int id = -1;
  std::string name;
  int type = 0;  // 0 image, 1 system, 2 file, 3 backup
  std::string ds_mad;
  std::string tm_mad;
  std::string base_path;
  int64_t total_mb = 0;
  int64_t free_mb = 0;
  int64_t used_mb = 0;
  Attributes template_attributes;
};

struct Lease {
  std::string ip;
  std::string mac;
  int vm_id = -1;
};

struct AddressRange {
  int ar_id = -1;
  std::string type;  // IP4, ETHER, …
  std::string ip;    // first address
  std::string mac;   // first MAC
  int size = 0;
  std::vector<Lease> leases;
};

struct Vnet {
  int id = -1;
  std::string name;
  int state = -1;  // 1 READY; 0 INIT, 2 LOCK_CREATE, 3 LOCK_DELETE, 5 ERROR, …
  std::string bridge;
  std::string bridge_type;
  std::string vn_mad;
  std::string phydev;
  std::string vlan_id;
  std::vector<AddressRange> ranges;
  Attributes template_attributes;  // GATEWAY, NETWORK_MASK, NETWORK_ADDRESS, DNS, …
};

}  // namespace onedock

#endif  // ONEDOCK_BRIDGE_ONE_TYPES_H_
