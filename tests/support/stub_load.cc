#include "tests/support/stub_load.h"

#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <sstream>
#include <thread>

#include "rpc/stub_protocol.h"
#include "tests/free_port.h"
#include "tests/support/onedockd_process.h"
#include "tests/support/stub_binary.h"
#include "tests/support/stub_wire.h"

namespace onedock::testing {
namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// 871 bytes of entities that expand to hundreds of megabytes in a parser that expands them.
std::string EntityBomb() {
  std::string dtd = "<?xml version=\"1.0\"?><!DOCTYPE m [<!ENTITY e0 \"aaaaaaaaaaaaaaaa\">";
  for (int i = 1; i < 10; ++i) {
    std::string refs;
    for (int k = 0; k < 10; ++k) refs += "&e" + std::to_string(i - 1) + ";";
    dtd += "<!ENTITY e" + std::to_string(i) + " \"" + refs + "\">";
  }
  return dtd + "]><methodCall><methodName>&e9;</methodName></methodCall>";
}

// The head of a request announcing `length` bytes, with `token` (none when empty).
std::string HeadOf(const std::string& token, size_t length) {
  std::string head = "POST /RPC2 HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  if (!token.empty()) head += std::string(rpc::kStubTokenHeader) + ": " + token + "\r\n";
  return head + "Content-Length: " + std::to_string(length) + "\r\n\r\n";
}

// Sends a head announcing a 32 MB body and streams the body without waiting for an answer, as
// the requests that took the old endpoint to 2.2 GB did.
int Oversize(int port, const std::string& token) {
  static const std::string chunk(1 << 20, 'a');
  const int fd = ConnectLoopback(port, 5000);
  if (fd < 0) return 0;
  SendAll(fd, HeadOf(token, 32u << 20));
  for (int i = 0; i < 32 && SendAll(fd, chunk); ++i) {
  }
  const int status = HttpStatusOf(ReadAll(fd));
  close(fd);
  return status;
}

// Runs onedock-stub with `args`; true when it exits with `code` and its stdout and stderr
// contain `expect` (if not empty).
bool StubBinaryAnswers(const std::string& bin, const std::string& config,
                       const std::vector<std::string>& args, int code, const std::string& expect,
                       const std::string& out_file) {
  const StubRun run = RunStubBinary(bin, config, args, "/dev/null", out_file);
  return run.exit_code == code && (expect.empty() || run.output.find(expect) != std::string::npos);
}

class Load {
 public:
  Load(const StubLoadOptions& options, int port, std::string token)
      : options_(options), port_(port), token_(std::move(token)) {}

  void Hostile(const std::string& kind, const std::function<int()>& attempt,
               std::vector<std::thread>& threads) {
    for (int t = 0; t < options_.flood_threads; ++t) {
      threads.emplace_back([this, kind, attempt] {
        while (Clock::now() < end_) Count(kind, attempt());
      });
    }
  }

