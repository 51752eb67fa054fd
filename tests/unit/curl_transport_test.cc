#include "docker/curl_transport.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/free_port.h"
#include "tests/http_stub.h"

namespace onedock::docker {
namespace {

// A one-thread HTTP/1.1 server on 127.0.0.1:<ephemeral> that answers each request on a kept-alive
// connection with whatever `reply` returns for the request text ("" = never answer).
class LoopbackServer {
 public:
  explicit LoopbackServer(std::function<std::string(const std::string&)> reply)
      : reply_(std::move(reply)) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    REQUIRE(bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(listen(fd_, 8) == 0);
    socklen_t len = sizeof addr;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~LoopbackServer() {
    stop_ = true;
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int accepted() const { return accepted_; }

 private:
  void Serve() {
    while (!stop_) {
      int c = accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      ++accepted_;
      std::string buffer;
      char chunk[4096];
      while (true) {
        size_t end = buffer.find("\r\n\r\n");
        if (end != std::string::npos) {
          size_t body_len = 0;
          if (auto cl = buffer.find("Content-Length: "); cl != std::string::npos && cl < end) {
            body_len = std::stoul(buffer.substr(cl + 16));
          }
          if (buffer.size() >= end + 4 + body_len) {
            const std::string request = buffer.substr(0, end + 4 + body_len);
            buffer.erase(0, end + 4 + body_len);
            const std::string out = reply_(request);
            if (out.empty()) break;  // hold the connection without answering
            send(c, out.data(), out.size(), MSG_NOSIGNAL);
            continue;
          }
        }
        ssize_t n = recv(c, chunk, sizeof chunk, 0);
        if (n <= 0) break;
        buffer.append(chunk, static_cast<size_t>(n));
      }
      if (!stop_) {
        char drain[256];
        while (recv(c, drain, sizeof drain, 0) > 0) {
        }
      }
      close(c);
    }
  }

  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::function<std::string(const std::string&)> reply_;
  std::thread thread_;
};

std::string Reply(int code, const std::string& body) {
  return "HTTP/1.1 " + std::to_string(code) +
         " X\r\nContent-Length: " + std::to_string(body.size()) + "\r\nApi-Version: 1.41\r\n\r\n" +
         body;
}

}  // namespace

TEST_CASE("line splitter joins lines across chunks") {
  LineSplitter s;
  std::vector<std::string> lines;
  auto sink = [&](std::string_view l) {
    lines.emplace_back(l);
    return true;
  };
  CHECK(s.Feed("{\"a\":", sink));
  CHECK(s.Feed("1}\r\n\n{\"b\"", sink));
  CHECK(s.Feed(":2}\n{\"c\":3}", sink));
  CHECK(lines == std::vector<std::string>{"{\"a\":1}", "{\"b\":2}"});
  CHECK(s.Finish(sink));
  CHECK(lines.back() == "{\"c\":3}");
  LineSplitter stop;
  int seen = 0;
  CHECK_FALSE(stop.Feed("1\n2\n3\n", [&](std::string_view) { return ++seen < 2; }));
  CHECK(seen == 2);
}

TEST_CASE("requests reuse one connection and carry headers and body") {
  std::vector<std::string> requests;
  LoopbackServer server([&](const std::string& r) {
    requests.push_back(r);
    return Reply(200, "{\"ok\":true}");
  });
  CurlTransport t({.base_url = server.url()});
  for (int i = 0; i < 3; ++i) {
    auto r = t.Perform({.method = "POST",
                        .target = "/v1.41/x?i=" + std::to_string(i),
                        .headers = {"Content-Type: application/json"},
                        .body = "{\"n\":1}"});
    REQUIRE(r.ok());
    CHECK(r->status == 200);
    CHECK(r->body == "{\"ok\":true}");
    CHECK(r->headers.at("api-version") == "1.41");
  }
  CHECK(t.connections_opened() == 1);
  CHECK(server.accepted() == 1);
  REQUIRE(requests.size() == 3);
  CHECK(requests[2].rfind("POST /v1.41/x?i=2 HTTP/1.1", 0) == 0);
  CHECK(requests[2].find("Content-Type: application/json") != std::string::npos);
  CHECK(requests[2].find("{\"n\":1}") != std::string::npos);
}

TEST_CASE("2xx streams are handed over line by line and error bodies are kept whole") {
  LoopbackServer server([](const std::string& r) {
    if (r.find("/bad") != std::string::npos) return Reply(404, "{\"message\":\"no\"}\n");
    return Reply(200, "{\"status\":\"a\"}\n{\"status\":\"b\"}\n{\"status\":\"c\"}");
  });
  CurlTransport t({.base_url = server.url()});
  std::vector<std::string> lines;
  auto ok = t.Perform({.target = "/good", .on_line = [&](std::string_view l) {
                         lines.emplace_back(l);
                         return true;
                       }});
  REQUIRE(ok.ok());
  CHECK(lines.size() == 3);
  CHECK(ok->body.empty());
  lines.clear();
  auto bad = t.Perform({.target = "/bad", .on_line = [&](std::string_view l) {
                          lines.emplace_back(l);
                          return true;
                        }});
  REQUIRE(bad.ok());
  CHECK(bad->status == 404);
  CHECK(lines.empty());
  CHECK(bad->body == "{\"message\":\"no\"}\n");
}

TEST_CASE("a stream the caller ends is not an error") {
  LoopbackServer server([](const std::string&) { return Reply(200, "1\n2\n3\n"); });
  CurlTransport t({.base_url = server.url()});
  int seen = 0;
  auto r = t.Perform({.target = "/s", .on_line = [&](std::string_view) { return ++seen < 2; }});
  REQUIRE(r.ok());
  CHECK(r->stopped);
  CHECK(seen == 2);
}

TEST_CASE("a closed port is unavailable and a silent peer exceeds the deadline") {
  CurlTransport closed(
      {.base_url = "http://127.0.0.1:" + std::to_string(testing::FreeLoopbackPort())});
  auto r = closed.Perform({.target = "/_ping"});
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Status::Code::kUnavailable);
  CHECK(r.status().IsRetryable());

