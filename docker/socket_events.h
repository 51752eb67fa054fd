// SocketEvents: waits for a libcurl multi handle's transfers on epoll, through libcurl's socket
// interface (CURLMOPT_SOCKETFUNCTION and CURLMOPT_TIMERFUNCTION), so that each wake-up costs the
// sockets that are ready, not every transfer of the handle.
// Lives for one run of the multi handle's transfers on one thread: built before the first
// transfer is added, destroyed after the last one is removed. Not thread-safe.
#ifndef ONEDOCK_DOCKER_SOCKET_EVENTS_H_
#define ONEDOCK_DOCKER_SOCKET_EVENTS_H_

#include <curl/curl.h>

#include <chrono>
#include <optional>

#include "bridge/status.h"

namespace onedock::docker {

class SocketEvents {
 public:
  // Installs the callbacks on `multi` (not owned); ok() is false when epoll is unusable.
  explicit SocketEvents(CURLM* multi);
  // Removes the callbacks: the sockets libcurl closes later (those of its idle connections) are
  // no longer watched by anyone.
  ~SocketEvents();
  SocketEvents(const SocketEvents&) = delete;
  SocketEvents& operator=(const SocketEvents&) = delete;

  bool ok() const { return epoll_ >= 0; }

  // Waits at most `cap` for a ready socket or libcurl's next deadline, and lets libcurl act on
  // what came; the transfers it ended are then in curl_multi_info_read. kInternal when epoll or
  // libcurl itself fails: the transfers still in the handle are then in an unknown state.
  Status Step(std::chrono::milliseconds cap);

 private:
  static int OnSocket(CURL*, curl_socket_t socket, int what, void* self, void*);
  static int OnTimer(CURLM*, long timeout_ms, void* self);
  Status Act(curl_socket_t socket, int mask);

  CURLM* multi_;
  int epoll_;
  int watch_errno_ = 0;  // an epoll_ctl failure in OnSocket, reported by the next Step
  std::optional<std::chrono::steady_clock::time_point> due_;  // libcurl's next deadline
};

}  // namespace onedock::docker

#endif  // ONEDOCK_DOCKER_SOCKET_EVENTS_H_
