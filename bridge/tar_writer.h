// A minimal ustar writer for what onedock uploads into containers (PUT /containers/{id}/archive):
// regular files and directories with explicit modes, built in memory. Plain value.
#ifndef ONEDOCK_BRIDGE_TAR_WRITER_H_
#define ONEDOCK_BRIDGE_TAR_WRITER_H_

#include <string>
#include <string_view>

#include "bridge/status.h"

namespace onedock {

class TarWriter {
 public:
  // Paths are relative ("etc/one-context.d/context.sh"), at most 100 bytes, without ".."
  // components; anything else is kInvalidArgument and the archive is left unchanged.
  Status AddFile(std::string_view path, std::string_view content, unsigned mode = 0644);
  Status AddDirectory(std::string_view path, unsigned mode = 0755);

  // The archive with its two terminating zero blocks.
  std::string Finish() const;

 private:
  Status AddEntry(std::string_view path, std::string_view content, unsigned mode, char type);
  std::string data_;
};

}  // namespace onedock

#endif  // ONEDOCK_BRIDGE_TAR_WRITER_H_
