#include "docker/curl_transport.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <utility>

#include "docker/client_credentials.h"
#include "docker/memory_trim.h"
#include "docker/socket_events.h"

namespace onedock::docker {
namespace {

struct Transfer {
  CURL* handle;
  const HttpRequest* request;
  HttpResponse* response;
  LineSplitter splitter;
  bool streaming = false;  // decided once the status line is known
  bool status_known = false;
  FILE* download = nullptr;  // where a 2xx body goes when the request names a download_file
  bool to_file = false;      // decided with `streaming`
  bool too_large = false;    // the body passed its bound
  size_t header_bytes = 0;
  bool headers_too_large = false;
  bool line_too_long = false;
  const DestinationPolicy* destinations = nullptr;
  Status refused;  // the last connection the policy refused
  // The endpoint's client certificate, held while the transfer may make a TLS context.
  std::shared_ptr<const ClientCredentials> credentials;
};

int64_t BodyBound(const Transfer* t) {
  const int64_t asked = t->request->max_body_bytes;
  if (t->to_file) return asked;
  return asked > 0 ? std::min(asked, kMaxMemoryBodyBytes) : kMaxMemoryBodyBytes;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view line(data, size * count);
  t->header_bytes += line.size();
  if (t->header_bytes > kMaxHeaderBytes) {
    t->headers_too_large = true;
    return 0;
  }
  if (line.rfind("HTTP/", 0) == 0) {
    t->response->headers.clear();  // a new status line (after 100 Continue or a redirect)
    return size * count;
  }
  if (Trim(line).empty() && t->request->on_open) {  // the blank line that ends a reply's headers
    long code = 0;
    curl_easy_getinfo(t->handle, CURLINFO_RESPONSE_CODE, &code);
    if (code >= 200) t->request->on_open(code);
    return size * count;
  }
  if (auto colon = line.find(':'); colon != std::string_view::npos) {
    t->response->headers[Lower(Trim(line.substr(0, colon)))] =
        std::string(Trim(line.substr(colon + 1)));
  }
  return size * count;
}

// Decides, at the first body byte, where the body goes; false when its declared length is
// already past the bound.
bool StartBody(Transfer* t) {
  long code = 0;
  curl_easy_getinfo(t->handle, CURLINFO_RESPONSE_CODE, &code);
  const bool success = code >= 200 && code < 300;
  t->streaming = (t->request->on_line || t->request->on_data) && success;
  t->to_file = t->download != nullptr && success;
  t->status_known = true;
  curl_off_t declared = -1;
  curl_easy_getinfo(t->handle, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &declared);
  const int64_t bound = BodyBound(t);
  return t->streaming || bound <= 0 || declared <= bound;
}

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = size * count;
  if (!t->status_known && !StartBody(t)) {
    t->too_large = true;
    return 0;  // makes libcurl end the transfer
  }
  const int64_t bound = BodyBound(t);
  t->response->body_bytes += static_cast<int64_t>(n);
  if (!t->streaming && bound > 0 && t->response->body_bytes > bound) {
    t->too_large = true;
    return 0;
  }
  if (t->to_file) return std::fwrite(data, 1, n, t->download) == n ? n : 0;
  if (!t->streaming) {
    t->response->body.append(data, n);
    return n;
  }
  if (!t->request->on_line) {
    if (!t->request->on_data(std::string_view(data, n))) {
      t->response->stopped = true;
      return 0;
    }
    return n;
  }
  if (!t->splitter.Feed(std::string_view(data, n), t->request->on_line)) {
    if (t->splitter.overflowed()) {
      t->line_too_long = true;
    } else {
      t->response->stopped = true;
    }
    return 0;
  }
  return n;
}

int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(user);
  if (t->request->keep_going && !t->request->keep_going()) {
    t->response->stopped = true;
    return 1;
  }
  return 0;
}

// Opens the socket of a new connection only when the destination policy admits its address.
curl_socket_t OnOpenSocket(void* user, curlsocktype, curl_sockaddr* address) {
  auto* t = static_cast<Transfer*>(user);
  char text[INET6_ADDRSTRLEN] = {0};
  int port = 0;
  if (address->family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&address->addr);
    inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
    port = ntohs(in->sin_port);
  } else if (address->family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&address->addr);
    inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
    port = ntohs(in6->sin6_port);
  } else {
    t->refused = PermissionDenied("only IP destinations are dialled");
    return CURL_SOCKET_BAD;
  }
  if (Status s = t->destinations->Check(text, port); !s.ok()) {
    t->refused = s;
    return CURL_SOCKET_BAD;
  }
  return socket(address->family, address->socktype, address->protocol);
}

