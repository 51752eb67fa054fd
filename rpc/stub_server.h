// StubServer: onedockd's local endpoint for the driver stubs (the wire is in stub_protocol.h),
// listening on a loopback address only. One event-loop thread reads every connection without
// blocking; a request is handed to a worker only once it is complete, authenticated (the token
// header is checked before any body is read) and vetted. Slow or hostile clients therefore hold
// no worker: a head must arrive within head_timeout of the accept, a body within body_timeout of
// the head, and when `connections` are being read the oldest one not yet authenticated is dropped
// for a new one. Workers come in two lanes (DriverLane): image copies, which may be slow, cannot
// take the threads lifecycle actions need. The handler runs on worker threads and must be
// thread-safe. DecodeDriverCall turns what a stub forwarded into a DriverCall.
#ifndef ONEDOCK_RPC_STUB_SERVER_H_
#define ONEDOCK_RPC_STUB_SERVER_H_

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "bridge/driver_call.h"
#include "bridge/status.h"

namespace onedock::rpc {

// The largest stdin a real oned passes is a VM document: the captures of tests/fixtures hold
// 6 KB of base64; a VM with 32 NICs, 16 disks and a 16 KB start script is a 78 KB document on a
// real oned 7.4, about 105 KB of deploy stdin (e2e "a VM with 32 NICs…"). 4 MB leaves a margin of
// 40 over that.
inline constexpr size_t kDefaultStubRequestBytes = 4u << 20;

struct StubServerOptions {
  std::string address = "127.0.0.1";  // must be a loopback address
  int port = 2640;                    // 0 = any free port (tests)
  std::string token;
  unsigned workers = 48;          // lifecycle lane: every call but image copies
  unsigned transfer_workers = 8;  // transfer lane: ds cp, ds clone, ds stat
  unsigned connections = 256;     // being read at once (not yet handed to a worker)
  size_t max_request_bytes = kDefaultStubRequestBytes;
  std::chrono::milliseconds head_timeout{3000};   // from the accept to the end of the head
  std::chrono::milliseconds body_timeout{10000};  // from the end of the head to the last byte
};

using StubHandler = std::function<DriverAnswer(const DriverCall&)>;

// stdin of a local action is base64 (reference §3.7), of a remote one raw XML; both are accepted.
// A document with a <VM> (the deployment file, or VMM_DRIVER_ACTION_DATA) is parsed into call.vm.
// kInvalidArgument for stdin that is neither, or for malformed XML.
Result<DriverCall> DecodeDriverCall(std::string kind, std::string action,
                                    std::vector<std::string> argv, const std::string& stdin_text);

class StubServer {
 public:
  // Binds the listening socket. kInvalidArgument for a non-loopback address, a token shorter
  // than 16 characters or no workers; kUnavailable when the port cannot be bound.
  static Result<std::unique_ptr<StubServer>> Listen(const StubServerOptions& options,
                                                    StubHandler handler);
  ~StubServer();
  StubServer(const StubServer&) = delete;
  StubServer& operator=(const StubServer&) = delete;

  int port() const;
  // Serves until Stop() is called (from another thread); returns once the calls in progress are
  // answered. Requests still queued for a worker are closed unanswered (the stubs retry).
  void Run();
  void Stop();

 private:
  class Impl;
  explicit StubServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace onedock::rpc

#endif  // ONEDOCK_RPC_STUB_SERVER_H_
