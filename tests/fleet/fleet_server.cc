#include "tests/fleet/fleet_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <unordered_set>

#include "tests/fleet/fleet_http.h"

namespace onedock::fleet {
namespace {

constexpr size_t kMaxHead = 64 * 1024;     // request line and headers
constexpr size_t kMaxBuffered = 1u << 20;  // unread input of one connection

int64_t NowNs() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

enum class Kind { kListener, kConn, kTimer };

struct Pollee {
  Kind kind;
};

struct Listener : Pollee {
  int fd = -1;
  int host = 0;
  int port = 0;
};

struct Conn : Pollee {
  int fd = -1;
  SSL* ssl = nullptr;
  int host = 0;
  bool handshaken = false;
  bool want_write = false;  // the last TLS operation needs the socket writable
  bool close_after_write = false;
  bool closed = false;
  uint32_t mask = 0;
  std::string in, out;
  size_t out_off = 0;
  size_t body_left = 0;  // bytes of a request body still to skip
  enum class State { kReading, kWaitingStats, kStreaming } state = State::kReading;
  std::string stats_key;
  Filters filters;  // an events stream's
};

}  // namespace

struct FleetServer::Impl {
  explicit Impl(ServerOptions o)
      : options(std::move(o)),
        model(options.hosts, options.containers, options.instance, NowNs()) {}

  ServerOptions options;
  FleetModel model;
  SSL_CTX* ctx = nullptr;
  int epoll_fd = -1;
  Pollee timer{Kind::kTimer};
  int timer_fd = -1;
  std::vector<Listener> listeners;
  std::unordered_set<Conn*> waiting;               // stats held until the next tick
  std::vector<std::unordered_set<Conn*>> streams;  // per host: open /events streams
  std::vector<Conn*> graveyard;                    // closed in this round, freed after it
  bool out_of_fds_logged = false;

  bool Listen(std::string* error);
  void Run();
  void Accept(Listener& l);
  void Drive(Conn* c);
  void ReadAll(Conn* c);
  void Flush(Conn* c);
  void Rearm(Conn* c);
  void Close(Conn* c);
  void ProcessRequests(Conn* c);
  void Handle(Conn* c, const Request& r);
  void OnTick();
  void DeliverEvents();
};

FleetServer::FleetServer(ServerOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}
FleetServer::~FleetServer() = default;
bool FleetServer::Listen(std::string* error) { return impl_->Listen(error); }
int FleetServer::port(int i) const { return impl_->listeners[static_cast<size_t>(i)].port; }
void FleetServer::Run() { impl_->Run(); }

bool FleetServer::Impl::Listen(std::string* error) {
  ctx = SSL_CTX_new(TLS_server_method());
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                            SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  // Resumption uses stateless tickets: a server-side cache would keep a session (with the
  // client's parsed certificate) per connection ever made.
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  if (SSL_CTX_use_certificate_chain_file(ctx, options.cert.c_str()) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx, options.key.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(ctx) != 1) {
    *error = "cannot use certificate " + options.cert + " with key " + options.key;
    return false;
  }
  // Like dockerd --tlsverify: a client without a certificate from this CA is refused.
  if (SSL_CTX_load_verify_locations(ctx, options.ca.c_str(), nullptr) != 1) {
    *error = "cannot read CA " + options.ca;
    return false;
  }
  if (options.verify_client) {
    SSL_CTX_set_client_CA_list(ctx, SSL_load_client_CA_file(options.ca.c_str()));
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }

  epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  streams.resize(static_cast<size_t>(options.hosts));
  listeners.resize(static_cast<size_t>(options.hosts));
  for (int i = 0; i < options.hosts; ++i) {
    Listener& l = listeners[static_cast<size_t>(i)];
    l.kind = Kind::kListener;
    l.host = i;
    l.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    const int one = 1;
    setsockopt(l.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port =
        htons(static_cast<uint16_t>(options.first_port > 0 ? options.first_port + i : 0));
    if (bind(l.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        listen(l.fd, 4096) != 0) {
      *error = "cannot listen on 127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + ": " +
               std::strerror(errno);
      return false;
    }
    socklen_t len = sizeof addr;
    getsockname(l.fd, reinterpret_cast<sockaddr*>(&addr), &len);
    l.port = ntohs(addr.sin_port);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = &l;
    epoll_ctl(epoll_fd, EPOLL_CTL_ADD, l.fd, &ev);
  }
  // The collector ticks on whole seconds of the wall clock, as one interval timer.
  timer_fd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC);
  itimerspec spec{};
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  spec.it_value.tv_sec = now.tv_sec + 1;
  spec.it_interval.tv_sec = 1;
  timerfd_settime(timer_fd, TFD_TIMER_ABSTIME, &spec, nullptr);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = &timer;
  epoll_ctl(epoll_fd, EPOLL_CTL_ADD, timer_fd, &ev);
  return true;
}

void FleetServer::Impl::Run() {
  std::vector<epoll_event> events(1024);
  for (;;) {
    const int n = epoll_wait(epoll_fd, events.data(), static_cast<int>(events.size()), -1);
    if (n < 0 && errno == EINTR) continue;
    for (int i = 0; i < n; ++i) {
      auto* p = static_cast<Pollee*>(events[static_cast<size_t>(i)].data.ptr);
      switch (p->kind) {
        case Kind::kListener:
          Accept(*static_cast<Listener*>(p));
          break;
        case Kind::kTimer:
          OnTick();
          break;
        case Kind::kConn: {
          auto* c = static_cast<Conn*>(p);
          if (c->closed) break;
          if (events[static_cast<size_t>(i)].events & EPOLLERR) {
            Close(c);
          } else {
            Drive(c);
          }
          break;
        }
      }
    }
    DeliverEvents();
    for (Conn* c : graveyard) delete c;
    graveyard.clear();
  }
}

void FleetServer::Impl::Accept(Listener& l) {
  for (;;) {
    const int fd = accept4(l.fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if ((errno == EMFILE || errno == ENFILE) && !out_of_fds_logged) {
        std::fprintf(stderr, "fake_fleet: out of file descriptors; connections wait\n");
        out_of_fds_logged = true;
      }
      return;
    }
    auto* c = new Conn{};
    c->kind = Kind::kConn;
    c->fd = fd;
    c->host = l.host;
    c->ssl = SSL_new(ctx);
    SSL_set_fd(c->ssl, fd);
    SSL_set_accept_state(c->ssl);
    c->mask = EPOLLIN;
    epoll_event ev{};
    ev.events = c->mask;
    ev.data.ptr = c;
    epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev);
  }
}

void FleetServer::Impl::Close(Conn* c) {
  if (c->closed) return;
  c->closed = true;
  epoll_ctl(epoll_fd, EPOLL_CTL_DEL, c->fd, nullptr);
  SSL_free(c->ssl);
  close(c->fd);
  waiting.erase(c);
  streams[static_cast<size_t>(c->host)].erase(c);
  graveyard.push_back(c);
}

void FleetServer::Impl::Drive(Conn* c) {
  if (!c->handshaken) {
    const int r = SSL_do_handshake(c->ssl);
    if (r != 1) {
      const int e = SSL_get_error(c->ssl, r);
      if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        c->want_write = e == SSL_ERROR_WANT_WRITE;
        Rearm(c);
      } else {
        ERR_clear_error();  // a client that failed verification, or went away
        Close(c);
      }
      return;
    }
    c->handshaken = true;
  }
  c->want_write = false;
  Flush(c);
  if (c->closed) return;
  ReadAll(c);
  if (c->closed) return;
  if (c->state == Conn::State::kReading) ProcessRequests(c);
  if (c->closed) return;
  Flush(c);
  if (!c->closed) Rearm(c);
}

