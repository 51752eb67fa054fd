#include "bridge/image_store.h"

#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cctype>
#include <filesystem>

#include "bridge/log.h"
#include "bridge/spool.h"
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

bool SafeUrl(const std::string& url) {
  if (url.size() > 2048) return false;
  for (char c : url) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == '"' || c == '\'' || c == '`' || c == '\\' || c == '<' ||
        c == '>')
      return false;
  }
  return true;
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
    return Input{Origin::kRegistry, *ref, ""};
  }
  if (path.rfind("http://", 0) == 0 || path.rfind("https://", 0) == 0) {
    if (!SafeUrl(path)) return InvalidArgument("PATH " + path + " is not a plain URL");
    return Input{Origin::kUrl, {}, path};
  }
  if (path.front() == '/') {
    for (const auto& part : std::filesystem::path(path)) {
      if (part == "..") return InvalidArgument("PATH " + path + " climbs with \"..\"");
    }
    return Input{Origin::kFile, {}, path};
  }
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

Result<ImageReference> ImageStore::PrivateReference(const std::string& source) const {
  auto ref = PrivateRegistryReference(source, settings_.registry);
  if (!ref.ok()) return ref.status().WithContext("SOURCE");
  return ref;
}

Result<int64_t> ImageStore::Stat(const Image& image) {
  auto input = ParsePath(image);
  if (!input.ok()) return input.status();
  switch (input->origin) {
    case Origin::kRegistry: {
      const ImageReference& ref = input->reference;
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
      struct stat st {};
      if (::stat(input->location.c_str(), &st) != 0)
        return NotFound("tarball " + input->location + " cannot be read");
      if (!S_ISREG(st.st_mode))
        return InvalidArgument("tarball " + input->location + " is not a regular file");
      return CeilMb(st.st_size);
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

Result<CopyResult> ImageStore::Copy(const Image& image) {
  auto input = ParsePath(image);
  if (!input.ok()) return input.status();
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
  std::string tarball = input->location;
  bool downloaded = false;
  if (input->origin == Origin::kUrl) {
    std::error_code ec;
    tarball = SpoolFile(settings_.spool_dir, "image", std::to_string(image.id));
    auto got = registries_.Download(input->location, tarball);
    if (!got.ok()) {
      std::filesystem::remove(tarball, ec);
      return got.status().WithContext("download " + input->location);
    }
    downloaded = true;
  } else if (access(tarball.c_str(), R_OK) != 0) {
    return NotFound("tarball " + tarball + " cannot be read");
  }
  auto loaded = engine.Load(tarball);
  if (downloaded) {
    std::error_code ec;
    std::filesystem::remove(tarball, ec);
  }
  if (!loaded.ok()) return loaded.status().WithContext("load tarball " + input->location);
  if (loaded->size() != 1) {
    return InvalidArgument("tarball " + input->location + " holds " +
                           std::to_string(loaded->size()) + " images; an OpenNebula image is one");
  }
  auto published = Publish(engine, loaded->front(), RepositoryName(image.name), image.id);
  if (published.ok())
    log->info("image {}: tarball {} copied to {}", image.id, input->location, published->source);
  return published;
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
  Status s = registries_.DeleteManifest(*ref, settings_.registry_auth);
  if (s.code() == Status::Code::kNotFound) return Status::Ok();
  if (s.ok())
    NamedLogger("images")->info("image {}: {} deleted from the private registry", image.id,
                                ref->ToString());
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