struct FileCloser {
  void operator()(FILE* f) const {
    if (f) std::fclose(f);
  }
};

using HeaderList = std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)>;

void AddHeader(HeaderList& headers, const std::string& line) {
  headers.reset(curl_slist_append(headers.release(), line.c_str()));
}

// Every TLS connection gives its read and write buffers back while it is idle: a monitor keeps
// hundreds of connections per engine open between rounds, about 34 KB each otherwise. It presents
// the client certificate parsed once (`credentials`, when the endpoint has one that loaded).
CURLcode OnSslContext(CURL*, void* ssl_ctx, void* credentials) {
  SSL_CTX_set_mode(static_cast<SSL_CTX*>(ssl_ctx), SSL_MODE_RELEASE_BUFFERS);
  if (credentials != nullptr &&
      !static_cast<const ClientCredentials*>(credentials)->ApplyTo(ssl_ctx)) {
    return CURLE_SSL_CERTPROBLEM;
  }
  return CURLE_OK;
}

// Only a libcurl over OpenSSL 3, the library onedock links, hands an SSL_CTX to OnSslContext.
bool CurlUsesOpenSsl3() {
  static const bool yes = [] {
    const curl_version_info_data* v = curl_version_info(CURLVERSION_NOW);
    return v != nullptr && v->ssl_version != nullptr &&
           std::string_view(v->ssl_version).rfind("OpenSSL/3", 0) == 0;
  }();
  return yes;
}

constexpr long kCaCacheSeconds = 60;

// Where to connect and as whom: the unix socket, TLS files and basic credentials of the endpoint.
// The CA file is the only CA trusted, not the system's as well; that lets libcurl keep the store it
// builds from it for the handle's next connections, for a minute (its default is a day), so that
// a replaced CA file is read again. The client certificate and key, parsed once, are held in
// `credentials` for the transfer; libcurl reads the files itself when they do not load here, and
// says why.
void ApplyEndpoint(CURL* h, const Endpoint& endpoint,
                   std::shared_ptr<const ClientCredentials>& credentials) {
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, endpoint.connect_timeout_ms);
  if (!endpoint.unix_socket.empty()) {
    curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, endpoint.unix_socket.c_str());
  }
  if (!endpoint.ca_file.empty()) {
    curl_easy_setopt(h, CURLOPT_CAINFO, endpoint.ca_file.c_str());
    curl_easy_setopt(h, CURLOPT_CAPATH, nullptr);
    curl_easy_setopt(h, CURLOPT_CA_CACHE_TIMEOUT, kCaCacheSeconds);
  }
  credentials.reset();
  if (CurlUsesOpenSsl3()) {
    curl_easy_setopt(h, CURLOPT_SSL_CTX_FUNCTION, OnSslContext);
    if (!endpoint.cert_file.empty() && !endpoint.key_file.empty()) {
      credentials = ClientCredentials::Shared(endpoint.cert_file, endpoint.key_file);
    }
    curl_easy_setopt(h, CURLOPT_SSL_CTX_DATA, const_cast<ClientCredentials*>(credentials.get()));
  }
  if (!endpoint.cert_file.empty() && credentials == nullptr) {
    curl_easy_setopt(h, CURLOPT_SSLCERT, endpoint.cert_file.c_str());
  }
  if (!endpoint.key_file.empty() && credentials == nullptr) {
    curl_easy_setopt(h, CURLOPT_SSLKEY, endpoint.key_file.c_str());
  }
  if (!endpoint.username.empty()) {
    curl_easy_setopt(h, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(h, CURLOPT_USERNAME, endpoint.username.c_str());
    curl_easy_setopt(h, CURLOPT_PASSWORD, endpoint.password.c_str());
  }
}

