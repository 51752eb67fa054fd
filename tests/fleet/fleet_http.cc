#include "tests/fleet/fleet_http.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <vector>

#include "tests/fleet/fleet_model.h"

namespace onedock::fleet {
namespace {

constexpr char kApiVersion[] = "1.41";

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Go's url.QueryUnescape, which dockerd uses: %XX and '+' as a space.
std::string Unescape(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && Hex(s[i + 1]) >= 0 && Hex(s[i + 2]) >= 0) {
      out += static_cast<char>(Hex(s[i + 1]) * 16 + Hex(s[i + 2]));
      i += 2;
    } else if (s[i] == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (;;) {
    const size_t at = s.find(sep, start);
    parts.push_back(
        s.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start));
    if (at == std::string_view::npos) return parts;
    start = at + 1;
  }
}

bool Truthy(const std::map<std::string, std::string>& q, const char* key) {
  auto it = q.find(key);
  if (it == q.end()) return false;
  const std::string v = Lower(it->second);
  return v == "1" || v == "true";
}

const char* Reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 409:
      return "Conflict";
    case 431:
      return "Request Header Fields Too Large";
    default:
      return "Internal Server Error";
  }
}

// The Date header changes once a second; formatting it per reply would cost more than the rest.
const std::string& DateHeader() {
  static std::time_t cached_at = 0;
  static std::string cached;
  const std::time_t now = std::time(nullptr);
  if (now != cached_at) {
    std::tm tm{};
    gmtime_r(&now, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    cached = buf;
    cached_at = now;
  }
  return cached;
}

std::string Head(int status) {
  std::string h = "HTTP/1.1 " + std::to_string(status) + " " + Reason(status) +
                  "\r\nApi-Version: " + kApiVersion +
                  "\r\nDocker-Experimental: false\r\nOstype: linux\r\n"
                  "Server: Docker/20.10.24+dfsg1 (linux)\r\nDate: " +
                  DateHeader() + "\r\n";
  return h;
}

}  // namespace

Request ParseRequest(std::string_view head) {
  Request r;
  const size_t eol = head.find("\r\n");
  const std::vector<std::string_view> line = Split(head.substr(0, eol), ' ');
  if (line.size() != 3 || line[0].empty() || line[1].empty() || line[1].front() != '/' ||
      line[2].rfind("HTTP/1.", 0) != 0) {
    return r;
  }
  r.method = std::string(line[0]);
  r.keep_alive = line[2] != "HTTP/1.0";
  const size_t q = line[1].find('?');
  r.path = Unescape(line[1].substr(0, q), false);
  if (q != std::string_view::npos) {
    for (std::string_view pair : Split(line[1].substr(q + 1), '&')) {
      if (pair.empty()) continue;
      const size_t eq = pair.find('=');
      r.query[Unescape(pair.substr(0, eq), true)] =
          eq == std::string_view::npos ? "" : Unescape(pair.substr(eq + 1), true);
    }
  }
  if (eol == std::string_view::npos) {
    r.ok = true;
    return r;
  }
  for (std::string_view h : Split(head.substr(eol + 2), '\n')) {
    const size_t colon = h.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string name = Lower(Trim(h.substr(0, colon)));
    const std::string value = Lower(Trim(h.substr(colon + 1)));
    if (name == "content-length") {
      r.content_length = static_cast<size_t>(std::strtoull(value.c_str(), nullptr, 10));
    } else if (name == "connection") {
      if (value == "close") r.keep_alive = false;
      if (value == "keep-alive") r.keep_alive = true;
    } else if (name == "transfer-encoding" && value != "identity") {
      return r;
    }
  }
  r.ok = true;
  return r;
}

Route RouteOf(const Request& r) {
  Route route;
  std::string_view path = r.path;
  // "/v1.41/…": a version prefix is optional, as it is for dockerd.
  if (path.size() > 2 && path[1] == 'v' && std::isdigit(static_cast<unsigned char>(path[2]))) {
    const size_t slash = path.find('/', 1);
    route.version =
        std::string(path.substr(2, slash == std::string_view::npos ? path.npos : slash - 2));
    path = slash == std::string_view::npos ? "/" : path.substr(slash);
    const size_t dot = route.version.find('.');
    const int major = std::atoi(route.version.c_str());
    const int minor = dot == std::string::npos ? 0 : std::atoi(route.version.c_str() + dot + 1);
    if (major > 1 || (major == 1 && minor > 41)) {
      route.kind = Route::kTooNew;
      return route;
    }
  }
  const std::vector<std::string_view> seg = Split(path.substr(1), '/');
  const bool get = r.method == "GET" || r.method == "HEAD";
  const bool post = r.method == "POST";
  auto query = [&](const char* key) {
    auto it = r.query.find(key);
    return it == r.query.end() ? std::string() : it->second;
  };
  if (get && seg.size() == 1) {
    if (seg[0] == "_ping") route.kind = Route::kPing;
    if (seg[0] == "version") route.kind = Route::kVersion;
    if (seg[0] == "info") route.kind = Route::kInfo;
    if (seg[0] == "events") {
      route.kind = Route::kEvents;
      route.filters = query("filters");
      route.since_ns = static_cast<int64_t>(std::atof(query("since").c_str()) * 1e9);
    }
  } else if (get && seg.size() == 2 && seg[0] == "system" && seg[1] == "df") {
    route.kind = Route::kDiskUsage;
  } else if (get && seg.size() == 2 && seg[0] == "containers" && seg[1] == "json") {
    route.kind = Route::kList;
    route.all = Truthy(r.query, "all");
    route.filters = query("filters");
  } else if (seg.size() == 3 && seg[0] == "containers") {
    route.container = std::string(seg[1]);
    if (get && seg[2] == "json") route.kind = Route::kInspect;
    if (get && seg[2] == "stats") route.kind = Route::kStats;
    if (get && seg[2] == "logs") route.kind = Route::kLogs;
    if (post && seg[2] == "kill") route.kind = Route::kKill;
    if (post && seg[2] == "start") route.kind = Route::kStart;
  } else if (post && seg.size() == 3 && seg[0] == "fleet") {
    route.container = std::string(seg[2]);
    if (seg[1] == "kill") route.kind = Route::kControlKill;
    if (seg[1] == "start") route.kind = Route::kControlStart;
  }
  return route;
}

std::string Reply(int status, std::string_view body, std::string_view content_type) {
  std::string out = Head(status);
  if (!content_type.empty()) out += "Content-Type: " + std::string(content_type) + "\r\n";
  if (status != 204 && status != 304)
    out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  out += "\r\n";
  out += body;
  return out;
}

std::string JsonReply(int status, std::string_view json) {
  std::string body;
  body.reserve(json.size() + 1);
  body += json;
  body += '\n';
  return Reply(status, body, "application/json");
}

std::string ErrorReply(int status, std::string_view message) {
  return JsonReply(status, R"({"message":")" + JsonEscape(message) + R"("})");
}

std::string StreamHead() {
  return Head(200) + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
}

std::string Chunk(std::string_view line) {
  char size[24];
  std::snprintf(size, sizeof size, "%zx\r\n", line.size() + 1);
  std::string out = size;
  out += line;
  out += "\n\r\n";
  return out;
}

}  // namespace onedock::fleet
