// one_emulator: the OpenNebula emulator's XML-RPC server (a test instrument). Serves the oned 7.4
// method names and signatures of the reference on 127.0.0.1 with oned's reply convention:
// [true, result, 0] or [false, "[method] message", code, -1, 0]. Parameter type errors and unknown
// methods are XML-RPC faults, as xmlrpc-c produces them in oned.
//
//   one_emulator --config oned.conf [--port-file PATH]
// The config uses OpenNebula template syntax (PORT, ONEADMIN_PASSWORD, DATASTORE_LOCATION,
// DS_MAD_CONF, TM_MAD_CONF, VM_MAD, …). PORT 0 or absent picks a free port, written to PATH.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>
#include <xmlrpc-c/base.hpp>
#include <xmlrpc-c/registry.hpp>
#include <xmlrpc-c/server_abyss.hpp>

#include "rpc/monitord_message.h"
#include "tests/emulator/one_state.h"
#include "tests/free_port.h"

namespace onedock::emulator {
namespace {

using Handler = std::function<Answer(const xmlrpc_c::paramList&)>;

// One oned method: authenticates the session, checks the parameter count, runs the handler and
// builds oned's reply array.
class OneMethod : public xmlrpc_c::method {
 public:
  OneMethod(std::string name, const OneState* state, size_t min_params, size_t max_params,
            Handler handler)
      : name_(std::move(name)),
        state_(state),
        min_(min_params),
        max_(max_params),
        handler_(std::move(handler)) {}

  void execute(const xmlrpc_c::paramList& params, xmlrpc_c::value* result) override {
    // Type and count errors throw girerr::error, which xmlrpc-c turns into a fault.
    if (params.size() < min_ + 1 || params.size() > max_ + 1) {
      throw xmlrpc_c::fault("Wrong number of parameters for " + name_, xmlrpc_c::fault::CODE_TYPE);
    }
    const std::string session = params.getString(0);
    Answer answer =
        state_->Authenticate(session)
            ? handler_(params)
            : Answer::Error(kAuthentication, "User couldn't be authenticated, aborting call.");
    std::vector<xmlrpc_c::value> reply;
    if (answer.ok()) {
      reply.push_back(xmlrpc_c::value_boolean(true));
      if (answer.has_text) {
        reply.push_back(xmlrpc_c::value_string(answer.text));
      } else {
        reply.push_back(xmlrpc_c::value_int(answer.id));
      }
      reply.push_back(xmlrpc_c::value_int(0));
    } else {
      reply.push_back(xmlrpc_c::value_boolean(false));
      reply.push_back(xmlrpc_c::value_string("[" + name_ + "] " + answer.message));
      reply.push_back(xmlrpc_c::value_int(answer.code));
      reply.push_back(xmlrpc_c::value_int(-1));
      reply.push_back(xmlrpc_c::value_i8(0));
    }
    *result = xmlrpc_c::value_array(reply);
  }

