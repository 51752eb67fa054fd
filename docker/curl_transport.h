// CurlTransport: HTTP/1.1 requests to one endpoint (a Docker engine over mutual TLS or a unix
// socket, or a registry over HTTP(S)) on one reused libcurl easy handle, so a TLS handshake is
// paid once per connection, not per call; PerformAll sends many requests at once from one thread.
// Not thread-safe: use one instance per thread.
// curl_global_init must have run before the first instance is built (main does it once).
#ifndef ONEDOCK_DOCKER_CURL_TRANSPORT_H_
#define ONEDOCK_DOCKER_CURL_TRANSPORT_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "bridge/destination_policy.h"
#include "bridge/status.h"

namespace onedock::docker {

// Where and how to connect. Plain value; the files are read for new connections: the client
// certificate and key once, and again a second after they change (CredentialCache); the CA file's
// store is kept a minute.
struct Endpoint {
  std::string base_url;     // "https://127.0.0.2:2376", "http://127.0.0.1:5000", or
                            // "http://localhost" together with unix_socket; empty when each
                            // request's target is a whole http(s) URL (downloads)
  std::string unix_socket;  // when set, connect through this socket (at most 107 bytes)
  std::string ca_file;      // CA that signed the server certificate (HTTPS)
  std::string cert_file;    // client certificate (mutual TLS)
  std::string key_file;     // client key
  std::string username;     // HTTP basic credentials (registries), sent only when set
  std::string password;
  long connect_timeout_ms = 5000;
  // When set, every connection libcurl opens (redirects included) is first checked against it,
  // on the address actually dialled; a refused one ends the request with kPermissionDenied.
  // Engines and the private registry have none; whatever a user names has one. Not owned.
  const DestinationPolicy* destinations = nullptr;
};

// A body kept in memory (HttpResponse::body) is bounded by this unless the request bounds it
// tighter; a reply past it ends with kInvalidArgument, whoever sent it.
inline constexpr int64_t kMaxMemoryBodyBytes = int64_t{64} << 20;
// One line of a streamed reply, and all of a reply's header lines together, are bounded too.
inline constexpr size_t kMaxStreamLineBytes = size_t{1} << 20;
inline constexpr size_t kMaxHeaderBytes = size_t{256} << 10;

struct HttpRequest {
  std::string method = "GET";
  std::string target;                // path and query, already escaped: "/v1.41/_ping"
  std::vector<std::string> headers;  // "Name: value"
  std::string body;                  // sent for POST/PUT when upload_file is empty
  std::string upload_file;           // when set, the body is streamed from this file
  std::string download_file;         // when set, a 2xx body is written to this file (created or
                                     // truncated) instead of HttpResponse::body
  long timeout_ms = 30000;           // whole-transfer limit; 0 = none (streams)
  long stall_timeout_ms = 0;         // a transfer slower than low_speed_bytes_per_s for this
                                     // long fails (kDeadlineExceeded); 0 = none
  long low_speed_bytes_per_s = 1;    // with stall_timeout_ms; 1 = moving no byte at all
  int max_redirects = 0;             // Location replies followed, to http and https URLs only
  int64_t max_body_bytes = 0;        // bound on a body kept or written to download_file (not
                                     // on streams); 0 = kMaxMemoryBodyBytes for a kept body,
                                     // none for download_file
  // Streaming replies: each complete line of a 2xx body is handed over as it arrives and is not
  // kept in HttpResponse::body. Returning false ends the transfer (not an error).
  std::function<bool(std::string_view)> on_line;
  // Streaming binary replies (on_line unset): each chunk of a 2xx body as it arrives, not kept.
  // Returning false ends the transfer (not an error).
  std::function<bool(std::string_view)> on_data;
  // Polled about once a second while a transfer runs; returning false ends it (not an error).
  std::function<bool()> keep_going;
  // Called with the status at the end of each reply's headers (100 Continue excepted), before
  // its body: a stream's server has answered, though no line has come yet. A redirect followed,
  // or a chunked body's trailers, call it again.
  std::function<void(long status)> on_open;
};

struct HttpResponse {
  long status = 0;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
  bool stopped = false;         // true when on_line or keep_going ended the transfer
  int64_t content_length = -1;  // the length the reply declares (a HEAD's too); -1 when none
  int64_t body_bytes = 0;       // body bytes received (kept, written to a file or streamed)
};

class CurlTransport {
 public:
  explicit CurlTransport(Endpoint endpoint);
  ~CurlTransport();
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;

  // Sends the request and blocks until the reply is complete, the deadline passes, or a callback
  // stops it. Only http and https URLs are fetched. Any HTTP status is a successful transfer (the
  // last one when redirects are followed); a non-OK Status means no HTTP reply:
  // kUnavailable (refused, unreachable, reset), kDeadlineExceeded (the deadline or the stall
  // limit passed), kUnauthenticated (TLS: server not trusted, client certificate refused,
  // unusable local certificate), kInvalidArgument (bad URL, another scheme, more redirects than
  // max_redirects, a body past max_body_bytes, an unusable local file), kInternal (anything else
  // libcurl reports).
  Result<HttpResponse> Perform(const HttpRequest& request);

