// OneState: the object pools of the OpenNebula emulator (a test instrument behaving like oned 7.4
// for what onedock touches; reference: ../shared/reference/opennebula.md). It validates and
// stores hosts, datastores, images, virtual networks (address ranges and leases), templates and
// VMs, renders them as oned's XML, and answers with oned's error codes and message shapes.
//
// Simplifications, each deliberate: one user (oneadmin, password from the config), no groups,
// ACLs or quotas, one cluster (0), templates accepted in OpenNebula syntax or as XML, error texts
// follow oned's patterns but are not byte-identical. Driver runs, the scheduler, the VM life cycle
// beyond allocation and the monitord listener are not part of this class.
//
// Thread-safe: every public method takes the state's mutex.
#ifndef ONEDOCK_TESTS_EMULATOR_ONE_STATE_H_
#define ONEDOCK_TESTS_EMULATOR_ONE_STATE_H_

#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/emulator/driver_runner.h"
#include "tests/emulator/one_template.h"

namespace onedock::emulator {

// A decoded monitord message (rpc::MonitordMessage without the rpc dependency in this header).
struct MonitordInput {
  std::string type;
  bool success = true;
  int host_id = -1;
  int64_t timestamp = 0;
  std::string payload;
};

// oned's Request::ErrorCode values (reference §1.4).
enum OneCode : int {
  kSuccess = 0,
  kAuthentication = 0x0100,
  kAuthorization = 0x0200,
  kNoExists = 0x0400,
  kAction = 0x0800,
  kRpcApi = 0x1000,
  kInternalError = 0x2000,
  kAllocate = 0x4000,
  kLocked = 0x8000,
};

// One call's answer: on success `text` (an XML document or a version) or `id`; on failure the
// code and message (without the "[method] " prefix, which the server adds).
struct Answer {
  int code = kSuccess;
  std::string message;
  std::string text;
  int id = -1;
  bool has_text = false;
  bool ok() const { return code == kSuccess; }
  static Answer Text(std::string t) { return {kSuccess, "", std::move(t), -1, true}; }
  static Answer Id(int i) { return {kSuccess, "", "", i, false}; }
  static Answer Error(int c, std::string m) { return {c, std::move(m), "", -1, false}; }
  // NO_EXISTS with oned's wording: "Error getting <object> [<id>]."
  static Answer Missing(const std::string& object, const std::string& id) {
    return Error(kNoExists, "Error getting " + object + " [" + id + "].");
  }
  static Answer Missing(const std::string& object, int id) {
    return Missing(object, std::to_string(id));
  }
  // RPC_API for a template that does not parse.
  static Answer BadTemplate(const Status& s) {
    return Error(kRpcApi, "Parse error: " + s.message());
  }
};

class OneState {
 public:
  // `config` is the parsed oned.conf-like file (ONEADMIN_PASSWORD, DS_MAD_CONF, TM_MAD_CONF,
  // VM_MAD, …).
  explicit OneState(Template config);
  ~OneState();  // waits for driver runs in flight

  bool Authenticate(const std::string& session) const;

  Answer SystemVersion() const;
  Answer SystemConfig() const;

  Answer HostAllocate(const std::string& name, const std::string& im_mad, const std::string& vm_mad,
                      int cluster_id);
  Answer HostInfo(int id) const;
  Answer HostPool() const;
  Answer HostDelete(int id);

  Answer DatastoreAllocate(const std::string& text, int cluster_id);
  Answer DatastoreInfo(int id) const;
  Answer DatastorePool() const;

  Answer ImageAllocate(const std::string& text, int ds_id);
  Answer ImageInfo(int id) const;
  Answer ImagePool() const;
  Answer ImageDelete(int id);
  Answer ImageClone(int id, const std::string& name, int ds_id);
  Answer ImagePersistent(int id, bool persistent);

  Answer VnetAllocate(const std::string& text, int cluster_id);
  Answer VnetInfo(int id) const;

  Answer TemplateAllocate(const std::string& text);
  Answer TemplateInstantiate(int id, const std::string& name, bool hold, const std::string& extra);

  Answer VmAllocate(const std::string& text, bool hold);
  Answer VmInfo(int id) const;
  // extended=false renders oned's short pool body (reduced USER_TEMPLATE).
  Answer VmPool(int state_filter, bool extended) const;
  Answer VmUpdate(int id, const std::string& text, int append);

