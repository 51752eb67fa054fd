#include "bridge/image_store.h"

#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <optional>

#include "bridge/log.h"
#include "bridge/spool.h"
#include "bridge/url.h"
#include "bridge/volume_plan.h"

namespace onedock {
namespace {

constexpr int64_t kMiB = 1024 * 1024;

int64_t CeilMb(int64_t bytes) { return std::max<int64_t>(1, (bytes + kMiB - 1) / kMiB); }

// A repository basename from an image name: lower case letters, digits, '.', '_' and '-'.
std::string RepositoryName(const std::string& name) {
  std::string out;
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u)) {
      out += static_cast<char>(std::tolower(u));
    } else if (!out.empty() && out.back() != '-') {
      out += '-';
    }
    if (out.size() >= 64) break;
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out.empty() ? "image" : out;
}

// Repositories onedock makes itself; no tarball may bring a tag of them.
bool OwnRepository(const std::string& repository) {
  for (const char* own : {"onedock-checkpoint/", "onedock-snapshot/"}) {
    if (repository.find(own) != std::string::npos) return true;
  }
  return false;
}

const std::string& TemplateValue(const Datastore* ds, const std::string& key) {
  static const std::string kNone;
  if (ds == nullptr) return kNone;
  auto it = ds->template_attributes.find(key);
  return it == ds->template_attributes.end() ? kNone : it->second;
}

// The stock CLI (`oneimage create --path`) prefixes the working directory to every PATH whose
// scheme it does not know (it knows http, https, ssh, s3, rbd and lxd), so docker://REF reaches
// the datastore as <cwd>/docker://REF. No file path holds "docker://" ("//" names nothing).
std::string DockerPathOf(const std::string& path) {
  const auto at = path.find("/docker://");
  if (path.empty() || path.front() != '/' || at == std::string::npos) return path;
  return path.substr(at + 1);
}

}  // namespace

std::string CapacityLines(const Capacity& c) {
  return "USED_MB=" + std::to_string(c.used_mb) + "\nTOTAL_MB=" + std::to_string(c.total_mb) +
         "\nFREE_MB=" + std::to_string(c.Free()) + "\n";
}

ImageStore::ImageStore(Stager stager, RegistryAccess& registries, OneApi& one, SqliteStore& journal,
                       ImageStoreSettings settings)
    : stager_(std::move(stager)),
      registries_(registries),
      one_(one),
      journal_(journal),
      settings_(std::move(settings)) {}

Result<ImageStore::Input> ImageStore::ParsePath(const Image& image) const {
  if (image.path.empty()) return InvalidArgument("the image has no PATH to copy from");
  const std::string path = DockerPathOf(image.path);
  if (path.rfind("docker://", 0) == 0) {
    auto ref = ParseImageReference(std::string_view(path).substr(9));
    if (!ref.ok()) return ref.status().WithContext("PATH " + path);
    // Every user's images and VM checkpoints are in the private registry, and onedockd pulls
    // from it with its own credentials: a copy from it would pass over oned's permissions.
    if (ref->domain == settings_.registry) {
      return PermissionDenied("PATH " + path +
                              " names onedock's private registry; copy one of its images with "
                              "oneimage clone");
    }
    return Input{Origin::kRegistry, *ref, ""};
  }
  if (path.rfind("http://", 0) == 0 || path.rfind("https://", 0) == 0) {
    auto url = ParseUrl(path);
    if (!url.ok()) return url.status().WithContext("PATH " + path);
    return Input{Origin::kUrl, {}, path};
  }
  if (path.front() == '/') return Input{Origin::kFile, {}, path};
  return InvalidArgument(
      "PATH " + path + " is neither docker://<image>, an absolute tarball path nor an http(s) URL");
}

RegistryAuth ImageStore::UpstreamAuth(const Image& image, const std::string& domain) const {
  // The image template's credentials come first, then the configuration's for that registry.
  const auto& t = image.template_attributes;
  auto user = t.find("REGISTRY_USERNAME");
  auto password = t.find("REGISTRY_PASSWORD");
  if (user != t.end() && password != t.end() && !user->second.empty())
    return {user->second, password->second, domain};
  auto configured = settings_.upstream.find(domain);
  if (configured != settings_.upstream.end()) return configured->second;
  return {};
}

