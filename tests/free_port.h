// Loopback sockets for tests and benchmarks: a TCP port that is free for a process that starts
// later, and a socket bound to a port.
#ifndef ONEDOCK_TESTS_FREE_PORT_H_
#define ONEDOCK_TESTS_FREE_PORT_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <random>

namespace onedock::testing {

// A socket of `type` (SOCK_STREAM, SOCK_DGRAM) bound to 127.0.0.1:`port` (0: any); the port it
// got in *bound. -1 when the port is taken.
inline int BindLoopback(int type, int port, int* bound) {
  const int fd = socket(AF_INET, type, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  *bound = ntohs(addr.sin_port);
  return fd;
}

// The ports FreeLoopbackPort picks from: [10000, the start of the kernel's ephemeral range)
// unless a process narrows it, as each e2e slot does so that two cases running at once never pick
// the same port.
struct PortRange {
  int lowest = 10000;
  int below = 0;  // 0: the start of the ephemeral range
};

inline PortRange& LoopbackPortRange() {
  static PortRange range;
  return range;
}

// A port below the kernel's ephemeral range (net.ipv4.ip_local_port_range) that nothing is bound
// to now. A port the kernel handed out by bind(0) is in that range, so any outgoing connection may
// take it as its source port before the later process binds it: oned, for one, then exits with
// "Cannot bind". Below the range only another listener can take it.
inline int FreeLoopbackPort() {
  int ephemeral_low = 32768;
  std::ifstream("/proc/sys/net/ipv4/ip_local_port_range") >> ephemeral_low;
  const PortRange range = LoopbackPortRange();
  if (ephemeral_low <= range.lowest + 1000) ephemeral_low = 32768;  // an odd range: best effort
  const int below = range.below > 0 ? std::min(range.below, ephemeral_low) : ephemeral_low;
  static thread_local std::mt19937 pick{std::random_device{}()};
  std::uniform_int_distribution<int> port(range.lowest, below - 1);
  for (int attempt = 0; attempt < 1000; ++attempt) {
    int bound = 0;
    const int fd = BindLoopback(SOCK_STREAM, port(pick), &bound);
    if (fd >= 0) {
      close(fd);
      return bound;
    }
  }
  return 0;
}

}  // namespace onedock::testing

#endif  // ONEDOCK_TESTS_FREE_PORT_H_
