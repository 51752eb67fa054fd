#include "rpc/monitord_message.h"

#include <zlib.h>

#include <charconv>
#include <vector>

#include "bridge/base64.h"

namespace onedock::rpc {
namespace {

constexpr std::string_view kTypes[] = {"MONITOR_VM",  "BEACON_HOST", "MONITOR_HOST",
                                       "SYSTEM_HOST", "STATE_VM",    "EXEC_VM"};

Result<std::string> Inflate(const std::string& data) {
  z_stream z{};
  if (inflateInit(&z) != Z_OK) return Internal("zlib inflateInit failed");
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  std::string out;
  char buf[16384];
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    rc = inflate(&z, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&z);
      return InvalidArgument("payload is not zlib data");
    }
    out.append(buf, sizeof buf - z.avail_out);
    if (out.size() > kMaxMonitordPayload) {
      inflateEnd(&z);
      return InvalidArgument("payload inflates past " + std::to_string(kMaxMonitordPayload) +
                             " bytes");
    }
    if (rc != Z_STREAM_END && z.avail_in == 0 && z.avail_out != 0) {
      inflateEnd(&z);
      return InvalidArgument("payload is truncated zlib data");
    }
  }
  inflateEnd(&z);
  return out;
}

template <typename T>
bool ParseNumber(std::string_view text, T* out) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && ptr == text.data() + text.size() && !text.empty();
}

}  // namespace

std::string EncodeMonitordMessage(const MonitordMessage& m) {
  uLongf size = compressBound(m.payload.size());
  std::vector<Bytef> out(size);
  compress2(out.data(), &size, reinterpret_cast<const Bytef*>(m.payload.data()), m.payload.size(),
            Z_DEFAULT_COMPRESSION);
  return m.type + (m.success ? " SUCCESS " : " FAILURE ") + std::to_string(m.host_id) + " " +
         std::to_string(m.timestamp) + " " +
         Base64Encode(std::string_view(reinterpret_cast<const char*>(out.data()), size));
}

Result<MonitordMessage> DecodeMonitordMessage(std::string_view wire) {
  while (!wire.empty() && (wire.back() == '\n' || wire.back() == '\r')) wire.remove_suffix(1);
  std::string_view fields[5];
  for (int i = 0; i < 4; ++i) {
    const size_t sp = wire.find(' ');
    if (sp == std::string_view::npos) {
      // A message with an empty payload has no fifth field.
      if (i == 3) {
        fields[3] = wire;
        wire = {};
        break;
      }
      return InvalidArgument("monitord message has fewer than 4 fields");
    }
    fields[i] = wire.substr(0, sp);
    wire.remove_prefix(sp + 1);
  }
  fields[4] = wire;
  MonitordMessage m;
  m.type = std::string(fields[0]);
  bool known = false;
  for (auto t : kTypes) known = known || t == fields[0];
  if (!known)
    return InvalidArgument("unknown monitord message type \"" + m.type.substr(0, 40) + "\"");
  if (fields[1] != "SUCCESS" && fields[1] != "FAILURE") {
    return InvalidArgument("monitord message status must be SUCCESS or FAILURE");
  }
  m.success = fields[1] == "SUCCESS";
  if (!ParseNumber(fields[2], &m.host_id))
    return InvalidArgument("monitord message host id is not a number");
  if (!ParseNumber(fields[3], &m.timestamp))
    return InvalidArgument("monitord message timestamp is not a number");
  if (fields[4].empty()) return m;
  auto compressed = Base64Decode(fields[4]);
  if (!compressed.ok()) return compressed.status().WithContext("monitord payload");
  auto plain = Inflate(*compressed);
  if (!plain.ok()) return plain.status().WithContext("monitord payload");
  m.payload = std::move(*plain);
  return m;
}

}  // namespace onedock::rpc
