// OneApi: what onedock reads from oned (the virtual network behind a NIC, a VM's current record
// when recovering, the image a clone is made from). rpc::XmlRpcOneClient is the implementation;
// tests substitute a fake. Calls block; kNotFound means oned does not know the object.
#ifndef ONEDOCK_BRIDGE_ONE_API_H_
#define ONEDOCK_BRIDGE_ONE_API_H_

#include "bridge/one_types.h"
#include "bridge/status.h"

namespace onedock {

class OneApi {
 public:
  virtual ~OneApi() = default;
  virtual Result<Vm> VmInfo(int id) = 0;
  virtual Result<Vnet> VnetInfo(int id) = 0;
  virtual Result<Image> ImageInfo(int id) = 0;
};

}  // namespace onedock

#endif  // ONEDOCK_BRIDGE_ONE_API_H_
