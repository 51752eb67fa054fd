// OneClientPool: OneApi for many threads at once. xmlrpc-c clients are not thread-safe, so
// each call borrows an idle XmlRpcOneClient (or makes one) and returns it after the reply; at most
// `max_idle` are kept, each holding its connection to oned. Calls never wait for one another.
// Thread-safe.
#ifndef ONEDOCK_RPC_ONE_CLIENT_POOL_H_
#define ONEDOCK_RPC_ONE_CLIENT_POOL_H_

#include <memory>
#include <mutex>
#include <vector>

#include "bridge/one_api.h"
#include "rpc/one_client.h"

namespace onedock::rpc {

class OneClientPool : public OneApi {
 public:
  explicit OneClientPool(OneEndpoint endpoint, size_t max_idle = 8);

  Result<Vm> VmInfo(int id) override;
  Result<Vnet> VnetInfo(int id) override;
  Result<Image> ImageInfo(int id) override;
  Result<std::vector<Vm>> LiveVms() override;
  Result<std::vector<Host>> Hosts() override;

 private:
  class Lease;
  std::unique_ptr<XmlRpcOneClient> Take();
  void Give(std::unique_ptr<XmlRpcOneClient> client);

  const OneEndpoint endpoint_;
  const size_t max_idle_;
  std::mutex mu_;
  std::vector<std::unique_ptr<XmlRpcOneClient>> idle_;
};

}  // namespace onedock::rpc

#endif  // ONEDOCK_RPC_ONE_CLIENT_POOL_H_
