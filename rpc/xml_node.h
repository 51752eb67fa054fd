// XmlNode: a small, strict XML reader for the documents oned sends (VM, host, image, datastore and
// vnet records, driver action data): elements, attributes, text, CDATA, comments, the five named
// entities and numeric character references. No DTDs, no namespaces. Input from the network is
// bounded (size and depth), so a hostile document is refused instead of exhausting the stack.
// Plain value; thread-compatible.
#ifndef ONEDOCK_RPC_XML_NODE_H_
#define ONEDOCK_RPC_XML_NODE_H_

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "bridge/status.h"

namespace onedock::rpc {

struct XmlNode {
  std::string name;
  std::map<std::string, std::string> attributes;
  std::string text;  // concatenated character data and CDATA directly inside this element
  std::vector<XmlNode> children;

  // First child named `name`, or nullptr.
  const XmlNode* Child(std::string_view child) const;
  // Every child named `name`, in document order.
  std::vector<const XmlNode*> Children(std::string_view child) const;
  // Text of the element at a '/'-separated path below this one ("TEMPLATE/CPU"); `fallback`
  // when absent.
  std::string Get(std::string_view path, std::string_view fallback = "") const;
  const XmlNode* Find(std::string_view path) const;
};

inline constexpr size_t kMaxXmlBytes = 64u << 20;
inline constexpr int kMaxXmlDepth = 128;

// Parses one document (an optional <?xml …?> declaration, comments, one root element). Returns
// kInvalidArgument with the byte offset of the first problem for anything malformed.
Result<XmlNode> ParseXml(std::string_view text);

// Escapes &, <, >, " and ' for element text or attribute values.
std::string XmlEscape(std::string_view text);

}  // namespace onedock::rpc

#endif  // ONEDOCK_RPC_XML_NODE_H_
