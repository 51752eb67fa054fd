// The stub endpoint's wire, as pure functions: the HTTP/1.1 request head a stub sends (the token
// travels in a header, so it is checked before any body is read), the vetting of the XML-RPC
// envelope before it is decoded, and the envelope's encoding both ways:
//   POST /RPC2, X-Onedock-Token: <token>, Content-Length: n
//   onedock.driver(kind, action, argv[], stdin) -> [exit_code, stdout, error]
// Everything here is bounded by its input or by the limits given; nothing throws.
#ifndef ONEDOCK_RPC_STUB_PROTOCOL_H_
#define ONEDOCK_RPC_STUB_PROTOCOL_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "bridge/driver_call.h"
#include "bridge/status.h"

namespace onedock::rpc {

inline constexpr char kStubMethod[] = "onedock.driver";
inline constexpr char kStubPath[] = "/RPC2";
inline constexpr char kStubTokenHeader[] = "X-Onedock-Token";

// A request head (request line and headers) larger than this is refused: a stub's is ~200 bytes.
inline constexpr size_t kMaxStubHeadBytes = 8192;
// An envelope nested deeper, or with more elements, is refused before it is decoded. A real call
// is 8 deep (methodCall/params/param/value/array/data/value/string) and has 4 params and an argv
// of at most 8 strings: about 30 elements.
inline constexpr int kMaxEnvelopeDepth = 10;
inline constexpr int kMaxEnvelopeElements = 512;

// What a stub asked for, once its head was read.
struct StubRequestHead {
  size_t content_length = 0;
  bool expect_continue = false;  // "Expect: 100-continue": the body follows a 100 answer
};

// A refusal of the endpoint: the HTTP status it is answered with and why, for the stub to print.
struct StubRefusal {
  int http_status = 400;
  std::string why;
};

// Offset just past the blank line that ends the head in `buffer`, or npos while it has not come.
size_t StubHeadEnd(std::string_view buffer);

// Reads a complete head (request line and headers, up to and including the blank line). Checks,
// in this order: the shape (400), POST (405) on /RPC2 (404), the token in constant time (401
// when missing, 403 when wrong), then Content-Length: required (411; no Transfer-Encoding, 501),
// at most `max_body` (413). On success `*refusal` is untouched.
bool ReadStubHead(std::string_view head, const std::string& token, size_t max_body,
                  StubRequestHead* out, StubRefusal* refusal);

// True when `given` equals `token`, taking the same time wherever they differ.
bool SameToken(std::string_view given, std::string_view token);

// Refuses, with kInvalidArgument, an envelope that holds markup no driver call needs: "<!"
// (DTD, entity definitions, comments, CDATA), processing instructions but a leading <?xml?>,
// attributes, nesting past kMaxEnvelopeDepth or more than kMaxEnvelopeElements elements. One
// linear pass that allocates nothing.
Status VetStubEnvelope(std::string_view body);

// What a vetted envelope asked for.
struct StubCall {
  std::string kind, action;
  std::vector<std::string> argv;
  std::string stdin_text;
};

// Decodes onedock.driver(kind, action, argv[], stdin) (untyped <value>s are strings, as XML-RPC
// says). kInvalidArgument naming what is wrong otherwise.
Result<StubCall> DecodeStubEnvelope(std::string_view body);
std::string EncodeStubCall(const StubCall& call);

// The methodResponse carrying [exit_code, stdout, error].
std::string EncodeStubAnswer(const DriverAnswer& answer);
Result<DriverAnswer> DecodeStubAnswer(std::string_view body);

// A complete HTTP/1.1 answer with Connection: close.
std::string HttpAnswer(int status, std::string_view content_type, std::string_view body);

}  // namespace onedock::rpc

#endif  // ONEDOCK_RPC_STUB_PROTOCOL_H_
