// The number of threads this process has now, from /proc/self/task: what the tests and
// benchmarks that bound onedock's threads count.
#ifndef ONEDOCK_TESTS_SUPPORT_THREADS_H_
#define ONEDOCK_TESTS_SUPPORT_THREADS_H_

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <thread>

namespace onedock::testing {

inline size_t ThreadsOfThisProcess() {
  size_t n = 0;
  for ([[maybe_unused]] const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    ++n;
  }
  return n;
}

// The threads of this process once `expected` is reached or 2 s have passed: a joined thread can
// stay listed in /proc for a moment after pthread_join returns.
inline size_t ThreadsOfThisProcessSettledAt(size_t expected) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  size_t n = ThreadsOfThisProcess();
  while (n != expected && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    n = ThreadsOfThisProcess();
  }
  return n;
}

}  // namespace onedock::testing

#endif  // ONEDOCK_TESTS_SUPPORT_THREADS_H_
