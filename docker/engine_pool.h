// EnginePool: EngineProvider over EngineClient. Keeps the idle clients of every host, so
// an action reuses a client whose TLS connection is already open instead of paying a handshake.
// Thread-safe; a lease is used by one thread and returns its client when destroyed.
#ifndef ONEDOCK_DOCKER_ENGINE_POOL_H_
#define ONEDOCK_DOCKER_ENGINE_POOL_H_

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "bridge/engine.h"
#include "docker/engine_client.h"

namespace onedock::docker {

class EnginePool : public EngineProvider {
 public:
  // Where a host's engine is; kInvalidArgument when the host has none.
  using Resolver = std::function<Result<Endpoint>(const std::string& host)>;
  // At most `max_idle` idle clients are kept per host.
  explicit EnginePool(Resolver resolve, size_t max_idle = 8);

  Result<Lease> Acquire(const std::string& host) override;
  // A client made for the lease and closed with it, never idle in the pool.
  Result<Lease> AcquireOwn(const std::string& host) override;
  std::string Describe(const std::string& host) const override;
  // A client of the host's engine outside the pool, for a caller that needs the whole EngineClient
  // (the image staging engine).
  Result<std::unique_ptr<EngineClient>> NewClient(const std::string& host) const;

 private:
  void Release(const std::string& host, EngineClient* client);

  const Resolver resolve_;
  const size_t max_idle_;
  std::mutex mu_;
  std::map<std::string, std::vector<std::unique_ptr<EngineClient>>> idle_;
};

}  // namespace onedock::docker

#endif  // ONEDOCK_DOCKER_ENGINE_POOL_H_
