// The fake fleet's HTTP/1.1: a request head parsed into method, path, query and the headers that
// matter, the Engine API route it names, and replies framed the way dockerd frames them (its
// headers, Content-Length, or chunked for /events). Pure functions.
#ifndef ONEDOCK_TESTS_FLEET_FLEET_HTTP_H_
#define ONEDOCK_TESTS_FLEET_FLEET_HTTP_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace onedock::fleet {

struct Request {
  bool ok = false;
  std::string method;
  std::string path;                          // decoded, without the query
  std::map<std::string, std::string> query;  // decoded
  size_t content_length = 0;
  bool keep_alive = true;
};

// Parses the head (request line and headers, without the blank line). A chunked request body is
// refused (ok false): nothing the fake serves takes one.
Request ParseRequest(std::string_view head);

struct Route {
  enum Kind {
    kNotFound,
    kTooNew,  // an API version above the fake's 1.41
    kPing,
    kVersion,
    kInfo,
    kDiskUsage,
    kList,
    kEvents,
    kInspect,
    kStats,
    kLogs,
    kKill,
    kStart,
    kControlKill,   // POST /fleet/kill/<id or name>
    kControlStart,  // POST /fleet/start/<id or name>
  } kind = kNotFound;
  std::string container;
  std::string filters;  // the filters query value
  bool all = false;
  int64_t since_ns = 0;
  std::string version;  // the API version asked, for kTooNew
};

Route RouteOf(const Request& r);

// A whole reply with dockerd's headers; `content_type` empty for none.
std::string Reply(int status, std::string_view body, std::string_view content_type);
// A JSON body, ended by a newline as dockerd's encoder ends it.
std::string JsonReply(int status, std::string_view json);
// {"message": …} with `status`.
std::string ErrorReply(int status, std::string_view message);
// The head of the chunked /events reply, and one event line as its own chunk.
std::string StreamHead();
std::string Chunk(std::string_view line);

}  // namespace onedock::fleet

#endif  // ONEDOCK_TESTS_FLEET_FLEET_HTTP_H_
