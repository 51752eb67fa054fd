// FakeOne: OneApi over records held in memory; `down` makes every call fail as an oned
// that does not answer.
#ifndef ONEDOCK_TESTS_FAKES_FAKE_ONE_H_
#define ONEDOCK_TESTS_FAKES_FAKE_ONE_H_

#include <map>
#include <string>
#include <vector>

#include "bridge/one_api.h"

namespace onedock::fakes {

class FakeOne : public OneApi {
 public:
  std::map<int, Vm> vms;
  std::map<int, Vnet> vnets;
  std::map<int, Image> images;
  std::map<int, Host> hosts;
  bool down = false;
  int pool_reads = 0;

  Result<Vm> VmInfo(int id) override { return Find(vms, id, "vm"); }
  Result<Vnet> VnetInfo(int id) override { return Find(vnets, id, "vnet"); }
  Result<Image> ImageInfo(int id) override { return Find(images, id, "image"); }
  Result<std::vector<Vm>> LiveVms() override {
    ++pool_reads;
    if (down) return Unavailable("oned does not answer");
    std::vector<Vm> out;
    for (const auto& [id, vm] : vms) {
      if (vm.state != kVmDone) out.push_back(vm);
    }
    return out;
  }
  Result<std::vector<Host>> Hosts() override {
    if (down) return Unavailable("oned does not answer");
    std::vector<Host> out;
    for (const auto& [id, h] : hosts) out.push_back(h);
    return out;
  }

 private:
  template <typename T>
  Result<T> Find(const std::map<int, T>& records, int id, const std::string& what) const {
    if (down) return Unavailable("oned does not answer");
    auto it = records.find(id);
    if (it == records.end())
      return NotFound("oned: " + what + " " + std::to_string(id) + " does not exist");
    return it->second;
  }
};

}  // namespace onedock::fakes

#endif  // ONEDOCK_TESTS_FAKES_FAKE_ONE_H_
