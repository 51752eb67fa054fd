// FakeMonitord: a MonitordSink that keeps what it is sent. Thread-safe.
#ifndef ONEDOCK_TESTS_FAKES_FAKE_MONITORD_H_
#define ONEDOCK_TESTS_FAKES_FAKE_MONITORD_H_

#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "bridge/monitord.h"

namespace onedock::fakes {

class FakeMonitord : public MonitordSink {
 public:
  Status Send(const MonitordAddress&, const MonitordMessage& message) override {
    std::lock_guard lock(mu_);
    sent_.push_back(message);
    return Status::Ok();
  }
  // The messages sent since the last call, oldest first.
  std::vector<MonitordMessage> Take() {
    std::lock_guard lock(mu_);
    return std::exchange(sent_, {});
  }

 private:
  std::mutex mu_;
  std::vector<MonitordMessage> sent_;
};

}  // namespace onedock::fakes

#endif  // ONEDOCK_TESTS_FAKES_FAKE_MONITORD_H_