  void Tricklers(std::vector<std::thread>& threads) {
    threads.emplace_back([this] {
      const std::string head =
          "POST /RPC2 HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: " + std::string(4000, 'a');
      struct Slow {
        int fd;
        size_t sent;
      };
      std::vector<Slow> slow;
      for (int i = 0; i < options_.tricklers; ++i) slow.push_back({ConnectLoopback(port_), 0});
      while (Clock::now() < end_) {
        for (Slow& s : slow) {
          if (s.fd >= 0 && s.sent < head.size() &&
              send(s.fd, head.data() + s.sent, 1, MSG_NOSIGNAL | MSG_DONTWAIT) == 1) {
            ++s.sent;
            continue;
          }
          // Cut off (or done): straight back, as an attacker would.
          if (s.fd >= 0) close(s.fd);
          s = {ConnectLoopback(port_), 0};
          ++reconnects_;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      for (const Slow& s : slow) {
        if (s.fd >= 0) close(s.fd);
      }
    });
  }

  void Legitimate(std::vector<std::thread>& threads, StubLoadResult& result) {
    for (int t = 0; t < options_.legit_threads; ++t) {
      threads.emplace_back([this, t, &result] {
        for (int i = 0; Clock::now() < end_; ++i) {
          // tm mv is answered with nothing, vmm migrate with onedock's refusal: both are decided
          // by onedockd alone.
          const bool mv = (i + t) % 2 == 0;
          const rpc::StubCall call{mv ? "tm" : "vmm",
                                   mv ? "mv" : "migrate",
                                   {"h1:/var/lib/one/0/" + std::to_string(i), "7", "0"},
                                   ""};
          const auto start = Clock::now();
          const std::string answer =
              Exchange(port_, StubRequest(token_, rpc::EncodeStubCall(call)), 30000);
          const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
          auto decoded = rpc::DecodeStubAnswer(HttpBodyOf(answer));
          const bool right =
              HttpStatusOf(answer) == 200 && decoded.ok() &&
              (mv ? decoded->exit_code == 0
                  : decoded->exit_code == 1 &&
                        decoded->error.find("migrate is not supported") != std::string::npos);
          std::lock_guard lock(mu_);
          ++result.legit_calls;
          if (!right) ++result.legit_wrong;
          result.legit_ms.push_back(ms);
        }
      });
    }
  }

  void StubBinary(std::vector<std::thread>& threads, StubLoadResult& result,
                  const std::string& config, const std::string& dir) {
    threads.emplace_back([this, &result, config, dir] {
      const auto gap = options_.duration / (options_.stub_binary_calls + 1);
      for (int i = 0; i < options_.stub_binary_calls; ++i) {
        std::this_thread::sleep_for(gap);
        const bool ok = i % 2 == 0
                            ? StubBinaryAnswers(options_.stub_bin, config,
                                                {"tm", "mv", "h1:/x", "h1:/y", "7", "0"}, 0, "",
                                                dir + "/stub.out")
                            : StubBinaryAnswers(options_.stub_bin, config,
                                                {"vmm", "migrate", "one-7", "h1", "7"}, 1,
                                                "migrate is not supported", dir + "/stub.out");
        if (ok) {
          std::lock_guard lock(mu_);
          ++result.stub_binary_ok;
        }
      }
    });
  }

  void Start() { end_ = Clock::now() + options_.duration; }
  int reconnects() const { return reconnects_.load(); }
  std::map<std::string, std::map<int, int>> hostile() {
    std::lock_guard lock(mu_);
    return hostile_;
  }

 private:
  void Count(const std::string& kind, int status) {
    std::lock_guard lock(mu_);
    ++hostile_[kind][status];
  }

  const StubLoadOptions& options_;
  const int port_;
  const std::string token_;
  Clock::time_point end_;
  std::mutex mu_;
  std::map<std::string, std::map<int, int>> hostile_;
  std::atomic<int> reconnects_{0};
};

}  // namespace

Result<StubLoadResult> RunStubLoad(const StubLoadOptions& options) {
  char pattern[] = "/tmp/onedock-stubload-XXXXXX";
  if (mkdtemp(pattern) == nullptr) return Internal("mkdtemp");
  const std::string dir = pattern;
  const int port = FreeLoopbackPort();
  const std::string token = "stubload-token-0123456789abcdef";
  std::ofstream(dir + "/token") << token << "\n";
  fs::permissions(dir + "/token", fs::perms::owner_read | fs::perms::owner_write);
  std::ofstream(dir + "/one_auth") << "oneadmin:unused\n";
  std::ofstream(dir + "/stub.conf")
      << "endpoint = http://127.0.0.1:" << port << "/RPC2\ntoken_file = " << dir
      << "/token\nretry_seconds = 60\n";
  // No oned and no engine: the calls made are answered by onedockd alone.
  std::ofstream(dir + "/onedockd.conf")
      << "[oned]\nendpoint = http://127.0.0.1:1/RPC2\nauth_file = " << dir << "/one_auth\n"
      << "[stub]\nlisten = 127.0.0.1:" << port << "\ntoken_file = " << dir << "/token\n"
      << "[engines]\ndefault_url = unix:///nonexistent/docker.sock\n"
      << "[images]\nspool = " << dir << "/spool\n"
      << "[journal]\npath = " << dir << "/journal.db\n"
      << "[metrics]\nlisten =\n"  // off: not this rig's to compete for the default port
      << "[log]\nlevel = info\n";
  StubLoadResult result;
  {
    OnedockdProcess onedockd(options.onedockd_bin, dir + "/onedockd.conf", dir + "/onedockd.log",
                             port);
    if (Status s = onedockd.Start(); !s.ok()) return s.WithContext(ReadFile(dir + "/onedockd.log"));
    result.rss_before_kb = ProcStatusKb(onedockd.pid(), "VmRSS");
    Load load(options, port, token);
    load.Start();
    std::vector<std::thread> threads;
    load.Tricklers(threads);
    load.Hostile(
        "oversize, no token", [&] { return Oversize(port, ""); }, threads);
    load.Hostile(
        "oversize, token", [&] { return Oversize(port, token); }, threads);
    const std::string deep = NestedEnvelope(900), bomb = EntityBomb();
    const std::string plain = rpc::EncodeStubCall({"tm", "mv", {"a"}, ""});
    load.Hostile(
        "900-deep nesting, no token",
        [&] { return HttpStatusOf(Exchange(port, StubRequest("", deep))); }, threads);
    load.Hostile(
        "900-deep nesting, token",
        [&] { return HttpStatusOf(Exchange(port, StubRequest(token, deep))); }, threads);
    load.Hostile(
        "entity bomb, token",
        [&] { return HttpStatusOf(Exchange(port, StubRequest(token, bomb))); }, threads);
    load.Hostile(
        "no token", [&] { return HttpStatusOf(Exchange(port, StubRequest("", plain))); }, threads);
    load.Hostile(
        "wrong token",
        [&] {
          return HttpStatusOf(Exchange(port, StubRequest(std::string(token.size(), 'x'), plain)));
        },
        threads);
    load.Legitimate(threads, result);
    load.StubBinary(threads, result, dir + "/stub.conf", dir);
    for (auto& t : threads) t.join();
    result.hostile = load.hostile();
    result.trickler_reconnects = load.reconnects();
    result.alive_after = onedockd.Alive() && Answers(port);
    result.peak_rss_kb = ProcStatusKb(onedockd.pid(), "VmHWM");
    result.threads = ProcStatusKb(onedockd.pid(), "Threads");
  }
  result.log = ReadFile(dir + "/onedockd.log");
  std::error_code ec;
  fs::remove_all(dir, ec);
  return result;
}

}  // namespace onedock::testing
