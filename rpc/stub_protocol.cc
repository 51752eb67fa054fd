#include "rpc/stub_protocol.h"

#include <algorithm>
#include <cctype>

#include "rpc/xml_node.h"

namespace onedock::rpc {
namespace {

bool EqualsNoCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view TrimSpace(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool Refuse(StubRefusal* refusal, int status, std::string why) {
  *refusal = {status, "onedockd stub endpoint: " + std::move(why)};
  return false;
}

// The headers ReadStubHead looks at; each may appear once.
struct Headers {
  std::string_view token, length, transfer_encoding, expect;
  int token_count = 0, length_count = 0;
};

bool ReadHeaders(std::string_view lines, Headers* h, StubRefusal* refusal) {
  while (!lines.empty()) {
    const size_t eol = lines.find("\r\n");
    const std::string_view line = lines.substr(0, eol);
    lines = eol == std::string_view::npos ? std::string_view() : lines.substr(eol + 2);
    if (line.empty()) break;
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0 || line[0] == ' ' || line[0] == '\t')
      return Refuse(refusal, 400, "malformed header line");
    const std::string_view name = line.substr(0, colon);
    const std::string_view value = TrimSpace(line.substr(colon + 1));
    if (EqualsNoCase(name, kStubTokenHeader)) {
      h->token = value;
      ++h->token_count;
    } else if (EqualsNoCase(name, "Content-Length")) {
      h->length = value;
      ++h->length_count;
    } else if (EqualsNoCase(name, "Transfer-Encoding")) {
      h->transfer_encoding = value;
    } else if (EqualsNoCase(name, "Expect")) {
      h->expect = value;
    }
  }
  return true;
}

// Appends a decoded XML-RPC <value> holding a string: <value>x</value> or
// <value><string>x</string></value>.
bool StringOf(const XmlNode& value, std::string* out) {
  if (value.name != "value") return false;
  if (value.children.empty()) {
    *out = value.text;
    return true;
  }
  if (value.children.size() != 1 || value.children[0].name != "string") return false;
  *out = value.children[0].text;
  return true;
}

// The <value>s of <value><array><data>…</data></array></value>, or nullptr.
const std::vector<XmlNode>* ArrayOf(const XmlNode& value) {
  const XmlNode* data = value.Find("array/data");
  if (value.name != "value" || data == nullptr) return nullptr;
  return &data->children;
}

std::string StringValue(std::string_view s) {
  return "<value><string>" + XmlEscape(s) + "</string></value>";
}

}  // namespace

size_t StubHeadEnd(std::string_view buffer) {
  const size_t at = buffer.find("\r\n\r\n");
  return at == std::string_view::npos ? at : at + 4;
}

bool SameToken(std::string_view given, std::string_view token) {
  // Lengths are not secret (every token is the same size); the contents are compared without an
  // early exit, so the time taken says nothing about how much of the token matched.
  if (given.size() != token.size() || token.empty()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < token.size(); ++i) diff |= static_cast<unsigned char>(given[i] ^ token[i]);
  return diff == 0;
}

bool ReadStubHead(std::string_view head, const std::string& token, size_t max_body,
                  StubRequestHead* out, StubRefusal* refusal) {
  if (head.size() > kMaxStubHeadBytes) return Refuse(refusal, 431, "request head too large");
  const size_t eol = head.find("\r\n");
  if (eol == std::string_view::npos) return Refuse(refusal, 400, "no request line");
  const std::string_view line = head.substr(0, eol);
  const size_t sp1 = line.find(' ');
  const size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos)
    return Refuse(refusal, 400, "malformed request line");
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (version != "HTTP/1.1" && version != "HTTP/1.0")
    return Refuse(refusal, 400, "not an HTTP/1.x request");
  Headers h;
  if (!ReadHeaders(head.substr(eol + 2), &h, refusal)) return false;
  if (method != "POST") return Refuse(refusal, 405, "only POST is served");
  if (target != kStubPath)
    return Refuse(refusal, 404, "only " + std::string(kStubPath) + " is served");
  if (h.token_count == 0)
    return Refuse(refusal, 401, "no " + std::string(kStubTokenHeader) + " header: token required");
  if (h.token_count > 1 || !SameToken(h.token, token))
    return Refuse(refusal, 403, "stub token refused");
  if (!h.transfer_encoding.empty())
    return Refuse(refusal, 501, "Transfer-Encoding is not served; send Content-Length");
  if (h.length_count == 0) return Refuse(refusal, 411, "Content-Length required");
  if (h.length_count > 1 || h.length.empty() || h.length.size() > 12 ||
      !std::all_of(h.length.begin(), h.length.end(), ::isdigit)) {
    return Refuse(refusal, 400, "malformed Content-Length");
  }
  const size_t length = std::stoull(std::string(h.length));
  if (length > max_body) {
    return Refuse(refusal, 413,
                  "request of " + std::to_string(length) + " bytes is over the limit of " +
                      std::to_string(max_body) + " ([stub] max_request_bytes)");
  }
  out->content_length = length;
  out->expect_continue = EqualsNoCase(h.expect, "100-continue");
  return true;
}