  // Sends every request together, at most `max_in_flight` at a time, from the calling thread
  // (libcurl's multi interface, woken by epoll for the sockets that are ready): under HTTP/1.1
  // each request in flight has a connection of its own, and those connections are kept for the
  // next call, at most `max_in_flight` of them (a lower bound than the last call's closes the
  // oldest as connections are returned; one of half the last bound or less closes them all first).
  // Replies are kept in memory; a request naming an upload_file or a download_file, or streamed
  // (on_line, on_data, keep_going), is refused (kInvalidArgument). The i-th result answers the
  // i-th request, as Perform would; kInternal for those in flight when epoll or libcurl fails.
  std::vector<Result<HttpResponse>> PerformAll(const std::vector<HttpRequest>& requests,
                                               size_t max_in_flight);

  const Endpoint& endpoint() const { return endpoint_; }

  // New connections opened so far; stays put while requests reuse a connection.
  long connections_opened() const { return connections_opened_; }

 private:
  Endpoint endpoint_;
  void* handle_;                 // CURL*
  void* multi_ = nullptr;        // CURLM*, made by the first PerformAll
  std::vector<void*> handles_;   // CURL*, those of the PerformAll in progress
  size_t connection_bound_ = 0;  // the last PerformAll's max_in_flight
  long connections_opened_ = 0;
};

// StreamGroup: long-lived streaming requests (engines' event streams) to many endpoints, all
// driven by one thread of the group's own through libcurl's multi interface, so that following
// many hosts costs one thread, not one per host. Each stream has a connection of its own.
// Thread-safe. Callbacks (the request's on_line or on_data, and OnEnd) run on the group's thread,
// one at a time; they must not block.
class StreamGroup {
 public:
  // Why a stream ended, as CurlTransport::Perform would say it: the reply (the server closed a
  // 2xx stream, or answered with another status; its body then kept), or the failure.
  using OnEnd = std::function<void(const Result<HttpResponse>& end)>;

  StreamGroup();
  ~StreamGroup();  // ends every stream without calling its OnEnd, and joins the thread
  StreamGroup(const StreamGroup&) = delete;
  StreamGroup& operator=(const StreamGroup&) = delete;

  // Opens `request` on `endpoint` under `key`, `delay` from now (a stream opened again after a
  // failure waits), replacing the stream of that key. The request's timeout_ms should be 0.
  void Open(int key, Endpoint endpoint, HttpRequest request, OnEnd on_end,
            std::chrono::milliseconds delay = std::chrono::milliseconds(0));
  // Ends the stream of `key`. Called from another thread, it returns once none of the stream's
  // callbacks runs or will run; called from a callback, it takes effect when that returns.
  void Close(int key);

  // Streams open or waiting to open.
  size_t size();

 private:
  struct Stream;
  struct Command {
    int key;
    std::unique_ptr<Stream> open;  // null: close
  };
  void Run();
  void Apply(std::vector<Command> commands);
  void Finished(void* handle, int code);
  // Adds the streams whose delay has passed; returns how long until the next one is due.
  std::chrono::milliseconds StartDue();
  void Wake();

  void* multi_;    // CURLM*
  std::mutex mu_;  // guards the commands, the serials and stopping_
  std::condition_variable applied_cv_;
  std::vector<Command> commands_;
  uint64_t queued_ = 0;   // commands handed over
  uint64_t applied_ = 0;  // commands the thread has applied
  size_t size_ = 0;       // open or waiting, as of the last commands applied
  bool stopping_ = false;
  std::map<int, std::unique_ptr<Stream>> streams_;  // the thread's
  std::thread thread_;
};

// Maps a libcurl result (and its error buffer text) to a Status naming the endpoint. Exposed for
// tests: TLS failures must stay distinguishable from an engine that is down.
Status StatusFromCurl(int curl_code, std::string_view error_text, std::string_view endpoint);

// Maps the status of a plain web server's reply (a download, not an engine or registry API, whose
// error bodies carry their own codes): 2xx OK, 401 kUnauthenticated, 403 kPermissionDenied,
// 404 and 410 kNotFound, 408 kDeadlineExceeded, 429 and 5xx kUnavailable, other 4xx
// kInvalidArgument, anything else kInternal. The message is "HTTP 404".
Status StatusFromHttpStatus(long http_status);

// Splits a byte stream into lines as chunks arrive; a line may span chunks. Empty lines and a
// trailing "\r" are dropped.
class LineSplitter {
 public:
  // Hands every completed line to `sink`; stops early and returns false when sink does.
  bool Feed(std::string_view chunk, const std::function<bool(std::string_view)>& sink);
  // Hands over a last line that had no newline. Returns false when sink does.
  bool Finish(const std::function<bool(std::string_view)>& sink);
  // True once a line grew past kMaxStreamLineBytes: Feed returned false without calling sink.
  bool overflowed() const { return overflowed_; }

 private:
  std::string pending_;
  bool overflowed_ = false;
};

// Percent-encodes every byte outside [A-Za-z0-9-._~], so a value can sit in a path segment or a
// query without changing the request's shape ("a/b" -> "a%2Fb").
std::string UrlEscape(std::string_view value);

}  // namespace onedock::docker

#endif  // ONEDOCK_DOCKER_CURL_TRANSPORT_H_
