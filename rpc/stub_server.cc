#include "rpc/stub_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

#include "bridge/base64.h"
#include "bridge/driver_router.h"
#include "bridge/log.h"
#include "bridge/net_address.h"
#include "rpc/one_parse.h"
#include "rpc/stub_protocol.h"
#include "rpc/xml_node.h"

namespace onedock::rpc {

Result<DriverCall> DecodeDriverCall(std::string kind, std::string action,
                                    std::vector<std::string> argv, const std::string& stdin_text) {
  DriverCall call{std::move(kind), std::move(action), std::move(argv), "",
                  std::nullopt,    std::nullopt,      std::nullopt};
  const auto first = stdin_text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return call;
  if (stdin_text[first] == '<') {
    call.document = stdin_text;
  } else {
    std::string compact;
    compact.reserve(stdin_text.size());
    for (char c : stdin_text) {
      if (c != '\n' && c != '\r') compact += c;
    }
    auto decoded = Base64Decode(compact);
    if (!decoded.ok())
      return InvalidArgument("stdin is neither XML nor base64: " + decoded.status().message());
    call.document = std::move(*decoded);
  }
  auto doc = ParseXml(call.document);
  if (!doc.ok()) return doc.status().WithContext("stdin document");
  if (doc->name == "DS_DRIVER_ACTION_DATA") {
    if (const XmlNode* image = doc->Child("IMAGE"); image != nullptr) {
      auto parsed = ParseActionImage(*image);
      if (!parsed.ok()) return parsed.status().WithContext("stdin <IMAGE>");
      call.image = std::move(*parsed);
    }
    if (const XmlNode* ds = doc->Child("DATASTORE"); ds != nullptr) {
      auto parsed = ParseDatastore(*ds);
      if (!parsed.ok()) return parsed.status().WithContext("stdin <DATASTORE>");
      call.datastore = std::move(*parsed);
    }
    return call;
  }
  const XmlNode* vm = doc->name == "VM" ? &*doc : doc->Child("VM");
  if (vm != nullptr) {
    auto parsed = ParseVm(*vm);
    if (!parsed.ok()) return parsed.status().WithContext("stdin <VM>");
    call.vm = std::move(*parsed);
  }
  return call;
}

namespace {

using SteadyClock = std::chrono::steady_clock;

// epoll keys that are not connections (connections are keyed by their accept sequence, from 2).
constexpr uint64_t kListenKey = 0;
constexpr uint64_t kWakeKey = 1;

// Writes all of `data` to a blocking socket; false when the peer went away or stalled.
bool SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// A complete, authenticated, vetted request waiting for a worker; owns the connection.
struct Ready {
  int fd;
  StubCall call;
};

// One lane's workers and their queue.
class Lane {
 public:
  void Start(unsigned workers, const StubHandler& handler) {
    for (unsigned i = 0; i < workers; ++i)
      threads_.emplace_back([this, &handler] { Work(handler); });
  }

  void Push(Ready ready) {
    {
      std::lock_guard lock(mu_);
      queue_.push_back(std::move(ready));
    }
    cv_.notify_one();
  }

  // Lets the calls in progress finish; closes the requests no worker took.
  void StopAndJoin() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
      for (const Ready& r : queue_) close(r.fd);
      queue_.clear();
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
    threads_.clear();
  }

 private:
  void Work(const StubHandler& handler) {
    while (true) {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      Ready ready = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      Serve(handler, std::move(ready));
    }
  }

