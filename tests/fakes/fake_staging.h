// FakeStaging and FakeRegistries: the image store's peers held in memory, for the unit tier.
#ifndef ONEDOCK_TESTS_FAKES_FAKE_STAGING_H_
#define ONEDOCK_TESTS_FAKES_FAKE_STAGING_H_

#include <cstdio>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "bridge/image_store.h"

namespace onedock::fakes {

// A staging engine held in memory; records its calls. Lease() hands the image store a staging
// engine that forwards here, so the test keeps what the store did.
class FakeStaging : public ImageStaging {
 public:
  std::vector<std::string> calls;
  std::set<std::string> local;
  bool push_fails = false;
  Status Pull(const std::string& reference, const RegistryAuth& auth) override {
    calls.push_back("pull " + reference + (auth.username.empty() ? "" : " as " + auth.username));
    if (reference.find("nosuch") != std::string::npos) return NotFound("manifest unknown");
    local.insert(reference);
    return Status::Ok();
  }
  std::vector<std::string> loads = {"sha256:loaded"};  // what Load reports (and adds to local)
  Result<std::vector<std::string>> Load(const std::string& tar_path) override {
    calls.push_back("load " + tar_path);
    local.insert(loads.begin(), loads.end());
    return loads;
  }
  Result<ImageInfo> Inspect(const std::string& reference) override {
    if (local.count(reference) == 0) return NotFound("no such image");
    return ImageInfo{};
  }
  Status Tag(const std::string& source, const std::string& repository,
             const std::string& tag) override {
    calls.push_back("tag " + source + " " + repository + ":" + tag);
    local.insert(repository + ":" + tag);
    return Status::Ok();
  }
  Result<std::string> Push(const std::string& reference, const RegistryAuth&) override {
    calls.push_back("push " + reference);
    if (push_fails) return Unavailable("connection reset after the manifest");
    return std::string("sha256:") + std::string(64, 'a');
  }
  Status Remove(const std::string& reference) override {
    calls.push_back("remove " + reference);
    local.erase(reference);
    return Status::Ok();
  }
  std::unique_ptr<ImageStaging> Lease();
};

// Registries held in memory: manifests by "domain/path:tag"; downloads fail as offline.
class FakeRegistries : public RegistryAccess {
 public:
  std::map<std::string, RegistryManifest> manifests;  // "domain/path:tag" -> manifest
  std::vector<std::string> deleted;
  std::set<std::string> wants_credentials;  // registry domains that answer 401 to anonymous calls
  Result<RegistryManifest> Manifest(const ImageReference& r, const RegistryAuth& auth) override {
    if (wants_credentials.count(r.domain) != 0 && auth.username.empty())
      return Unauthenticated("401 Unauthorized");
    auto it = manifests.find(r.Repository() + ":" + r.TagOrDigest());
    if (it == manifests.end()) return NotFound("MANIFEST_UNKNOWN");
    return it->second;
  }
  // As a registry does: every tag of the repository pointing to the digest goes with it.
  Status DeleteManifest(const ImageReference& r, const RegistryAuth&) override {
    deleted.push_back(r.Repository() + "@" + r.digest);
    for (auto it = manifests.begin(); it != manifests.end();) {
      const bool same =
          it->first.rfind(r.Repository() + ":", 0) == 0 && it->second.digest == r.digest;
      it = same ? manifests.erase(it) : std::next(it);
    }
    return Status::Ok();
  }
  Result<std::vector<std::string>> Tags(const ImageReference& r, const RegistryAuth&) override {
    std::vector<std::string> tags;
    const std::string prefix = r.Repository() + ":";
    for (const auto& [key, m] : manifests) {
      if (key.rfind(prefix, 0) == 0 && key.find('@') == std::string::npos)
        tags.push_back(key.substr(prefix.size()));
    }
    if (tags.empty()) return NotFound("NAME_UNKNOWN");
    return tags;
  }
  Result<std::string> TagDigest(const ImageReference& r, const RegistryAuth&) override {
    auto it = manifests.find(r.Repository() + ":" + r.tag);
    if (it == manifests.end()) return NotFound("MANIFEST_UNKNOWN");
    return it->second.digest;
  }
  std::set<std::string> refused_registries;  // domains CheckRegistry refuses
  Status CheckRegistry(const ImageReference& r) override {
    if (refused_registries.count(r.domain) != 0)
      return PermissionDenied("destination " + r.domain + " refused: loopback address");
    return Status::Ok();
  }
  bool partial_download = false;  // Download writes some bytes, then fails as past its bound
  Result<int64_t> Download(const std::string&, const std::string& path) override {
    if (!partial_download) return Unavailable("offline");
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (f != nullptr) {
      std::fputs("partial", f);
      std::fclose(f);
    }
    return InvalidArgument("reply body larger than 7 bytes");
  }
  Result<int64_t> RemoteSize(const std::string&) override { return int64_t{-1}; }
};

// Forwards every call to the FakeStaging it was made by.
class ForwardingStaging : public ImageStaging {
 public:
  explicit ForwardingStaging(FakeStaging& to) : to_(to) {}
  Status Pull(const std::string& r, const RegistryAuth& a) override { return to_.Pull(r, a); }
  Result<std::vector<std::string>> Load(const std::string& p) override { return to_.Load(p); }
  Result<ImageInfo> Inspect(const std::string& r) override { return to_.Inspect(r); }
  Status Tag(const std::string& s, const std::string& r, const std::string& t) override {
    return to_.Tag(s, r, t);
  }
  Result<std::string> Push(const std::string& r, const RegistryAuth& a) override {
    return to_.Push(r, a);
  }
  Status Remove(const std::string& r) override { return to_.Remove(r); }

 private:
  FakeStaging& to_;
};

inline std::unique_ptr<ImageStaging> FakeStaging::Lease() {
  return std::make_unique<ForwardingStaging>(*this);
}

}  // namespace onedock::fakes

#endif  // ONEDOCK_TESTS_FAKES_FAKE_STAGING_H_
