// RegistryHttp's check of a PATH's registry, before the staging engine pulls: the private
// registry is refused by its own name and by any alias that reaches the same address and port.
#include <doctest/doctest.h>

#include "bridge/image_reference.h"
#include "docker/image_staging.h"
#include "tests/support/require_ok.h"

namespace onedock::docker {
namespace {

ImageReference Ref(const std::string& text) {
  auto ref = ParseImageReference(text);
  REQUIRE_OK(ref);
  return *ref;
}

TEST_CASE("a PATH's registry that is the private one, by name or alias, is refused") {
  auto allow_loopback = DestinationPolicy::Make({"127.0.0.0/8"}, {});
  REQUIRE_OK(allow_loopback);
  RegistryHttpSettings settings;
  settings.private_registry = "127.0.0.1:5000";
  settings.destinations = *allow_loopback;
  RegistryHttp registries(settings);
  for (const char* alias : {"127.0.0.1:5000/web:1", "localhost:5000/web:1"}) {
    CAPTURE(alias);
    const Status s = registries.CheckRegistry(Ref(alias));
    CHECK(s.code() == Status::Code::kPermissionDenied);
    CHECK(s.message().find("private registry") != std::string::npos);
  }
  // Another port of the same address is another registry, which the policy admits here.
  CHECK_OK(registries.CheckRegistry(Ref("127.0.0.1:5001/web:1")));
}

}  // namespace
}  // namespace onedock::docker
