// FakeClock: a Clock that moves only when the test says so.
#ifndef ONEDOCK_TESTS_FAKES_FAKE_CLOCK_H_
#define ONEDOCK_TESTS_FAKES_FAKE_CLOCK_H_

#include <atomic>

#include "bridge/clock.h"

namespace onedock::fakes {

class FakeClock : public Clock {
 public:
  // Starts at steady time 1000 s and wall time 1,800,000,000 (2027-01-15).
  TimePoint Now() const override { return TimePoint(std::chrono::nanoseconds(now_ns_.load())); }
  int64_t UnixSeconds() const override { return kWallStart + now_ns_.load() / 1000000000; }
  void Advance(Duration d) {
    now_ns_ += std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
  }

 private:
  static constexpr int64_t kWallStart = 1800000000 - 1000;
  std::atomic<int64_t> now_ns_{int64_t{1000} * 1000000000};
};

}  // namespace onedock::fakes

#endif  // ONEDOCK_TESTS_FAKES_FAKE_CLOCK_H_
