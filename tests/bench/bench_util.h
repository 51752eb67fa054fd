// What the benchmarks share: milliseconds of a steady-clock duration, order statistics of a
// sample, and a main body run with libcurl set up.
#ifndef ONEDOCK_TESTS_BENCH_BENCH_UTIL_H_
#define ONEDOCK_TESTS_BENCH_BENCH_UTIL_H_

#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <vector>

namespace onedock::bench {

using Clock = std::chrono::steady_clock;

inline double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

struct Figures {
  double median = 0, p95 = 0, min = 0, max = 0;
};

// Nearest-rank figures of a non-empty sample.
inline Figures Summarize(std::vector<double> v) {
  if (v.empty()) return {};
  std::sort(v.begin(), v.end());
  auto at = [&v](double q) {
    return v[std::min(v.size() - 1, static_cast<size_t>(q * (v.size() - 1) + 0.5))];
  };
  return {at(0.5), at(0.95), v.front(), v.back()};
}

// curl_global_init before `body`, curl_global_cleanup after; returns body's exit code.
inline int WithCurl(const std::function<int()>& body) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  const int rc = body();
  curl_global_cleanup();
  return rc;
}

}  // namespace onedock::bench

#endif  // ONEDOCK_TESTS_BENCH_BENCH_UTIL_H_
