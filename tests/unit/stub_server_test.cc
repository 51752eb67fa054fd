// StubServer over real loopback sockets (port 0): hostile clients of every kind at once while
// legitimate calls are answered, the refusals they get, and the transfer lane's reserve.
#include "rpc/stub_server.h"

#include <doctest/doctest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "rpc/stub_protocol.h"
#include "tests/support/stub_wire.h"

namespace onedock::rpc {
namespace {

using testing::ConnectLoopback;
using testing::Exchange;
using testing::HttpBodyOf;
using testing::HttpStatusOf;
using testing::NestedEnvelope;
using testing::StubRequest;

const std::string kToken = "0123456789abcdef0123456789abcdef";

// A server on a free port, run on its own thread; answers "<kind> <action> <argv…>" unless a
// ds copy is told to wait for Release().
class Rig {
 public:
  explicit Rig(StubServerOptions options) {
    options.address = "127.0.0.1";
    options.port = 0;
    options.token = kToken;
    auto server = StubServer::Listen(options, [this](const DriverCall& call) {
      ++calls_;
      if (call.kind == "ds" && call.action == "cp") {
        std::unique_lock lock(mu_);
        ++copies_waiting_;
        cv_.notify_all();
        cv_.wait(lock, [this] { return released_; });
      }
      std::string out = call.kind + " " + call.action;
      for (const auto& a : call.argv) out += " " + a;
      return DriverAnswer{0, out, ""};
    });
    REQUIRE_MESSAGE(server.ok(), server.status().ToString());
    server_ = std::move(*server);
    thread_ = std::thread([this] { server_->Run(); });
  }
  ~Rig() {
    Release();
    server_->Stop();
    thread_.join();
  }

  int port() const { return server_->port(); }
  int calls() const { return calls_.load(); }
  void WaitForCopies(int n) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return copies_waiting_ >= n; });
  }
  void Release() {
    std::lock_guard lock(mu_);
    released_ = true;
    cv_.notify_all();
  }

  // A legitimate call; returns the stub's answer or fails the test.
  DriverAnswer Call(const std::string& kind, const std::string& action,
                    std::vector<std::string> argv = {}) {
    const std::string answer =
        Exchange(port(), StubRequest(kToken, EncodeStubCall({kind, action, std::move(argv), ""})));
    REQUIRE_MESSAGE(HttpStatusOf(answer) == 200, answer);
    auto decoded = DecodeStubAnswer(HttpBodyOf(answer));
    REQUIRE_MESSAGE(decoded.ok(), decoded.status().ToString());
    return *decoded;
  }

 private:
  std::unique_ptr<StubServer> server_;
  std::thread thread_;
  std::atomic<int> calls_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  int copies_waiting_ = 0;
  bool released_ = false;
};

}  // namespace

TEST_CASE("stub server: each hostile request gets its refusal and the handler never runs") {
  Rig rig(
      {.head_timeout = std::chrono::milliseconds(300), .body_timeout = std::chrono::seconds(1)});
  const std::string legit = EncodeStubCall({"tm", "mv", {"a"}, ""});
  struct Case {
    const char* what;
    std::string request;
    int status;
  } cases[] = {
      {"no token", StubRequest("", legit), 401},
      {"wrong token", StubRequest(std::string(kToken.size(), 'x'), legit), 403},
      {"oversize",
       "POST /RPC2 HTTP/1.1\r\nX-Onedock-Token: " + kToken +
           "\r\nContent-Length: 104857600\r\n\r\n",
       413},
      {"deep nesting", StubRequest(kToken, NestedEnvelope(900)), 400},
      {"entities", StubRequest(kToken, "<!DOCTYPE a [<!ENTITY b \"bbbbbbbb\">]><a>&b;</a>"), 400},
      {"head without end", std::string(20000, 'a'), 431},
      {"GET", "GET /RPC2 HTTP/1.1\r\n\r\n", 405},
      {"pipelined", StubRequest(kToken, legit) + "GET / HTTP/1.1\r\n\r\n", 400},
      {"chunked",
       "POST /RPC2 HTTP/1.1\r\nX-Onedock-Token: " + kToken +
           "\r\nTransfer-Encoding: chunked\r\n\r\n",
       501},
  };
  for (const Case& c : cases) {
    CAPTURE(c.what);
    const std::string answer = Exchange(rig.port(), c.request);
    CHECK(HttpStatusOf(answer) == c.status);
  }
  // A head that never ends and a body that never comes are cut off at their deadlines.
  CHECK(HttpStatusOf(Exchange(rig.port(), "POST /RPC2 HTTP/1.1\r\n")) == 408);
  CHECK(HttpStatusOf(Exchange(rig.port(), "POST /RPC2 HTTP/1.1\r\nX-Onedock-Token: " + kToken +
                                              "\r\nContent-Length: 100\r\n\r\nshort")) == 408);
  CHECK(rig.calls() == 0);
  CHECK(rig.Call("tm", "mv", {"a", "b"}).out == "tm mv a b");
  CHECK(rig.calls() == 1);
}

