// FakeEngines: EngineProvider over FakeEngines held by host name. A host not in `hosts`
// has an engine that does not answer. Leases do not own their engine; several may be out at once.
#ifndef ONEDOCK_TESTS_FAKES_FAKE_ENGINES_H_
#define ONEDOCK_TESTS_FAKES_FAKE_ENGINES_H_

#include <atomic>
#include <map>
#include <string>

#include "tests/fakes/fake_engine.h"

namespace onedock::fakes {

class FakeEngines : public EngineProvider {
 public:
  std::map<std::string, FakeEngine> hosts;
  std::atomic<int> acquired = 0;      // leases may be taken from several threads
  std::atomic<int> acquired_own = 0;  // of which AcquireOwn's

  Result<Lease> Acquire(const std::string& host) override {
    auto it = hosts.find(host);
    if (it == hosts.end()) return Unavailable("engine of " + host + " does not answer");
    ++acquired;
    return Lease(&it->second, [](Engine*) {});
  }
  Result<Lease> AcquireOwn(const std::string& host) override {
    auto lease = Acquire(host);
    if (lease.ok()) ++acquired_own;
    return lease;
  }
  std::string Describe(const std::string& host) const override { return "fake://" + host; }
};

}  // namespace onedock::fakes

#endif  // ONEDOCK_TESTS_FAKES_FAKE_ENGINES_H_