// Deadlines, redirects and the callbacks that receive the reply.
void ApplyTransfer(CURL* h, const HttpRequest& request, Transfer* transfer) {
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, request.timeout_ms);
  if (request.stall_timeout_ms > 0) {
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, std::max(1L, request.low_speed_bytes_per_s));
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME,
                     std::max(1L, (request.stall_timeout_ms + 999) / 1000));
  }
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  if (request.max_redirects > 0) {
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, static_cast<long>(request.max_redirects));
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  }
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, transfer);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, transfer);
  curl_easy_setopt(h, CURLOPT_PROXY, "");  // engines and registries are dialled directly
  curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  if (transfer->destinations != nullptr) {
    curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, OnOpenSocket);
    curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, transfer);
  }
  if (request.keep_going) {
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, OnProgress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, transfer);
  }
}

// The method and what is sent: an uploaded file (opened into `upload`), an in-memory body, or
// nothing.
Status ApplyMethod(CURL* h, const HttpRequest& request, HeaderList& headers,
                   std::unique_ptr<FILE, FileCloser>& upload) {
  if (!request.upload_file.empty()) {
    upload.reset(std::fopen(request.upload_file.c_str(), "rb"));
    if (!upload) return InvalidArgument("cannot read " + request.upload_file);
    std::fseek(upload.get(), 0, SEEK_END);
    const long size = std::ftell(upload.get());
    std::rewind(upload.get());
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_READDATA, upload.get());
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(size));
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    AddHeader(headers, "Expect:");  // no 100-continue round trip
  } else if (request.method == "POST" || request.method == "PUT") {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    if (request.method == "PUT") curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "PUT");
    AddHeader(headers, "Expect:");
  } else if (request.method == "HEAD") {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else if (request.method != "GET") {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  return Status::Ok();
}

// Everything a request sets on its handle: the URL (which, like `error_text`, `headers` and the
// opened `upload`, must outlive the transfer), the endpoint, the deadlines and callbacks, the
// method and its body, the headers.
Status Prepare(CURL* h, const std::string& url, char* error_text, const Endpoint& endpoint,
               const HttpRequest& request, Transfer* transfer, HeaderList& headers,
               std::unique_ptr<FILE, FileCloser>& upload) {
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_text);
  ApplyEndpoint(h, endpoint, transfer->credentials);
  ApplyTransfer(h, request, transfer);
  for (const auto& line : request.headers) AddHeader(headers, line);
  if (Status s = ApplyMethod(h, request, headers, upload); !s.ok()) return s;
  if (headers) curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
  return Status::Ok();
}

// A failure that may hide a refused client certificate. Under TLS 1.3 the engine refuses the
// certificate after the client believes the handshake done, then closes with bytes of the client
// unread, which resets the connection. libcurl keeps only the first error in its buffer, and
// on a reset socket that is a failed getpeername(), not the alert read after it.
bool MayHideTlsAlert(CURLcode rc, const Endpoint& endpoint, long new_connections) {
  const bool closed = rc == CURLE_SEND_ERROR || rc == CURLE_RECV_ERROR || rc == CURLE_GOT_NOTHING;
  return closed && new_connections > 0 && endpoint.unix_socket.empty() &&
         endpoint.base_url.rfind("https://", 0) == 0;
}

int OnProbeText(CURL*, curl_infotype type, char* data, size_t size, void* user) {
  if (type != CURLINFO_TEXT) return 0;
  std::string_view line(data, size);
  auto* alert = static_cast<std::string*>(user);
  if (alert->empty() && line.find("alert") != std::string_view::npos) {
    alert->assign(Trim(line));
  }
  return 0;
}