 private:
  std::string name_;
  const OneState* state_;
  size_t min_, max_;
  Handler handler_;
};

bool OptionalBool(const xmlrpc_c::paramList& p, unsigned i, bool fallback) {
  return p.size() > i ? p.getBoolean(i) : fallback;
}

void Register(xmlrpc_c::registry& r, OneState& s) {
  auto add = [&](const std::string& name, size_t min, size_t max, Handler h) {
    r.addMethod(name, xmlrpc_c::methodPtr(new OneMethod(name, &s, min, max, std::move(h))));
  };
  using P = const xmlrpc_c::paramList&;
  add("one.system.version", 0, 0, [&](P) { return s.SystemVersion(); });
  add("one.system.config", 0, 0, [&](P) { return s.SystemConfig(); });

  add("one.host.allocate", 4, 4, [&](P p) {
    return s.HostAllocate(p.getString(1), p.getString(2), p.getString(3), p.getInt(4));
  });
  add("one.host.info", 1, 2, [&](P p) {
    OptionalBool(p, 2, false);
    return s.HostInfo(p.getInt(1));
  });
  add("one.hostpool.info", 0, 0, [&](P) { return s.HostPool(); });
  add("one.host.delete", 1, 1, [&](P p) { return s.HostDelete(p.getInt(1)); });
  add("one.host.status", 2, 2, [&](P p) { return s.HostStatus(p.getInt(1), p.getInt(2)); });

  add("one.datastore.allocate", 2, 2,
      [&](P p) { return s.DatastoreAllocate(p.getString(1), p.getInt(2)); });
  add("one.datastore.info", 1, 2, [&](P p) {
    OptionalBool(p, 2, false);
    return s.DatastoreInfo(p.getInt(1));
  });
  add("one.datastorepool.info", 0, 0, [&](P) { return s.DatastorePool(); });

  add("one.image.allocate", 2, 3, [&](P p) {
    OptionalBool(p, 3, false);
    return s.ImageAllocate(p.getString(1), p.getInt(2));
  });
  add("one.image.info", 1, 2, [&](P p) {
    OptionalBool(p, 2, false);
    return s.ImageInfo(p.getInt(1));
  });
  add("one.imagepool.info", 3, 3, [&](P p) {
    (void)p.getInt(1);
    (void)p.getInt(2);
    (void)p.getInt(3);
    return s.ImagePool();
  });
  add("one.image.delete", 1, 2, [&](P p) {
    OptionalBool(p, 2, false);
    return s.ImageDelete(p.getInt(1));
  });
  add("one.image.persistent", 2, 2,
      [&](P p) { return s.ImagePersistent(p.getInt(1), p.getBoolean(2)); });
  add("one.image.clone", 2, 3, [&](P p) {
    return s.ImageClone(p.getInt(1), p.getString(2), p.size() > 3 ? p.getInt(3) : -1);
  });

  add("one.vn.allocate", 2, 2, [&](P p) { return s.VnetAllocate(p.getString(1), p.getInt(2)); });
  add("one.vn.info", 1, 2, [&](P p) {
    OptionalBool(p, 2, false);
    return s.VnetInfo(p.getInt(1));
  });

  add("one.template.allocate", 1, 1, [&](P p) { return s.TemplateAllocate(p.getString(1)); });
  add("one.template.instantiate", 2, 5, [&](P p) {
    const bool hold = OptionalBool(p, 3, false);
    const std::string extra = p.size() > 4 ? p.getString(4) : "";
    OptionalBool(p, 5, false);
    return s.TemplateInstantiate(p.getInt(1), p.getString(2), hold, extra);
  });

  add("one.vm.allocate", 1, 2,
      [&](P p) { return s.VmAllocate(p.getString(1), OptionalBool(p, 2, false)); });
  add("one.vm.info", 1, 2, [&](P p) {
    OptionalBool(p, 2, false);
    return s.VmInfo(p.getInt(1));
  });
  for (const bool extended : {false, true}) {
    add(extended ? "one.vmpool.infoextended" : "one.vmpool.info", 4, 5, [&s, extended](P p) {
      (void)p.getInt(1);
      (void)p.getInt(2);
      (void)p.getInt(3);
      if (p.size() > 5 && !p.getString(5).empty()) {
        return Answer::Error(kInternalError, "JSON query search is not supported");  // SQLite oned
      }
      return s.VmPool(p.getInt(4), extended);
    });
  }
  add("one.vm.deploy", 2, 5, [&](P p) {
    const bool enforce = OptionalBool(p, 3, false);
    const int ds = p.size() > 4 ? p.getInt(4) : -1;
    if (p.size() > 5) (void)p.getString(5);
    return s.VmDeploy(p.getInt(1), p.getInt(2), enforce, ds);
  });
  add("one.vm.action", 2, 2, [&](P p) { return s.VmAction(p.getString(1), p.getInt(2)); });
  add("one.vm.migrate", 3, 6, [&](P p) {
    OptionalBool(p, 4, false);
    if (p.size() > 5) (void)p.getInt(5);
    return s.VmMigrate(p.getInt(1), p.getInt(2), p.getBoolean(3), p.size() > 6 ? p.getInt(6) : 0);
  });
  add("one.vm.snapshotcreate", 2, 2,
      [&](P p) { return s.VmSnapshotCreate(p.getInt(1), p.getString(2)); });
  add("one.vm.snapshotrevert", 2, 2,
      [&](P p) { return s.VmSnapshotRevert(p.getInt(1), p.getInt(2)); });
  add("one.vm.snapshotdelete", 2, 2,
      [&](P p) { return s.VmSnapshotDelete(p.getInt(1), p.getInt(2)); });
  add("one.vm.attachnic", 2, 2, [&](P p) { return s.VmAttachNic(p.getInt(1), p.getString(2)); });
  add("one.vm.detachnic", 2, 2, [&](P p) { return s.VmDetachNic(p.getInt(1), p.getInt(2)); });
  add("one.vm.resize", 2, 3,
      [&](P p) { return s.VmResize(p.getInt(1), p.getString(2), OptionalBool(p, 3, true)); });
  add("one.vm.update", 2, 3,
      [&](P p) { return s.VmUpdate(p.getInt(1), p.getString(2), p.size() > 3 ? p.getInt(3) : 0); });
}

// monitord's listener: the same port over UDP (one datagram per message) and TCP (one message per
// connection, read until the peer closes). Malformed messages are dropped.
class MonitordListener {
 public:
  MonitordListener(OneState* state, int port) : state_(state) {
    for (int attempt = 0; attempt < 20 && udp_ < 0; ++attempt) {
      tcp_ = Bind(SOCK_STREAM, port);
      if (tcp_ < 0) break;
      udp_ = Bind(SOCK_DGRAM, port_);
      if (udp_ < 0 && port == 0) {
        close(tcp_);  // that port's UDP side is taken: try another
        tcp_ = -1;
      } else if (udp_ < 0) {
        break;
      }
    }
    if (tcp_ >= 0) listen(tcp_, 64);
  }
  ~MonitordListener() {
    stop_ = true;
    shutdown(tcp_, SHUT_RDWR);
    shutdown(udp_, SHUT_RDWR);
    for (auto& t : threads_) t.join();
    close(tcp_);
    close(udp_);
  }
  bool ok() const { return tcp_ >= 0 && udp_ >= 0; }
  int port() const { return port_; }
  void Start() {
    threads_.emplace_back([this] { Udp(); });
    threads_.emplace_back([this] { Tcp(); });
  }

