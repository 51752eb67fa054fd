// FakeMonitoring: HostMonitoring that records the hosts it is asked to start and stop.
#ifndef ONEDOCK_TESTS_FAKES_FAKE_MONITORING_H_
#define ONEDOCK_TESTS_FAKES_FAKE_MONITORING_H_

#include <map>
#include <string>

#include "bridge/monitord.h"

namespace onedock::fakes {

class FakeMonitoring : public HostMonitoring {
 public:
  std::map<int, std::string> started;  // host id → the configuration text it came with
  Result<std::string> StartMonitoring(int host_id, const std::string&,
                                      const std::string& configuration) override {
    started[host_id] = configuration;
    return std::string("<MONITOR_MESSAGES/>");
  }
  Status StopMonitoring(int host_id, const std::string&) override {
    started.erase(host_id);
    return Status::Ok();
  }
};

}  // namespace onedock::fakes

#endif  // ONEDOCK_TESTS_FAKES_FAKE_MONITORING_H_