  static void Serve(const StubHandler& handler, Ready ready) {
    StubCall& c = ready.call;
    DriverAnswer answer;
    auto call = DecodeDriverCall(c.kind, c.action, std::move(c.argv), c.stdin_text);
    if (!call.ok()) {
      answer = {1, "", "onedock " + c.action + ": " + call.status().message()};
    } else {
      try {
        answer = handler(*call);
      } catch (const std::exception& e) {
        answer = {1, "", std::string("onedockd internal error: ") + e.what()};
      }
    }
    // The stub waits for this answer; one that does not read it for 30 s is given up on.
    fcntl(ready.fd, F_SETFL, fcntl(ready.fd, F_GETFL) & ~O_NONBLOCK);
    const timeval send_timeout{30, 0};
    setsockopt(ready.fd, SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof send_timeout);
    SendAll(ready.fd, HttpAnswer(200, "text/xml", EncodeStubAnswer(answer)));
    close(ready.fd);
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Ready> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace

class StubServer::Impl {
 public:
  Impl(const StubServerOptions& options, StubHandler handler, int listen_fd, int epoll_fd,
       int wake_fd)
      : options_(options),
        handler_(std::move(handler)),
        listen_fd_(listen_fd),
        epoll_fd_(epoll_fd),
        wake_fd_(wake_fd) {}

  ~Impl() {
    for (auto& [key, c] : reading_) close(c.fd);
    close(wake_fd_);
    close(epoll_fd_);
    close(listen_fd_);
  }

  int port() const {
    sockaddr_in addr{};
    socklen_t len = sizeof addr;
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    return ntohs(addr.sin_port);
  }

  void Run() {
    lifecycle_.Start(options_.workers, handler_);
    transfer_.Start(options_.transfer_workers, handler_);
    epoll_event events[64];
    while (!stopping_.load()) {
      const int n = epoll_wait(epoll_fd_, events, 64, NextTimeoutMs());
      for (int i = 0; i < n; ++i) {
        const uint64_t key = events[i].data.u64;
        if (key == kListenKey) {
          AcceptAll();
        } else if (key == kWakeKey) {
          uint64_t count;
          (void)!read(wake_fd_, &count, sizeof count);
        } else if (auto it = reading_.find(key); it != reading_.end()) {
          OnReadable(it);
        }
      }
      Expire();
    }
    for (auto& [key, c] : reading_) close(c.fd);
    reading_.clear();
    lifecycle_.StopAndJoin();
    transfer_.StopAndJoin();
  }

  void Stop() {
    stopping_.store(true);
    const uint64_t one = 1;
    (void)!write(wake_fd_, &one, sizeof one);
  }

 private:
  // A connection whose request is being read.
  struct Reading {
    int fd;
    SteadyClock::time_point deadline;
    bool authenticated = false;  // the head was read and accepted; buffer holds the body
    size_t body_length = 0;
    std::string buffer;
  };
  using ReadingMap = std::map<uint64_t, Reading>;  // by accept sequence: oldest first

  int NextTimeoutMs() const {
    auto next = SteadyClock::time_point::max();
    for (const auto& [key, c] : reading_) next = std::min(next, c.deadline);
    if (listen_paused_) next = std::min(next, listen_resume_);
    if (next == SteadyClock::time_point::max()) return -1;
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(next - SteadyClock::now());
    return static_cast<int>(std::max<int64_t>(0, left.count()));
  }

  void AcceptAll() {
    while (true) {
      const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR) continue;
        if ((errno == EMFILE || errno == ENFILE) && DropOldestUnauthenticated()) continue;
        if (errno == EMFILE || errno == ENFILE) PauseListening();
        return;
      }
      if (reading_.size() >= options_.connections && !DropOldestUnauthenticated()) {
        close(fd);  // every connection being read holds the token: the stubs retry
        continue;
      }
      const uint64_t key = next_key_++;
      epoll_event ev{};
      ev.events = EPOLLIN | EPOLLRDHUP;
      ev.data.u64 = key;
      epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
      reading_.emplace(key, Reading{fd, SteadyClock::now() + options_.head_timeout});
    }
  }

  // Out of descriptors with nothing to drop: stop accepting for a moment instead of spinning.
  void PauseListening() {
    epoll_event ev{};
    ev.data.u64 = kListenKey;
    epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, listen_fd_, &ev);
    listen_paused_ = true;
    listen_resume_ = SteadyClock::now() + std::chrono::milliseconds(100);
  }

  bool DropOldestUnauthenticated() {
    for (auto it = reading_.begin(); it != reading_.end(); ++it) {
      if (!it->second.authenticated) {
        Refuse(it, 503, "too many connections; the oldest unauthenticated one is dropped");
        return true;
      }
    }
    return false;
  }

