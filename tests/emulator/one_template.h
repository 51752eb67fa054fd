// The OpenNebula template syntax that one.*.allocate and one.vm.update accept (reference §1.1):
//   KEY = "value"        KEY = value        VEC = [ A = "1", B = "2" ]
// one attribute per line or several separated by whitespace; '#' starts a comment. Keys are
// upper-cased as oned does. Part of the OpenNebula emulator (a test instrument).
#ifndef ONEDOCK_TESTS_EMULATOR_ONE_TEMPLATE_H_
#define ONEDOCK_TESTS_EMULATOR_ONE_TEMPLATE_H_

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "bridge/status.h"

namespace onedock::emulator {

struct TemplateAttribute {
  std::string name;
  std::string value;                                        // single-valued
  std::vector<std::pair<std::string, std::string>> vector;  // vector attribute: ordered pairs
  bool is_vector = false;

  std::string Get(const std::string& key, const std::string& fallback = "") const;
  void Set(const std::string& key, const std::string& v);
};

struct Template {
  std::vector<TemplateAttribute> attributes;

  // First single value of `name`, or fallback.
  std::string Get(const std::string& name, const std::string& fallback = "") const;
  void Set(const std::string& name, const std::string& value);  // replace or add
  std::vector<const TemplateAttribute*> All(const std::string& name) const;
  std::vector<TemplateAttribute*> All(const std::string& name);
  void Erase(const std::string& name);
  // Appends every attribute of `other`, replacing single values of the same name.
  void Merge(const Template& other);
  // <TAG>…</TAG> with CDATA values, as oned renders TEMPLATE sections.
  std::string ToXml(const std::string& tag) const;
};

// kInvalidArgument with a line number for unterminated strings or vectors and missing '='.
Result<Template> ParseTemplate(std::string_view text);

}  // namespace onedock::emulator

#endif  // ONEDOCK_TESTS_EMULATOR_ONE_TEMPLATE_H_
