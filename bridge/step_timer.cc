#include "bridge/step_timer.h"

#include <chrono>
#include <cstdio>

namespace onedock {

void StepTimer::Mark(std::string_view step) {
  const Clock::TimePoint now = clock_.Now();
  const Clock::Duration took = now - last_;
  last_ = now;
  for (auto& [name, total] : steps_) {
    if (name == step) {
      total += took;
      return;
    }
  }
  steps_.emplace_back(std::string(step), took);
}

std::string StepTimer::Summary() const {
  std::string out;
  for (const auto& [name, total] : steps_) {
    char ms[32];
    std::snprintf(ms, sizeof ms, "%.1f", std::chrono::duration<double, std::milli>(total).count());
    out += (out.empty() ? "" : ", ") + name + " " + ms + " ms";
  }
  return out;
}

}  // namespace onedock