void FleetServer::Impl::ReadAll(Conn* c) {
  char buf[16384];
  for (;;) {
    const int n = SSL_read(c->ssl, buf, sizeof buf);
    if (n > 0) {
      if (c->in.size() + static_cast<size_t>(n) > kMaxBuffered) {
        Close(c);
        return;
      }
      c->in.append(buf, static_cast<size_t>(n));
      continue;
    }
    const int e = SSL_get_error(c->ssl, n);
    if (e == SSL_ERROR_WANT_READ) return;
    if (e == SSL_ERROR_WANT_WRITE) {
      c->want_write = true;
      return;
    }
    ERR_clear_error();
    Close(c);  // closed by the peer, or broken
    return;
  }
}

void FleetServer::Impl::Flush(Conn* c) {
  while (c->out_off < c->out.size()) {
    const size_t left = c->out.size() - c->out_off;
    const int n = SSL_write(c->ssl, c->out.data() + c->out_off,
                            static_cast<int>(std::min<size_t>(left, 1u << 20)));
    if (n > 0) {
      c->out_off += static_cast<size_t>(n);
      continue;
    }
    const int e = SSL_get_error(c->ssl, n);
    if (e == SSL_ERROR_WANT_WRITE) {
      c->want_write = true;
      return;
    }
    if (e == SSL_ERROR_WANT_READ) return;
    ERR_clear_error();
    Close(c);
    return;
  }
  std::string().swap(c->out);  // idle connections hold no buffer: there are thousands
  c->out_off = 0;
  if (c->close_after_write) Close(c);
}

void FleetServer::Impl::Rearm(Conn* c) {
  const uint32_t mask = EPOLLIN | ((c->want_write || c->out_off < c->out.size()) ? EPOLLOUT : 0u);
  if (mask == c->mask) return;
  c->mask = mask;
  epoll_event ev{};
  ev.events = mask;
  ev.data.ptr = c;
  epoll_ctl(epoll_fd, EPOLL_CTL_MOD, c->fd, &ev);
}

