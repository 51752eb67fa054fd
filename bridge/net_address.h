// Address literals as onedock's configuration and oned's documents give them.
#ifndef ONEDOCK_BRIDGE_NET_ADDRESS_H_
#define ONEDOCK_BRIDGE_NET_ADDRESS_H_

#include <string>

namespace onedock {

// An IPv4 or IPv6 address literal (no name, no port).
bool IsIpLiteral(const std::string& text);
// An IPv4 address in 127.0.0.0/8.
bool IsIpv4Loopback(const std::string& text);
// A host name as onedock accepts one from oned or its configuration: 1 to 253 letters, digits,
// '.', '-' and '_' (OpenNebula allows '_' in host names; DNS names are at most 253 characters).
bool IsHostName(const std::string& text);

}  // namespace onedock

#endif  // ONEDOCK_BRIDGE_NET_ADDRESS_H_
