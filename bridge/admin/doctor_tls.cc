// ProbeEngine: one libcurl handle of its own rather than docker::CurlTransport, because telling a
// wrong CA from a wrong name from a refused client certificate needs libcurl's code, OpenSSL's
// verify result and the peer's certificate (CURLINFO_CERTINFO), which the transport folds into
// one kUnauthenticated.
#include "bridge/admin/doctor_tls.h"

#include <curl/curl.h>
#include <openssl/x509_vfy.h>

#include <memory>

namespace onedock::admin {
namespace {

size_t Append(char* data, size_t size, size_t count, void* out) {
  auto* body = static_cast<std::string*>(out);
  if (body->size() > (1u << 20)) return 0;  // /version and /info are small; a flood is cut off
  body->append(data, size * count);
  return size * count;
}

// The PEM of the peer's own certificate (the first of the chain), "" when libcurl saw none.
std::string PeerCertificate(CURL* h) {
  curl_certinfo* info = nullptr;
  if (curl_easy_getinfo(h, CURLINFO_CERTINFO, &info) != CURLE_OK || info == nullptr ||
      info->num_of_certs < 1) {
    return "";
  }
  for (curl_slist* item = info->certinfo[0]; item != nullptr; item = item->next) {
    const std::string line = item->data;
    if (line.rfind("Cert:", 0) == 0) return line.substr(5);
  }
  return "";
}

}  // namespace

EngineProbe ProbeEngine(const docker::Endpoint& endpoint, bool verify) {
  EngineProbe probe;
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> handle(curl_easy_init(), curl_easy_cleanup);
  CURL* h = handle.get();
  char error[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, endpoint.connect_timeout_ms);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 15000L);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_CERTINFO, 1L);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https,http");
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, verify ? 1L : 0L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, verify ? 2L : 0L);
  if (!endpoint.ca_file.empty()) {  // the only CA trusted, as onedockd trusts it
    curl_easy_setopt(h, CURLOPT_CAINFO, endpoint.ca_file.c_str());
    curl_easy_setopt(h, CURLOPT_CAPATH, nullptr);
  }
  if (!endpoint.cert_file.empty()) curl_easy_setopt(h, CURLOPT_SSLCERT, endpoint.cert_file.c_str());
  if (!endpoint.key_file.empty()) curl_easy_setopt(h, CURLOPT_SSLKEY, endpoint.key_file.c_str());
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, Append);
  if (!endpoint.unix_socket.empty()) {
    curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, endpoint.unix_socket.c_str());
  }

  for (const char* path : {"/version", "/info"}) {
    std::string& body = path[1] == 'v' ? probe.version_body : probe.info_body;
    const std::string url = endpoint.base_url + path;
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
    error[0] = '\0';
    const CURLcode code = curl_easy_perform(h);
    long verify_result = 0;
    curl_easy_getinfo(h, CURLINFO_SSL_VERIFYRESULT, &verify_result);
    if (!probe.server_expiry) {
      if (auto expiry = CertificateExpiry(PeerCertificate(h)); expiry.ok()) {
        probe.server_expiry = *expiry;
      }
    }
    probe.outcome = ClassifyTls(code, verify_result, error);
    if (code != CURLE_OK) {
      probe.error = std::string(error[0] ? error : curl_easy_strerror(code));
      if (verify_result != X509_V_OK) {
        probe.error +=
            " (OpenSSL: " + std::string(X509_verify_cert_error_string(verify_result)) + ")";
      }
      return probe;
    }
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    (path[1] == 'v' ? probe.version_status : probe.info_status) = status;
  }
  return probe;
}

}  // namespace onedock::admin
