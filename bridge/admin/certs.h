// Certificates for mutual TLS between onedockd and the hosts' engines, issued in memory with
// OpenSSL: a CA kept on the front-end, a server certificate per host (its name and addresses as
// subjectAltNames, serverAuth) and onedockd's client certificate (clientAuth). Keys are ECDSA
// P-256, which dockerd and libcurl both accept. Nothing here touches files; cert_commands.h does.
// Plain values; every function is thread-safe.
#ifndef ONEDOCK_BRIDGE_ADMIN_CERTS_H_
#define ONEDOCK_BRIDGE_ADMIN_CERTS_H_

#include <ctime>
#include <string>
#include <vector>

#include "bridge/status.h"

namespace onedock::admin {

// A certificate and its private key, PEM encoded (the key unencrypted, PKCS#8).
struct KeyAndCert {
  std::string key_pem;
  std::string cert_pem;
};

enum class CertRole { kServer, kClient };

struct CertRequest {
  std::string common_name;
  CertRole role = CertRole::kServer;
  // subjectAltNames of a server certificate: host names and IP address literals.
  std::vector<std::string> names;
  std::vector<std::string> addresses;
  int days = 825;
  // Start of validity; the certificate is valid from five minutes before it, so that a host whose
  // clock is slightly behind accepts it at once.
  std::time_t now = 0;
};

// A host name a certificate may carry and a file name may be made of: IsHostName, and dot-separated
// labels that are not empty and do not start with '-' ("." and ".." are not names).
bool IsCertHostName(const std::string& name);

// The subjectAltName value for `names` and `addresses` ("DNS:h1,IP:10.0.0.21"), each checked:
// names by IsCertHostName, addresses by IsIpLiteral. InvalidArgument names the first bad entry, so
// nothing a user typed can add other fields to the extension. Empty lists give InvalidArgument.
Result<std::string> SubjectAltNames(const std::vector<std::string>& names,
                                    const std::vector<std::string>& addresses);

// A new self-signed CA valid for `days` from `now`.
Result<KeyAndCert> NewCa(const std::string& common_name, int days, std::time_t now);

// A new key and a certificate for `request` signed by `ca`. InvalidArgument for a bad request
// (name, subjectAltName entry, days outside 1–36500), FailedPrecondition when `ca` does not parse,
// is not a CA, or its key does not match its certificate.
Result<KeyAndCert> Issue(const KeyAndCert& ca, const CertRequest& request);

// What an operator checks on a certificate; tests and the doctor read certificates through it.
struct CertFacts {
  std::string subject_cn;
  std::string issuer_cn;
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;
  bool is_ca = false;
  bool server_auth = false;
  bool client_auth = false;
  std::time_t not_before = 0;
  std::time_t not_after = 0;
};
Result<CertFacts> ReadCert(const std::string& cert_pem);

// OK when `cert_pem` chains to `ca_pem` and is valid at `at`; otherwise Unauthenticated with
// OpenSSL's verify reason.
Status VerifyCert(const std::string& ca_pem, const std::string& cert_pem, std::time_t at);

}  // namespace onedock::admin

#endif  // ONEDOCK_BRIDGE_ADMIN_CERTS_H_
