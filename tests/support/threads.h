// The number of threads this process has now, from /proc/self/task: what the tests and
// benchmarks that bound onedock's threads count.
#ifndef ONEDOCK_TESTS_SUPPORT_THREADS_H_
#define ONEDOCK_TESTS_SUPPORT_THREADS_H_

#include <cstddef>
#include <filesystem>

namespace onedock::testing {

inline size_t ThreadsOfThisProcess() {
  size_t n = 0;
  for ([[maybe_unused]] const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    ++n;
  }
  return n;
}

}  // namespace onedock::testing

#endif  // ONEDOCK_TESTS_SUPPORT_THREADS_H_
