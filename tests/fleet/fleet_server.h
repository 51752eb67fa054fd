// FleetServer: the fake fleet's network side. One TLS listener per host on 127.0.0.1, mutual
// TLS against one CA, HTTP/1.1 keep-alive, all on one thread with non-blocking sockets and epoll
// so that the fake's own cost stays small beside onedockd's. Stats requests wait for the next
// 1 s collector tick and are answered together; /events streams stay open (chunked) and get the
// events that the kill and start controls make. Not thread-safe: Run owns the calling thread.
#ifndef ONEDOCK_TESTS_FLEET_FLEET_SERVER_H_
#define ONEDOCK_TESTS_FLEET_FLEET_SERVER_H_

#include <memory>
#include <string>
#include <vector>

#include "tests/fleet/fleet_model.h"

namespace onedock::fleet {

struct ServerOptions {
  int hosts = 1;
  int containers = 1;
  int first_port = 0;  // host i listens on first_port + i; 0: each on a port of the kernel's
  std::string cert, key, ca;
  std::string instance = "fleet";
  // Require a client certificate of `ca`, as the bed's engines do. Off, a handshake costs the
  // fake about a third (OpenSSL 3.0 spends most of one on the client's certificate).
  bool verify_client = true;
};

class FleetServer {
 public:
  explicit FleetServer(ServerOptions options);
  ~FleetServer();
  FleetServer(const FleetServer&) = delete;
  FleetServer& operator=(const FleetServer&) = delete;

  // Loads the certificates and binds every listener. false with a one-line reason in *error.
  bool Listen(std::string* error);
  // The port host `i` listens on (after Listen).
  int port(int i) const;
  // Serves until SIGTERM or SIGINT.
  void Run();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace onedock::fleet

#endif  // ONEDOCK_TESTS_FLEET_FLEET_SERVER_H_
