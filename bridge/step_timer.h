// StepTimer: how long each step of one action took, on a clock tests can fake, for the debug line
// an action logs when it is done ("vnets 2.1 ms, plan 0.1 ms, …") and deploy_bench reads. A step
// marked twice adds up. Plain value; one thread.
#ifndef ONEDOCK_BRIDGE_STEP_TIMER_H_
#define ONEDOCK_BRIDGE_STEP_TIMER_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bridge/clock.h"

namespace onedock {

class StepTimer {
 public:
  explicit StepTimer(const Clock& clock) : clock_(clock), last_(clock.Now()) {}

  // The time since the previous mark (or since the timer was made) is `step`'s.
  void Mark(std::string_view step);
  // "vnets 2.1 ms, plan 0.1 ms", in the order the steps were first marked.
  std::string Summary() const;

 private:
  const Clock& clock_;
  Clock::TimePoint last_;
  std::vector<std::pair<std::string, Clock::Duration>> steps_;
};

}  // namespace onedock

#endif  // ONEDOCK_BRIDGE_STEP_TIMER_H_
