// UTF-8 as JSON and OpenNebula need it: shortest forms only, no surrogates, nothing past U+10FFFF.
// Pure functions.
#ifndef ONEDOCK_BRIDGE_UTF8_H_
#define ONEDOCK_BRIDGE_UTF8_H_

#include <cstddef>
#include <string_view>

namespace onedock {

// The length of the UTF-8 sequence `s` starts with; 0 when it does not start with one.
size_t Utf8SequenceLength(std::string_view s);

// Whether all of `s` is UTF-8.
bool IsUtf8(std::string_view s);

}  // namespace onedock

#endif  // ONEDOCK_BRIDGE_UTF8_H_