// Opens a second connection that completes the handshake and listens, sending nothing, and reads
// the alert from libcurl's informational text, where every message is kept. Returns the refusal
// it reads, or OK when none came within `listen_ms` (the first failure then stands as it was).
Status ProbeForTlsRefusal(const Endpoint& endpoint, const std::string& where, long listen_ms) {
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> probe(curl_easy_init(), curl_easy_cleanup);
  if (!probe) return Status::Ok();
  CURL* h = probe.get();
  curl_easy_setopt(h, CURLOPT_URL, endpoint.base_url.c_str());
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_PROXY, "");
  curl_easy_setopt(h, CURLOPT_CONNECT_ONLY, 1L);
  std::string alert;
  curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
  curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, OnProbeText);
  curl_easy_setopt(h, CURLOPT_DEBUGDATA, &alert);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, endpoint.connect_timeout_ms);
  std::shared_ptr<const ClientCredentials> credentials;
  ApplyEndpoint(h, endpoint, credentials);
  const auto refusal = [&]() {
    return alert.empty()
               ? Status::Ok()
               : Unauthenticated(where + ": tls: client certificate refused (" + alert + ")");
  };
  if (curl_easy_perform(h) != CURLE_OK) return refusal();
  curl_socket_t socket = CURL_SOCKET_BAD;
  curl_easy_getinfo(h, CURLINFO_ACTIVESOCKET, &socket);
  if (socket == CURL_SOCKET_BAD) return refusal();
  char buffer[256];
  for (int waits = 0; waits < 8 && alert.empty(); ++waits) {
    pollfd readable{socket, POLLIN, 0};
    if (poll(&readable, 1, static_cast<int>(std::max(1L, listen_ms / 8))) < 0) break;
    size_t got = 0;
    const CURLcode rc = curl_easy_recv(h, buffer, sizeof buffer, &got);
    if (rc != CURLE_AGAIN) break;  // the alert, another failure, or a close
  }
  return refusal();
}

// What a finished transfer comes to: the reply, or why there is none.
Result<HttpResponse> Conclude(CURL* h, CURLcode rc, Transfer& transfer, const char* error_text,
                              const std::string& where) {
  HttpResponse& response = *transfer.response;
  if (transfer.too_large) {
    return InvalidArgument(where + ": reply body larger than " +
                           std::to_string(BodyBound(&transfer)) + " bytes");
  }
  if (transfer.headers_too_large) {
    return InvalidArgument(where + ": reply headers larger than " +
                           std::to_string(kMaxHeaderBytes) + " bytes");
  }
  if (transfer.line_too_long) {
    return InvalidArgument(where + ": streamed reply line longer than " +
                           std::to_string(kMaxStreamLineBytes) + " bytes");
  }
  if (rc != CURLE_OK && !transfer.refused.ok()) return transfer.refused.WithContext(where);
  if (rc != CURLE_OK && !response.stopped) {
    return StatusFromCurl(rc, error_text[0] ? error_text : curl_easy_strerror(rc), where);
  }
  const HttpRequest& request = *transfer.request;
  if (transfer.streaming && request.on_line && !response.stopped) {
    transfer.splitter.Finish(request.on_line);
  }
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &response.status);
  curl_off_t declared = -1;
  curl_easy_getinfo(h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &declared);
  response.content_length = static_cast<int64_t>(declared);
  return std::move(response);
}

}  // namespace

CurlTransport::CurlTransport(Endpoint endpoint)
    : endpoint_(std::move(endpoint)), handle_(curl_easy_init()) {}

CurlTransport::~CurlTransport() {
  // The multi handle owns the connection cache its transfers used: it goes before their handles.
  if (multi_ != nullptr) curl_multi_cleanup(static_cast<CURLM*>(multi_));
  for (void* h : handles_) curl_easy_cleanup(static_cast<CURL*>(h));
  curl_easy_cleanup(static_cast<CURL*>(handle_));
}

Result<HttpResponse> CurlTransport::Perform(const HttpRequest& request) {
  CURL* h = static_cast<CURL*>(handle_);
  if (h == nullptr) return Internal("libcurl could not create a handle");
  // Reset clears options only; the connection cache and TLS sessions survive it.
  curl_easy_reset(h);

  HttpResponse response;
  Transfer transfer{h, &request, &response, {}};
  transfer.destinations = endpoint_.destinations;
  char error_text[CURL_ERROR_SIZE] = {0};
  const std::string url = endpoint_.base_url + request.target;
  const std::string& where = endpoint_.base_url.empty() ? url : endpoint_.base_url;

  HeaderList headers(nullptr, curl_slist_free_all);
  std::unique_ptr<FILE, FileCloser> upload;
  if (Status s = Prepare(h, url, error_text, endpoint_, request, &transfer, headers, upload);
      !s.ok()) {
    return s;
  }

  std::unique_ptr<FILE, FileCloser> download;
  if (!request.download_file.empty()) {
    download.reset(std::fopen(request.download_file.c_str(), "wb"));
    if (!download) return InvalidArgument("cannot write " + request.download_file);
    transfer.download = download.get();
  }

  const CURLcode rc = curl_easy_perform(h);
  if (download && std::fclose(download.release()) != 0 && rc == CURLE_OK) {
    return Internal("cannot write " + request.download_file);
  }
  long new_connections = 0;
  curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &new_connections);
  connections_opened_ += new_connections;

  Result<HttpResponse> result = Conclude(h, rc, transfer, error_text, where);
  if (!result.ok() && result.status().code() != Status::Code::kUnauthenticated &&
      MayHideTlsAlert(rc, endpoint_, new_connections)) {
    if (Status refusal = ProbeForTlsRefusal(endpoint_, where, 1000); !refusal.ok()) return refusal;
  }
  return result;
}

