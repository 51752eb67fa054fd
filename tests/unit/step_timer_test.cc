#include "bridge/step_timer.h"

#include <doctest/doctest.h>

#include "tests/fakes/fake_clock.h"

namespace onedock {
namespace {

TEST_CASE("a step timer gives each step the time since the last mark, in the order first marked") {
  fakes::FakeClock clock;
  StepTimer steps(clock);
  CHECK(steps.Summary().empty());
  clock.Advance(std::chrono::microseconds(2150));
  steps.Mark("vnets");
  steps.Mark("plan");  // nothing passed
  clock.Advance(std::chrono::milliseconds(40));
  steps.Mark("inspect");
  clock.Advance(std::chrono::milliseconds(10));
  steps.Mark("vnets");  // a second time adds up, in its first place
  CHECK(steps.Summary() == "vnets 12.2 ms, plan 0.0 ms, inspect 40.0 ms");
}

}  // namespace
}  // namespace onedock
