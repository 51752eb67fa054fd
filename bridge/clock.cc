#include "bridge/clock.h"

#include <ctime>

namespace onedock {
namespace {

class RealClock : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::steady_clock::now(); }
  int64_t UnixSeconds() const override { return static_cast<int64_t>(std::time(nullptr)); }
};

}  // namespace

const Clock& Clock::Real() {
  static const RealClock clock;
  return clock;
}

}  // namespace onedock