 private:
  int Bind(int type, int port) { return testing::BindLoopback(type, port, &port_); }
  void Apply(std::string_view wire) {
    auto m = rpc::DecodeMonitordMessage(wire);
    if (!m.ok()) {
      std::fprintf(stderr, "one_emulator: monitord: dropped: %s\n", m.status().message().c_str());
      return;
    }
    state_->ApplyMonitord({m->type, m->success, m->host_id, m->timestamp, m->payload});
  }
  void Udp() {
    std::string buf(65536, '\0');
    while (!stop_) {
      const ssize_t n = recv(udp_, buf.data(), buf.size(), 0);
      if (n <= 0) {
        if (stop_) return;
        continue;
      }
      Apply(std::string_view(buf.data(), static_cast<size_t>(n)));
    }
  }
  void Tcp() {
    while (!stop_) {
      const int c = accept(tcp_, nullptr, nullptr);
      if (c < 0) {
        if (stop_) return;
        continue;
      }
      timeval tv{5, 0};
      setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      std::string msg;
      char buf[65536];
      ssize_t n;
      while ((n = recv(c, buf, sizeof buf, 0)) > 0 && msg.size() < (32u << 20))
        msg.append(buf, static_cast<size_t>(n));
      close(c);
      Apply(msg);
    }
  }

  OneState* state_;
  int tcp_ = -1, udp_ = -1, port_ = 0;
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
};

int Main(int argc, char** argv) {
  std::string config_path, port_file;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--config") == 0)
      config_path = argv[i + 1];
    else if (std::strcmp(argv[i], "--port-file") == 0)
      port_file = argv[i + 1];
  }
  if (config_path.empty()) {
    std::fprintf(stderr, "usage: one_emulator --config FILE [--port-file PATH]\n");
    return 2;
  }
  std::ifstream in(config_path);
  if (!in) {
    std::fprintf(stderr, "one_emulator: cannot read %s\n", config_path.c_str());
    return 1;
  }
  std::stringstream text;
  text << in.rdbuf();
  auto config = ParseTemplate(text.str());
  if (!config.ok()) {
    std::fprintf(stderr, "one_emulator: %s: %s\n", config_path.c_str(),
                 config.status().message().c_str());
    return 1;
  }
  const int port = std::atoi(config->Get("PORT", "0").c_str());
  OneState state(*config);
  xmlrpc_c::registry registry;
  Register(registry, state);

  int fd = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd, 64) != 0) {
    std::fprintf(stderr, "one_emulator: cannot listen on 127.0.0.1:%d: %s\n", port,
                 std::strerror(errno));
    return 1;
  }
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  MonitordListener monitord(&state, std::atoi(config->Get("MONITOR_PORT", "0").c_str()));
  if (!monitord.ok()) {
    std::fprintf(stderr, "one_emulator: cannot listen for monitord messages: %s\n",
                 std::strerror(errno));
    return 1;
  }
  monitord.Start();
  state.set_monitord_port(monitord.port());
  if (!port_file.empty()) {
    std::ofstream(port_file + ".tmp") << ntohs(addr.sin_port) << " " << monitord.port() << "\n";
    std::rename((port_file + ".tmp").c_str(), port_file.c_str());
  }
  std::fprintf(stderr, "one_emulator: XML-RPC on http://127.0.0.1:%d/RPC2, monitord on port %d\n",
               ntohs(addr.sin_port), monitord.port());

  // SIGTERM/SIGINT end the server from a waiting thread.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  xmlrpc_c::serverAbyss server(xmlrpc_c::serverAbyss::constrOpt()
                                   .registryP(&registry)
                                   .socketFd(fd)
                                   .uriPath("/RPC2")
                                   .keepaliveTimeout(15)
                                   .keepaliveMaxConn(30)
                                   .timeout(15)
                                   .maxConn(15)
                                   // Abyss would otherwise reap every child, driver runs included.
                                   .serverOwnsSignals(false));
  // The placement step, every SCHED_INTERVAL seconds (default 1).
  std::atomic<bool> stopping{false};
  const int interval_ms =
      static_cast<int>(std::atof(config->Get("SCHED_INTERVAL", "1").c_str()) * 1000);
  std::thread scheduler([&state, &stopping, interval_ms] {
    while (!stopping) {
      state.ScheduleOnce();
      for (int waited = 0; waited < interval_ms && !stopping; waited += 50) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
  });
  std::thread stopper([&server, &signals, &stopping] {
    int sig = 0;
    sigwait(&signals, &sig);
    stopping = true;
    server.terminate();
  });
  server.run();
  stopper.join();
  scheduler.join();
  return 0;
}

}  // namespace
}  // namespace onedock::emulator

int main(int argc, char** argv) { return onedock::emulator::Main(argc, argv); }
