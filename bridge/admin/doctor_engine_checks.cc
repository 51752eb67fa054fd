// The pure half of doctor_tls.h: certificate dates and what an engine probe means.
#include <curl/curl.h>
#include <openssl/asn1.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <memory>
#include <nlohmann/json.hpp>

#include "bridge/admin/doctor_tls.h"
#include "docker/engine_json.h"

namespace onedock::admin {
namespace {

constexpr long kWarnDays = 30;

std::string Supported() {
  return docker::kOldestApi.ToString() + " to " + docker::kNewestApi.ToString();
}

Finding ApiFinding(const std::string& check, const EngineProbe& probe) {
  if (probe.version_status != 200) {
    return Fail(check, "GET /version answered HTTP " + std::to_string(probe.version_status),
                "check that the address is a Docker engine's API");
  }
  auto version = docker::ParseVersion(probe.version_body);
  if (!version.ok()) return Fail(check, version.status().message(), "upgrade the engine");
  auto use = docker::NegotiateApi(version->api_version, version->min_api_version);
  if (!use.ok()) {
    return Fail(check, use.status().message(),
                "onedock speaks Engine API " + Supported() + ": upgrade Docker on the host");
  }
  return Ok(check, "Docker " + version->version + ", API " + version->api_version + " (onedock " +
                       "uses " + use->ToString() + ")");
}

Finding LiveRestoreFinding(const std::string& check, const EngineProbe& probe) {
  const nlohmann::json info = nlohmann::json::parse(probe.info_body, nullptr, false);
  if (probe.info_status != 200 || !info.is_object()) {
    return Fail(check, "GET /info did not answer a JSON object", "check the engine's log");
  }
  auto it = info.find("LiveRestoreEnabled");
  if (it != info.end() && it->is_boolean() && it->get<bool>()) return Ok(check, "on");
  return Warn(check, "off: a dockerd restart stops every VM on this host",
              "set \"live-restore\": true in the host's /etc/docker/daemon.json and reload dockerd "
              "(systemctl reload docker)");
}

}  // namespace

Result<std::time_t> CertificateExpiry(const std::string& pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), int(pem.size())),
                                                BIO_free);
  std::unique_ptr<X509, decltype(&X509_free)> cert(
      bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr, X509_free);
  if (!cert) return InvalidArgument("no PEM certificate");
  struct tm when {};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(cert.get()), &when) != 1) {
    return InvalidArgument("the certificate's notAfter does not parse");
  }
  return timegm(&when);
}

Finding CheckExpiry(const std::string& check, std::time_t not_after, std::time_t now) {
  const long days = static_cast<long>((not_after - now) / 86400);
  char date[32];
  struct tm when {};
  gmtime_r(&not_after, &when);
  std::strftime(date, sizeof date, "%Y-%m-%d", &when);
  if (not_after <= now) {
    return Fail(check, std::string("expired on ") + date,
                "issue a new one (onedock host-cert / onedock client-cert) and install it");
  }
  const std::string detail = "expires " + std::string(date) + ", in " + std::to_string(days) +
                             " day" + (days == 1 ? "" : "s");
  if (days < kWarnDays) {
    return Warn(check, detail, "issue a new one before then (onedock host-cert / client-cert)");
  }
  return Ok(check, detail);
}