LocalPathPolicy ImageStore::PathPolicy(const Datastore* datastore) const {
  return {settings_.upload_dirs, settings_.restricted_dirs,
          SplitDirectories(TemplateValue(datastore, "SAFE_DIRS")),
          SplitDirectories(TemplateValue(datastore, "RESTRICTED_DIRS"))};
}

Result<ImageReference> ImageStore::PrivateReference(const std::string& source) const {
  auto ref = PrivateRegistryReference(source, settings_.registry);
  if (!ref.ok()) return ref.status().WithContext("SOURCE");
  return ref;
}

Result<int64_t> ImageStore::Stat(const Image& image, const Datastore* datastore) {
  auto input = ParsePath(image);
  if (!input.ok()) return input.status();
  switch (input->origin) {
    case Origin::kRegistry: {
      const ImageReference& ref = input->reference;
      if (Status s = registries_.CheckRegistry(ref); !s.ok())
        return s.WithContext("stat " + ref.ToString());
      const RegistryAuth auth = UpstreamAuth(image, ref.domain);
      auto manifest = registries_.Manifest(ref, auth);
      if (manifest.ok()) return CeilMb(manifest->size);
      // oned's stat carries PATH and SIZE only: the template's REGISTRY_USERNAME and
      // REGISTRY_PASSWORD reach cp, not stat. A registry that wants them is sized by the SIZE the
      // template gives.
      if (manifest.status().code() == Status::Code::kUnauthenticated && auth.username.empty()) {
        if (image.size_mb > 0) return image.size_mb;
        return manifest.status().WithContext(
            "stat " + ref.ToString() +
            " (oned passes stat no credentials: set SIZE in the image template, or "
            "[credentials " +
            ref.domain + "] in onedockd.conf)");
      }
      return manifest.status().WithContext("stat " + ref.ToString());
    }
    case Origin::kFile: {
      auto file = OpenedTarball::Open(input->location, PathPolicy(datastore));
      if (!file.ok()) return file.status();
      return CeilMb(file->size());
    }
    case Origin::kUrl: {
      auto size = registries_.RemoteSize(input->location);
      if (!size.ok()) return size.status().WithContext("stat " + input->location);
      return *size < 0 ? int64_t{1} : CeilMb(*size);
    }
  }
  return Internal("unreachable");
}

Result<CopyResult> ImageStore::Publish(ImageStaging& engine, const std::string& staged,
                                       const std::string& basename, int image_id) {
  const std::string repository = settings_.registry + "/" + basename;
  const std::string tag = std::to_string(image_id);
  const std::string target = repository + ":" + tag;
  if (Status s = engine.Tag(staged, repository, tag); !s.ok())
    return s.WithContext("tag " + target);
  auto digest = engine.Push(target, settings_.registry_auth);
  engine.Remove(target);  // the staging engine keeps no extra tag
  if (!digest.ok()) {
    // A push that failed after its manifest landed must not leave it behind.
    auto ref = ParseImageReference(target);
    if (ref.ok()) {
      auto landed = registries_.Manifest(*ref, settings_.registry_auth);
      if (landed.ok()) {
        ImageReference pinned = *ref;
        pinned.digest = landed->digest;
        registries_.DeleteManifest(pinned, settings_.registry_auth);
      }
    }
    return digest.status().WithContext("push " + target);
  }
  return CopyResult{target + "@" + *digest, "docker"};
}

