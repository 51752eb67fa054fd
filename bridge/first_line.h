// The one-line files onedockd reads: oned's session, passwords, the stub token.
#ifndef ONEDOCK_BRIDGE_FIRST_LINE_H_
#define ONEDOCK_BRIDGE_FIRST_LINE_H_

#include <string>

#include "bridge/status.h"

namespace onedock {

// The first line of `path` without trailing blanks and CR; kNotFound naming `what` and the path
// when the file cannot be read or is empty.
Result<std::string> ReadFirstLine(const std::string& path, const std::string& what);

}  // namespace onedock

#endif  // ONEDOCK_BRIDGE_FIRST_LINE_H_
