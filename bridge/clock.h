// Clock: where onedock's decisions read the time. Steady time orders events and measures graces
// and periods; wall time stamps what is sent to OpenNebula. Clock::Real() is the system's; tests
// substitute tests/fakes/fake_clock.h. Implementations are thread-safe.
#ifndef ONEDOCK_BRIDGE_CLOCK_H_
#define ONEDOCK_BRIDGE_CLOCK_H_

#include <chrono>
#include <cstdint>

namespace onedock {

class Clock {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  using Duration = std::chrono::steady_clock::duration;

  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
  virtual int64_t UnixSeconds() const = 0;

  // The process's clock: std::chrono::steady_clock and the system's wall time.
  static const Clock& Real();
};

}  // namespace onedock

#endif  // ONEDOCK_BRIDGE_CLOCK_H_