  // Life cycle (one_lifecycle.cc). As in oned, a call returns once the action is accepted; the
  // driver runs happen in the background and move the VM through the LCM states of the reference
  // (§2.5). Supported: deploy, poweroff(-hard), suspend, resume (from POWEROFF or SUSPENDED),
  // reboot(-hard), terminate(-hard), hold/release; stop, undeploy and resched answer ACTION
  // "not supported by the emulator".
  Answer VmDeploy(int id, int host_id, bool enforce, int ds_id);
  Answer VmAction(const std::string& action, int id);
  // Hotplug (one_hotplug.cc): NIC attach/detach and resize, live through the VMM driver on a
  // RUNNING VM (resize only when the VM_MAD says LIVE_RESIZE = yes), as a database change on a
  // POWEROFF VM (unless COLD_NIC_ATTACH = yes).
  Answer VmAttachNic(int id, const std::string& text);
  Answer VmDetachNic(int id, int nic_id);
  Answer VmResize(int id, const std::string& text, bool enforce);
  // Cold migration and system snapshots (one_migrate_snapshot.cc): migrate type 0 (save) runs
  // VMM save on the source, TM MV of each disk and of the system directory, VMM restore on the
  // destination; snapshots run snapshot_create/revert/delete and keep the HYPERVISOR_ID that
  // snapshot_create printed.
  Answer VmMigrate(int id, int host_id, bool live, int type);
  Answer VmSnapshotCreate(int id, const std::string& name);
  Answer VmSnapshotRevert(int id, int snap_id);
  Answer VmSnapshotDelete(int id, int snap_id);

  // monitord (one_monitord.cc): applies one decoded wire message as monitord and oned do
  // (reference §4.3–§4.7). Returns false when the message was dropped (unknown or OFFLINE host,
  // stale timestamp, VM not on that host …); malformed content never changes state.
  bool ApplyMonitord(const struct MonitordInput& message);

  // Placement (one_lifecycle.cc): deploys each PENDING VM on the MONITORED host with the most
  // free CPU that has room for its CPU and MEMORY and reports free system-datastore space
  // (reference §1.8); honours SCHED_REQUIREMENTS of the form ID="n" or NAME="host". Returns the
  // number of VMs placed.
  int ScheduleOnce();

  // one.host.status (0 enabled, 1 disabled, 2 offline): offline stops monitoring, enabling an
  // offline host starts it again (one_drivers.cc).
  Answer HostStatus(int id, int status);

  // The port the monitord listener got, told to IM drivers in <MONITOR_CONFIGURATION>.
  void set_monitord_port(int port) {
    std::lock_guard lock(mu_);
    monitord_port_ = port;
  }

 private:
  struct Host {
    int id;
    std::string name, im_mad, vm_mad;
    int state = 0;
    int64_t total_cpu = 0, total_mem = 0, free_disk_mb = 0;
    Template templ;
    Template monitoring;                     // last MONITOR_HOST
    std::map<std::string, int64_t> last_ts;  // per message type, reset on state changes
  };
  struct Datastore {
    int id;
    std::string name, ds_mad, tm_mad;
    int type = 0;
    Template templ;
  };
  struct Image {
    int id;
    std::string name, path, source, format;
    int state = 4, type = 0, ds_id = -1;
    int cloning_id = -1;  // the image a clone is being made from
    bool persistent = false;
    int64_t size_mb = 0;
    Template templ;
  };
  struct Lease {
    std::string ip, mac;
    int vm_id;
  };
  struct Range {
    int ar_id;
    std::string type, ip, mac;
    int size = 0;
    std::vector<Lease> leases;
  };
  struct Vnet {
    int id;
    std::string name, bridge, vn_mad, phydev;
    std::vector<Range> ranges;
    Template templ;
  };
  struct HistoryRecord {
    int seq;
    std::string hostname;
    int hid;
    int ds_id;
    int64_t stime;
    std::string vm_mad, tm_mad;
    int action = 0;
  };
  struct Vm {
    int id;
    std::string name;
    int state = 1, lcm_state = 0;
    int hid = -1;         // host of the current history record, -1 before the first deploy
    int migrate_to = -1;  // destination host while a cold migration runs
    int64_t stime = 0;
    int64_t running_changed = 0;  // when the VM last started or stopped running (STATE_VM guard)
    std::string deploy_id;
    Template monitoring;  // merged MONITOR_VM records
    Template templ;       // TEMPLATE
    Template user_templ;  // USER_TEMPLATE
    std::vector<HistoryRecord> history;
  };

