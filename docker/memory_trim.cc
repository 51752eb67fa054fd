#include "docker/memory_trim.h"

#include <malloc.h>

#include <mutex>

namespace onedock::docker {

void TrimAfterClosing(bool closed) {
  static std::mutex mu;
  static TrimGate gate(std::chrono::seconds(10));
  bool trim;
  {
    std::lock_guard lock(mu);
    trim = gate.Take(closed, std::chrono::steady_clock::now());
  }
  if (trim) malloc_trim(0);
}

}  // namespace onedock::docker
