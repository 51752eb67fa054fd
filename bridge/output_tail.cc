#include "bridge/output_tail.h"

#include <vector>

#include "bridge/utf8.h"

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

namespace {

// One line made printable: escape sequences (ESC [ … final byte, ESC ] … BEL) and \r dropped,
// other control bytes and broken UTF-8 as '?', blanks at both ends trimmed.
std::string Printable(std::string_view line) {
  std::string out;
  for (size_t i = 0; i < line.size();) {
    const auto c = static_cast<unsigned char>(line[i]);
    if (c == 0x1b) {
      size_t j = i + 1;
      if (j < line.size() && line[j] == '[') {
        for (++j; j < line.size() && (line[j] < 0x40 || line[j] > 0x7e); ++j) {
        }
        i = j + 1;
      } else if (j < line.size() && line[j] == ']') {
        for (++j; j < line.size() && line[j] != '\a'; ++j) {
        }
        i = j + 1;
      } else {
        i = j + 1;
      }
      continue;
    }
    if (c == '\r') {
      ++i;
      continue;
    }
    if (c == '\t') {
      out += ' ';
      ++i;
      continue;
    }
    if (c < 0x20 || c == 0x7f) {
      out += '?';
      ++i;
      continue;
    }
    const size_t n = Utf8SequenceLength(line.substr(i));
    if (n == 0) {
      out += '?';
      ++i;
      continue;
    }
    out.append(line.substr(i, n));
    i += n;
  }
  const auto first = out.find_first_not_of(' ');
  if (first == std::string::npos) return "";
  return out.substr(first, out.find_last_not_of(' ') - first + 1);
}

}  // namespace

std::string LastLines(std::string_view text, size_t lines, size_t max) {
  std::vector<std::string> kept;  // newest first
  size_t end = text.size();
  while (kept.size() < lines && end > 0) {
    const size_t nl = text.rfind('\n', end - 1);
    const size_t begin = nl == std::string_view::npos ? 0 : nl + 1;
    std::string line = Printable(text.substr(begin, end - begin));
    if (!line.empty()) kept.push_back(std::move(line));
    if (nl == std::string_view::npos) break;
    end = nl;
  }
  std::string out;
  for (auto it = kept.rbegin(); it != kept.rend(); ++it) {
    if (!out.empty()) out += " | ";
    out += *it;
  }
  if (out.size() <= max) return out;
  static constexpr std::string_view kCut = "…";
  if (max <= kCut.size()) return "";
  size_t from = out.size() - (max - kCut.size());
  while (from < out.size() && (static_cast<unsigned char>(out[from]) & 0xc0) == 0x80) ++from;
  return std::string(kCut) + out.substr(from);
}

}  // namespace onedock