std::vector<Result<HttpResponse>> CurlTransport::PerformAll(
    const std::vector<HttpRequest>& requests, size_t max_in_flight) {
  std::vector<Result<HttpResponse>> results(requests.size(),
                                            Result<HttpResponse>(Internal("not sent")));
  if (requests.empty()) return results;
  // Connections stay in the multi handle's cache between calls, at most `max_in_flight` of them:
  // libcurl closes the oldest idle one each time a transfer returns one to a full cache, so a
  // lower bound, above half the last one, is reached within a call of at least `bound` requests.
  // Down to half the last bound or less, they are all closed at once instead (the multi handle
  // owns its cache): the call opens the connections it needs. Either way the memory they held
  // goes back to the system, by this call or the first one (of any transport) ten seconds after
  // the last trim (TrimAfterClosing).
  const size_t bound = std::max<size_t>(1, max_in_flight);
  const bool lowered = multi_ != nullptr && bound < connection_bound_;
  if (lowered && bound * 2 <= connection_bound_) {
    curl_multi_cleanup(static_cast<CURLM*>(multi_));
    multi_ = nullptr;
  }
  connection_bound_ = bound;
  if (multi_ == nullptr) multi_ = curl_multi_init();
  CURLM* multi = static_cast<CURLM*>(multi_);
  if (multi == nullptr) {
    for (auto& r : results) r = Internal("libcurl could not create a multi handle");
    return results;
  }
  SocketEvents events(multi);
  if (!events.ok()) {
    const Status failed = Internal(std::string("cannot watch sockets: ") + std::strerror(errno));
    for (auto& r : results) r = failed;
    return results;
  }
  curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, static_cast<long>(bound));
  max_in_flight = std::clamp<size_t>(max_in_flight, 1, requests.size());
  while (handles_.size() < max_in_flight) {
    CURL* h = curl_easy_init();
    if (h == nullptr) break;
    handles_.push_back(h);
  }
  if (handles_.empty()) {
    for (auto& r : results) r = Internal("libcurl could not create a handle");
    return results;
  }

  struct Slot {
    CURL* handle = nullptr;
    size_t index = 0;
    HttpResponse response;
    std::unique_ptr<Transfer> transfer;
    HeaderList headers{nullptr, curl_slist_free_all};
    std::unique_ptr<FILE, FileCloser> upload;
    std::string url;
    char error_text[CURL_ERROR_SIZE] = {0};
  };
  std::vector<Slot> slots(std::min(max_in_flight, handles_.size()));
  size_t next = 0;
  size_t active = 0;
  const auto start = [&](Slot& slot) {
    while (next < requests.size()) {
      const size_t i = next++;
      const HttpRequest& request = requests[i];
      if (!request.upload_file.empty() || !request.download_file.empty()) {
        results[i] = InvalidArgument("files are not sent or kept by a request among many");
        continue;
      }
      if (request.on_line || request.on_data || request.keep_going) {
        results[i] = InvalidArgument("a request among many is not streamed");
        continue;
      }
      CURL* h = static_cast<CURL*>(slot.handle);
      curl_easy_reset(h);
      slot.index = i;
      slot.response = HttpResponse{};
      slot.transfer = std::make_unique<Transfer>(Transfer{h, &request, &slot.response, {}});
      slot.transfer->destinations = endpoint_.destinations;
      slot.headers.reset();
      slot.error_text[0] = '\0';
      slot.url = endpoint_.base_url + request.target;
      curl_easy_setopt(h, CURLOPT_PRIVATE, &slot);
      // Replies among many are small (stats): a 4 KB receive buffer, and the smallest send
      // buffer libcurl takes (it copies a request there before TLS sends it, 64 KB by default).
      curl_easy_setopt(h, CURLOPT_BUFFERSIZE, 4096L);
      curl_easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE, 16384L);
      if (Status s = Prepare(h, slot.url, slot.error_text, endpoint_, request, slot.transfer.get(),
                             slot.headers, slot.upload);
          !s.ok()) {
        results[i] = s;
        slot.transfer.reset();  // not in flight: a later failure of the run is not its answer
        continue;
      }
      if (curl_multi_add_handle(multi, h) != CURLM_OK) {
        results[i] = Internal("libcurl refused a transfer");
        slot.transfer.reset();
        continue;
      }
      ++active;
      return;
    }
  };
  for (size_t k = 0; k < slots.size(); ++k) {
    slots[k].handle = handles_[k];
    start(slots[k]);
  }
  Status failed;
  while (active > 0) {
    if (failed = events.Step(std::chrono::milliseconds(1000)); !failed.ok()) break;
    int left = 0;
    while (CURLMsg* message = curl_multi_info_read(multi, &left)) {
      if (message->msg != CURLMSG_DONE) continue;
      CURL* h = message->easy_handle;
      const CURLcode rc = message->data.result;  // read before the handle is removed
      Slot* slot = nullptr;
      curl_easy_getinfo(h, CURLINFO_PRIVATE, reinterpret_cast<char**>(&slot));
      curl_multi_remove_handle(multi, h);
      --active;
      long new_connections = 0;
      curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &new_connections);
      connections_opened_ += new_connections;
      const std::string where = endpoint_.base_url.empty() ? slot->url : endpoint_.base_url;
      results[slot->index] = Conclude(h, rc, *slot->transfer, slot->error_text, where);
      slot->transfer.reset();
      start(*slot);
    }
  }
  if (!failed.ok()) {
    // What was in flight may have reached the engine: it ends with the failure, not "not sent".
    for (Slot& slot : slots) {
      if (slot.transfer == nullptr) continue;
      curl_multi_remove_handle(multi, static_cast<CURL*>(slot.handle));
      results[slot.index] = failed;
    }
  }
  // The connections stay in the multi handle's cache; the handles (a receive buffer each) go, so
  // that a transport idle between rounds holds its connections only.
  for (void* h : handles_) curl_easy_cleanup(static_cast<CURL*>(h));
  handles_.clear();
  TrimAfterClosing(lowered);
  return results;
}

