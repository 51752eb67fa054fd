// ImageReference: a Docker image reference ([domain[:port]/]path[:tag][@digest]) parsed and
// validated against the distribution grammar, so a hostile or malformed name is refused before it
// reaches an engine, a registry or a URL. Plain value.
#ifndef ONEDOCK_BRIDGE_IMAGE_REFERENCE_H_
#define ONEDOCK_BRIDGE_IMAGE_REFERENCE_H_

#include <string>
#include <string_view>

#include "bridge/status.h"

namespace onedock {

struct ImageReference {
  std::string domain;  // "127.0.0.1:5000", "registry.example.org"; empty when not given
  std::string path;    // "onedock/httpd"
  std::string tag;     // "1.0"; empty when not given
  std::string digest;  // "sha256:<64 hex>"; empty when not given

  // domain/path, or path alone.
  std::string Repository() const;
  // Repository()[:tag][@digest]
  std::string ToString() const;
  // The last path component ("httpd").
  std::string Basename() const;
  // What a pull names after the repository: the digest when there is one, else the tag, else
  // "latest".
  std::string TagOrDigest() const;
};

// Returns kInvalidArgument naming the offending part for anything outside the grammar: upper case
// in the path, "..", empty components, shell metacharacters, a bad tag or digest, more than 255
// characters of name.
Result<ImageReference> ParseImageReference(std::string_view text);

// The reference a SOURCE names ("docker://" prefix allowed), which must be in `registry` (the
// private registry; empty accepts any): kInvalidArgument "… is not in the private registry …"
// otherwise. Callers add which SOURCE it is.
Result<ImageReference> PrivateRegistryReference(const std::string& source,
                                                const std::string& registry);

}  // namespace onedock

#endif  // ONEDOCK_BRIDGE_IMAGE_REFERENCE_H_
