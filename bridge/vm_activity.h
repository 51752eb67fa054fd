// VmActivity: which VMs onedock itself is acting on right now, or acted on a moment ago. The
// monitor consults it so that a container stopped, started or removed by one of onedock's own
// actions is never reported to OpenNebula as a change behind its back. Thread-safe.
#ifndef ONEDOCK_BRIDGE_VM_ACTIVITY_H_
#define ONEDOCK_BRIDGE_VM_ACTIVITY_H_

#include <map>
#include <mutex>
#include <string>

#include "bridge/clock.h"

namespace onedock {

class VmActivity {
 public:
  explicit VmActivity(const Clock& clock = Clock::Real()) : clock_(clock) {}

  const Clock& clock() const { return clock_; }

  void Begin(int vm_id, const std::string& host) {
    std::lock_guard lock(mu_);
    if (vms_.size() > kPruneAbove) {  // VMs long done are forgotten
      const auto now = clock_.Now();
      std::erase_if(vms_, [&](const auto& item) {
        return item.second.running == 0 && now - item.second.ended > std::chrono::hours(1);
      });
    }
    Entry& e = vms_[vm_id];
    ++e.running;
    e.host = host;
  }
  void End(int vm_id) {
    std::lock_guard lock(mu_);
    Entry& e = vms_[vm_id];
    if (e.running > 0) --e.running;
    e.ended = clock_.Now();
  }
  // True while an action runs on the VM, or until `grace` after the last one ended.
  bool Busy(int vm_id, Clock::Duration grace) const {
    std::lock_guard lock(mu_);
    auto it = vms_.find(vm_id);
    return it != vms_.end() && BusyLocked(it->second, grace);
  }
  // True when any VM acted on through `host` is busy.
  bool AnyBusyOn(const std::string& host, Clock::Duration grace) const {
    std::lock_guard lock(mu_);
    for (const auto& [id, e] : vms_) {
      if (e.host == host && BusyLocked(e, grace)) return true;
    }
    return false;
  }

 private:
  struct Entry {
    int running = 0;
    Clock::TimePoint ended{};
    std::string host;
  };
  bool BusyLocked(const Entry& e, Clock::Duration grace) const {
    return e.running > 0 || clock_.Now() - e.ended < grace;
  }

  static constexpr size_t kPruneAbove = 4096;
  const Clock& clock_;
  mutable std::mutex mu_;
  std::map<int, Entry> vms_;
};

}  // namespace onedock

#endif  // ONEDOCK_BRIDGE_VM_ACTIVITY_H_
