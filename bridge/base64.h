// Base64 (RFC 4648) encoding and strict decoding, standard and URL-safe alphabets. OpenNebula
// hands drivers base64 documents; Docker wants base64url registry credentials.
#ifndef ONEDOCK_BRIDGE_BASE64_H_
#define ONEDOCK_BRIDGE_BASE64_H_

#include <string>
#include <string_view>

#include "bridge/status.h"

namespace onedock {

enum class Base64Alphabet { kStandard, kUrl };

// Always padded with '='.
std::string Base64Encode(std::string_view data,
                         Base64Alphabet alphabet = Base64Alphabet::kStandard);

// Rejects characters outside the alphabet, bad padding and bad lengths with kInvalidArgument.
// ASCII whitespace (line breaks of wrapped input) is skipped.
Result<std::string> Base64Decode(std::string_view text,
                                 Base64Alphabet alphabet = Base64Alphabet::kStandard);

}  // namespace onedock

#endif  // ONEDOCK_BRIDGE_BASE64_H_
