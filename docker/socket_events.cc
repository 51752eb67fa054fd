#include "docker/socket_events.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

namespace onedock::docker {

SocketEvents::SocketEvents(CURLM* multi) : multi_(multi), epoll_(epoll_create1(EPOLL_CLOEXEC)) {
  if (epoll_ < 0) return;
  curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, OnSocket);
  curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
  curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, OnTimer);
  curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
}

SocketEvents::~SocketEvents() {
  if (epoll_ < 0) return;
  curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, nullptr);
  curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, nullptr);
  curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, nullptr);
  curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, nullptr);
  close(epoll_);
}

Status SocketEvents::Act(curl_socket_t socket, int mask) {
  int running = 0;
  const CURLMcode rc = curl_multi_socket_action(multi_, socket, mask, &running);
  if (watch_errno_ != 0) {
    return Internal(std::string("cannot watch a socket of the engine: ") +
                    std::strerror(watch_errno_));
  }
  if (rc != CURLM_OK) return Internal(std::string("libcurl: ") + curl_multi_strerror(rc));
  return Status::Ok();
}

Status SocketEvents::Step(std::chrono::milliseconds cap) {
  auto wait = cap;
  if (due_) {
    // Rounded up: a wake-up before libcurl's deadline would find nothing due.
    wait = std::clamp(
        std::chrono::ceil<std::chrono::milliseconds>(*due_ - std::chrono::steady_clock::now()),
        std::chrono::milliseconds(0), cap);
  }
  epoll_event ready[64];
  const int n = epoll_wait(epoll_, ready, 64, static_cast<int>(wait.count()));
  if (n < 0 && errno != EINTR) {
    return Internal(std::string("cannot wait for the engine's sockets: ") + std::strerror(errno));
  }
  for (int i = 0; i < n; ++i) {
    // Errors and hang-ups are left to libcurl to find on the read or write they make fail.
    const uint32_t events = ready[i].events;
    int mask = 0;
    if (events & EPOLLIN) mask |= CURL_CSELECT_IN;
    if (events & EPOLLOUT) mask |= CURL_CSELECT_OUT;
    if (mask == 0) mask = CURL_CSELECT_IN | CURL_CSELECT_OUT;
    if (Status s = Act(ready[i].data.fd, mask); !s.ok()) return s;
  }
  if (n > 0 && !(due_ && std::chrono::steady_clock::now() >= *due_)) return Status::Ok();
  due_.reset();  // OnTimer sets the next one, if libcurl's earliest deadline changes
  if (Status s = Act(CURL_SOCKET_TIMEOUT, 0); !s.ok()) return s;
  if (!due_) {
    // Nothing was due yet (a wake-up by a signal or a clock's rounding), or the earliest deadline
    // stayed the same: libcurl calls OnTimer only when it changes.
    long ms = -1;
    if (curl_multi_timeout(multi_, &ms) == CURLM_OK && ms >= 0)
      due_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  }
  return Status::Ok();
}

int SocketEvents::OnSocket(CURL*, curl_socket_t socket, int what, void* self, void*) {
  auto* events = static_cast<SocketEvents*>(self);
  if (what == CURL_POLL_REMOVE) {
    // libcurl may have closed the socket already, which took it out of the set.
    if (epoll_ctl(events->epoll_, EPOLL_CTL_DEL, socket, nullptr) != 0 && errno != ENOENT &&
        errno != EBADF) {
      events->watch_errno_ = errno;
      return -1;
    }
    return 0;
  }
  epoll_event wanted{};
  wanted.data.fd = socket;
  if (what & CURL_POLL_IN) wanted.events |= EPOLLIN;
  if (what & CURL_POLL_OUT) wanted.events |= EPOLLOUT;
  if (epoll_ctl(events->epoll_, EPOLL_CTL_MOD, socket, &wanted) == 0) return 0;
  if (errno == ENOENT && epoll_ctl(events->epoll_, EPOLL_CTL_ADD, socket, &wanted) == 0) return 0;
  // Unwatched, the transfer would only wait out its deadline: libcurl stops the run instead.
  events->watch_errno_ = errno;
  return -1;
}

int SocketEvents::OnTimer(CURLM*, long timeout_ms, void* self) {
  auto* events = static_cast<SocketEvents*>(self);
  if (timeout_ms < 0) {
    events->due_.reset();
  } else {
    events->due_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  }
  return 0;
}

}  // namespace onedock::docker
