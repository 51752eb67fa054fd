// Small helpers rendering oned's XML documents in the emulator: elements with escaped text, CDATA
// elements, and the owner block every pool object carries.
#ifndef ONEDOCK_TESTS_EMULATOR_XML_RENDER_H_
#define ONEDOCK_TESTS_EMULATOR_XML_RENDER_H_

#include <cstdint>
#include <string>

#include "rpc/xml_node.h"
#include "tests/emulator/one_template.h"

namespace onedock::emulator::render {

inline std::string Tag(const std::string& name, const std::string& value) {
  return "<" + name + ">" + rpc::XmlEscape(value) + "</" + name + ">";
}
inline std::string Tag(const std::string& name, int64_t value) {
  return Tag(name, std::to_string(value));
}

inline std::string Cdata(const std::string& name, const std::string& value) {
  Template t;
  t.Set(name, value);
  std::string xml = t.ToXml("X");
  return xml.substr(3, xml.size() - 7);  // strip <X> and </X>
}

// UID … GNAME, NAME and PERMISSIONS, in the order oned writes them.
inline std::string Owned(const std::string& name) {
  return "<UID>0</UID><GID>0</GID><UNAME>oneadmin</UNAME><GNAME>oneadmin</GNAME>" +
         Tag("NAME", name) +
         "<PERMISSIONS><OWNER_U>1</OWNER_U><OWNER_M>1</OWNER_M><OWNER_A>0</OWNER_A>"
         "<GROUP_U>0</GROUP_U><GROUP_M>0</GROUP_M><GROUP_A>0</GROUP_A><OTHER_U>0</OTHER_U>"
         "<OTHER_M>0</OTHER_M><OTHER_A>0</OTHER_A></PERMISSIONS>";
}

}  // namespace onedock::emulator::render

#endif  // ONEDOCK_TESTS_EMULATOR_XML_RENDER_H_
