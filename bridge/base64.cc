#include "bridge/base64.h"

#include <array>

namespace onedock {
namespace {

constexpr std::string_view kStandard =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view kUrl =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string_view Table(Base64Alphabet a) { return a == Base64Alphabet::kUrl ? kUrl : kStandard; }

}  // namespace

std::string Base64Encode(std::string_view data, Base64Alphabet alphabet) {
  const std::string_view t = Table(alphabet);
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    const uint32_t v = (static_cast<uint8_t>(data[i]) << 16) |
                       (static_cast<uint8_t>(data[i + 1]) << 8) | static_cast<uint8_t>(data[i + 2]);
    out += t[v >> 18];
    out += t[(v >> 12) & 63];
    out += t[(v >> 6) & 63];
    out += t[v & 63];
  }
  const size_t rest = data.size() - i;
  if (rest > 0) {
    uint32_t v = static_cast<uint8_t>(data[i]) << 16;
    if (rest == 2) v |= static_cast<uint8_t>(data[i + 1]) << 8;
    out += t[v >> 18];
    out += t[(v >> 12) & 63];
    out += rest == 2 ? t[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

Result<std::string> Base64Decode(std::string_view text, Base64Alphabet alphabet) {
  std::array<int, 256> value;
  value.fill(-1);
  const std::string_view t = Table(alphabet);
  for (size_t i = 0; i < t.size(); ++i) value[static_cast<uint8_t>(t[i])] = static_cast<int>(i);

  std::string out;
  out.reserve(text.size() / 4 * 3);
  uint32_t acc = 0;
  int bits = 0;
  size_t symbols = 0;
  size_t padding = 0;
  for (char c : text) {
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
    if (c == '=') {
      ++padding;
      ++symbols;
      continue;
    }
    const int v = value[static_cast<uint8_t>(c)];
    if (v < 0 || padding > 0) {
      return InvalidArgument("invalid base64: unexpected character '" + std::string(1, c) + "'");
    }
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    ++symbols;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  if (symbols % 4 != 0 || padding > 2) {
    return InvalidArgument("invalid base64: length " + std::to_string(symbols) +
                           " is not a multiple of 4");
  }
  if (bits >= 6 || (acc & ((1u << bits) - 1)) != 0) {
    return InvalidArgument("invalid base64: trailing bits");
  }
  return out;
}

}  // namespace onedock
