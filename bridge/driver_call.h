// One driver invocation as a stub forwarded it (kind "vmm", "tm", "im" or "ds", the action as oned
// names the script, argv unchanged, the decoded stdin document) and the answer the stub prints
// back.
#ifndef ONEDOCK_BRIDGE_DRIVER_CALL_H_
#define ONEDOCK_BRIDGE_DRIVER_CALL_H_

#include <optional>
#include <string>
#include <vector>

#include "bridge/one_types.h"

namespace onedock {

struct DriverCall {
  std::string kind;    // vmm, tm
  std::string action;  // deploy, shutdown, delete, …
  std::vector<std::string> argv;
  std::string document;  // stdin after base64 decoding (the VM or the action data XML)
  std::optional<Vm> vm;  // the <VM> of the document, when it has one
  // The <IMAGE> and <DATASTORE> of a datastore action's <DS_DRIVER_ACTION_DATA>.
  std::optional<Image> image;
  std::optional<Datastore> datastore;
};

// What the stub prints: `out` on stdout, `error` on stderr, then exits with exit_code.
struct DriverAnswer {
  int exit_code = 0;
  std::string out;
  std::string error;
};

}  // namespace onedock

#endif  // ONEDOCK_BRIDGE_DRIVER_CALL_H_