Result<CopyResult> ImageStore::Copy(const Image& image, const Datastore* datastore) {
  auto input = ParsePath(image);
  if (!input.ok()) return input.status();
  std::optional<OpenedTarball> file;
  if (input->origin == Origin::kFile) {
    // Opened (and checked) before anything is staged, and loaded from what was opened.
    auto opened = OpenedTarball::Open(input->location, PathPolicy(datastore));
    if (!opened.ok()) return opened.status();
    file.emplace(std::move(*opened));
  }
  if (input->origin == Origin::kRegistry) {
    if (Status s = registries_.CheckRegistry(input->reference); !s.ok())
      return s.WithContext("pull " + input->reference.ToString());
  }
  auto lease = stager_();
  if (!lease.ok()) return lease.status().WithContext("staging engine");
  ImageStaging& engine = **lease;
  auto log = NamedLogger("images");
  if (input->origin == Origin::kRegistry) {
    const ImageReference& ref = input->reference;
    const std::string staged = ref.ToString();
    const bool had = engine.Inspect(staged).ok();
    if (Status s = engine.Pull(staged, UpstreamAuth(image, ref.domain)); !s.ok())
      return s.WithContext("pull " + staged);
    auto published = Publish(engine, staged, ref.Basename(), image.id);
    if (!had) engine.Remove(staged);
    if (published.ok()) log->info("image {}: {} copied to {}", image.id, staged, published->source);
    return published;
  }
  std::string tarball = file ? file->proc_path() : std::string();
  std::string spooled;
  if (input->origin == Origin::kUrl) {
    std::error_code ec;
    spooled = SpoolFile(settings_.spool_dir, "image", std::to_string(image.id));
    auto got = registries_.Download(input->location, spooled);
    if (!got.ok()) {
      std::filesystem::remove(spooled, ec);  // a partial download goes too
      return got.status().WithContext("download " + input->location);
    }
    tarball = spooled;
  }
  std::vector<std::string> loaded;
  auto staged = LoadTarball(engine, tarball, input->location, loaded);
  if (!spooled.empty()) {
    std::error_code ec;
    std::filesystem::remove(spooled, ec);
  }
  Result<CopyResult> published =
      staged.ok() ? Publish(engine, *staged, RepositoryName(image.name), image.id)
                  : Result<CopyResult>(staged.status());
  // The staging engine keeps nothing a tarball brought: every tag it loaded, then its image.
  for (const auto& ref : loaded) {
    if (ref.rfind("sha256:", 0) != 0) engine.Remove(ref);
  }
  for (const auto& ref : loaded) {
    if (ref.rfind("sha256:", 0) == 0) engine.Remove(ref);
  }
  if (published.ok())
    log->info("image {}: tarball {} copied to {}", image.id, input->location, published->source);
  return published;
}

Result<std::string> ImageStore::LoadTarball(ImageStaging& engine, const std::string& tar_path,
                                            const std::string& shown,
                                            std::vector<std::string>& loaded) {
  auto got = engine.Load(tar_path);
  if (!got.ok()) return got.status().WithContext("load tarball " + shown);
  loaded = *got;
  for (const auto& ref : loaded) {
    if (ref.rfind("sha256:", 0) == 0) continue;
    const bool private_tag = ref.rfind(settings_.registry + "/", 0) == 0;
    if (private_tag || OwnRepository(ref)) {
      return PermissionDenied("tarball " + shown + " is tagged " + ref +
                              ", a name of onedock's private registry; retag it before loading");
    }
  }
  if (loaded.size() != 1) {
    return InvalidArgument("tarball " + shown + " holds " + std::to_string(loaded.size()) +
                           " images; an OpenNebula image is one");
  }
  return loaded.front();
}

Result<CopyResult> ImageStore::Clone(const Image& image) {
  if (image.cloning_id < 0) return InvalidArgument("the image names no CLONING_ID");
  auto original = one_.ImageInfo(image.cloning_id);
  if (!original.ok()) {
    return original.status().WithContext("clone: read image " + std::to_string(image.cloning_id) +
                                         " from oned");
  }
  if (const auto data = VolumeImageId(original->source)) {
    auto home = journal_.VolumeHome(*data);
    if (!home.ok()) return home.status().WithContext("clone");
    if (*home) {
      return FailedPrecondition("the data of image " + std::to_string(image.cloning_id) +
                                " is in volume " + ImageVolumeName(*data) + " on host " + **home +
                                "; cloning a volume that holds data is not supported");
    }
    return CopyResult{VolumeSource(image.id), original->format};
  }
  auto cloned = CopyWithin(image, original->source);
  if (!cloned.ok())
    return cloned.status().WithContext("clone of image " + std::to_string(image.cloning_id));
  return cloned;
}

Result<std::string> ImageStore::Mkfs(const Image& image) {
  auto source = EmptyVolumeSource(image);
  if (!source.ok()) return source.status().WithContext("mkfs");
  return source;
}

Result<CopyResult> ImageStore::CopyWithin(const Image& image, const std::string& source) {
  auto ref = PrivateReference(source);
  if (!ref.ok()) return ref.status();
  auto lease = stager_();
  if (!lease.ok()) return lease.status().WithContext("staging engine");
  const std::string staged = ref->ToString();
  const bool had = (*lease)->Inspect(staged).ok();
  if (Status s = (*lease)->Pull(staged, settings_.registry_auth); !s.ok())
    return s.WithContext("pull " + staged);
  auto published = Publish(**lease, staged, RepositoryName(image.name), image.id);
  if (!had) (*lease)->Remove(staged);
  return published;
}

