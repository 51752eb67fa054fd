#include "bridge/ownership.h"

#include "bridge/container_plan.h"

namespace onedock {
namespace {

std::string LabelOf(const std::map<std::string, std::string>& labels, const char* key) {
  auto it = labels.find(key);
  return it == labels.end() ? "<none>" : it->second;
}

}  // namespace

bool IsOurs(const std::map<std::string, std::string>& labels, int vm_id,
            const std::string& instance) {
  auto vm = labels.find(kLabelVmId);
  auto in = labels.find(kLabelInstance);
  return vm != labels.end() && in != labels.end() && vm->second == std::to_string(vm_id) &&
         in->second == instance;
}

Status NotOurs(const std::string& what, const std::map<std::string, std::string>& labels) {
  return Conflict(what + " is not this VM's (" + kLabelInstance + "=" +
                  LabelOf(labels, kLabelInstance) + ", " + kLabelVmId + "=" +
                  LabelOf(labels, kLabelVmId) + "): left alone");
}

}  // namespace onedock