EngineProbe::Outcome ClassifyTls(int curl_code, long verify_result, const std::string& text) {
  using Outcome = EngineProbe::Outcome;
  switch (curl_code) {
    case CURLE_OK:
      return Outcome::kOk;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_OPERATION_TIMEDOUT:
      return Outcome::kUnreachable;
    case CURLE_PEER_FAILED_VERIFICATION:
      if (verify_result == X509_V_ERR_CERT_HAS_EXPIRED ||
          verify_result == X509_V_ERR_CERT_NOT_YET_VALID) {
        return Outcome::kServerDates;
      }
      // curl checks the name itself after OpenSSL verified the chain (verify result 0, or
      // X509_V_ERR_UNSPECIFIED with libcurl 7.88 and OpenSSL 3.0, seen against a server whose
      // certificate names another host: its text then names the "target host name"), or lets
      // OpenSSL check it (X509_V_ERR_HOSTNAME_MISMATCH).
      return verify_result == X509_V_OK || verify_result == X509_V_ERR_HOSTNAME_MISMATCH ||
                     verify_result == X509_V_ERR_IP_ADDRESS_MISMATCH ||
                     text.find("target host name") != std::string::npos
                 ? Outcome::kWrongName
                 : Outcome::kUntrustedServer;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
      // The server's TLS alert (bad certificate, certificate required, unknown ca, expired).
      return text.find("alert") != std::string::npos ? Outcome::kClientRefused : Outcome::kOther;
    default:
      return Outcome::kOther;
  }
}

std::vector<Finding> EngineFindings(const std::string& host, const std::string& url,
                                    const EngineProbe& verified,
                                    const std::optional<EngineProbe>& unverified, std::time_t now) {
  const std::string name = "engine " + host;
  using Outcome = EngineProbe::Outcome;
  if (verified.outcome == Outcome::kUnreachable) {
    return {Fail(name, url + " does not answer: " + verified.error,
                 "start dockerd on " + host +
                     " listening with tlsverify on that address, or set "
                     "the right url in onedockd.conf's [host " +
                     host + "] section")};
  }
  std::vector<Finding> findings{Ok(name, url + " answers")};
  const EngineProbe* seen = &verified;
  if (verified.outcome == Outcome::kUntrustedServer) {
    findings.push_back(Fail(name + " server certificate",
                            "not signed by [engines] ca: " + verified.error,
                            "make the engine's certificate with the CA onedockd.conf names "
                            "(onedock host-cert " +
                                host +
                                "), or set [engines] ca to the CA that "
                                "signed it"));
  } else if (verified.outcome == Outcome::kWrongName) {
    findings.push_back(Fail(name + " server certificate",
                            "does not name " + host + ": " + verified.error,
                            "reissue it with the host's name and address in its subjectAltName "
                            "(onedock host-cert " +
                                host + " --ip ADDRESS)"));
  } else if (verified.outcome == Outcome::kServerDates) {
    findings.push_back(Fail(name + " server certificate", "outside its validity: " + verified.error,
                            "issue a new one (onedock host-cert " + host +
                                ") and check that the front-end's and the host's clocks agree"));
  } else if (verified.outcome == Outcome::kOk || verified.outcome == Outcome::kClientRefused) {
    // Both got through the server's certificate: the refusal came after it was verified.
    findings.push_back(Ok(name + " TLS",
                          "handshake done, server certificate signed by the CA "
                          "and naming the host"));
  }
  if ((verified.outcome == Outcome::kUntrustedServer || verified.outcome == Outcome::kWrongName ||
       verified.outcome == Outcome::kServerDates) &&
      unverified) {
    seen = &*unverified;
  }
  if (seen->server_expiry) {
    findings.push_back(CheckExpiry(name + " server certificate expiry", *seen->server_expiry, now));
  }
  if (seen->outcome == Outcome::kClientRefused) {
    findings.push_back(Fail(name + " client certificate", "refused by the engine: " + seen->error,
                            "sign onedockd's client certificate with the CA in the engine's "
                            "tlscacert (onedock client-cert) and check that it has not expired"));
    return findings;
  }
  if (seen->outcome != Outcome::kOk) {
    if (seen == &verified || seen->outcome != Outcome::kUntrustedServer) {
      findings.push_back(Fail(name, "HTTPS exchange failed: " + seen->error,
                              "check the engine's log and onedockd.conf's [engines] files"));
    }
    return findings;
  }
  findings.push_back(Ok(name + " client certificate", "accepted"));
  findings.push_back(ApiFinding(name + " API", *seen));
  findings.push_back(LiveRestoreFinding(name + " live-restore", *seen));
  return findings;
}

}  // namespace onedock::admin
