#include "docker/engine_pool.h"

namespace onedock::docker {

EnginePool::EnginePool(Resolver resolve, size_t max_idle)
    : resolve_(std::move(resolve)), max_idle_(max_idle) {}

Result<EngineProvider::Lease> EnginePool::Acquire(const std::string& host) {
  std::unique_ptr<EngineClient> client;
  {
    std::lock_guard lock(mu_);
    auto& idle = idle_[host];
    if (!idle.empty()) {
      client = std::move(idle.back());
      idle.pop_back();
    }
  }
  if (!client) {
    auto made = NewClient(host);
    if (!made.ok()) return made.status();
    client = std::move(*made);
  }
  return Lease(client.release(),
               [this, host](Engine* e) { Release(host, static_cast<EngineClient*>(e)); });
}

Result<EngineProvider::Lease> EnginePool::AcquireOwn(const std::string& host) {
  auto made = NewClient(host);
  if (!made.ok()) return made.status();
  return Lease(made->release(), [](Engine* e) { delete e; });
}

Result<std::unique_ptr<EngineClient>> EnginePool::NewClient(const std::string& host) const {
  auto endpoint = resolve_(host);
  if (!endpoint.ok()) return endpoint.status().WithContext("host " + host);
  return std::make_unique<EngineClient>(host, *endpoint);
}

void EnginePool::Release(const std::string& host, EngineClient* client) {
  std::unique_ptr<EngineClient> owned(client);
  std::lock_guard lock(mu_);
  auto& idle = idle_[host];
  if (idle.size() < max_idle_) idle.push_back(std::move(owned));
}

std::string EnginePool::Describe(const std::string& host) const {
  auto endpoint = resolve_(host);
  if (!endpoint.ok()) return "(no engine address)";
  return endpoint->unix_socket.empty() ? endpoint->base_url : "unix://" + endpoint->unix_socket;
}

}  // namespace onedock::docker