struct StreamGroup::Stream {
  int key = 0;
  Endpoint endpoint;
  HttpRequest request;
  OnEnd on_end;
  std::chrono::steady_clock::time_point due;
  CURL* handle = nullptr;
  bool added = false;  // to the multi handle
  HttpResponse response;
  std::unique_ptr<Transfer> transfer;
  HeaderList headers{nullptr, curl_slist_free_all};
  std::string url;
  char error_text[CURL_ERROR_SIZE] = {0};

  ~Stream() {
    if (handle != nullptr) curl_easy_cleanup(handle);
  }
  // Makes the transfer; false when libcurl cannot.
  bool Begin() {
    handle = curl_easy_init();
    if (handle == nullptr) return false;
    transfer = std::make_unique<Transfer>(Transfer{handle, &request, &response, {}});
    transfer->destinations = endpoint.destinations;
    url = endpoint.base_url + request.target;
    curl_easy_setopt(handle, CURLOPT_PRIVATE, this);
    std::unique_ptr<FILE, FileCloser> no_upload;
    request.upload_file.clear();  // a stream sends no file
    return Prepare(handle, url, error_text, endpoint, request, transfer.get(), headers, no_upload)
        .ok();
  }
};

StreamGroup::StreamGroup() : multi_(curl_multi_init()) {
  if (multi_ != nullptr) thread_ = std::thread([this] { Run(); });
}

StreamGroup::~StreamGroup() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  Wake();
  if (thread_.joinable()) thread_.join();
  CURLM* multi = static_cast<CURLM*>(multi_);
  for (auto& [key, stream] : streams_) {
    if (stream->added) curl_multi_remove_handle(multi, stream->handle);
  }
  streams_.clear();
  if (multi != nullptr) curl_multi_cleanup(multi);
}

