// Raw sockets to a stub endpoint, for tests and benchmarks that play well-behaved and hostile
// stubs: a blocking loopback connection with a receive timeout, the request a real stub sends, and
// the status of whatever comes back. Header only.
#ifndef ONEDOCK_TESTS_SUPPORT_STUB_WIRE_H_
#define ONEDOCK_TESTS_SUPPORT_STUB_WIRE_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <string>
#include <string_view>

#include "rpc/stub_protocol.h"

namespace onedock::testing {

// A connection to 127.0.0.1:`port` whose reads give up after `timeout_ms`; -1 when refused.
inline int ConnectLoopback(int port, int timeout_ms = 5000) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// Sends all of `data`; false when the peer closed or stalled.
inline bool SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Everything the peer sends until it closes (or the read times out).
inline std::string ReadAll(int fd) {
  std::string out;
  char buf[16384];
  ssize_t n;
  while ((n = recv(fd, buf, sizeof buf, 0)) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

// The status of an HTTP answer ("HTTP/1.1 413 …"), 0 when there is none.
inline int HttpStatusOf(std::string_view answer) {
  if (answer.size() < 12 || answer.substr(0, 5) != "HTTP/") return 0;
  return std::atoi(std::string(answer.substr(9, 3)).c_str());
}

// The body of an HTTP answer.
inline std::string HttpBodyOf(const std::string& answer) {
  const size_t at = answer.find("\r\n\r\n");
  return at == std::string::npos ? "" : answer.substr(at + 4);
}

// The bytes a stub sends for `body`, with `token` (none when empty).
inline std::string StubRequest(const std::string& token, const std::string& body) {
  std::string head = "POST /RPC2 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/xml\r\n";
  if (!token.empty()) head += std::string(rpc::kStubTokenHeader) + ": " + token + "\r\n";
  return head + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

// An onedock.driver envelope of `depth` nested arrays: 900 of them (~40 KB) crashed the endpoint
// that parsed the envelope before it looked at the token.
inline std::string NestedEnvelope(int depth) {
  std::string open, close;
  for (int i = 0; i < depth; ++i) {
    open += "<value><array><data>";
    close = "</data></array></value>" + close;
  }
  return "<methodCall><methodName>onedock.driver</methodName><params><param>" + open + close +
         "</param></params></methodCall>";
}

// Sends `request` on a new connection and returns all that came back ("" when refused at
// connect).
inline std::string Exchange(int port, const std::string& request, int timeout_ms = 5000) {
  const int fd = ConnectLoopback(port, timeout_ms);
  if (fd < 0) return "";
  SendAll(fd, request);
  std::string answer = ReadAll(fd);
  close(fd);
  return answer;
}

}  // namespace onedock::testing

#endif  // ONEDOCK_TESTS_SUPPORT_STUB_WIRE_H_
