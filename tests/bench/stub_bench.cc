// Benchmark (not a test): the stub endpoint of a real onedockd under hostile load. For `seconds`
// (default 10), 200 connections trickle a request head a byte every 100 ms and come straight back
// when cut off, and `flood` threads per kind send 32 MB bodies (with and without the token),
// 900-deep nested envelopes (with and without), entity bombs (with the token), and calls without
// or with a wrong token; meanwhile `legit` threads make driver calls one after another, and
// onedock-stub itself is exec'd now and then. Prints the legitimate calls' latency, what each
// hostile kind was answered, and onedockd's resident set before and at its peak (VmHWM).
// Usage: stub_bench [seconds=10] [flood=3] [legit=4] [tricklers=200]
#include <cstdio>
#include <cstdlib>

#include "tests/bench/bench_util.h"
#include "tests/support/stub_load.h"

int main(int argc, char** argv) {
  onedock::testing::StubLoadOptions options;
  options.onedockd_bin = ONEDOCKD_BIN;
  options.stub_bin = ONEDOCK_STUB_BIN;
  if (argc > 1) options.duration = std::chrono::seconds(std::atoi(argv[1]));
  if (argc > 2) options.flood_threads = std::atoi(argv[2]);
  if (argc > 3) options.legit_threads = std::atoi(argv[3]);
  if (argc > 4) options.tricklers = std::atoi(argv[4]);
  auto result = onedock::testing::RunStubLoad(options);
  if (!result.ok()) {
    std::fprintf(stderr, "stub_bench: %s\n", result.status().ToString().c_str());
    return 1;
  }
  const auto f = onedock::bench::Summarize(result->legit_ms);
  std::printf(
      "stub endpoint under load: %lld s, %d tricklers (%d reconnects), %d threads per "
      "hostile kind\n",
      static_cast<long long>(options.duration.count()), options.tricklers,
      result->trickler_reconnects, options.flood_threads);
  std::printf("legitimate calls: %d answered, %d wrong; ms median %.2f p95 %.2f max %.2f\n",
              result->legit_calls, result->legit_wrong, f.median, f.p95, f.max);
  std::printf("onedock-stub exec'd: %d of %d as expected\n", result->stub_binary_ok,
              options.stub_binary_calls);
  for (const auto& [kind, statuses] : result->hostile) {
    std::printf("  %-28s", kind.c_str());
    for (const auto& [status, count] : statuses) std::printf(" HTTP %d x%d", status, count);
    std::printf("\n");
  }
  std::printf("onedockd: alive %s, VmRSS before %ld kB, VmHWM %ld kB, %ld threads\n",
              result->alive_after ? "yes" : "NO", result->rss_before_kb, result->peak_rss_kb,
              result->threads);
  return result->alive_after && result->legit_wrong == 0 ? 0 : 1;
}
