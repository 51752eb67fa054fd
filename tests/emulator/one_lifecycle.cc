// The emulator's VM life cycle: placement by one.vm.deploy, transfer-manager prolog and epilog,
// VMM actions run as local (-l) driver actions with the argv and base64 stdin of the reference
// (§3.5, §3.7) and of the captures, and the LCM transitions of §2.5.
//
// Network (vnm) steps run around deploy (pre, post) and shutdown/cancel (clean) as one_vmm_exec
// runs them; simplifications: not around save, restore, migration or NIC hotplug; only actions
// listed in the VM_MAD's -l option are run (a real oned would ssh for the others, the emulator
// refuses them); TM commands are those onedock's datastores need (CLONE/LN per image disk,
// MKIMAGE/MKSWAP per volatile disk, CONTEXT, MVDS for persistent images and DELETE at the end); no
// SAVE_AS disks.
#include <algorithm>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "bridge/base64.h"
#include "rpc/xml_node.h"
#include "tests/emulator/driver_runner.h"
#include "tests/emulator/one_state.h"

namespace onedock::emulator {
namespace {

namespace fs = std::filesystem;

std::string Now() {
  std::time_t t = std::time(nullptr);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a %b %d %H:%M:%S %Y", std::localtime(&t));
  return buf;
}

}  // namespace

OneState::~OneState() {
  std::vector<std::thread> workers;
  {
    std::lock_guard lock(mu_);
    workers.swap(workers_);
  }
  for (auto& w : workers) w.join();
}

void OneState::Background(std::function<void()> work) { workers_.emplace_back(std::move(work)); }

std::string OneState::SystemDirLocked(const Vm& vm) const {
  const auto& h = vm.history.back();
  return config_.Get("DATASTORE_LOCATION", "/var/lib/one/datastores") + "/" +
         std::to_string(h.ds_id) + "/" + std::to_string(vm.id);
}

void OneState::SetStateLocked(Vm& vm, int state, int lcm_state) {
  vm.state = state;
  vm.lcm_state = lcm_state;
}

void OneState::FailLocked(Vm& vm, int state, int lcm_state, const std::string& action,
                          const std::string& message) {
  std::string text = action + ": " + message;
  if (text.size() > 100) text = text.substr(0, 100) + "... see more details in VM log";
  vm.user_templ.Set("ERROR", Now() + ": " + text);
  SetStateLocked(vm, state, lcm_state);
}

void OneState::ReleaseLeasesLocked(int vm_id) {
  for (auto& [id, v] : vnets_) {
    for (Range& r : v.ranges) {
      std::erase_if(r.leases, [vm_id](const Lease& l) { return l.vm_id == vm_id; });
    }
  }
}

std::string OneState::ActionDataXml(const Vm& vm) const {
  Vm current = vm;
  if (current.history.size() > 1)
    current.history.erase(current.history.begin(), current.history.end() - 1);
  const int sys_ds = vm.history.empty() ? 0 : vm.history.back().ds_id;
  auto ds = datastores_.find(sys_ds);
  return "<VMM_DRIVER_ACTION_DATA><HOST>" + rpc::XmlEscape(vm.history.back().hostname) +
         "</HOST><MIGR_HOST/><DEPLOY_ID>" + rpc::XmlEscape(vm.deploy_id) +
         "</DEPLOY_ID><LOCAL_DEPLOYMENT_FILE/><REMOTE_DEPLOYMENT_FILE/><CHECKPOINT_FILE/>"
         "<TM_COMMAND/><TM_COMMAND_ROLLBACK/><DISK_TARGET_PATH/>" +
         VmXml(current, true) + (ds != datastores_.end() ? DatastoreXml(ds->second) : "") +
         "</VMM_DRIVER_ACTION_DATA>";
}

DriverRun OneState::RunStep(const Step& step) {
  return step.error.empty() ? RunDriver(step.executable, step.args, step.stdin_text) : DriverRun{};
}

std::string OneState::StepFailure(const Step& step, const DriverRun& run) {
  return step.error.empty() ? FailureMessage(run.err) : step.error;
}

void OneState::VmmStepAsync(int vm_id, Step step, const std::string& action, int fail_state,
                            int fail_lcm, std::function<void(Vm&, const DriverRun&)> done,
                            std::function<void(Vm&)> rollback) {
  Background([this, vm_id, step = std::move(step), action, fail_state, fail_lcm,
              done = std::move(done), rollback = std::move(rollback)] {
    const DriverRun run = RunStep(step);
    std::lock_guard lock(mu_);
    Vm& vm = vms_.at(vm_id);
    if (!run.ok()) {
      if (rollback) rollback(vm);
      FailLocked(vm, fail_state, fail_lcm, action, StepFailure(step, run));
      return;
    }
    done(vm, run);
  });
}

const TemplateAttribute* OneState::VmMadLocked(const Vm& vm) const {
  if (vm.history.empty()) return nullptr;
  for (const auto* a : config_.All("VM_MAD")) {
    if (a->Get("NAME") == vm.history.back().vm_mad) return a;
  }
  return nullptr;
}

OneState::Step OneState::VmmStep(const Vm& vm, const std::string& action,
                                 bool with_action_data) const {
  Step step;
  const auto& h = vm.history.back();
  const TemplateAttribute* mad = VmMadLocked(vm);
  if (mad == nullptr) {
    step.error = "VM_MAD " + h.vm_mad + " is not configured";
    return step;
  }
  const std::vector<std::string> words = SplitWords(mad->Get("ARGUMENTS"));
  // one_vmm_exec tests the system snapshot actions by their protocol names (VirtualMachineDriver
  // ACTION: SNAPSHOTCREATE, …) and the others by their script names.
  std::string listed = action;
  if (action.rfind("snapshot_", 0) == 0) listed.erase(8, 1);
  if (!DriverOptionLists(mad->Get("ARGUMENTS"), "-l", listed)) {
    step.error = "action " + action + " is not a local (-l) action of " + h.vm_mad +
                 "; the emulator runs local actions only";
    return step;
  }
  const std::string dir = words.empty() ? h.vm_mad : words.back();
  step.executable = config_.Get("REMOTES_DIR") + "/vmm/" + dir + "/" + action;
  const std::string host = h.hostname, vmid = std::to_string(vm.id);
  if (action == "deploy") {
    const std::string dfile =
        config_.Get("VMS_LOCATION") + "/" + vmid + "/deployment." + std::to_string(h.seq);
    step.args = {dfile, host, vmid, host};
  } else if (action == "resize") {
    step.args = {vm.deploy_id, vmid, host};  // unquoted in one_vmm_exec, no host word first
  } else if (action == "save" || action == "restore") {
    const std::string checkpoint = config_.Get("DATASTORE_LOCATION", "/var/lib/one/datastores") +
                                   "/" + std::to_string(h.ds_id) + "/" + vmid + "/checkpoint";
    step.args = action == "save"
                    ? std::vector<std::string>{vm.deploy_id, checkpoint, host, vmid, host}
                    : std::vector<std::string>{checkpoint, host, vm.deploy_id, vmid, host};
  } else {
    step.args = {vm.deploy_id, host, vmid, host};
  }
  // Local actions get their stdin base64-encoded (reference §3.7, captures).
  step.stdin_text = Base64Encode(with_action_data ? ActionDataXml(vm) : VmXml(vm, true));
  return step;
}

std::vector<OneState::Step> OneState::NetworkSteps(const Vm& vm, const std::string& action,
                                                   const std::vector<std::string>& args) const {
  std::vector<std::string> drivers;
  for (const TemplateAttribute* nic : vm.templ.All("NIC")) {
    const std::string vn_mad = nic->Get("VN_MAD");
    if (!vn_mad.empty() && std::find(drivers.begin(), drivers.end(), vn_mad) == drivers.end())
      drivers.push_back(vn_mad);
  }
  const TemplateAttribute* mad = VmMadLocked(vm);
  std::vector<Step> steps;
  for (const auto& vn_mad : drivers) {
    Step step;
    if (mad == nullptr || !DriverOptionLists(mad->Get("ARGUMENTS"), "-l", action)) {
      step.error = "network action " + action +
                   " is not a local (-l) action of the VM_MAD; oned would run it on "
                   "the host over ssh, the emulator runs local actions only";
    }
    step.executable = config_.Get("REMOTES_DIR") + "/vnm/" + vn_mad + "/" + action;
    step.args = args;
    // Simplification: the whole VM document, where one_vmm_exec sends a <VM> of a few parts and
    // the NICs (VmmAction#get_vnm_drivers).
    step.stdin_text = Base64Encode(VmXml(vm, true));
    steps.push_back(std::move(step));
  }
  return steps;
}

std::string OneState::RunSteps(const std::vector<Step>& steps) {
  for (const Step& step : steps) {
    const DriverRun run = RunStep(step);
    if (!step.error.empty() || !run.ok()) return StepFailure(step, run);
  }
  return "";
}

OneState::Step OneState::TmStep(const std::string& command, const std::string& tm_mad,
                                const std::vector<std::string>& args,
                                std::ofstream& transfer) const {
  // The transfer file line as oned writes it; the script gets the same words as argv.
  transfer << command << " " << tm_mad;
  for (const auto& a : args) transfer << " " << a;
  transfer << "\n";
  Step step;
  const TemplateAttribute* tm = nullptr;
  for (const auto* a : config_.All("TM_MAD")) tm = a;
  if (tm == nullptr || !DriverOptionLists(tm->Get("ARGUMENTS"), "-d", tm_mad)) {
    step.error = "Transfer Driver '" + tm_mad + "' not available";
    return step;
  }
  std::string script = command;
  for (char& c : script) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  step.executable = config_.Get("REMOTES_DIR") + "/tm/" + tm_mad + "/" + script;
  step.args = args;
  return step;
}

Answer OneState::VmDeploy(int id, int host_id, bool /*enforce*/, int ds_id) {
  std::lock_guard lock(mu_);
  auto it = vms_.find(id);
  if (it == vms_.end()) return Answer::Missing("virtual machine", id);
  auto host = hosts_.find(host_id);
  if (host == hosts_.end()) return Answer::Missing("host", host_id);
  if (host->second.state == 8) return Answer::Error(kAction, "Host is offline, cannot deploy VM");
  Vm& vm = it->second;
  if (vm.state != 1 && vm.state != 2) {
    return Answer::Error(kAction,
                         "Deploy action is not available for state " + std::to_string(vm.state));
  }
  if (ds_id < 0) {
    ds_id = 0;
    for (const auto& [did, d] : datastores_) {
      if (d.type == 1 && did >= 100) {
        ds_id = did;
        break;
      }
    }
  }
  if (!datastores_.count(ds_id) || datastores_.at(ds_id).type != 1) {
    return Answer::Error(kAction,
                         "Datastore " + std::to_string(ds_id) + " is not a system datastore");
  }
  const int seq = vm.history.empty() ? 0 : vm.history.back().seq + 1;
  vm.history.push_back({seq, host->second.name, host_id, ds_id, std::time(nullptr),
                        host->second.vm_mad, datastores_.at(ds_id).tm_mad, 0});
  vm.hid = host_id;
  SetStateLocked(vm, 3, 1);  // ACTIVE/PROLOG
  Background([this, id] { DeployFlow(id, false); });
  return Answer::Id(id);
}

Answer OneState::VmAction(const std::string& action, int id) {
  std::lock_guard lock(mu_);
  auto it = vms_.find(id);
  if (it == vms_.end()) return Answer::Missing("virtual machine", id);
  Vm& vm = it->second;
  const bool running = vm.state == 3 && (vm.lcm_state == 3 || vm.lcm_state == 16);
  const bool failure =
      vm.state == 3 && (vm.lcm_state == 36 || vm.lcm_state == 39 || vm.lcm_state == 40);
  const auto refuse = [&] {
    return Answer::Error(kAction, "Action \"" + action + "\" is not available for state " +
                                      std::to_string(vm.state) + "/" +
                                      std::to_string(vm.lcm_state));
  };
  if (action == "poweroff" || action == "poweroff-hard") {
    if (!running) return refuse();
    SetStateLocked(vm, 3, 18);  // SHUTDOWN_POWEROFF
    Background([this, id, hard = action == "poweroff-hard"] { ShutdownFlow(id, hard, false); });
  } else if (action == "suspend" || (action == "resume" && vm.state == 5)) {
    const bool suspend = action == "suspend";
    if (suspend && !(vm.state == 3 && vm.lcm_state == 3)) return refuse();
    SetStateLocked(vm, 3, suspend ? 6 : 21);  // SAVE_SUSPEND / BOOT_SUSPENDED
    // A failed save leaves the VM RUNNING, a failed restore SUSPENDED.
    VmmStepAsync(id, VmmStep(vm, suspend ? "save" : "restore", true), suspend ? "SAVE" : "RESTORE",
                 suspend ? 3 : 5, suspend ? 3 : 0, [this, suspend](Vm& v, const DriverRun&) {
                   SetStateLocked(v, suspend ? 5 : 3, suspend ? 0 : 3);
                   v.running_changed = std::time(nullptr);
                 });
  } else if (action == "resume") {
    if (vm.state != 8) return refuse();
    auto& last = vm.history.back();
    vm.history.push_back({last.seq + 1, last.hostname, last.hid, last.ds_id, std::time(nullptr),
                          last.vm_mad, last.tm_mad, 11});
    SetStateLocked(vm, 3, 20);  // BOOT_POWEROFF
    Background([this, id] { DeployFlow(id, true); });
  } else if (action == "reboot" || action == "reboot-hard") {
    if (!(vm.state == 3 && vm.lcm_state == 3)) return refuse();
    Background([this, id, hard = action == "reboot-hard"] { RebootFlow(id, hard); });
  } else if (action == "terminate" || action == "terminate-hard") {
    if (vm.state == 1 || vm.state == 2 || vm.state == 0) {
      ReleaseLeasesLocked(id);
      SetStateLocked(vm, 6, 0);
    } else if (running) {
      SetStateLocked(vm, 3, 12);  // SHUTDOWN
      Background([this, id, hard = action == "terminate-hard"] { ShutdownFlow(id, hard, true); });
    } else if (vm.state == 8 || vm.state == 5 || failure) {
      SetStateLocked(vm, 3, failure ? 23 : 11);  // CLEANUP_DELETE or EPILOG
      Background([this, id] { EpilogFlow(id); });
    } else {
      return refuse();
    }
  } else if (action == "hold") {
    if (vm.state != 1) return refuse();
    SetStateLocked(vm, 2, 0);
  } else if (action == "release") {
    if (vm.state != 2) return refuse();
    SetStateLocked(vm, 1, 0);
  } else if (action == "undeploy" || action == "undeploy-hard" || action == "stop" ||
             action == "resched" || action == "unresched") {
    return Answer::Error(kAction, "Action \"" + action + "\" is not supported by the emulator");
  } else {
    return Answer::Error(kAction, "Action \"" + action + "\" is not supported");
  }
  return Answer::Id(id);
}

int OneState::ScheduleOnce() {
  std::vector<std::pair<int, int>> placements;  // vm, host
  {
    std::lock_guard lock(mu_);
    std::map<int, std::pair<double, int64_t>> used;  // host -> cpu (percent), memory (KB)
    for (const auto& [id, vm] : vms_) {
      if (vm.hid < 0 || vm.state == 6) continue;
      used[vm.hid].first += std::atof(vm.templ.Get("CPU").c_str()) * 100;
      used[vm.hid].second += std::atoll(vm.templ.Get("MEMORY").c_str()) * 1024;
    }
    for (const auto& [id, vm] : vms_) {
      if (vm.state != 1) continue;
      const double cpu = std::atof(vm.templ.Get("CPU").c_str()) * 100;
      const int64_t mem = std::atoll(vm.templ.Get("MEMORY").c_str()) * 1024;
      std::string want = vm.user_templ.Get("SCHED_REQUIREMENTS");
      std::erase(want, '"');
      int best = -1;
      double best_free = -1;
      for (const auto& [hid, h] : hosts_) {
        if (h.state != 2 || h.free_disk_mb <= 0) continue;
        if (!want.empty() && want != "ID=" + std::to_string(hid) && want != "NAME=" + h.name)
          continue;
        const double free_cpu = static_cast<double>(h.total_cpu) - used[hid].first;
        const int64_t free_mem = h.total_mem - used[hid].second;
        if (free_cpu < cpu || free_mem < mem) continue;
        if (free_cpu > best_free) {
          best = hid;
          best_free = free_cpu;
        }
      }
      if (best < 0) continue;
      used[best].first += cpu;
      used[best].second += mem;
      placements.emplace_back(id, best);
    }
  }
  int placed = 0;
  for (const auto& [vm, host] : placements) placed += VmDeploy(vm, host, false, -1).ok() ? 1 : 0;
  return placed;
}

void OneState::DeployFlow(int vm_id, bool resume) {
  std::vector<Step> prolog;
  std::string context_path, dfile, vm_xml;
  {
    std::lock_guard lock(mu_);
    Vm& vm = vms_.at(vm_id);
    const auto& h = vm.history.back();
    const std::string sysdir = SystemDirLocked(vm);
    const std::string vmdir = config_.Get("VMS_LOCATION") + "/" + std::to_string(vm_id);
    fs::create_directories(vmdir);
    if (!resume) {
      // Prolog: one CLONE (or LN for persistent images) per image disk; volatile disks are made
      // by the system datastore's TM (MKSWAP, MKIMAGE).
      std::ofstream transfer(vmdir + "/transfer." + std::to_string(h.seq) + ".prolog");
      for (const TemplateAttribute* d : vm.templ.All("DISK")) {
        const std::string target = h.hostname + ":" + sysdir + "/disk." + d->Get("DISK_ID");
        if (d->Get("IMAGE_ID").empty()) {
          const bool swap = d->Get("TYPE") == "swap";
          std::vector<std::string> args = {d->Get("SIZE")};
          if (!swap) args.push_back(d->Get("FORMAT"));
          args.insert(args.end(), {target, std::to_string(vm_id), std::to_string(h.ds_id)});
          prolog.push_back(TmStep(swap ? "MKSWAP" : "MKIMAGE", h.tm_mad, args, transfer));
          continue;
        }
        prolog.push_back(TmStep(
            d->Get("CLONE") == "NO" ? "LN" : "CLONE", d->Get("TM_MAD"),
            {d->Get("SOURCE"), target, std::to_string(vm_id), d->Get("DATASTORE_ID")}, transfer));
      }
    }
    // CONTEXT: oned writes context.sh and the VMM driver runs the TM CONTEXT command first.
    if (const auto ctx = vm.templ.All("CONTEXT"); !ctx.empty()) {
      context_path = vmdir + "/context.sh";
      std::ofstream out(context_path);
      out << "# Context variables generated by OpenNebula\n";
      for (const auto& [k, v] : ctx[0]->vector) {
        std::string quoted;
        for (char c : v) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
        out << k << "='" << quoted << "'\n";
      }
      // VMM-embedded TM commands are not written to a transfer file.
      std::ofstream none;
      prolog.push_back(
          TmStep("CONTEXT", h.tm_mad,
                 {context_path, h.hostname + ":" + sysdir + "/disk." + ctx[0]->Get("DISK_ID"),
                  std::to_string(vm_id), std::to_string(h.ds_id)},
                 none));
    }
  }
  for (size_t i = 0; i < prolog.size(); ++i) {
    const Step& step = prolog[i];
    const bool is_context = !context_path.empty() && i + 1 == prolog.size();
    if (is_context) {
      std::lock_guard lock(mu_);
      Vm& vm = vms_.at(vm_id);
      if (!resume) SetStateLocked(vm, 3, 2);  // BOOT
    }
    DriverRun run = RunStep(step);
    if (!run.ok()) {
      std::lock_guard lock(mu_);
      Vm& vm = vms_.at(vm_id);
      const std::string msg = StepFailure(step, run);
      if (resume)
        FailLocked(vm, 8, 0, "DEPLOY", msg);
      else if (is_context)
        FailLocked(vm, 3, 36, "DEPLOY", msg);
      else
        FailLocked(vm, 3, 39, "TRANSFER", msg);  // PROLOG_FAILURE
      return;
    }
  }
  Step deploy;
  std::vector<Step> pre;
  {
    std::lock_guard lock(mu_);
    Vm& vm = vms_.at(vm_id);
    if (!resume) SetStateLocked(vm, 3, 2);  // BOOT
    pre = NetworkSteps(vm, "pre", {});
    // The deployment file of an xml-type VM_MAD is the VM document (reference §3.4).
    deploy = VmmStep(vm, "deploy", false);
    if (deploy.error.empty()) {
      std::ofstream(deploy.args[0]) << VmXml(vm, true);
    }
  }
  // one_vmm_exec's deploy steps: network pre, deploy, network post (its failure cancels).
  std::string msg = RunSteps(pre);
  DriverRun run = msg.empty() ? RunStep(deploy) : DriverRun{};
  const std::vector<std::string> out = SplitWords(run.out);
  if (msg.empty() && run.ok() && !out.empty()) {
    std::vector<Step> post;
    {
      std::lock_guard lock(mu_);
      post = NetworkSteps(vms_.at(vm_id), "post", {out[0], vms_.at(vm_id).history.back().hostname});
    }
    msg = RunSteps(post);
  }
  std::lock_guard lock(mu_);
  Vm& vm = vms_.at(vm_id);
  if (msg.empty() && run.ok() && !out.empty()) {
    vm.deploy_id = out[0];  // first word of deploy's stdout
    SetStateLocked(vm, 3, 3);
    vm.running_changed = std::time(nullptr);
    return;
  }
  if (msg.empty()) msg = run.ok() ? std::string("Empty deploy ID") : StepFailure(deploy, run);
  if (resume)
    FailLocked(vm, 8, 0, "DEPLOY", msg);  // back to POWEROFF
  else
    FailLocked(vm, 3, 36, "DEPLOY", msg);  // BOOT_FAILURE
}

void OneState::ShutdownFlow(int vm_id, bool hard, bool terminate) {
  Step step;
  std::vector<Step> clean;
  {
    std::lock_guard lock(mu_);
    step = VmmStep(vms_.at(vm_id), hard ? "cancel" : "shutdown", true);
    clean = NetworkSteps(vms_.at(vm_id), "clean", {vms_.at(vm_id).history.back().hostname});
  }
  // one_vmm_exec's destroy steps: shutdown (or cancel), then the network's clean.
  DriverRun run = RunStep(step);
  const std::string msg = run.ok() ? RunSteps(clean) : StepFailure(step, run);
  {
    std::lock_guard lock(mu_);
    Vm& vm = vms_.at(vm_id);
    if (!msg.empty()) {
      // A failed shutdown leaves the VM RUNNING (reference §2.5, captures).
      FailLocked(vm, 3, 3, hard ? "CANCEL" : "SHUTDOWN", msg);
      return;
    }
    vm.running_changed = std::time(nullptr);
    if (!terminate) {
      SetStateLocked(vm, 8, 0);  // POWEROFF
      return;
    }
    SetStateLocked(vm, 3, 11);  // EPILOG
  }
  EpilogFlow(vm_id);
}

void OneState::RebootFlow(int vm_id, bool hard) {
  Step step;
  {
    std::lock_guard lock(mu_);
    step = VmmStep(vms_.at(vm_id), hard ? "reset" : "reboot", true);
  }
  // oned only logs the result of a reboot; the state stays RUNNING.
  RunStep(step);
}

void OneState::EpilogFlow(int vm_id) {
  std::vector<Step> steps;
  bool cleanup = false;
  {
    std::lock_guard lock(mu_);
    Vm& vm = vms_.at(vm_id);
    cleanup = vm.lcm_state == 23;
    if (cleanup && !vm.deploy_id.empty()) steps.push_back(VmmStep(vm, "cancel", true));
    const auto& h = vm.history.back();
    const std::string sysdir = SystemDirLocked(vm);
    std::ofstream transfer(config_.Get("VMS_LOCATION") + "/" + std::to_string(vm_id) +
                           "/transfer." + std::to_string(h.seq) + ".epilog");
    // Disks saved back to their image (SAVE=YES: persistent images) get MVDS, the others DELETE;
    // volatile disks belong to the system datastore (TransferManager::epilog_transfer_command).
    for (const TemplateAttribute* d : vm.templ.All("DISK")) {
      const std::string disk = h.hostname + ":" + sysdir + "/disk." + d->Get("DISK_ID");
      if (cleanup || d->Get("SAVE") != "YES") {
        const bool is_volatile = d->Get("IMAGE_ID").empty();
        steps.push_back(TmStep("DELETE", is_volatile ? h.tm_mad : d->Get("TM_MAD"),
                               {disk, std::to_string(vm_id),
                                is_volatile ? std::to_string(h.ds_id) : d->Get("DATASTORE_ID")},
                               transfer));
      } else {
        steps.push_back(TmStep(
            "MVDS", d->Get("TM_MAD"),
            {disk, d->Get("SOURCE"), std::to_string(vm_id), d->Get("DATASTORE_ID")}, transfer));
      }
    }
    steps.push_back(TmStep(
        "DELETE", h.tm_mad,
        {h.hostname + ":" + sysdir, std::to_string(vm_id), std::to_string(h.ds_id)}, transfer));
  }
  for (size_t i = 0; i < steps.size(); ++i) {
    const Step& step = steps[i];
    DriverRun run = RunStep(step);  // only the cleanup's cancel has stdin; TM steps have none
    if (cleanup && i == 0 && steps.size() > 1) continue;  // CLEANUP ignores the cancel's result
    if (!run.ok() && !cleanup) {
      std::lock_guard lock(mu_);
      FailLocked(vms_.at(vm_id), 3, 40, "TRANSFER", StepFailure(step, run));
      return;
    }
  }
  std::lock_guard lock(mu_);
  Vm& vm = vms_.at(vm_id);
  ReleaseLeasesLocked(vm_id);
  vm.hid = -1;
  SetStateLocked(vm, 6, 0);  // DONE
}

}  // namespace onedock::emulator
