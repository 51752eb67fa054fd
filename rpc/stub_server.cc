#include "rpc/stub_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <xmlrpc-c/base.hpp>
#include <xmlrpc-c/registry.hpp>
#include <xmlrpc-c/server_abyss.hpp>

#include "bridge/base64.h"
#include "bridge/net_address.h"
#include "rpc/one_parse.h"
#include "rpc/xml_node.h"

namespace onedock::rpc {
namespace {

bool SameToken(const std::string& given, const std::string& token) {
  if (given.size() != token.size() || token.empty()) return false;
  // No early exit: the time taken says nothing about how much of the token matched.
  unsigned char diff = 0;
  for (size_t i = 0; i < token.size(); ++i) diff |= static_cast<unsigned char>(given[i] ^ token[i]);
  return diff == 0;
}

class DriverMethod : public xmlrpc_c::method {
 public:
  DriverMethod(std::string token, StubHandler handler)
      : token_(std::move(token)), handler_(std::move(handler)) {
    _signature = "A:sssAs";
    _help =
        "Runs one onedock driver action: token, kind, action, argv, stdin -> [exit, stdout, error]";
  }

  void execute(const xmlrpc_c::paramList& params, xmlrpc_c::value* result) override {
    params.verifyEnd(5);
    if (!SameToken(params.getString(0), token_))
      throw xmlrpc_c::fault("onedockd: stub token refused",
                            static_cast<xmlrpc_c::fault::code_t>(kStubFaultToken));
    std::vector<std::string> argv;
    for (const auto& v : params.getArray(3)) argv.push_back(xmlrpc_c::value_string(v));
    DriverAnswer answer;
    auto call = DecodeDriverCall(params.getString(1), params.getString(2), std::move(argv),
                                 params.getString(4));
    if (!call.ok()) {
      answer = {1, "", "onedock " + params.getString(2) + ": " + call.status().message()};
    } else {
      try {
        answer = handler_(*call);
      } catch (const std::exception& e) {
        answer = {1, "", std::string("onedockd internal error: ") + e.what()};
      }
    }
    *result = xmlrpc_c::value_array({xmlrpc_c::value_int(answer.exit_code),
                                     xmlrpc_c::value_string(answer.out),
                                     xmlrpc_c::value_string(answer.error)});
  }

 private:
  const std::string token_;
  const StubHandler handler_;
};

}  // namespace

Result<DriverCall> DecodeDriverCall(std::string kind, std::string action,
                                    std::vector<std::string> argv, const std::string& stdin_text) {
  DriverCall call{std::move(kind), std::move(action), std::move(argv), "",
                  std::nullopt,    std::nullopt,      std::nullopt};
  const auto first = stdin_text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return call;
  if (stdin_text[first] == '<') {
    call.document = stdin_text;
  } else {
    std::string compact;
    for (char c : stdin_text) {
      if (c != '\n' && c != '\r') compact += c;
    }
    auto decoded = Base64Decode(compact);
    if (!decoded.ok())
      return InvalidArgument("stdin is neither XML nor base64: " + decoded.status().message());
    call.document = std::move(*decoded);
  }
  auto doc = ParseXml(call.document);
  if (!doc.ok()) return doc.status().WithContext("stdin document");
  if (doc->name == "DS_DRIVER_ACTION_DATA") {
    if (const XmlNode* image = doc->Child("IMAGE"); image != nullptr) {
      auto parsed = ParseActionImage(*image);
      if (!parsed.ok()) return parsed.status().WithContext("stdin <IMAGE>");
      call.image = std::move(*parsed);
    }
    if (const XmlNode* ds = doc->Child("DATASTORE"); ds != nullptr) {
      auto parsed = ParseDatastore(*ds);
      if (!parsed.ok()) return parsed.status().WithContext("stdin <DATASTORE>");
      call.datastore = std::move(*parsed);
    }
    return call;
  }
  const XmlNode* vm = doc->name == "VM" ? &*doc : doc->Child("VM");
  if (vm != nullptr) {
    auto parsed = ParseVm(*vm);
    if (!parsed.ok()) return parsed.status().WithContext("stdin <VM>");
    call.vm = std::move(*parsed);
  }
  return call;
}

struct StubServer::Impl {
  xmlrpc_c::registry registry;
  std::unique_ptr<xmlrpc_c::serverAbyss> server;
};

StubServer::StubServer(std::unique_ptr<Impl> impl, int port)
    : impl_(std::move(impl)), port_(port) {}
StubServer::~StubServer() = default;

Result<std::unique_ptr<StubServer>> StubServer::Listen(const StubServerOptions& options,
                                                       StubHandler handler) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(options.port));
  if (!IsIpv4Loopback(options.address) ||
      inet_pton(AF_INET, options.address.c_str(), &addr.sin_addr) != 1) {
    return InvalidArgument("stub endpoint address " + options.address +
                           " is not an IPv4 loopback address");
  }
  if (options.token.size() < 16) return InvalidArgument("stub token is shorter than 16 characters");
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      listen(fd, 256) != 0) {
    const std::string err = std::strerror(errno);
    if (fd >= 0) close(fd);
    return Unavailable("stub endpoint " + options.address + ":" + std::to_string(options.port) +
                       ": " + err);
  }
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  // VM documents with large CONTEXT files exceed xmlrpc-c's 512 KB default.
  xmlrpc_limit_set(XMLRPC_XML_SIZE_LIMIT_ID, 64u << 20);
  auto impl = std::make_unique<Impl>();
  impl->registry.addMethod(
      kStubMethod, xmlrpc_c::methodPtr(new DriverMethod(options.token, std::move(handler))));
  impl->server = std::make_unique<xmlrpc_c::serverAbyss>(xmlrpc_c::serverAbyss::constrOpt()
                                                             .registryP(&impl->registry)
                                                             .socketFd(fd)
                                                             .uriPath("/RPC2")
                                                             .keepaliveTimeout(5)
                                                             .timeout(60)
                                                             .maxConn(options.max_connections)
                                                             .serverOwnsSignals(false));
  return std::unique_ptr<StubServer>(new StubServer(std::move(impl), ntohs(addr.sin_port)));
}

void StubServer::Run() { impl_->server->run(); }
void StubServer::Stop() { impl_->server->terminate(); }

}  // namespace onedock::rpc
