#include "rpc/one_client.h"

#include <cstdlib>
#include <fstream>
#include <variant>
#include <xmlrpc-c/base.hpp>
#include <xmlrpc-c/client.hpp>
#include <xmlrpc-c/girerr.hpp>

#include "bridge/first_line.h"
#include "rpc/one_parse.h"

namespace onedock::rpc {
namespace {

constexpr int kAuthentication = 0x0100;
constexpr int kAuthorization = 0x0200;
constexpr int kNoExists = 0x0400;
constexpr int kAction = 0x0800;
constexpr int kRpcApi = 0x1000;
constexpr int kAllocate = 0x4000;
constexpr int kLocked = 0x8000;

using Param = std::variant<int, std::string, bool>;

}  // namespace

Result<OneEndpoint> ResolveOneEndpoint(const std::string& configured_endpoint,
                                       const std::string& configured_session) {
  OneEndpoint e;
  e.endpoint = configured_endpoint;
  if (e.endpoint.empty()) {
    const char* env = std::getenv("ONE_XMLRPC");
    e.endpoint = env && *env ? env : "http://localhost:2633/RPC2";
  }
  e.session = configured_session;
  if (e.session.empty()) {
    std::string path;
    if (const char* auth = std::getenv("ONE_AUTH"); auth && *auth) {
      path = auth;
    } else if (const char* home = std::getenv("HOME"); home && *home) {
      path = std::string(home) + "/.one/one_auth";
    } else {
      return NotFound("no OpenNebula session: set ONE_AUTH or create ~/.one/one_auth");
    }
    auto line = ReadFirstLine(path, "session file");
    if (!line.ok()) return line.status().WithContext("OpenNebula session");
    e.session = *line;
  }
  if (e.session.find(':') == std::string::npos) {
    return InvalidArgument("OpenNebula session must read user:password");
  }
  return e;
}

Status StatusFromOneError(int one_code, const std::string& message) {
  const std::string text = "oned: " + message;
  switch (one_code) {
    case kAuthentication:
      return Unauthenticated(text);
    case kAuthorization:
      return PermissionDenied(text);
    case kNoExists:
      return NotFound(text);
    case kAction:
    case kLocked:
      return FailedPrecondition(text);
    case kRpcApi:
    case kAllocate:
      return InvalidArgument(text);
    default:
      return Internal(text + " (code " + std::to_string(one_code) + ")");
  }
}

struct XmlRpcOneClient::Impl {
  explicit Impl(OneEndpoint e)
      : endpoint(std::move(e)),
        transport(xmlrpc_c::clientXmlTransport_curl::constrOpt().timeout(endpoint.timeout_ms)),
        client(&transport) {}

  // Calls `method` with the session first; returns element 1 of a successful reply.
  Result<xmlrpc_c::value> Call(const std::string& method, const std::vector<Param>& params) {
    xmlrpc_c::paramList list;
    list.add(xmlrpc_c::value_string(endpoint.session));
    for (const Param& p : params) {
      if (auto* i = std::get_if<int>(&p)) list.add(xmlrpc_c::value_int(*i));
      if (auto* s = std::get_if<std::string>(&p)) list.add(xmlrpc_c::value_string(*s));
      if (auto* b = std::get_if<bool>(&p)) list.add(xmlrpc_c::value_boolean(*b));
    }
    // xmlrpc-c reports transport and decoding failures by exception; they stop here.
    try {
      xmlrpc_c::rpcPtr rpc(method, list);
      xmlrpc_c::carriageParm_curl0 carriage(endpoint.endpoint);
      rpc->call(&client, &carriage);
      if (!rpc->isSuccessful()) {
        xmlrpc_c::fault f = rpc->getFault();
        return InvalidArgument("oned: XML-RPC fault " + std::to_string(f.getCode()) + ": " +
                               f.getDescription())
            .WithContext(method);
      }
      xmlrpc_c::value result = rpc->getResult();
      if (result.type() != xmlrpc_c::value::TYPE_ARRAY) {
        return Internal("oned reply is not an array").WithContext(method);
      }
      std::vector<xmlrpc_c::value> items = xmlrpc_c::value_array(result).vectorValueValue();
      if (items.size() < 2 || items[0].type() != xmlrpc_c::value::TYPE_BOOLEAN) {
        return Internal("oned reply array is malformed").WithContext(method);
      }
      if (!static_cast<bool>(xmlrpc_c::value_boolean(items[0]))) {
        const std::string message = items[1].type() == xmlrpc_c::value::TYPE_STRING
                                        ? std::string(xmlrpc_c::value_string(items[1]))
                                        : std::string("(no message)");
        const int code = items.size() > 2 && items[2].type() == xmlrpc_c::value::TYPE_INT
                             ? static_cast<int>(xmlrpc_c::value_int(items[2]))
                             : 0;
        return StatusFromOneError(code, message).WithContext(method);
      }
      return items[1];
    } catch (const girerr::error& e) {
      const std::string what = e.what();
      // Connection failures surface as curl texts inside the girerr message.
      if (what.find("connect") != std::string::npos || what.find("resolve") != std::string::npos ||
          what.find("Timeout") != std::string::npos ||
          what.find("timed out") != std::string::npos) {
        return Unavailable("oned at " + endpoint.endpoint + ": " + what).WithContext(method);
      }
      return Internal("oned at " + endpoint.endpoint + ": " + what).WithContext(method);
    }
  }

