// EnginePool: which leases share the pool's idle clients. No engine is contacted: a client opens
// its connection at its first request.
#include "docker/engine_pool.h"

#include <doctest/doctest.h>

namespace onedock::docker {
namespace {

EnginePool::Resolver Unused() {
  return [](const std::string& host) -> Result<Endpoint> {
    if (host != "h1") return InvalidArgument("host " + host + " has no engine address");
    return Endpoint{.base_url = "https://127.0.0.1:9"};
  };
}

TEST_CASE("engine pool: a lease of its own is made for it and never becomes one of the idle") {
  EnginePool pool(Unused(), 8);
  Engine* pooled = nullptr;
  {
    auto lease = pool.Acquire("h1");
    REQUIRE(lease.ok());
    pooled = lease->get();
  }
  Engine* own = nullptr;
  {
    auto lease = pool.AcquireOwn("h1");
    REQUIRE(lease.ok());
    own = lease->get();
    CHECK(own != pooled);  // the idle client stays in the pool
  }
  // The idle are taken last returned first: the own client, had it been kept, would come now.
  auto first = pool.Acquire("h1");
  REQUIRE(first.ok());
  CHECK(first->get() == pooled);
  CHECK(pool.AcquireOwn("h2").status().code() == Status::Code::kInvalidArgument);
}

}  // namespace
}  // namespace onedock::docker
