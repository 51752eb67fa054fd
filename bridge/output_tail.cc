#include "bridge/output_tail.h"

namespace onedock {

void OutputTail::Append(std::string_view chunk) {
  total_ += static_cast<int64_t>(chunk.size());
  if (chunk.size() >= keep_) {
    kept_.assign(chunk.substr(chunk.size() - keep_));
    return;
  }
  kept_.append(chunk);
  // Trimmed in halves so that a stream of small chunks costs amortised O(1) per byte.
  if (kept_.size() > 2 * keep_) kept_.erase(0, kept_.size() - keep_);
}

std::string OutputTail::Tail() const {
  return kept_.size() <= keep_ ? kept_ : kept_.substr(kept_.size() - keep_);
}

std::string OneLineTail(std::string_view text, size_t max) {
  std::string out;
  if (text.size() > max) {
    text.remove_prefix(text.size() - max);
    out = "…";
  }
  static constexpr char kHex[] = "0123456789abcdef";
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c > 0x7e || c == '\\') {
      out += c == '\\' ? std::string("\\\\") : std::string{'\\', 'x', kHex[c >> 4], kHex[c & 15]};
    } else {
      out += ch;
    }
  }
  return out;
}

}  // namespace onedock
