#include "tests/emulator/one_template.h"

#include <cctype>

#include "rpc/xml_node.h"

namespace onedock::emulator {
namespace {

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string Cdata(const std::string& v) {
  // "]]>" cannot sit inside one CDATA section: split it across two.
  std::string out = "<![CDATA[";
  size_t start = 0;
  for (size_t pos; (pos = v.find("]]>", start)) != std::string::npos; start = pos + 2) {
    out += v.substr(start, pos + 2 - start) + "]]><![CDATA[";
  }
  return out + v.substr(start) + "]]>";
}

class Lexer {
 public:
  explicit Lexer(std::string_view s) : s_(s) {}

  Status Error(const std::string& what) const {
    return InvalidArgument("template syntax error at line " + std::to_string(line_) + ": " + what);
  }

  void SkipSpace(bool commas = false) {
    while (pos_ < s_.size()) {
      const char c = s_[pos_];
      if (c == '\n') ++line_;
      if (c == '#') {
        while (pos_ < s_.size() && s_[pos_] != '\n') ++pos_;
      } else if (std::isspace(static_cast<unsigned char>(c)) || (commas && c == ',')) {
        ++pos_;
      } else {
        return;
      }
    }
  }

  bool AtEnd() const { return pos_ >= s_.size(); }
  char Peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  void Advance() { ++pos_; }

  Result<std::string> Name() {
    const size_t start = pos_;
    while (pos_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[pos_])) ||
                                s_[pos_] == '_' || s_[pos_] == '-' || s_[pos_] == '.')) {
      ++pos_;
    }
    if (start == pos_) return Error("expected an attribute name");
    return Upper(std::string(s_.substr(start, pos_ - start)));
  }

  Result<std::string> Value(bool in_vector) {
    if (Peek() == '"') {
      Advance();
      std::string out;
      // As oned's lexer: \" is the only escape, any other backslash is itself.
      while (!AtEnd() && Peek() != '"') {
        if (Peek() == '\\' && pos_ + 1 < s_.size() && s_[pos_ + 1] == '"') Advance();
        if (Peek() == '\n') ++line_;
        out.push_back(Peek());
        Advance();
      }
      if (AtEnd()) return Error("unterminated string");
      Advance();
      // oned gives up on a whole template when a value holds a CDATA end.
      if (out.find("]]>") != std::string::npos) return Error("\"]]>\" in a value");
      return out;
    }
    const size_t start = pos_;
    while (!AtEnd() && !std::isspace(static_cast<unsigned char>(Peek())) &&
           !(in_vector && (Peek() == ',' || Peek() == ']'))) {
      Advance();
    }
    return std::string(s_.substr(start, pos_ - start));
  }

 private:
  std::string_view s_;
  size_t pos_ = 0;
  int line_ = 1;
};

}  // namespace

std::string TemplateAttribute::Get(const std::string& key, const std::string& fallback) const {
  for (const auto& [k, v] : vector) {
    if (k == key) return v;
  }
  return fallback;
}

void TemplateAttribute::Set(const std::string& key, const std::string& v) {
  for (auto& [k, old] : vector) {
    if (k == key) {
      old = v;
      return;
    }
  }
  vector.emplace_back(key, v);
}

std::string Template::Get(const std::string& name, const std::string& fallback) const {
  for (const auto& a : attributes) {
    if (a.name == name && !a.is_vector) return a.value;
  }
  return fallback;
}

void Template::Set(const std::string& name, const std::string& value) {
  for (auto& a : attributes) {
    if (a.name == name && !a.is_vector) {
      a.value = value;
      return;
    }
  }
  attributes.push_back({name, value, {}, false});
}

std::vector<const TemplateAttribute*> Template::All(const std::string& name) const {
  std::vector<const TemplateAttribute*> out;
  for (const auto& a : attributes) {
    if (a.name == name) out.push_back(&a);
  }
  return out;
}

std::vector<TemplateAttribute*> Template::All(const std::string& name) {
  std::vector<TemplateAttribute*> out;
  for (auto& a : attributes) {
    if (a.name == name) out.push_back(&a);
  }
  return out;
}

void Template::Erase(const std::string& name) {
  std::erase_if(attributes, [&name](const TemplateAttribute& a) { return a.name == name; });
}

void Template::Merge(const Template& other) {
  for (const auto& a : other.attributes) {
    if (a.is_vector) {
      Erase(a.name);
      attributes.push_back(a);
    } else {
      Set(a.name, a.value);
    }
  }
}

std::string Template::ToXml(const std::string& tag) const {
  std::string out = "<" + tag + ">";
  for (const auto& a : attributes) {
    out += "<" + a.name + ">";
    if (a.is_vector) {
      for (const auto& [k, v] : a.vector) out += "<" + k + ">" + Cdata(v) + "</" + k + ">";
    } else {
      out += Cdata(a.value);
    }
    out += "</" + a.name + ">";
  }
  return out + "</" + tag + ">";
}

Result<Template> ParseTemplate(std::string_view text) {
  Template t;
  Lexer lex(text);
  while (true) {
    lex.SkipSpace();
    if (lex.AtEnd()) return t;
    auto name = lex.Name();
    if (!name.ok()) return name.status();
    lex.SkipSpace();
    if (lex.Peek() != '=') return lex.Error("expected '=' after " + *name);
    lex.Advance();
    lex.SkipSpace();
    TemplateAttribute attr{*name, "", {}, false};
    if (lex.Peek() == '[') {
      lex.Advance();
      attr.is_vector = true;
      while (true) {
        lex.SkipSpace(/*commas=*/true);
        if (lex.AtEnd()) return lex.Error("unterminated vector " + *name);
        if (lex.Peek() == ']') {
          lex.Advance();
          break;
        }
        auto key = lex.Name();
        if (!key.ok()) return key.status();
        lex.SkipSpace();
        if (lex.Peek() != '=') return lex.Error("expected '=' after " + *key);
        lex.Advance();
        lex.SkipSpace();
        auto value = lex.Value(true);
        if (!value.ok()) return value.status();
        attr.vector.emplace_back(*key, *value);
      }
    } else {
      auto value = lex.Value(false);
      if (!value.ok()) return value.status();
      attr.value = *value;
    }
    t.attributes.push_back(std::move(attr));
  }
}

}  // namespace onedock::emulator