  LoopbackServer silent([](const std::string&) { return std::string(); });
  CurlTransport t({.base_url = silent.url()});
  auto slow = t.Perform({.target = "/_ping", .timeout_ms = 200});
  REQUIRE_FALSE(slow.ok());
  CHECK(slow.status().code() == Status::Code::kDeadlineExceeded);
}

TEST_CASE("curl failures map to distinguishable statuses") {
  using C = Status::Code;
  CHECK(StatusFromCurl(CURLE_COULDNT_CONNECT, "Connection refused", "h").code() == C::kUnavailable);
  CHECK(StatusFromCurl(CURLE_OPERATION_TIMEDOUT, "", "h").code() == C::kDeadlineExceeded);
  auto refused = StatusFromCurl(
      CURLE_RECV_ERROR,
      "OpenSSL SSL_read: error:0A000412:SSL routines::sslv3 alert bad certificate", "h");
  CHECK(refused.code() == C::kUnauthenticated);
  CHECK(refused.message().find("client certificate refused") != std::string::npos);
  CHECK(StatusFromCurl(CURLE_RECV_ERROR, "Connection reset by peer", "h").code() ==
        C::kUnavailable);
  auto untrusted =
      StatusFromCurl(CURLE_PEER_FAILED_VERIFICATION, "unable to get local issuer certificate", "h");
  CHECK(untrusted.code() == C::kUnauthenticated);
  CHECK(untrusted.message().find("server certificate not trusted") != std::string::npos);
  CHECK(StatusFromCurl(CURLE_SSL_CERTPROBLEM, "", "h").code() == C::kUnauthenticated);
  CHECK(StatusFromCurl(CURLE_SSL_CONNECT_ERROR, "", "h").code() == C::kUnauthenticated);
  CHECK(StatusFromCurl(CURLE_URL_MALFORMAT, "", "h").code() == C::kInvalidArgument);
}

// A web server for downloads: "/file" is ten bytes, "/moved" redirects to it, "/loop" to itself,
// "/elsewhere" to a file:// URL, "/gone" is 410, "/private" 403, "/broken" 503.
testing::StubReply WebReply(const testing::StubRequest& r) {
  if (r.target == "/file") return {200, {{"Content-Type", "application/x-tar"}}, "0123456789"};
  if (r.target == "/moved") return {302, {{"Location", "/file"}}, "see /file"};
  if (r.target == "/loop") return {302, {{"Location", "/loop"}}, ""};
  if (r.target == "/elsewhere") return {302, {{"Location", "file:///etc/hostname"}}, ""};
  if (r.target == "/gone") return {410, {}, "gone"};
  if (r.target == "/private") return {403, {}, "no"};
  if (r.target == "/broken") return {503, {}, "later"};
  return {404, {}, "no such file"};
}

std::string TempFile(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("onedock-curl-" + std::to_string(::getpid()) + "-" + name))
      .string();
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

TEST_CASE("a download to a file follows redirects to a whole URL and reports its size") {
  testing::HttpStub web(WebReply);
  CurlTransport t(Endpoint{});  // no base URL: targets are whole URLs
  const std::string path = TempFile("moved");
  auto r =
      t.Perform({.target = web.base_url() + "/moved", .download_file = path, .max_redirects = 2});
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  CHECK(r->status == 200);
  CHECK(r->body_bytes == 10);
  CHECK(r->body.empty());
  CHECK(ReadFile(path) == "0123456789");  // the redirect's own body is not written
  std::filesystem::remove(path);

  auto head =
      t.Perform({.method = "HEAD", .target = web.base_url() + "/moved", .max_redirects = 2});
  REQUIRE(head.ok());
  CHECK(head->status == 200);
  CHECK(head->content_length == 10);
  CHECK(head->headers.at("content-type") == "application/x-tar");

  // Without max_redirects the redirect itself is the reply.
  auto unfollowed = t.Perform({.target = web.base_url() + "/moved"});
  REQUIRE(unfollowed.ok());
  CHECK(unfollowed->status == 302);
  CHECK(unfollowed->headers.at("location") == "/file");
}

TEST_CASE("redirects stop at their limit and never leave http and https") {
  testing::HttpStub web(WebReply);
  CurlTransport t(Endpoint{});
  auto loop = t.Perform({.target = web.base_url() + "/loop", .max_redirects = 3});
  REQUIRE_FALSE(loop.ok());
  CHECK(loop.status().code() == Status::Code::kInvalidArgument);
  CHECK(loop.status().message().find("redirects") != std::string::npos);

  auto elsewhere = t.Perform({.target = web.base_url() + "/elsewhere", .max_redirects = 3});
  REQUIRE_FALSE(elsewhere.ok());
  CHECK(elsewhere.status().code() == Status::Code::kInvalidArgument);
  auto file_url = t.Perform({.target = "file:///etc/hostname"});
  REQUIRE_FALSE(file_url.ok());
  CHECK(file_url.status().code() == Status::Code::kInvalidArgument);
}

TEST_CASE("a body past max_body_bytes ends the transfer whether its length is declared or not") {
  testing::HttpStub web(WebReply);
  CurlTransport t(Endpoint{});
  const std::string path = TempFile("bounded");
  auto declared =
      t.Perform({.target = web.base_url() + "/file", .download_file = path, .max_body_bytes = 9});
  REQUIRE_FALSE(declared.ok());
  CHECK(declared.status().code() == Status::Code::kInvalidArgument);
  CHECK(declared.status().message().find("larger than 9 bytes") != std::string::npos);
  auto fits =
      t.Perform({.target = web.base_url() + "/file", .download_file = path, .max_body_bytes = 10});
  REQUIRE(fits.ok());
  CHECK(fits->body_bytes == 10);
  std::filesystem::remove(path);

  // Chunked: no declared length, so the bound is met while the body arrives.
  LoopbackServer chunked([](const std::string&) {
    return std::string("HTTP/1.1 200 X\r\nTransfer-Encoding: chunked\r\n\r\n") +
           "8\r\n01234567\r\n8\r\n89abcdef\r\n0\r\n\r\n";
  });
  CurlTransport c({.base_url = chunked.url()});
  auto endless = c.Perform({.target = "/", .max_body_bytes = 12});
  REQUIRE_FALSE(endless.ok());
  CHECK(endless.status().code() == Status::Code::kInvalidArgument);
  auto whole = c.Perform({.target = "/", .max_body_bytes = 16});
  REQUIRE(whole.ok());
  CHECK(whole->body == "0123456789abcdef");
  CHECK(whole->content_length == -1);
}

TEST_CASE("a transfer that moves no byte for the stall limit exceeds its deadline") {
  LoopbackServer silent([](const std::string&) { return std::string(); });
  CurlTransport t({.base_url = silent.url()});
  auto stalled = t.Perform({.target = "/big.tar", .timeout_ms = 0, .stall_timeout_ms = 1000});
  REQUIRE_FALSE(stalled.ok());
  CHECK(stalled.status().code() == Status::Code::kDeadlineExceeded);
  CHECK(stalled.status().IsRetryable());
}

TEST_CASE("a web server's statuses map to codes") {
  using C = Status::Code;
  CHECK(StatusFromHttpStatus(200).ok());
  CHECK(StatusFromHttpStatus(206).ok());
  CHECK(StatusFromHttpStatus(404).code() == C::kNotFound);
  CHECK(StatusFromHttpStatus(410).code() == C::kNotFound);
  CHECK(StatusFromHttpStatus(401).code() == C::kUnauthenticated);
  CHECK(StatusFromHttpStatus(403).code() == C::kPermissionDenied);
  CHECK(StatusFromHttpStatus(408).code() == C::kDeadlineExceeded);
  CHECK(StatusFromHttpStatus(429).code() == C::kUnavailable);
  CHECK(StatusFromHttpStatus(500).code() == C::kUnavailable);
  CHECK(StatusFromHttpStatus(503).code() == C::kUnavailable);
  CHECK(StatusFromHttpStatus(400).code() == C::kInvalidArgument);
  CHECK(StatusFromHttpStatus(302).code() == C::kInternal);
  CHECK(StatusFromHttpStatus(404).message() == "HTTP 404");
  CHECK(StatusFromCurl(CURLE_TOO_MANY_REDIRECTS, "", "h").code() == C::kInvalidArgument);
}

TEST_CASE("url escaping keeps values inside their path segment") {
  CHECK(UrlEscape("127.0.0.1:5000/a/b") == "127.0.0.1%3A5000%2Fa%2Fb");
  CHECK(UrlEscape("one-42_x.y~") == "one-42_x.y~");
  CHECK(UrlEscape("../x?y=1&z") == "..%2Fx%3Fy%3D1%26z");
}

}  // namespace onedock::docker

namespace onedock::docker {
namespace {

TEST_CASE("a destination policy refuses the address dialled, redirects included") {
  LoopbackServer target([](const std::string&) {
    return std::string("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  });
  const std::string target_port = target.url().substr(target.url().rfind(':') + 1);
  LoopbackServer redirector([&](const std::string&) {
    return "HTTP/1.1 302 Found\r\nLocation: " + target.url() + "/x\r\nContent-Length: 0\r\n\r\n";
  });
  const std::string redirector_port = redirector.url().substr(redirector.url().rfind(':') + 1);

  DestinationPolicy none;  // loopback refused
  CurlTransport refused({.destinations = &none});
  auto direct = refused.Perform({.target = target.url() + "/x"});
  REQUIRE_FALSE(direct.ok());
  CHECK(direct.status().code() == Status::Code::kPermissionDenied);
  CHECK(direct.status().message().find("destination 127.0.0.1:" + target_port +
                                       " refused: loopback") != std::string::npos);
  CHECK(target.accepted() == 0);  // no connection was made

  // The redirector is admitted, the loopback address it redirects to is not.
  {
    auto only_redirector = DestinationPolicy::Make({"127.0.0.1:" + redirector_port}, {});
    REQUIRE(only_redirector.ok());
    CurlTransport follow({.destinations = &*only_redirector});  // closed at the end of the block:
    auto redirected = follow.Perform({.target = redirector.url() + "/", .max_redirects = 3});
    REQUIRE_FALSE(redirected.ok());  // the one-thread server serves one connection at a time
    CHECK(redirected.status().code() == Status::Code::kPermissionDenied);
    CHECK(target.accepted() == 0);
  }

  // Admitted: the same request goes through; a name is checked on what it resolves to.
  auto both = DestinationPolicy::Make({"127.0.0.1"}, {});
  REQUIRE(both.ok());
  CurlTransport allowed({.destinations = &*both});
  auto ok = allowed.Perform({.target = redirector.url() + "/", .max_redirects = 3});
  REQUIRE_MESSAGE(ok.ok(), ok.status().ToString());
  CHECK(ok->body == "ok");
  CurlTransport by_name({.destinations = &none});
  auto named = by_name.Perform({.target = "http://localhost:" + target_port + "/x"});
  CHECK(named.status().code() == Status::Code::kPermissionDenied);
  CHECK(target.accepted() == 1);
}

TEST_CASE("a reply kept in memory is bounded even when the request names no bound") {
  // An endless chunked body: 1 MiB chunks for as long as the client reads.
  LoopbackServer endless([](const std::string&) {
    std::string out = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    const std::string chunk = "100000\r\n" + std::string(1 << 20, 'x') + "\r\n";
    for (int i = 0; i < 80; ++i) out += chunk;
    return out;
  });
  CurlTransport t({.base_url = endless.url()});
  auto reply = t.Perform({.target = "/"});
  REQUIRE_FALSE(reply.ok());
  CHECK(reply.status().code() == Status::Code::kInvalidArgument);
  CHECK(reply.status().message().find("larger than " + std::to_string(kMaxMemoryBodyBytes)) !=
        std::string::npos);
  // A tighter bound the request names wins.
  auto tight = t.Perform({.target = "/", .max_body_bytes = 1000});
  CHECK(tight.status().message().find("larger than 1000 bytes") != std::string::npos);
}

TEST_CASE("a streamed line and the headers of a reply are bounded") {
  LoopbackServer long_line([](const std::string&) {
    return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(kMaxStreamLineBytes + 10) +
           "\r\n\r\n" + std::string(kMaxStreamLineBytes + 10, 'y');
  });
  CurlTransport t({.base_url = long_line.url()});
  int lines = 0;
  auto streamed = t.Perform({.target = "/", .on_line = [&](std::string_view) {
                               ++lines;
                               return true;
                             }});
  REQUIRE_FALSE(streamed.ok());
  CHECK(streamed.status().message().find("line longer than") != std::string::npos);
  CHECK(lines == 0);

  LoopbackServer many_headers([](const std::string&) {
    std::string out = "HTTP/1.1 200 OK\r\n";
    for (size_t i = 0; out.size() < kMaxHeaderBytes + 1000; ++i)
      out += "X-H" + std::to_string(i) + ": " + std::string(100, 'z') + "\r\n";
    return out + "Content-Length: 0\r\n\r\n";
  });
  CurlTransport h({.base_url = many_headers.url()});
  auto headers = h.Perform({.target = "/"});
  REQUIRE_FALSE(headers.ok());
  CHECK(headers.status().message().find("headers larger than") != std::string::npos);
}

TEST_CASE("requests sent together answer in order, each on a connection the server may close") {
  testing::HttpStub web([](const testing::StubRequest& r) {
    return testing::StubReply{.status = r.target == "/missing" ? 404 : 200, .body = r.target};
  });
  CurlTransport t({.base_url = web.base_url()});
  std::vector<HttpRequest> requests;
  for (int i = 0; i < 20; ++i) requests.push_back({.target = "/r" + std::to_string(i)});
  requests.push_back({.target = "/missing"});
  requests.push_back({.target = "/x", .upload_file = "/etc/hostname"});
  for (int call = 0; call < 2; ++call) {
    const auto replies = t.PerformAll(requests, 8);
    REQUIRE(replies.size() == requests.size());
    for (int i = 0; i < 20; ++i) {
      REQUIRE(replies[static_cast<size_t>(i)].ok());
      CHECK(replies[static_cast<size_t>(i)]->status == 200);
      CHECK(replies[static_cast<size_t>(i)]->body == "/r" + std::to_string(i));
    }
    REQUIRE(replies[20].ok());
    CHECK(replies[20]->status == 404);
    CHECK(replies[21].status().code() == Status::Code::kInvalidArgument);
  }
  // The stub closes every connection after its reply: none of them can be reused.
  CHECK(t.connections_opened() == 42);
}

TEST_CASE("requests sent together each keep their own deadline") {
  // A listener that never accepts: the kernel completes each connection and nothing answers.
  int port = 0;
  const int fd = testing::BindLoopback(SOCK_STREAM, 0, &port);
  REQUIRE(fd >= 0);
  REQUIRE(listen(fd, 16) == 0);
  CurlTransport t({.base_url = "http://127.0.0.1:" + std::to_string(port)});
  std::vector<HttpRequest> requests(5, HttpRequest{.target = "/stats", .timeout_ms = 200});
  requests[2].timeout_ms = 400;
  const auto t0 = std::chrono::steady_clock::now();
  const auto replies = t.PerformAll(requests, 5);
  const auto took = std::chrono::steady_clock::now() - t0;
  REQUIRE(replies.size() == 5);
  for (const auto& r : replies) {
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Status::Code::kDeadlineExceeded);
  }
  // A deadline is kept when it falls, not at the next of the loop's one-second wake-ups.
  CHECK(took >= std::chrono::milliseconds(400));
  CHECK(took < std::chrono::milliseconds(1000));
  close(fd);
}

TEST_CASE("a streamed request is refused among many, and the others are answered") {
  testing::HttpStub web([](const testing::StubRequest& r) {
    return testing::StubReply{.status = 200, .body = r.target};
  });
  CurlTransport t({.base_url = web.base_url()});
  std::vector<HttpRequest> requests(3, HttpRequest{.target = "/a"});
  requests[1].on_line = [](std::string_view) { return true; };
  const auto replies = t.PerformAll(requests, 3);
  REQUIRE(replies.size() == 3);
  CHECK(replies[0].ok());
  CHECK(replies[1].status().code() == Status::Code::kInvalidArgument);
  CHECK(replies[2].ok());
}

}  // namespace

}  // namespace onedock::docker
