// The doctor's view of certificates and of one engine's TLS endpoint: when a certificate expires
// (OpenSSL), and what one HTTPS exchange with an engine showed (libcurl: the failure told apart as
// nothing listening, a server the CA did not sign, a server certificate for another name, our
// client certificate refused; the server certificate's expiry; /version and /info). Blocking.
#ifndef ONEDOCK_BRIDGE_ADMIN_DOCTOR_TLS_H_
#define ONEDOCK_BRIDGE_ADMIN_DOCTOR_TLS_H_

#include <ctime>
#include <optional>
#include <string>
#include <vector>

#include "bridge/admin/doctor_report.h"
#include "bridge/status.h"
#include "docker/curl_transport.h"

namespace onedock::admin {

// The notAfter of the first certificate in `pem` (a file's text); kInvalidArgument when none.
Result<std::time_t> CertificateExpiry(const std::string& pem);

// "expires in N days": FAIL when past, warn under 30 days, else ok.
Finding CheckExpiry(const std::string& check, std::time_t not_after, std::time_t now);

struct EngineProbe {
  enum class Outcome {
    kOk,               // HTTPS exchange done
    kUnreachable,      // nothing answered (refused, unreachable, timed out)
    kUntrustedServer,  // the server's certificate does not verify against our CA
    kWrongName,        // it verifies, but names another host
    kServerDates,      // it is expired or not yet valid (or a clock is wrong)
    kClientRefused,    // the engine refused our client certificate
    kOther,            // anything else libcurl reported
  };
  Outcome outcome = Outcome::kOther;
  std::string error;                         // libcurl's text (and OpenSSL's verify result)
  std::optional<std::time_t> server_expiry;  // the server certificate's notAfter, when seen
  long version_status = 0;                   // HTTP status and body of GET /version and /info
  std::string version_body;
  long info_status = 0;
  std::string info_body;
};

// What one libcurl result means: `curl_code` (a CURLcode), OpenSSL's verify result as
// CURLINFO_SSL_VERIFYRESULT gives it, and libcurl's error text. Pure.
EngineProbe::Outcome ClassifyTls(int curl_code, long verify_result, const std::string& text);

// GET /version then /info on `endpoint` (its base_url, CA, client certificate and key). With
// `verify` false the server's certificate is not checked (to see past a wrong CA or name).
EngineProbe ProbeEngine(const docker::Endpoint& endpoint, bool verify);

// The findings of host `host`'s engine from a verifying probe and, when that one stopped at the
// server's certificate, a second one without verification. `now` dates the expiry.
std::vector<Finding> EngineFindings(const std::string& host, const std::string& url,
                                    const EngineProbe& verified,
                                    const std::optional<EngineProbe>& unverified, std::time_t now);

}  // namespace onedock::admin

#endif  // ONEDOCK_BRIDGE_ADMIN_DOCTOR_TLS_H_