  Result<std::string> CallString(const std::string& method, const std::vector<Param>& params) {
    auto v = Call(method, params);
    if (!v.ok()) return v.status();
    if (v->type() != xmlrpc_c::value::TYPE_STRING) {
      return Internal("oned returned a non-string result").WithContext(method);
    }
    return std::string(xmlrpc_c::value_string(*v));
  }

  template <typename T>
  Result<T> CallParsed(const std::string& method, const std::vector<Param>& params,
                       Result<T> (*parse)(std::string_view)) {
    auto xml = CallString(method, params);
    if (!xml.ok()) return xml.status();
    auto parsed = parse(*xml);
    if (!parsed.ok()) return parsed.status().WithContext(method + " reply");
    return parsed;
  }

  OneEndpoint endpoint;
  xmlrpc_c::clientXmlTransport_curl transport;
  xmlrpc_c::client_xml client;
};

XmlRpcOneClient::XmlRpcOneClient(OneEndpoint endpoint)
    : impl_(std::make_unique<Impl>(std::move(endpoint))) {}

XmlRpcOneClient::~XmlRpcOneClient() = default;

Result<std::string> XmlRpcOneClient::SystemVersion() {
  return impl_->CallString("one.system.version", {});
}

Result<std::string> XmlRpcOneClient::SystemConfig() {
  return impl_->CallString("one.system.config", {});
}

Result<std::string> XmlRpcOneClient::InfoXml(const std::string& method,
                                             const std::vector<int>& params) {
  return impl_->CallString(method, std::vector<Param>(params.begin(), params.end()));
}

Result<Vm> XmlRpcOneClient::VmInfo(int id) {
  return impl_->CallParsed<Vm>("one.vm.info", {id}, ParseVmXml);
}

Result<std::vector<Vm>> XmlRpcOneClient::VmPool(int state) {
  return impl_->CallParsed<std::vector<Vm>>("one.vmpool.infoextended", {-2, -1, -1, state},
                                            ParseVmPoolXml);
}

Status XmlRpcOneClient::VmUpdate(int id, const std::string& template_text, bool append) {
  return impl_->Call("one.vm.update", {id, template_text, append ? 1 : 0}).status();
}

Result<Host> XmlRpcOneClient::HostInfo(int id) {
  return impl_->CallParsed<Host>("one.host.info", {id}, ParseHostXml);
}

Result<std::vector<Host>> XmlRpcOneClient::HostPool() {
  return impl_->CallParsed<std::vector<Host>>("one.hostpool.info", {}, ParseHostPoolXml);
}

Result<Image> XmlRpcOneClient::ImageInfo(int id) {
  return impl_->CallParsed<Image>("one.image.info", {id}, ParseImageXml);
}

Result<Datastore> XmlRpcOneClient::DatastoreInfo(int id) {
  return impl_->CallParsed<Datastore>("one.datastore.info", {id}, ParseDatastoreXml);
}

Result<Vnet> XmlRpcOneClient::VnetInfo(int id) {
  return impl_->CallParsed<Vnet>("one.vn.info", {id}, ParseVnetXml);
}

}  // namespace onedock::rpc