  void OnReadable(ReadingMap::iterator it) {
    Reading& c = it->second;
    char chunk[64 * 1024];
    while (true) {
      const size_t want = c.authenticated ? c.body_length - c.buffer.size()
                                          : kMaxStubHeadBytes + 1 - c.buffer.size();
      if (want == 0) break;
      const ssize_t n = recv(c.fd, chunk, std::min(want, sizeof chunk), 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      if (n <= 0) return Close(it);  // the peer went away
      c.buffer.append(chunk, static_cast<size_t>(n));
      if (!c.authenticated && !AcceptHead(it)) return;
      if (c.authenticated && c.buffer.size() == c.body_length) return Dispatch(it);
    }
  }

  // Once the head is complete: checks it, or refuses and closes. False when the connection is
  // closed or its head has not all come.
  bool AcceptHead(ReadingMap::iterator it) {
    Reading& c = it->second;
    const size_t end = StubHeadEnd(c.buffer);
    if (end == std::string::npos) {
      if (c.buffer.size() <= kMaxStubHeadBytes) return false;
      Refuse(it, 431, "request head larger than " + std::to_string(kMaxStubHeadBytes) + " bytes");
      return false;
    }
    StubRequestHead head;
    StubRefusal refusal;
    if (!ReadStubHead(std::string_view(c.buffer).substr(0, end), options_.token,
                      options_.max_request_bytes, &head, &refusal)) {
      Refuse(it, refusal.http_status, refusal.why);
      return false;
    }
    c.buffer.erase(0, end);
    if (c.buffer.size() > head.content_length) {
      Refuse(it, 400, "more bytes than Content-Length (one request per connection)");
      return false;
    }
    c.authenticated = true;
    c.body_length = head.content_length;
    c.buffer.reserve(head.content_length);
    c.deadline = SteadyClock::now() + options_.body_timeout;
    if (head.expect_continue && c.buffer.empty()) {
      const std::string go_on = HttpAnswer(100, "", "");
      send(c.fd, go_on.data(), go_on.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    }
    return true;
  }

  void Dispatch(ReadingMap::iterator it) {
    auto call = DecodeStubEnvelope(it->second.buffer);
    if (!call.ok()) return Refuse(it, 400, "envelope refused: " + call.status().message());
    const int fd = it->second.fd;
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
    reading_.erase(it);
    Lane& lane = LaneOf(call->kind, call->action) == DriverLane::kTransfer ? transfer_ : lifecycle_;
    lane.Push({fd, std::move(*call)});
  }

  void Expire() {
    const auto now = SteadyClock::now();
    for (auto it = reading_.begin(); it != reading_.end();) {
      auto here = it++;
      if (here->second.deadline <= now) {
        Refuse(here, 408,
               here->second.authenticated ? "request body not received in time"
                                          : "request head not received in time");
      }
    }
    if (listen_paused_ && listen_resume_ <= now) {
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = kListenKey;
      epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, listen_fd_, &ev);
      listen_paused_ = false;
    }
  }

  // Answers with `status` if the socket takes it at once (a refusal is a few hundred bytes), and
  // closes. What the peer already sent is read first (16 KB at most), since closing over
  // unread bytes resets the connection and the answer may be lost.
  void Refuse(ReadingMap::iterator it, int status, const std::string& why) {
    NamedLogger("stubs")->debug("refused a stub connection: {} {}", status, why);
    const int fd = it->second.fd;
    const std::string answer = HttpAnswer(status, "text/plain", why + "\n");
    send(fd, answer.data(), answer.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    shutdown(fd, SHUT_WR);
    char drain[16384];
    (void)!recv(fd, drain, sizeof drain, MSG_DONTWAIT);
    Close(it);
  }

  void Close(ReadingMap::iterator it) {
    close(it->second.fd);  // also leaves the epoll set
    reading_.erase(it);
  }

  const StubServerOptions options_;
  const StubHandler handler_;
  const int listen_fd_, epoll_fd_, wake_fd_;
  std::atomic<bool> stopping_{false};
  ReadingMap reading_;  // the event loop's only
  uint64_t next_key_ = 2;
  bool listen_paused_ = false;
  SteadyClock::time_point listen_resume_;
  Lane lifecycle_, transfer_;
};

StubServer::StubServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
StubServer::~StubServer() = default;
int StubServer::port() const { return impl_->port(); }
void StubServer::Run() { impl_->Run(); }
void StubServer::Stop() { impl_->Stop(); }

Result<std::unique_ptr<StubServer>> StubServer::Listen(const StubServerOptions& options,
                                                       StubHandler handler) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(options.port));
  if (!IsIpv4Loopback(options.address) ||
      inet_pton(AF_INET, options.address.c_str(), &addr.sin_addr) != 1) {
    return InvalidArgument("stub endpoint address " + options.address +
                           " is not an IPv4 loopback address");
  }
  if (options.token.size() < 16) return InvalidArgument("stub token is shorter than 16 characters");
  if (options.workers == 0 || options.transfer_workers == 0 || options.connections == 0)
    return InvalidArgument("stub endpoint needs workers, transfer workers and connections");
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  const int one = 1;
  if (fd >= 0) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      listen(fd, 512) != 0) {
    const std::string err = std::strerror(errno);
    if (fd >= 0) close(fd);
    return Unavailable("stub endpoint " + options.address + ":" + std::to_string(options.port) +
                       ": " + err);
  }
  const int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  const int wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epoll_fd < 0 || wake_fd < 0) {
    const std::string err = std::strerror(errno);
    close(fd);
    if (epoll_fd >= 0) close(epoll_fd);
    if (wake_fd >= 0) close(wake_fd);
    return Unavailable("stub endpoint: " + err);
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kListenKey;
  epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev);
  ev.data.u64 = kWakeKey;
  epoll_ctl(epoll_fd, EPOLL_CTL_ADD, wake_fd, &ev);
  return std::unique_ptr<StubServer>(
      new StubServer(std::make_unique<Impl>(options, std::move(handler), fd, epoll_fd, wake_fd)));
}

}  // namespace onedock::rpc
