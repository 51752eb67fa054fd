// Parsing of oned's XML documents into the records of bridge/one_types.h. Unknown elements are
// ignored, CDATA and empty sections accepted; a document whose root is not the expected element,
// or whose ID is missing or not a number, is refused with kInvalidArgument.
#ifndef ONEDOCK_RPC_ONE_PARSE_H_
#define ONEDOCK_RPC_ONE_PARSE_H_

#include <string_view>
#include <vector>

#include "bridge/monitord.h"
#include "bridge/one_types.h"
#include "bridge/status.h"
#include "rpc/xml_node.h"

namespace onedock::rpc {

Result<Vm> ParseVm(const XmlNode& vm);
Result<Host> ParseHost(const XmlNode& host);
Result<Image> ParseImage(const XmlNode& image);
// The <IMAGE> of a datastore action (<DS_DRIVER_ACTION_DATA>): oned's stat sends one before the
// image exists, with PATH and SIZE only, so a missing ID is id -1 instead of an error.
Result<Image> ParseActionImage(const XmlNode& image);
Result<Datastore> ParseDatastore(const XmlNode& datastore);
Result<Vnet> ParseVnet(const XmlNode& vnet);

// Whole documents as one.*.info and one.*pool.info return them.
Result<Vm> ParseVmXml(std::string_view xml);
Result<std::vector<Vm>> ParseVmPoolXml(std::string_view xml);
Result<Host> ParseHostXml(std::string_view xml);
Result<std::vector<Host>> ParseHostPoolXml(std::string_view xml);
Result<Image> ParseImageXml(std::string_view xml);
Result<Datastore> ParseDatastoreXml(std::string_view xml);
Result<Vnet> ParseVnetXml(std::string_view xml);

// The <MONITOR_CONFIGURATION> oned sends with START_MONITOR: where monitord listens and how often
// to probe. MONITOR_ADDRESS "auto" (meant for agents on hosts) and a missing or bad PORT fall back
// to `fallback` (onedockd runs on the front-end, next to monitord); a missing or bad period keeps
// its default. An empty text is the defaults.
Result<MonitorConfiguration> ParseMonitorConfiguration(const std::string& xml,
                                                       const MonitordAddress& fallback);

// The flat view of a template section: each child without children, by name (a repeated name
// keeps its first value).
Attributes FlatAttributes(const XmlNode* section);

}  // namespace onedock::rpc

#endif  // ONEDOCK_RPC_ONE_PARSE_H_
