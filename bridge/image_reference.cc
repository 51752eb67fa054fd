#include "bridge/image_reference.h"

#include <cctype>
#include <vector>

namespace onedock {
namespace {

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool IsAlnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

// alpha-numeric (separator alpha-numeric)*, separator = "." | "_" | "__" | "-"+
bool ValidPathComponent(std::string_view c) {
  if (c.empty() || !IsLowerAlnum(c.front()) || !IsLowerAlnum(c.back())) return false;
  for (size_t i = 0; i < c.size();) {
    if (IsLowerAlnum(c[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < c.size() && !IsLowerAlnum(c[j])) ++j;
    std::string_view sep = c.substr(i, j - i);
    const bool dashes = sep.find_first_not_of('-') == std::string_view::npos;
    if (!(sep == "." || sep == "_" || sep == "__" || dashes)) return false;
    i = j;
  }
  return true;
}

bool ValidDomainComponent(std::string_view c) {
  if (c.empty() || !IsAlnum(c.front()) || !IsAlnum(c.back())) return false;
  for (char ch : c) {
    if (!IsAlnum(ch) && ch != '-') return false;
  }
  return true;
}

bool ValidDomain(std::string_view d) {
  if (auto colon = d.rfind(':'); colon != std::string_view::npos) {
    std::string_view port = d.substr(colon + 1);
    if (port.empty() || port.size() > 5) return false;
    for (char ch : port) {
      if (ch < '0' || ch > '9') return false;
    }
    d = d.substr(0, colon);
  }
  if (d.empty()) return false;
  size_t start = 0;
  while (true) {
    size_t dot = d.find('.', start);
    if (!ValidDomainComponent(d.substr(start, dot == std::string_view::npos ? dot : dot - start))) {
      return false;
    }
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

bool ValidTag(std::string_view t) {
  if (t.empty() || t.size() > 128) return false;
  auto word = [](char c) { return IsAlnum(c) || c == '_'; };
  if (!word(t.front())) return false;
  for (char c : t) {
    if (!word(c) && c != '.' && c != '-') return false;
  }
  return true;
}

bool ValidDigest(std::string_view d) {
  constexpr std::string_view kPrefix = "sha256:";
  if (d.substr(0, kPrefix.size()) != kPrefix || d.size() != kPrefix.size() + 64) return false;
  for (char c : d.substr(kPrefix.size())) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Status Invalid(std::string_view text, std::string_view why) {
  return InvalidArgument("invalid image reference \"" + std::string(text.substr(0, 300)) +
                         "\": " + std::string(why));
}

}  // namespace

std::string ImageReference::Repository() const {
  return domain.empty() ? path : domain + "/" + path;
}

std::string ImageReference::ToString() const {
  std::string s = Repository();
  if (!tag.empty()) s += ":" + tag;
  if (!digest.empty()) s += "@" + digest;
  return s;
}

std::string ImageReference::Basename() const {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string ImageReference::TagOrDigest() const {
  if (!digest.empty()) return digest;
  return tag.empty() ? "latest" : tag;
}

Result<ImageReference> ParseImageReference(std::string_view text) {
  if (text.empty()) return Invalid(text, "empty");
  for (char c : text) {
    if (static_cast<unsigned char>(c) <= ' ' || static_cast<unsigned char>(c) >= 0x7f) {
      return Invalid(text, "contains whitespace or a non-ASCII character");
    }
  }
  ImageReference ref;
  std::string_view rest = text;
  if (auto at = rest.find('@'); at != std::string_view::npos) {
    ref.digest = std::string(rest.substr(at + 1));
    if (!ValidDigest(ref.digest)) return Invalid(text, "digest must be sha256:<64 lower-case hex>");
    rest = rest.substr(0, at);
  }
  // A ':' after the last '/' starts the tag; one before it belongs to a domain's port.
  const size_t last_slash = rest.rfind('/');
  const size_t colon = rest.rfind(':');
  if (colon != std::string_view::npos &&
      (last_slash == std::string_view::npos || colon > last_slash)) {
    ref.tag = std::string(rest.substr(colon + 1));
    if (!ValidTag(ref.tag))
      return Invalid(text, "tag must match [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");
    rest = rest.substr(0, colon);
  }
  if (rest.size() > 255) return Invalid(text, "name longer than 255 characters");

  std::vector<std::string_view> parts;
  for (size_t start = 0;;) {
    const size_t slash = rest.find('/', start);
    parts.push_back(rest.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  const std::string_view first = parts.front();
  const bool has_domain =
      parts.size() > 1 && (first.find('.') != std::string_view::npos ||
                           first.find(':') != std::string_view::npos || first == "localhost");
  size_t i = 0;
  if (has_domain) {
    if (!ValidDomain(first))
      return Invalid(text, "bad registry host \"" + std::string(first) + "\"");
    ref.domain = std::string(first);
    i = 1;
  }
  for (; i < parts.size(); ++i) {
    if (!ValidPathComponent(parts[i])) {
      return Invalid(text, "bad path component \"" + std::string(parts[i]) +
                               "\" (lower-case letters, digits and single separators only)");
    }
    if (!ref.path.empty()) ref.path += '/';
    ref.path += parts[i];
  }
  return ref;
}

Result<ImageReference> PrivateRegistryReference(const std::string& source,
                                                const std::string& registry) {
  std::string text = source;
  if (text.rfind("docker://", 0) == 0) text.erase(0, 9);
  auto ref = ParseImageReference(text);
  if (!ref.ok()) return ref.status();
  if (!registry.empty() && ref->domain != registry) {
    return InvalidArgument(text + " is not in the private registry " + registry);
  }
  return ref;
}

}  // namespace onedock