Status VetStubEnvelope(std::string_view body) {
  int depth = 0, elements = 0;
  size_t pos = 0;
  if (body.substr(0, 5) == "<?xml") {
    pos = body.find("?>");
    if (pos == std::string_view::npos) return InvalidArgument("unterminated XML declaration");
    pos += 2;
  }
  while ((pos = body.find('<', pos)) != std::string_view::npos) {
    const char next = pos + 1 < body.size() ? body[pos + 1] : '\0';
    if (next == '!') return InvalidArgument("DTD, entity, comment or CDATA in the envelope");
    if (next == '?') return InvalidArgument("processing instruction in the envelope");
    const size_t end = body.find('>', pos);
    if (end == std::string_view::npos) return InvalidArgument("unterminated tag");
    const std::string_view tag = body.substr(pos + 1, end - pos - 1);
    if (tag.find_first_of("\"'=<") != std::string_view::npos)
      return InvalidArgument("attributes in the envelope");
    if (next == '/') {
      --depth;
    } else if (!tag.empty() && tag.back() == '/') {
      ++elements;
    } else {
      ++elements;
      if (++depth > kMaxEnvelopeDepth)
        return InvalidArgument("envelope nested deeper than " + std::to_string(kMaxEnvelopeDepth));
    }
    if (elements > kMaxEnvelopeElements) {
      return InvalidArgument("envelope of more than " + std::to_string(kMaxEnvelopeElements) +
                             " elements");
    }
    pos = end + 1;
  }
  return Status::Ok();
}

Result<StubCall> DecodeStubEnvelope(std::string_view body) {
  if (Status s = VetStubEnvelope(body); !s.ok()) return s;
  auto doc = ParseXml(body);
  if (!doc.ok()) return doc.status();
  if (doc->name != "methodCall" || doc->Get("methodName") != kStubMethod)
    return InvalidArgument(std::string("not a call of ") + kStubMethod);
  const XmlNode* params = doc->Child("params");
  std::vector<const XmlNode*> values;
  if (params != nullptr) {
    for (const XmlNode* param : params->Children("param")) {
      if (param->children.size() != 1) return InvalidArgument("a <param> without one <value>");
      values.push_back(&param->children[0]);
    }
  }
  if (values.size() != 4)
    return InvalidArgument("expected 4 params (kind, action, argv, stdin), got " +
                           std::to_string(values.size()));
  StubCall call;
  const std::vector<XmlNode>* argv = ArrayOf(*values[2]);
  if (!StringOf(*values[0], &call.kind) || !StringOf(*values[1], &call.action) || argv == nullptr ||
      !StringOf(*values[3], &call.stdin_text)) {
    return InvalidArgument("params must be (string, string, array of strings, string)");
  }
  for (const XmlNode& v : *argv) {
    if (!StringOf(v, &call.argv.emplace_back()))
      return InvalidArgument("argv holds a value that is not a string");
  }
  return call;
}

std::string EncodeStubCall(const StubCall& call) {
  std::string argv;
  for (const std::string& a : call.argv) argv += StringValue(a);
  return std::string("<?xml version=\"1.0\"?><methodCall><methodName>") + kStubMethod +
         "</methodName><params><param>" + StringValue(call.kind) + "</param><param>" +
         StringValue(call.action) + "</param><param><value><array><data>" + argv +
         "</data></array></value></param><param>" + StringValue(call.stdin_text) +
         "</param></params></methodCall>";
}

std::string EncodeStubAnswer(const DriverAnswer& answer) {
  return "<?xml version=\"1.0\"?><methodResponse><params><param><value><array><data><value><i4>" +
         std::to_string(answer.exit_code) + "</i4></value>" + StringValue(answer.out) +
         StringValue(answer.error) + "</data></array></value></param></params></methodResponse>";
}

Result<DriverAnswer> DecodeStubAnswer(std::string_view body) {
  if (Status s = VetStubEnvelope(body); !s.ok()) return s.WithContext("answer");
  auto doc = ParseXml(body);
  if (!doc.ok()) return doc.status().WithContext("answer");
  const XmlNode* value = doc->Find("params/param/value");
  const std::vector<XmlNode>* items = value == nullptr ? nullptr : ArrayOf(*value);
  if (doc->name != "methodResponse" || items == nullptr || items->size() != 3)
    return InvalidArgument("answer is not [exit_code, stdout, error]");
  const XmlNode& code = (*items)[0];
  const XmlNode* number = code.children.size() == 1 ? &code.children[0] : nullptr;
  DriverAnswer answer;
  if (number == nullptr || (number->name != "i4" && number->name != "int") ||
      number->text.empty() || number->text.size() > 9 ||
      !std::all_of(number->text.begin(), number->text.end(), ::isdigit) ||
      !StringOf((*items)[1], &answer.out) || !StringOf((*items)[2], &answer.error)) {
    return InvalidArgument("answer is not [exit_code, stdout, error]");
  }
  answer.exit_code = std::stoi(number->text);
  return answer;
}

std::string HttpAnswer(int status, std::string_view content_type, std::string_view body) {
  const char* reason = "Error";
  switch (status) {
    case 100:
      return "HTTP/1.1 100 Continue\r\n\r\n";
    case 200:
      reason = "OK";
      break;
    case 400:
      reason = "Bad Request";
      break;
    case 401:
      reason = "Unauthorized";
      break;
    case 403:
      reason = "Forbidden";
      break;
    case 404:
      reason = "Not Found";
      break;
    case 405:
      reason = "Method Not Allowed";
      break;
    case 408:
      reason = "Request Timeout";
      break;
    case 411:
      reason = "Length Required";
      break;
    case 413:
      reason = "Content Too Large";
      break;
    case 431:
      reason = "Request Header Fields Too Large";
      break;
    case 501:
      reason = "Not Implemented";
      break;
    case 503:
      reason = "Service Unavailable";
      break;
  }
  return "HTTP/1.1 " + std::to_string(status) + " " + reason +
         "\r\nContent-Type: " + std::string(content_type) +
         "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" +
         std::string(body);
}

}  // namespace onedock::rpc
