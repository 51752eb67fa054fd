// StubServer: onedockd's local XML-RPC endpoint for the driver stubs. One method,
//   onedock.driver(token, kind, action, argv[], stdin) -> [exit_code, stdout, error]
// listening on a loopback address only. A wrong token is a fault (code 1). Each connection is
// served on its own Abyss thread, so calls for different VMs run in parallel; the handler must be
// thread-safe. DecodeDriverCall turns what a stub forwarded into a DriverCall.
#ifndef ONEDOCK_RPC_STUB_SERVER_H_
#define ONEDOCK_RPC_STUB_SERVER_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "bridge/driver_call.h"
#include "bridge/status.h"

namespace onedock::rpc {

inline constexpr char kStubMethod[] = "onedock.driver";
inline constexpr int kStubFaultToken = 1;

struct StubServerOptions {
  std::string address = "127.0.0.1";  // must be a loopback address
  int port = 2640;                    // 0 = any free port (tests)
  std::string token;
  unsigned max_connections = 64;  // concurrent stub calls
};

using StubHandler = std::function<DriverAnswer(const DriverCall&)>;

// stdin of a local action is base64 (reference §3.7), of a remote one raw XML; both are accepted.
// A document with a <VM> (the deployment file, or VMM_DRIVER_ACTION_DATA) is parsed into call.vm.
// kInvalidArgument for stdin that is neither, or for malformed XML.
Result<DriverCall> DecodeDriverCall(std::string kind, std::string action,
                                    std::vector<std::string> argv, const std::string& stdin_text);

class StubServer {
 public:
  // Binds the listening socket. kInvalidArgument for a non-loopback address, kUnavailable when the
  // port cannot be bound.
  static Result<std::unique_ptr<StubServer>> Listen(const StubServerOptions& options,
                                                    StubHandler handler);
  ~StubServer();
  StubServer(const StubServer&) = delete;
  StubServer& operator=(const StubServer&) = delete;

  int port() const { return port_; }
  // Serves until Stop() is called (from another thread).
  void Run();
  void Stop();

 private:
  struct Impl;
  StubServer(std::unique_ptr<Impl> impl, int port);
  std::unique_ptr<Impl> impl_;
  int port_;
};

}  // namespace onedock::rpc

#endif  // ONEDOCK_RPC_STUB_SERVER_H_