void StreamGroup::Wake() {
  if (multi_ != nullptr) curl_multi_wakeup(static_cast<CURLM*>(multi_));
}

void StreamGroup::Open(int key, Endpoint endpoint, HttpRequest request, OnEnd on_end,
                       std::chrono::milliseconds delay) {
  auto stream = std::make_unique<Stream>();
  stream->key = key;
  stream->endpoint = std::move(endpoint);
  stream->request = std::move(request);
  stream->on_end = std::move(on_end);
  stream->due = std::chrono::steady_clock::now() + delay;
  {
    std::lock_guard lock(mu_);
    commands_.push_back({key, std::move(stream)});
    ++queued_;
  }
  Wake();
}

void StreamGroup::Close(int key) {
  std::unique_lock lock(mu_);
  commands_.push_back({key, nullptr});
  const uint64_t serial = ++queued_;
  lock.unlock();
  Wake();
  if (!thread_.joinable() || std::this_thread::get_id() == thread_.get_id()) return;
  lock.lock();
  applied_cv_.wait(lock, [&] { return stopping_ || applied_ >= serial; });
}

size_t StreamGroup::size() {
  std::lock_guard lock(mu_);
  return size_;
}

void StreamGroup::Apply(std::vector<Command> commands) {
  CURLM* multi = static_cast<CURLM*>(multi_);
  for (Command& c : commands) {
    if (auto it = streams_.find(c.key); it != streams_.end()) {
      if (it->second->added) curl_multi_remove_handle(multi, it->second->handle);
      streams_.erase(it);
    }
    if (c.open) streams_[c.key] = std::move(c.open);
  }
}

std::chrono::milliseconds StreamGroup::StartDue() {
  CURLM* multi = static_cast<CURLM*>(multi_);
  const auto now = std::chrono::steady_clock::now();
  auto wait = std::chrono::milliseconds(1000);
  std::vector<int> failed;
  for (auto& [key, stream] : streams_) {
    if (stream->added) continue;
    if (stream->due > now) {
      wait = std::min(wait, std::chrono::ceil<std::chrono::milliseconds>(stream->due - now));
      continue;
    }
    if (!stream->Begin() || curl_multi_add_handle(multi, stream->handle) != CURLM_OK) {
      failed.push_back(key);
      continue;
    }
    stream->added = true;
  }
  for (int key : failed) {
    auto node = streams_.extract(key);
    OnEnd on_end = std::move(node.mapped()->on_end);
    node.mapped().reset();
    if (on_end) on_end(Internal("libcurl could not start a stream"));
  }
  return wait;
}

void StreamGroup::Finished(void* handle, int code) {
  CURL* h = static_cast<CURL*>(handle);
  Stream* stream = nullptr;
  curl_easy_getinfo(h, CURLINFO_PRIVATE, reinterpret_cast<char**>(&stream));
  curl_multi_remove_handle(static_cast<CURLM*>(multi_), h);
  stream->added = false;
  const Result<HttpResponse> end = Conclude(h, static_cast<CURLcode>(code), *stream->transfer,
                                            stream->error_text, stream->endpoint.base_url);
  auto node = streams_.extract(stream->key);
  OnEnd on_end = std::move(node.mapped()->on_end);
  node.mapped().reset();
  if (on_end) on_end(end);
}

void StreamGroup::Run() {
  CURLM* multi = static_cast<CURLM*>(multi_);
  for (;;) {
    std::vector<Command> commands;
    uint64_t serial = 0;
    {
      std::lock_guard lock(mu_);
      if (stopping_) break;
      commands.swap(commands_);
      serial = queued_;
    }
    Apply(std::move(commands));
    {
      std::lock_guard lock(mu_);
      applied_ = serial;
      size_ = streams_.size();
    }
    applied_cv_.notify_all();
    const auto wait = StartDue();
    int running = 0;
    curl_multi_perform(multi, &running);
    int left = 0;
    while (CURLMsg* message = curl_multi_info_read(multi, &left)) {
      if (message->msg == CURLMSG_DONE) Finished(message->easy_handle, message->data.result);
    }
    curl_multi_poll(multi, nullptr, 0, static_cast<int>(wait.count()), nullptr);
  }
  applied_cv_.notify_all();
}

