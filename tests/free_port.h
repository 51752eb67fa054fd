// A loopback TCP port that was free a moment ago: bound to port 0, read back, released. For tests
// and benchmarks that must name a port before the process that listens on it starts.
#ifndef ONEDOCK_TESTS_FREE_PORT_H_
#define ONEDOCK_TESTS_FREE_PORT_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace onedock::testing {

inline int FreeLoopbackPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

}  // namespace onedock::testing

#endif  // ONEDOCK_TESTS_FREE_PORT_H_
