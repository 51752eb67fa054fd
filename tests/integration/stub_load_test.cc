// The stub endpoint of a real onedockd under hostile clients of every kind at once (see
// tests/support/stub_load.h): every legitimate call is answered correctly and in bounded time,
// no hostile request is served, onedockd stays up and its memory stays small. Generous bounds;
// the figures are stub_bench's.
#include "tests/support/stub_load.h"

#include <doctest/doctest.h>

#include <algorithm>

namespace onedock::testing {

TEST_CASE("stub endpoint load: hostile floods and 200 tricklers while driver calls are served") {
  StubLoadOptions options;
  options.onedockd_bin = ONEDOCKD_BIN;
  options.stub_bin = ONEDOCK_STUB_BIN;
  options.duration = std::chrono::seconds(8);
  options.stub_binary_calls = 6;
  auto result = RunStubLoad(options);
  REQUIRE_MESSAGE(result.ok(), result.status().ToString());
  INFO("onedockd log:\n" << result->log.substr(0, 4000));
  CHECK(result->alive_after);
  CHECK(result->legit_calls >= 20);
  CHECK(result->legit_wrong == 0);
  CHECK(*std::max_element(result->legit_ms.begin(), result->legit_ms.end()) < 5000);
  CHECK(result->stub_binary_ok == options.stub_binary_calls);
  // The tricklers were cut off and came back, and never got anything served.
  CHECK(result->trickler_reconnects >= options.tricklers);
  for (const auto& [kind, statuses] : result->hostile) {
    CAPTURE(kind);
    CHECK(statuses.count(200) == 0);
    int answered = 0;
    for (const auto& [status, count] : statuses) answered += status != 0 ? count : 0;
    CHECK(answered > 0);  // each kind was refused with an answer, not only reset
  }
  // The old endpoint took 2.2 GB from three 32 MB requests; the peak now is tens of MB.
  CHECK(result->peak_rss_kb > 0);
  CHECK(result->peak_rss_kb < 256 * 1024);
}

}  // namespace onedock::testing
