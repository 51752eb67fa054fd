// TrimGate: when the heap is given back to the system after connections closed. malloc_trim walks
// every arena and gives back each free page range with its own madvise, and each of those flushes
// the TLB of every CPU: with hundreds of MB of heap, one trim costs tens of ms of CPU. Hosts lower
// their share of connections together (a START_MONITOR changes every host's share), so one trim,
// at most every `interval`, serves all the transports that closed connections meanwhile. Pure:
// the caller passes the time and trims when Take says so. Not thread-safe; TrimAfterClosing is.
#ifndef ONEDOCK_DOCKER_MEMORY_TRIM_H_
#define ONEDOCK_DOCKER_MEMORY_TRIM_H_

#include <chrono>
#include <optional>

namespace onedock::docker {

class TrimGate {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  explicit TrimGate(std::chrono::steady_clock::duration interval) : interval_(interval) {}

  // Called after each batch of requests; `closed` when it closed connections. True when the heap
  // should be trimmed now: something closed since the last trim, and the last one is `interval`
  // old (a closing within the interval waits for the next call after it).
  bool Take(bool closed, TimePoint now) {
    pending_ = pending_ || closed;
    if (!pending_ || (last_ && now - *last_ < interval_)) return false;
    pending_ = false;
    last_ = now;
    return true;
  }

 private:
  std::chrono::steady_clock::duration interval_;
  bool pending_ = false;
  std::optional<TimePoint> last_;
};

// The process's gate (10 s), then malloc_trim when it opens.
void TrimAfterClosing(bool closed);

}  // namespace onedock::docker

#endif  // ONEDOCK_DOCKER_MEMORY_TRIM_H_
