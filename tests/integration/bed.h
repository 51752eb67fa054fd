// Access to the real test bed started by tests/bed/testbed.sh: endpoints of its engines and
// registries, read from $ONEDOCK_LAB/bed.env (default lab /var/tmp/onedock-lab). Integration tests
// and benchmarks fail, never skip, when the bed is not up.
#ifndef ONEDOCK_TESTS_INTEGRATION_BED_H_
#define ONEDOCK_TESTS_INTEGRATION_BED_H_

#include <string>

#include "docker/curl_transport.h"

namespace onedock::testbed {

// Throws std::runtime_error with the command to run when bed.env is missing.
const std::string& Get(const std::string& key);

// mTLS endpoint of engine "h1", "h2", "h3" or "h4".
docker::Endpoint Engine(const std::string& engine);
// Its address: "127.0.0.2:2376".
std::string EngineAddress(const std::string& engine);
// The same engine over its private unix socket.
docker::Endpoint EngineSocket(const std::string& engine);
// "http://127.0.0.1:5000" style endpoint of "private", "private2", "upstream" or "auth" (wants
// credentials).
docker::Endpoint Registry(const std::string& which);
// "127.0.0.1:5001" of "private", "private2", "upstream" or "auth"; throws for anything else.
std::string RegistryHost(const std::string& which);
// The busybox-static httpd image in the upstream registry.
std::string TestImage();
// A name unique to this process and call: "<prefix>-<pid>-<n>".
std::string UniqueName(const std::string& prefix);

}  // namespace onedock::testbed

#endif  // ONEDOCK_TESTS_INTEGRATION_BED_H_
