// A minimal HTTP/1.1 server on a loopback port for tests: one request per connection (it answers
// with Connection: close), served in order by one thread through the test's handler.
#ifndef ONEDOCK_TESTS_HTTP_STUB_H_
#define ONEDOCK_TESTS_HTTP_STUB_H_

#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <map>
#include <string>
#include <thread>

#include "tests/free_port.h"

namespace onedock::testing {

struct StubRequest {
  std::string method;
  std::string target;                          // path and query
  std::map<std::string, std::string> headers;  // names in lower case
};

struct StubReply {
  int status = 200;
  std::map<std::string, std::string> headers;
  std::string body;
};

class HttpStub {
 public:
  using Handler = std::function<StubReply(const StubRequest&)>;

  explicit HttpStub(Handler handler) : handler_(std::move(handler)) {
    fd_ = BindLoopback(SOCK_STREAM, 0, &port_);
    if (fd_ >= 0) listen(fd_, 16);
    thread_ = std::thread([this] { Serve(); });
  }
  ~HttpStub() {
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    thread_.join();
  }
  HttpStub(const HttpStub&) = delete;
  HttpStub& operator=(const HttpStub&) = delete;

  int port() const { return port_; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  void Serve() {
    for (;;) {
      const int c = accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::string head;
      char buf[4096];
      while (head.find("\r\n\r\n") == std::string::npos) {
        const ssize_t n = read(c, buf, sizeof buf);
        if (n <= 0) break;
        head.append(buf, static_cast<size_t>(n));
      }
      StubRequest request;
      const auto line_end = head.find("\r\n");
      const std::string line = head.substr(0, line_end);
      const auto sp1 = line.find(' '), sp2 = line.rfind(' ');
      if (sp1 != std::string::npos && sp2 > sp1) {
        request.method = line.substr(0, sp1);
        request.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
      }
      for (size_t at = line_end + 2; at < head.size();) {
        const auto end = head.find("\r\n", at);
        if (end == std::string::npos || end == at) break;
        const std::string h = head.substr(at, end - at);
        if (const auto colon = h.find(':'); colon != std::string::npos) {
          std::string name = h.substr(0, colon);
          for (char& ch : name)
            ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
          request.headers[name] = h.substr(h.find_first_not_of(' ', colon + 1));
        }
        at = end + 2;
      }
      const StubReply reply = handler_(request);
      std::string out =
          "HTTP/1.1 " + std::to_string(reply.status) +
          " Stub\r\nConnection: close\r\nContent-Length: " + std::to_string(reply.body.size()) +
          "\r\n";
      for (const auto& [k, v] : reply.headers) out += k + ": " + v + "\r\n";
      out += "\r\n";
      if (request.method != "HEAD") out += reply.body;
      for (size_t sent = 0; sent < out.size();) {
        const ssize_t w = write(c, out.data() + sent, out.size() - sent);
        if (w <= 0) break;
        sent += static_cast<size_t>(w);
      }
      close(c);
    }
  }

  Handler handler_;
  int fd_ = -1, port_ = 0;
  std::thread thread_;
};

}  // namespace onedock::testing

#endif  // ONEDOCK_TESTS_HTTP_STUB_H_