TEST_CASE("stub server: legitimate calls are answered while hostile clients hold connections") {
  Rig rig({.workers = 2,
           .transfer_workers = 1,
           .connections = 16,
           .head_timeout = std::chrono::seconds(30),
           .body_timeout = std::chrono::seconds(30)});
  // 64 idle connections that sent part of a head (four times what is read at once), and floods
  // of the other kinds from other threads.
  std::vector<int> idle;
  for (int i = 0; i < 64; ++i) {
    const int fd = ConnectLoopback(rig.port());
    REQUIRE(fd >= 0);
    testing::SendAll(fd, "POST /RPC2 HTTP/1.1\r\nX-Onedock");
    idle.push_back(fd);
  }
  std::atomic<int> wrong_answers{0};
  std::vector<std::thread> floods;
  const std::string deep = StubRequest(kToken, NestedEnvelope(900));
  const std::string notoken = StubRequest("", EncodeStubCall({"tm", "mv", {}, ""}));
  const std::string oversize =
      "POST /RPC2 HTTP/1.1\r\nX-Onedock-Token: " + kToken + "\r\nContent-Length: 99999999\r\n\r\n";
  for (const std::string* request : {&deep, &notoken, &oversize}) {
    floods.emplace_back([&, request] {
      for (int i = 0; i < 50; ++i) {
        const int status = HttpStatusOf(Exchange(rig.port(), *request));
        if (status != 400 && status != 401 && status != 413 && status != 503) ++wrong_answers;
      }
    });
  }
  for (int i = 0; i < 40; ++i) {
    CHECK(rig.Call("vmm", "cancel", {"one-" + std::to_string(i), "h1", std::to_string(i)}).out ==
          "vmm cancel one-" + std::to_string(i) + " h1 " + std::to_string(i));
  }
  for (auto& t : floods) t.join();
  CHECK(wrong_answers.load() == 0);
  CHECK(rig.calls() == 40);
  // The idle ones were dropped, oldest first, to make room: the first is closed by now.
  char byte;
  CHECK(recv(idle.front(), &byte, 1, 0) >= 0);
  for (int fd : idle) close(fd);
}

TEST_CASE("stub server: image copies that hang never take the lifecycle lane's workers") {
  Rig rig({.workers = 2, .transfer_workers = 2});
  std::vector<std::thread> copies;
  std::atomic<int> copied{0};
  for (int i = 0; i < 4; ++i) {
    copies.emplace_back([&] {
      const std::string answer =
          Exchange(rig.port(), StubRequest(kToken, EncodeStubCall({"ds", "cp", {"x"}, ""})), 30000);
      if (HttpStatusOf(answer) == 200) ++copied;
    });
  }
  rig.WaitForCopies(2);  // both transfer workers hold a copy; two more copies wait in line
  for (int i = 0; i < 10; ++i) CHECK(rig.Call("vmm", "shutdown", {"one-1", "h1", "1"}).out != "");
  CHECK(copied.load() == 0);
  rig.Release();
  for (auto& t : copies) t.join();
  CHECK(copied.load() == 4);
}

}  // namespace onedock::rpc
