#include "rpc/one_client_pool.h"

namespace onedock::rpc {

// A borrowed client, returned to the pool when the call ends.
class OneClientPool::Lease {
 public:
  explicit Lease(OneClientPool& pool) : pool_(pool), client_(pool.Take()) {}
  ~Lease() { pool_.Give(std::move(client_)); }
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  XmlRpcOneClient* operator->() { return client_.get(); }

 private:
  OneClientPool& pool_;
  std::unique_ptr<XmlRpcOneClient> client_;
};

OneClientPool::OneClientPool(OneEndpoint endpoint, size_t max_idle)
    : endpoint_(std::move(endpoint)), max_idle_(max_idle) {}

std::unique_ptr<XmlRpcOneClient> OneClientPool::Take() {
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      auto client = std::move(idle_.back());
      idle_.pop_back();
      return client;
    }
  }
  return std::make_unique<XmlRpcOneClient>(endpoint_);
}

void OneClientPool::Give(std::unique_ptr<XmlRpcOneClient> client) {
  std::lock_guard lock(mu_);
  if (idle_.size() < max_idle_) idle_.push_back(std::move(client));
}

Result<Vm> OneClientPool::VmInfo(int id) { return Lease(*this)->VmInfo(id); }
Result<Vnet> OneClientPool::VnetInfo(int id) { return Lease(*this)->VnetInfo(id); }
Result<Image> OneClientPool::ImageInfo(int id) { return Lease(*this)->ImageInfo(id); }
Result<std::vector<Vm>> OneClientPool::LiveVms() { return Lease(*this)->LiveVms(); }
Result<std::vector<Host>> OneClientPool::Hosts() { return Lease(*this)->Hosts(); }

}  // namespace onedock::rpc
