// EngineClient's image calls: pull and push with their progress streams, tag, remove, inspect,
// load.
#include "bridge/image_reference.h"
#include "docker/engine_client.h"

namespace onedock::docker {
namespace {

// "repo:tag" / "repo@digest" / "repo" -> fromImage and tag query values.
std::pair<std::string, std::string> SplitForPull(const std::string& reference) {
  auto parsed = ParseImageReference(reference);
  if (parsed.ok()) return {parsed->Repository(), parsed->TagOrDigest()};
  return {reference, "latest"};  // let the engine word the refusal
}

}  // namespace
Status EngineClient::PullImage(const std::string& reference, const RegistryAuth& auth,
                               const std::function<void(std::string_view)>& on_progress) {
  auto [repo, tag] = SplitForPull(reference);
  Call call{.method = "POST",
            .path = "/images/create?fromImage=" + UrlEscape(repo) + "&tag=" + UrlEscape(tag),
            .content_type = "",
            .headers = {"X-Registry-Auth: " + RegistryAuthHeader(auth)},
            .timeout_ms = kImageTransferTimeoutMs};
  return ProgressCall(std::move(call), "pull " + reference, on_progress, nullptr);
}

Result<std::string> EngineClient::PushImage(const std::string& reference,
                                            const RegistryAuth& auth) {
  auto [repo, tag] = SplitForPull(reference);
  std::string digest;
  Call call{.method = "POST",
            .path = "/images/" + UrlEscape(repo) + "/push?tag=" + UrlEscape(tag),
            .content_type = "",
            .headers = {"X-Registry-Auth: " + RegistryAuthHeader(auth)},
            .timeout_ms = kImageTransferTimeoutMs};
  const std::string what = "push " + reference;
  if (Status s = ProgressCall(std::move(call), what, nullptr, &digest); !s.ok()) return s;
  if (digest.empty()) return Internal("push finished without a digest").WithContext(Context(what));
  return digest;
}

Status EngineClient::TagImage(const std::string& source, const std::string& repo,
                              const std::string& tag) {
  return Expect({.method = "POST",
                 .path = "/images/" + UrlEscape(source) + "/tag?repo=" + UrlEscape(repo) +
                         "&tag=" + UrlEscape(tag)},
                "tag " + source)
      .status();
}

Status EngineClient::RemoveImage(const std::string& reference, bool force) {
  return Expect({.method = "DELETE",
                 .path = "/images/" + UrlEscape(reference) + "?force=" + (force ? "1" : "0")},
                "remove image " + reference)
      .status();
}

Result<ImageInfo> EngineClient::InspectImage(const std::string& reference) {
  const std::string what = "inspect image " + reference;
  auto r = Expect({.path = "/images/" + UrlEscape(reference) + "/json"}, what);
  if (!r.ok()) return r.status();
  auto info = ParseImageInspect(r->body);
  if (!info.ok()) return info.status().WithContext(Context(what));
  return info;
}

Result<std::vector<std::string>> EngineClient::LoadImage(const std::string& tar_path) {
  std::vector<std::string> loaded;
  Call call{.method = "POST",
            .path = "/images/load?quiet=1",
            .content_type = "application/x-tar",
            .upload_file = tar_path,
            .timeout_ms = kImageTransferTimeoutMs};
  auto collect = [&loaded](std::string_view line) {
    if (std::string ref = LoadedImageFromLine(line); !ref.empty()) loaded.push_back(ref);
  };
  const std::string what = "load " + tar_path;
  if (Status s = ProgressCall(std::move(call), what, collect, nullptr); !s.ok()) return s;
  if (loaded.empty()) return Internal("the engine loaded no image").WithContext(Context(what));
  return loaded;
}

}  // namespace onedock::docker
