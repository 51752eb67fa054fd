#include "rpc/monitord_sender.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace onedock::rpc {
namespace {

class Socket {
 public:
  explicit Socket(int fd) : fd_(fd) {}
  ~Socket() {
    if (fd_ >= 0) close(fd_);
  }
  int fd() const { return fd_; }

 private:
  int fd_;
};

}  // namespace

Status MonitordSender::Send(const MonitordAddress& to, const MonitordMessage& message) {
  sockaddr_storage addr{};
  socklen_t len = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&addr);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&addr);
  if (inet_pton(AF_INET, to.ip.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(to.port));
    len = sizeof *v4;
  } else if (inet_pton(AF_INET6, to.ip.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(to.port));
    len = sizeof *v6;
  } else {
    return InvalidArgument("monitord address \"" + to.ip + "\" is not an IP address");
  }
  const std::string wire = EncodeMonitordMessage(message) + "\n";
  const bool tcp = message.type == "STATE_VM";
  const std::string what = "send " + message.type + " for host " + std::to_string(message.host_id) +
                           " to monitord at " + to.ToString() + (tcp ? " (tcp)" : " (udp)");
  Socket s(socket(addr.ss_family, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0));
  if (s.fd() < 0) return Unavailable(what + ": socket: " + std::strerror(errno));
  if (!tcp) {
    if (wire.size() >= 65507)
      return InvalidArgument(what + ": " + std::to_string(wire.size()) +
                             " bytes do not fit a datagram");
    if (sendto(s.fd(), wire.data(), wire.size(), 0, reinterpret_cast<sockaddr*>(&addr), len) < 0) {
      return Unavailable(what + ": " + std::strerror(errno));
    }
    return Status::Ok();
  }
  timeval timeout{5, 0};
  setsockopt(s.fd(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  if (connect(s.fd(), reinterpret_cast<sockaddr*>(&addr), len) != 0)
    return Unavailable(what + ": " + std::strerror(errno));
  size_t sent = 0;
  while (sent < wire.size()) {
    const ssize_t n = send(s.fd(), wire.data() + sent, wire.size() - sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Unavailable(what + ": " + std::strerror(errno));
    }
    sent += static_cast<size_t>(n);
  }
  shutdown(s.fd(), SHUT_WR);
  return Status::Ok();
}

}  // namespace onedock::rpc
