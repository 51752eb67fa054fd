#include "bridge/tar_writer.h"

#include <cstdio>
#include <cstring>

namespace onedock {
namespace {

constexpr size_t kBlock = 512;

void Octal(char* field, size_t width, unsigned long long value) {
  // width-1 digits, zero padded, then NUL.
  std::snprintf(field, width, "%0*llo", static_cast<int>(width - 1), value);
}

bool SafePath(std::string_view path) {
  if (path.empty() || path.size() > 100 || path.front() == '/') return false;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    std::string_view part = path.substr(
        start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (part == ".." || (part.empty() && slash != std::string_view::npos)) return false;
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return path.find('\0') == std::string_view::npos;
}

}  // namespace

Status TarWriter::AddFile(std::string_view path, std::string_view content, unsigned mode) {
  return AddEntry(path, content, mode, '0');
}

Status TarWriter::AddDirectory(std::string_view path, unsigned mode) {
  return AddEntry(path, {}, mode, '5');
}

Status TarWriter::AddEntry(std::string_view path, std::string_view content, unsigned mode,
                           char type) {
  if (!SafePath(path)) {
    return InvalidArgument("unsafe archive path \"" + std::string(path.substr(0, 120)) + "\"");
  }
  char header[kBlock];
  std::memset(header, 0, sizeof header);
  std::memcpy(header, path.data(), path.size());
  Octal(header + 100, 8, mode & 07777);
  Octal(header + 108, 8, 0);  // uid
  Octal(header + 116, 8, 0);  // gid
  Octal(header + 124, 12, content.size());
  Octal(header + 136, 12, 0);  // mtime
  std::memset(header + 148, ' ', 8);
  header[156] = type;
  std::memcpy(header + 257, "ustar", 6);
  std::memcpy(header + 263, "00", 2);
  unsigned sum = 0;
  for (unsigned char c : header) sum += c;
  std::snprintf(header + 148, 8, "%06o", sum);
  header[155] = ' ';

  data_.append(header, kBlock);
  data_.append(content);
  data_.append((kBlock - content.size() % kBlock) % kBlock, '\0');
  return Status::Ok();
}

std::string TarWriter::Finish() const {
  std::string out = data_;
  out.append(2 * kBlock, '\0');
  return out;
}

}  // namespace onedock
