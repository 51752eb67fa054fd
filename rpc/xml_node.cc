#include "rpc/xml_node.h"

#include <cctype>

namespace onedock::rpc {
namespace {

bool IsNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' ||
         c == ':' || static_cast<unsigned char>(c) >= 0x80;
}

void AppendUtf8(std::string* out, uint32_t cp) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// How many child elements each element has, in document order of the start tags. A quick pass
// before the real one, so that every children vector is allocated once at its final size: growing
// them by doubling cost up to twice the tree while parsing. Where it misreads a malformed
// document only a reservation is wrong; the parser still decides what is accepted.
std::vector<uint32_t> CountChildren(std::string_view s) {
  std::vector<uint32_t> counts;
  std::vector<size_t> open;  // indexes in `counts` of the elements not yet closed
  size_t pos = 0;
  while ((pos = s.find('<', pos)) != std::string_view::npos) {
    const std::string_view rest = s.substr(pos);
    size_t end;
    if (rest.substr(0, 4) == "<!--") {
      end = s.find("-->", pos + 4);
    } else if (rest.substr(0, 9) == "<![CDATA[") {
      end = s.find("]]>", pos + 9);
    } else if (rest.substr(0, 2) == "<?" || rest.substr(0, 2) == "<!") {
      end = s.find('>', pos);
    } else if (rest.substr(0, 2) == "</") {
      if (!open.empty()) open.pop_back();
      end = s.find('>', pos);
    } else {
      // A start tag ends at the first '>' outside a quoted attribute value.
      char quote = 0;
      for (end = pos + 1; end < s.size(); ++end) {
        if (quote != 0) {
          if (s[end] == quote) quote = 0;
        } else if (s[end] == '"' || s[end] == '\'') {
          quote = s[end];
        } else if (s[end] == '>') {
          break;
        }
      }
      if (end >= s.size()) break;
      if (!open.empty()) ++counts[open.back()];
      counts.push_back(0);
      if (s[end - 1] != '/') open.push_back(counts.size() - 1);
    }
    if (end == std::string_view::npos) break;
    pos = end + 1;
  }
  return counts;
}

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s), child_counts_(CountChildren(s)) {}

  Result<XmlNode> Document() {
    SkipMisc();
    if (s_.substr(pos_, 5) == "<?xml") {
      const size_t end = s_.find("?>", pos_);
      if (end == std::string_view::npos) return Error("unterminated XML declaration");
      pos_ = end + 2;
    }
    if (Status st = SkipMisc(); !st.ok()) return st;
    if (s_.substr(pos_, 9) == "<!DOCTYPE") return Error("DTDs are not accepted");
    XmlNode root;
    if (Status st = Element(&root, 0); !st.ok()) return st;
    if (Status st = SkipMisc(); !st.ok()) return st;
    if (pos_ != s_.size()) return Error("content after the root element");
    return root;
  }

 private:
  Status Error(std::string_view what) const {
    return InvalidArgument("malformed XML at byte " + std::to_string(pos_) + ": " +
                           std::string(what));
  }

  void SkipSpace() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }

  // Whitespace and comments between top-level constructs.
  Status SkipMisc() {
    while (true) {
      SkipSpace();
      if (s_.substr(pos_, 4) != "<!--") return Status::Ok();
      const size_t end = s_.find("-->", pos_ + 4);
      if (end == std::string_view::npos) return Error("unterminated comment");
      pos_ = end + 3;
    }
  }

  Result<std::string> Name() {
    const size_t start = pos_;
    while (pos_ < s_.size() && IsNameChar(s_[pos_])) ++pos_;
    if (pos_ == start || std::isdigit(static_cast<unsigned char>(s_[start])) || s_[start] == '-' ||
        s_[start] == '.') {
      return Error("expected a name");
    }
    return std::string(s_.substr(start, pos_ - start));
  }

  // Decodes character data up to `stop` (exclusive) into *out.
  Status Decode(std::string_view raw, std::string* out) {
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] != '&') {
        out->push_back(raw[i]);
        continue;
      }
      const size_t semi = raw.find(';', i);
      if (semi == std::string_view::npos || semi - i > 12) return Error("bad entity reference");
      std::string_view ref = raw.substr(i + 1, semi - i - 1);
      if (ref == "lt")
        out->push_back('<');
      else if (ref == "gt")
        out->push_back('>');
      else if (ref == "amp")
        out->push_back('&');
      else if (ref == "quot")
        out->push_back('"');
      else if (ref == "apos")
        out->push_back('\'');
      else if (ref.size() > 1 && ref[0] == '#') {
        uint32_t cp = 0;
        const bool hex = ref[1] == 'x';
        std::string_view digits = ref.substr(hex ? 2 : 1);
        if (digits.empty()) return Error("bad character reference");
        for (char c : digits) {
          int v;
          if (c >= '0' && c <= '9')
            v = c - '0';
          else if (hex && c >= 'a' && c <= 'f')
            v = c - 'a' + 10;
          else if (hex && c >= 'A' && c <= 'F')
            v = c - 'A' + 10;
          else
            return Error("bad character reference");
          cp = cp * (hex ? 16 : 10) + static_cast<uint32_t>(v);
          if (cp > 0x10FFFF) return Error("character reference out of range");
        }
        if (cp == 0) return Error("character reference to NUL");
        AppendUtf8(out, cp);
      } else {
        return Error("unknown entity &" + std::string(ref) + ";");
      }
      i = semi;
    }
    return Status::Ok();
  }

  Status Element(XmlNode* node, int depth) {
    if (depth > kMaxXmlDepth) return Error("elements nested too deeply");
    if (pos_ >= s_.size() || s_[pos_] != '<') return Error("expected an element");
    ++pos_;
    auto name = Name();
    if (!name.ok()) return name.status();
    node->name = std::move(*name);
    if (const size_t n = elements_++; n < child_counts_.size()) {
      node->children.reserve(child_counts_[n]);
    }
    // Attributes.
    while (true) {
      SkipSpace();
      if (pos_ >= s_.size()) return Error("unterminated start tag");
      if (s_.substr(pos_, 2) == "/>") {
        pos_ += 2;
        return Status::Ok();
      }
      if (s_[pos_] == '>') {
        ++pos_;
        break;
      }
      auto attr = Name();
      if (!attr.ok()) return attr.status();
      SkipSpace();
      if (pos_ >= s_.size() || s_[pos_] != '=') return Error("expected '=' after attribute name");
      ++pos_;
      SkipSpace();
      if (pos_ >= s_.size() || (s_[pos_] != '"' && s_[pos_] != '\'')) {
        return Error("attribute value must be quoted");
      }
      const char quote = s_[pos_++];
      const size_t end = s_.find(quote, pos_);
      if (end == std::string_view::npos) return Error("unterminated attribute value");
      std::string value;
      std::string_view raw = s_.substr(pos_, end - pos_);
      if (raw.find('<') != std::string_view::npos) return Error("'<' in attribute value");
      if (Status st = Decode(raw, &value); !st.ok()) return st;
      if (!node->attributes.emplace(*attr, std::move(value)).second) {
        return Error("duplicate attribute " + *attr);
      }
      pos_ = end + 1;
    }
    // Content.
    while (true) {
      if (pos_ >= s_.size()) return Error("unterminated element <" + node->name + ">");
      if (s_.substr(pos_, 9) == "<![CDATA[") {
        const size_t end = s_.find("]]>", pos_ + 9);
        if (end == std::string_view::npos) return Error("unterminated CDATA section");
        node->text.append(s_.substr(pos_ + 9, end - pos_ - 9));
        pos_ = end + 3;
      } else if (s_.substr(pos_, 4) == "<!--") {
        const size_t end = s_.find("-->", pos_ + 4);
        if (end == std::string_view::npos) return Error("unterminated comment");
        pos_ = end + 3;
      } else if (s_.substr(pos_, 2) == "</") {
        pos_ += 2;
        auto closing = Name();
        if (!closing.ok()) return closing.status();
        if (*closing != node->name) {
          return Error("</" + *closing + "> closes <" + node->name + ">");
        }
        SkipSpace();
        if (pos_ >= s_.size() || s_[pos_] != '>') return Error("unterminated end tag");
        ++pos_;
        return Status::Ok();
      } else if (s_[pos_] == '<') {
        if (s_.substr(pos_, 2) == "<?" || s_.substr(pos_, 2) == "<!") {
          return Error("unexpected markup");
        }
        node->children.emplace_back();
        if (Status st = Element(&node->children.back(), depth + 1); !st.ok()) return st;
      } else {
        const size_t end = s_.find('<', pos_);
        if (end == std::string_view::npos)
          return Error("unterminated element <" + node->name + ">");
        if (Status st = Decode(s_.substr(pos_, end - pos_), &node->text); !st.ok()) return st;
        pos_ = end;
      }
    }
  }

  std::string_view s_;
  size_t pos_ = 0;
  const std::vector<uint32_t> child_counts_;
  size_t elements_ = 0;  // start tags read so far
};

}  // namespace

const XmlNode* XmlNode::Child(std::string_view child) const {
  for (const auto& c : children) {
    if (c.name == child) return &c;
  }
  return nullptr;
}

std::vector<const XmlNode*> XmlNode::Children(std::string_view child) const {
  std::vector<const XmlNode*> out;
  for (const auto& c : children) {
    if (c.name == child) out.push_back(&c);
  }
  return out;
}

const XmlNode* XmlNode::Find(std::string_view path) const {
  const XmlNode* node = this;
  while (node != nullptr && !path.empty()) {
    const size_t slash = path.find('/');
    node = node->Child(path.substr(0, slash));
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
  }
  return node;
}

std::string XmlNode::Get(std::string_view path, std::string_view fallback) const {
  const XmlNode* node = Find(path);
  return node != nullptr ? node->text : std::string(fallback);
}

Result<XmlNode> ParseXml(std::string_view text) {
  if (text.size() > kMaxXmlBytes) {
    return InvalidArgument("XML document of " + std::to_string(text.size()) +
                           " bytes is too large");
  }
  return Parser(text).Document();
}

std::string XmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

}  // namespace onedock::rpc