Status StatusFromCurl(int curl_code, std::string_view error_text, std::string_view endpoint) {
  const std::string where = std::string(endpoint) + ": ";
  const std::string detail(error_text);
  const bool tls_alert = detail.find("alert") != std::string::npos ||
                         detail.find("certificate required") != std::string::npos;
  switch (static_cast<CURLcode>(curl_code)) {
    case CURLE_COULDNT_CONNECT:
      return Unavailable(where + "connection refused or host unreachable (" + detail + ")");
    case CURLE_COULDNT_RESOLVE_HOST:
      return Unavailable(where + "cannot resolve host (" + detail + ")");
    case CURLE_GOT_NOTHING:
    case CURLE_SEND_ERROR:
      return Unavailable(where + "connection closed (" + detail + ")");
    case CURLE_RECV_ERROR:
      // Under TLS 1.3 a refused client certificate shows up as a receive error carrying the
      // server's alert, after the client believed the handshake done.
      if (tls_alert)
        return Unauthenticated(where + "tls: client certificate refused (" + detail + ")");
      return Unavailable(where + "connection closed (" + detail + ")");
    case CURLE_OPERATION_TIMEDOUT:
      return DeadlineExceeded(where + "timed out (" + detail + ")");
    case CURLE_SSL_CONNECT_ERROR:
      if (tls_alert)
        return Unauthenticated(where + "tls: client certificate refused (" + detail + ")");
      return Unauthenticated(where + "tls: handshake failed (" + detail + ")");
    case CURLE_SSL_CLIENTCERT:
      return Unauthenticated(where + "tls: client certificate refused (" + detail + ")");
    case CURLE_PEER_FAILED_VERIFICATION:
      return Unauthenticated(where + "tls: server certificate not trusted (" + detail + ")");
    case CURLE_SSL_CERTPROBLEM:
      return Unauthenticated(where + "tls: local client certificate or key unusable (" + detail +
                             ")");
    case CURLE_SSL_CACERT_BADFILE:
      return Unauthenticated(where + "tls: CA file unusable (" + detail + ")");
    case CURLE_TOO_MANY_REDIRECTS:
      return InvalidArgument(where + "too many redirects (" + detail + ")");
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_READ_ERROR:
      return InvalidArgument(where + detail);
    default:
      return Internal(where + "libcurl error " + std::to_string(curl_code) + " (" + detail + ")");
  }
}

Status StatusFromHttpStatus(long http_status) {
  const std::string message = "HTTP " + std::to_string(http_status);
  if (http_status >= 200 && http_status < 300) return Status::Ok();
  switch (http_status) {
    case 401:
      return Unauthenticated(message);
    case 403:
      return PermissionDenied(message);
    case 404:
    case 410:
      return NotFound(message);
    case 408:
      return DeadlineExceeded(message);
    case 429:
      return Unavailable(message);
    default:
      break;
  }
  if (http_status >= 500 && http_status < 600) return Unavailable(message);
  if (http_status >= 400 && http_status < 500) return InvalidArgument(message);
  return Internal(message);
}

bool LineSplitter::Feed(std::string_view chunk, const std::function<bool(std::string_view)>& sink) {
  while (!chunk.empty()) {
    const size_t nl = chunk.find('\n');
    if (nl == std::string_view::npos) {
      if (pending_.size() + chunk.size() > kMaxStreamLineBytes) {
        overflowed_ = true;
        return false;
      }
      pending_.append(chunk);
      return true;
    }
    if (pending_.size() + nl > kMaxStreamLineBytes) {
      overflowed_ = true;
      return false;
    }
    std::string_view line;
    if (pending_.empty()) {
      line = chunk.substr(0, nl);
    } else {
      pending_.append(chunk.substr(0, nl));
      line = pending_;
    }
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const bool keep = line.empty() || sink(line);
    pending_.clear();
    chunk.remove_prefix(nl + 1);
    if (!keep) return false;
  }
  return true;
}

bool LineSplitter::Finish(const std::function<bool(std::string_view)>& sink) {
  std::string last;
  last.swap(pending_);
  if (!last.empty() && last.back() == '\r') last.pop_back();
  return last.empty() || sink(last);
}

std::string UrlEscape(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size());
  for (unsigned char c : value) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

}  // namespace onedock::docker
