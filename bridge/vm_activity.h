// VmActivity: which VMs onedock itself is acting on right now, or acted on a moment ago. The
// monitor consults it so that a container stopped, started or removed by one of onedock's own
// actions is never reported to OpenNebula as a change behind its back. Thread-safe.
#ifndef ONEDOCK_BRIDGE_VM_ACTIVITY_H_
#define ONEDOCK_BRIDGE_VM_ACTIVITY_H_

#include <chrono>
#include <map>
#include <mutex>
#include <string>

namespace onedock::bridge {

class VmActivity {
 public:
  using Clock = std::chrono::steady_clock;

  void Begin(int vm_id, const std::string& host) {
    std::lock_guard lock(mu_);
    if (vms_.size() > kPruneAbove) {  // VMs long done are forgotten
      const auto now = Clock::now();
      std::erase_if(vms_, [&](const auto& item) { return item.second.running == 0 && now - item.second.ended > std::chrono::hours(1); });
    }
    Entry& e = vms_[vm_id];
    ++e.running;
    e.host = host;
  }
  void End(int vm_id) {
    std::lock_guard lock(mu_);
    Entry& e = vms_[vm_id];
    if (e.running > 0) --e.running;
    e.ended = Clock::now();
  }
  // True while an action runs on the VM, or until `grace` after the last one ended.
  bool Quiet(int vm_id, Clock::duration grace) const {
    std::lock_guard lock(mu_);
    auto it = vms_.find(vm_id);
    return it != vms_.end() && QuietLocked(it->second, grace);
  }
  // True when any VM acted on through `host` is quiet.
  bool AnyQuietOn(const std::string& host, Clock::duration grace) const {
    std::lock_guard lock(mu_);
    for (const auto& [id, e] : vms_) {
      if (e.host == host && QuietLocked(e, grace)) return true;
    }
    return false;
  }

 private:
  struct Entry {
    int running = 0;
    Clock::time_point ended{};
    std::string host;
  };
  static bool QuietLocked(const Entry& e, Clock::duration grace) {
    return e.running > 0 || Clock::now() - e.ended < grace;
  }

  static constexpr size_t kPruneAbove = 4096;
  mutable std::mutex mu_;
  std::map<int, Entry> vms_;
};

}  // namespace onedock::bridge

#endif  // ONEDOCK_BRIDGE_VM_ACTIVITY_H_
