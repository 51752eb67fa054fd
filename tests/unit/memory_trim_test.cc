// When the heap is trimmed after connections closed: once for closings close together, never
// without a closing, and a closing inside the interval is trimmed at the first call after it.
#include "docker/memory_trim.h"

#include <doctest/doctest.h>

namespace onedock::docker {
namespace {

using std::chrono::seconds;

TEST_CASE("one trim serves the closings of an interval, and none comes without a closing") {
  TrimGate gate(seconds(10));
  const TrimGate::TimePoint t0{seconds(1000)};
  CHECK_FALSE(gate.Take(false, t0));              // nothing closed yet
  CHECK(gate.Take(true, t0));                     // the first closing trims at once
  CHECK_FALSE(gate.Take(true, t0 + seconds(1)));  // within the interval: waits
  CHECK_FALSE(gate.Take(false, t0 + seconds(9)));
  CHECK(gate.Take(false, t0 + seconds(10)));        // the waiting closing, at the first call after
  CHECK_FALSE(gate.Take(false, t0 + seconds(30)));  // nothing closed since
  CHECK(gate.Take(true, t0 + seconds(31)));         // a closing long after: at once
}

}  // namespace
}  // namespace onedock::docker
