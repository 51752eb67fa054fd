// DestinationPolicy: which addresses onedockd may connect to on a user's behalf (an image PATH's
// http(s) URL, its docker:// registry, a registry's token realm). Refused unless an allow entry
// admits them: loopback, link-local (169.254.0.0/16 with the cloud metadata address,
// fe80::/10), unspecified, multicast, reserved and broadcast addresses, and the front-end's own
// addresses. Everything else is allowed. The decision is taken on the address actually dialled
// (docker/ asks it for every connection libcurl opens), so names that resolve or redirect to a
// refused address are refused too. Pure, immutable after construction; thread-safe.
#ifndef ONEDOCK_BRIDGE_DESTINATION_POLICY_H_
#define ONEDOCK_BRIDGE_DESTINATION_POLICY_H_

#include <array>
#include <string>
#include <vector>

#include "bridge/status.h"

namespace onedock {

class DestinationPolicy {
 public:
  // Refuses what the class comment lists, admits nothing extra.
  DestinationPolicy() = default;

  // `allow`: entries "ADDRESS[/BITS][:PORT]" (IPv6 in brackets when a port follows:
  // "[::1]:5000", "fd00::/8"); a port limits the entry to that port. `own`: the front-end's own
  // addresses (literals). kInvalidArgument naming the first bad entry.
  static Result<DestinationPolicy> Make(const std::vector<std::string>& allow,
                                        const std::vector<std::string>& own);

  // OK, or kPermissionDenied saying which address was refused and why. `address` is a literal
  // (IPv4, IPv6, or IPv4-mapped IPv6); anything else is refused.
  Status Check(const std::string& address, int port) const;

 private:
  struct Range {
    std::array<unsigned char, 16> base{};  // IPv4 as IPv4-mapped IPv6
    int bits = 128;
    int port = 0;  // 0: any
  };
  static Result<Range> ParseEntry(const std::string& entry);
  std::vector<Range> allow_;
  std::vector<std::array<unsigned char, 16>> own_;
};

}  // namespace onedock

#endif  // ONEDOCK_BRIDGE_DESTINATION_POLICY_H_
