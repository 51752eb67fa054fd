// XmlRpcOneClient: the calls onedock makes to oned's XML-RPC API (7.4 signatures, reference §1),
// with replies parsed into bridge/one_types.h records. Every reply array [ok, result, code, …] and
// every XML-RPC fault becomes a Status carrying oned's message and error code. Blocking; not
// thread-safe (one client per thread); libcurl must have been initialised by main.
#ifndef ONEDOCK_RPC_ONE_CLIENT_H_
#define ONEDOCK_RPC_ONE_CLIENT_H_

#include <memory>
#include <string>
#include <vector>

#include "bridge/one_api.h"
#include "bridge/one_types.h"
#include "bridge/status.h"

namespace onedock::rpc {

// Where oned is and who we are: `endpoint` "http://127.0.0.1:2633/RPC2", `session` "user:secret".
struct OneEndpoint {
  std::string endpoint;
  std::string session;
  unsigned timeout_ms = 30000;
};

// The standard places, in order: `configured_session` when not empty, else the file named by
// $ONE_AUTH, else ~/.one/one_auth (first line, "user:password"); `configured_endpoint` when not
// empty, else $ONE_XMLRPC, else http://localhost:2633/RPC2. kNotFound when no session is found,
// kInvalidArgument when it has no ':'.
Result<OneEndpoint> ResolveOneEndpoint(const std::string& configured_endpoint,
                                       const std::string& configured_session);

// oned's error codes (Request::ErrorCode) to Status codes: AUTHENTICATION unauthenticated,
// AUTHORIZATION permission denied, NO_EXISTS not found, ACTION and LOCKED failed precondition,
// RPC_API and ALLOCATE invalid argument, others internal.
Status StatusFromOneError(int one_code, const std::string& message);

// onedockd calls VmInfo, VnetInfo and ImageInfo (the OneApi part, through OneClientPool).
// The other calls have no caller in onedockd: the integration and e2e tiers read oned through them,
// so what a test sees of oned is parsed by the same code, with the same reply and error convention,
// as what onedockd sees.
class XmlRpcOneClient : public OneApi {
 public:
  explicit XmlRpcOneClient(OneEndpoint endpoint);
  ~XmlRpcOneClient() override;
  XmlRpcOneClient(const XmlRpcOneClient&) = delete;
  XmlRpcOneClient& operator=(const XmlRpcOneClient&) = delete;

  Result<std::string> SystemVersion();
  Result<std::string> SystemConfig();  // <OPENNEBULA_CONFIGURATION> XML
  // The reply document of an info call with integer parameters, unparsed ("one.clusterpool.info",
  // {}): the doctor decides over oned's documents themselves.
  Result<std::string> InfoXml(const std::string& method, const std::vector<int>& params);

  Result<Vm> VmInfo(int id) override;
  // one.vmpool.infoextended (full bodies, USER_TEMPLATE included); state -1 = all but DONE.
  Result<std::vector<Vm>> VmPool(int state = -1);
  // one.vm.update: replace (append=false) or merge the USER_TEMPLATE.
  Status VmUpdate(int id, const std::string& template_text, bool append);

  Result<Host> HostInfo(int id);
  Result<std::vector<Host>> HostPool();
  Result<Image> ImageInfo(int id) override;
  Result<Datastore> DatastoreInfo(int id);
  Result<Vnet> VnetInfo(int id) override;
  Result<std::vector<Vm>> LiveVms() override { return VmPool(-1); }
  Result<std::vector<Host>> Hosts() override { return HostPool(); }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace onedock::rpc

#endif  // ONEDOCK_RPC_ONE_CLIENT_H_