void FleetServer::Impl::ProcessRequests(Conn* c) {
  while (c->state == Conn::State::kReading && !c->close_after_write) {
    if (c->body_left > 0) {
      const size_t skip = std::min(c->body_left, c->in.size());
      c->in.erase(0, skip);
      c->body_left -= skip;
      if (c->body_left > 0) break;
    }
    const size_t end = c->in.find("\r\n\r\n");
    if (end == std::string::npos) {
      if (c->in.size() > kMaxHead) {
        c->out += ErrorReply(431, "request headers too large");
        c->close_after_write = true;
      }
      break;
    }
    Request r = ParseRequest(std::string_view(c->in).substr(0, end));
    c->in.erase(0, end + 4);
    if (!r.ok) {
      c->out += ErrorReply(400, "malformed request");
      c->close_after_write = true;
      break;
    }
    c->body_left = r.content_length;
    Handle(c, r);
    if (!r.keep_alive) c->close_after_write = true;
  }
  if (c->in.empty()) std::string().swap(c->in);
}

void FleetServer::Impl::Handle(Conn* c, const Request& r) {
  const int64_t now = NowNs();
  Route route = RouteOf(r);
  switch (route.kind) {
    case Route::kNotFound:
      c->out += ErrorReply(404, "page not found");
      return;
    case Route::kTooNew:
      c->out += ErrorReply(400, "client version " + route.version +
                                    " is too new. Maximum supported API version is 1.41");
      return;
    case Route::kPing:
      c->out += Reply(200, "OK", "text/plain; charset=utf-8");
      return;
    case Route::kVersion:
      c->out += JsonReply(200, model.Version());
      return;
    case Route::kInfo:
      c->out += JsonReply(200, model.Info(c->host, now));
      return;
    case Route::kDiskUsage:
      c->out += JsonReply(200, model.DiskUsage(c->host));
      return;
    case Route::kList: {
      const Filters f = ParseFilters(route.filters);
      if (f.bad) {
        c->out += ErrorReply(400, "invalid filter");
        return;
      }
      c->out += JsonReply(200, model.List(c->host, route.all, f, now));
      return;
    }
    case Route::kEvents: {
      c->filters = ParseFilters(route.filters);
      if (c->filters.bad) {
        c->out += ErrorReply(400, "invalid filter");
        return;
      }
      c->out += StreamHead();
      if (route.since_ns > 0) {  // without since: from now on only
        for (const FleetEvent& e : model.EventsSince(c->host, route.since_ns)) {
          if (std::string line = model.EventLine(e, c->filters); !line.empty())
            c->out += Chunk(line);
        }
      }
      c->state = Conn::State::kStreaming;
      streams[static_cast<size_t>(c->host)].insert(c);
      return;
    }
    default:
      break;
  }
  // The rest name a container: of this host for the Engine API, of any host for the controls.
  const bool control = route.kind == Route::kControlKill || route.kind == Route::kControlStart;
  Container* ct = model.Find(control ? -1 : c->host, route.container);
  if (ct == nullptr) {
    c->out += ErrorReply(404, "No such container: " + route.container);
    return;
  }
  switch (route.kind) {
    case Route::kInspect:
      c->out += JsonReply(200, model.Inspect(*ct));
      return;
    case Route::kLogs:  // an empty multiplexed stream: the fake's containers write nothing
      c->out += Reply(200, "", "application/vnd.docker.raw-stream");
      return;
    case Route::kStats:
      if (!ct->running) {  // the engine has nothing to wait for
        c->out += JsonReply(200, model.Stats(*ct, now));
        return;
      }
      c->stats_key = ct->id;
      c->state = Conn::State::kWaitingStats;
      waiting.insert(c);
      return;
    case Route::kKill:
    case Route::kControlKill:
      if (!model.Kill(*ct, now)) {
        c->out += ErrorReply(409, "Container " + ct->id + " is not running");
        return;
      }
      c->out += Reply(204, "", "");
      return;
    case Route::kStart:
    case Route::kControlStart:
      c->out += model.Start(*ct, now) ? Reply(204, "", "") : Reply(304, "", "");
      return;
    default:
      c->out += ErrorReply(404, "page not found");
      return;
  }
}

void FleetServer::Impl::OnTick() {
  uint64_t expirations = 0;
  if (read(timer_fd, &expirations, sizeof expirations) != sizeof expirations) return;
  const int64_t now = NowNs();
  model.Tick(now);
  std::unordered_set<Conn*> due;
  due.swap(waiting);
  for (Conn* c : due) {
    if (c->closed) continue;
    Container* ct = model.Find(c->host, c->stats_key);
    c->out += JsonReply(200, model.Stats(*ct, now));
    c->state = Conn::State::kReading;
    ProcessRequests(c);  // a request that arrived behind it
    if (c->closed) continue;
    Flush(c);
    if (!c->closed) Rearm(c);
  }
}

void FleetServer::Impl::DeliverEvents() {
  for (const FleetEvent& e : model.TakeNewEvents()) {
    // A copy: a stream whose write fails leaves the set.
    const std::vector<Conn*> open(streams[static_cast<size_t>(e.container->host)].begin(),
                                  streams[static_cast<size_t>(e.container->host)].end());
    for (Conn* c : open) {
      if (c->closed) continue;
      if (std::string line = model.EventLine(e, c->filters); !line.empty()) {
        c->out += Chunk(line);
        Flush(c);
        if (!c->closed) Rearm(c);
      }
    }
  }
}

}  // namespace onedock::fleet