  // Life cycle helpers (one_lifecycle.cc); *Locked ones expect mu_ held.
  void Background(std::function<void()> work);
  void DeployFlow(int vm_id, bool resume);
  void ShutdownFlow(int vm_id, bool hard, bool terminate);
  void RebootFlow(int vm_id, bool hard);
  void EpilogFlow(int vm_id);
  void MigrateFlow(int vm_id);
  Answer SnapshotStep(int id, int snap_id, const std::string& action,
                      std::function<void(Vm&, const DriverRun&)> done);
  // One driver invocation, prepared under the lock and run without it.
  struct Step {
    std::string executable;
    std::vector<std::string> args;
    std::string stdin_text;
    std::string error;  // set when the step cannot be prepared (driver not configured, …)
  };
  Step VmmStep(const Vm& vm, const std::string& action, bool with_action_data) const;
  // The network driver's `action` (pre, post, clean) for each VN_MAD of the VM's NICs, as
  // one_vmm_exec runs them: locally when the VM_MAD's -l list names the action.
  std::vector<Step> NetworkSteps(const Vm& vm, const std::string& action,
                                 const std::vector<std::string>& args) const;
  // Runs the steps in order; the first failure's message, or "" when all succeed.
  static std::string RunSteps(const std::vector<Step>& steps);
  // Runs `step` outside the lock, unless it could not be prepared.
  static DriverRun RunStep(const Step& step);
  // What oned records for a failed step: why it could not be prepared, or its stderr's message.
  static std::string StepFailure(const Step& step, const DriverRun& run);
  // In the background, for operations that are one VMM step: runs `step`, then under the lock
  // either undoes with `rollback` and records the failure with FailLocked(vm, fail_state,
  // fail_lcm, action, …), or calls `done` (which sets the new state). Expects mu_ held.
  void VmmStepAsync(int vm_id, Step step, const std::string& action, int fail_state, int fail_lcm,
                    std::function<void(Vm&, const DriverRun&)> done,
                    std::function<void(Vm&)> rollback = nullptr);
  const TemplateAttribute* VmMadLocked(const Vm& vm) const;
  Step TmStep(const std::string& command, const std::string& tm_mad,
              const std::vector<std::string>& args, std::ofstream& transfer) const;
  std::string ActionDataXml(const Vm& vm) const;
  std::string SystemDirLocked(const Vm& vm) const;
  void SetStateLocked(Vm& vm, int state, int lcm_state);
  void SetHostStateLocked(Host& host, int state);
  bool ApplyStateVmLocked(Host& host, const Template& report);
  void FailLocked(Vm& vm, int state, int lcm_state, const std::string& action,
                  const std::string& message);
  void ReleaseLeasesLocked(int vm_id);
  // Removes NIC `nic_id` from the VM and returns its lease to the vnet.
  void DropNicLocked(Vm& vm, int nic_id);
  // Datastore and information drivers (one_drivers.cc).
  void ImageCopyFlow(int image_id);
  void ImageMkfsFlow(int image_id);
  // A VM that is not DONE with a DISK of the image; -1 when none.
  int VmUsingImageLocked(int image_id) const;
  void ImageCloneFlow(int image_id);
  void ImageRemoveFlow(int image_id);
  void StartMonitorFlow(int host_id);
  void StopMonitorFlow(int host_id, const std::string& name, const std::string& im_mad);
  Step DatastoreStep(const std::string& action, int object_id, const std::string& stdin_xml,
                     int ds_id) const;
  std::string MonitorConfigurationXml(int host_id) const;

  Answer VmAllocateLocked(Template t, const std::string& name, bool hold);
  Answer LeaseNic(int vm_id, int nic_id, TemplateAttribute* nic);
  std::string HostXml(const Host& h) const;
  std::string DatastoreXml(const Datastore& d) const;
  std::string ImageXml(const Image& i) const;
  std::string VnetXml(const Vnet& v) const;
  std::string VmXml(const Vm& vm, bool extended) const;
  static std::string HistoryXml(const std::vector<HistoryRecord>& history);

  mutable std::mutex mu_;
  int stat_requests_ = 0;  // numbers the datastore stat calls, as oned's SyncRequest ids
  Template config_;
  std::map<int, Host> hosts_;
  std::map<int, Datastore> datastores_;
  std::map<int, Image> images_;
  std::map<int, Vnet> vnets_;
  std::map<int, Template> templates_;
  std::map<int, Vm> vms_;
  std::vector<std::thread> workers_;
  int monitord_port_ = 4124;
  int next_host_ = 0, next_ds_ = 100, next_image_ = 0, next_vnet_ = 0, next_template_ = 0,
      next_vm_ = 0;
};

// Accepts OpenNebula template syntax, or an XML document whose root's children are attributes
// (parse_str_or_xml in oned).
Result<Template> ParseTemplateOrXml(std::string_view text);

}  // namespace onedock::emulator

#endif  // ONEDOCK_TESTS_EMULATOR_ONE_STATE_H_
