// RegistryAdmin: the Registry v2 calls that only tests and benchmarks make (check, tag lists, the
// catalog, a manifest digest by HEAD), so docker::RegistryClient carries only what onedockd uses.
// Basic credentials come from the endpoint; Bearer-token registries are not supported (the test
// bed's registries use basic authentication). Errors map through StatusFromRegistry, prefixed
// "<name>: <operation>". Blocking; not thread-safe: one instance per thread.
#ifndef ONEDOCK_TESTS_SUPPORT_REGISTRY_ADMIN_H_
#define ONEDOCK_TESTS_SUPPORT_REGISTRY_ADMIN_H_

#include <string>
#include <vector>

#include "bridge/status.h"
#include "docker/curl_transport.h"

namespace onedock::testing {

class RegistryAdmin {
 public:
  RegistryAdmin(std::string name, docker::Endpoint endpoint);

  // GET /v2/: OK when the registry speaks v2 and accepts the credentials.
  Status Check();
  // Tags of a repository; empty once every tag was deleted. kNotFound for an unknown repository.
  Result<std::vector<std::string>> ListTags(const std::string& repository);
  // The repositories the registry holds (the first 1000).
  Result<std::vector<std::string>> Catalog();
  // The digest of a tag or digest without fetching the body (HEAD). kNotFound when absent.
  Result<std::string> ManifestDigest(const std::string& repository, const std::string& reference);

 private:
  Result<docker::HttpResponse> Get(const std::string& method, const std::string& path,
                                   const std::string& what);
  std::string Context(const std::string& what) const { return name_ + ": " + what; }

  std::string name_;
  docker::CurlTransport transport_;
};

}  // namespace onedock::testing

#endif  // ONEDOCK_TESTS_SUPPORT_REGISTRY_ADMIN_H_