Result<bool> ImageStore::ManifestShared(const ImageReference& ref, int image_id) {
  auto tags = registries_.Tags(ref, settings_.registry_auth);
  if (!tags.ok()) {
    if (tags.status().code() == Status::Code::kNotFound) return false;
    return tags.status();
  }
  const std::string own_tag = std::to_string(image_id);
  for (const auto& tag : *tags) {
    if (tag == own_tag) continue;
    ImageReference other = ref;
    other.tag = tag;
    other.digest.clear();
    auto digest = registries_.TagDigest(other, settings_.registry_auth);
    if (!digest.ok()) {
      if (digest.status().code() == Status::Code::kNotFound) continue;  // deleted meanwhile
      return digest.status();
    }
    if (*digest != ref.digest) continue;
    // onedock tags an image <basename>:<image id>; any other tag was made by someone else.
    if (tag.empty() || tag.size() > 9 || !std::all_of(tag.begin(), tag.end(), ::isdigit))
      return true;
    auto image = one_.ImageInfo(std::stoi(tag));
    if (!image.ok()) {
      if (image.status().code() == Status::Code::kNotFound) continue;  // a tag left by a deletion
      return image.status().WithContext("read image " + tag + " from oned");
    }
    // An image still being copied has no SOURCE yet; one whose SOURCE is this manifest uses it.
    if (image->source.empty()) return true;
    auto theirs = PrivateRegistryReference(image->source, settings_.registry);
    if (theirs.ok() && theirs->Repository() == ref.Repository() && theirs->digest == ref.digest)
      return true;
  }
  return false;
}

Status ImageStore::Remove(const Image& image) {
  auto ref = PrivateReference(image.source);
  if (!ref.ok()) return ref.status();
  if (ref->digest.empty()) {
    auto manifest = registries_.Manifest(*ref, settings_.registry_auth);
    if (!manifest.ok()) {
      return manifest.status().code() == Status::Code::kNotFound
                 ? Status::Ok()
                 : manifest.status().WithContext("rm " + ref->ToString());
    }
    ref->digest = manifest->digest;
  }
  // The registry (distribution 2.8) deletes manifests, not tags: deleting this image's manifest
  // would take every tag of the repository pointing to the same digest, other images' too.
  auto shared = ManifestShared(*ref, image.id);
  if (!shared.ok()) return shared.status().WithContext("rm " + ref->ToString());
  auto log = NamedLogger("images");
  if (*shared) {
    log->info("image {}: {} kept in the private registry: another image refers to it", image.id,
              ref->ToString());
    return Status::Ok();
  }
  Status s = registries_.DeleteManifest(*ref, settings_.registry_auth);
  if (s.code() == Status::Code::kNotFound) return Status::Ok();
  if (s.ok())
    log->info("image {}: {} deleted from the private registry", image.id, ref->ToString());
  return s.WithContext("rm " + ref->ToString());
}

Result<Capacity> ImageStore::Monitor() {
  if (settings_.storage_path.empty()) return FailedPrecondition("[registry] storage is not set");
  struct statvfs fs {};
  if (statvfs(settings_.storage_path.c_str(), &fs) != 0) {
    return NotFound("registry storage " + settings_.storage_path + " cannot be read");
  }
  Capacity c;
  const auto block = static_cast<int64_t>(fs.f_frsize);
  c.total_mb = static_cast<int64_t>(fs.f_blocks) * block / kMiB;
  c.free_mb = static_cast<int64_t>(fs.f_bavail) * block / kMiB;
  c.used_mb = c.total_mb - static_cast<int64_t>(fs.f_bfree) * block / kMiB;
  return c;
}

Status ImageStore::PrePull(Engine& engine, const std::string& source) {
  auto ref = PrivateReference(source);
  if (!ref.ok()) return ref.status();
  const std::string reference = ref->ToString();
  if (engine.InspectImage(reference).ok()) return Status::Ok();
  return engine.PullImage(reference, settings_.registry_auth, nullptr)
      .WithContext("pull " + reference);
}

}  // namespace onedock
