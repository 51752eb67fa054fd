// OneApi: what onedock reads from oned (the virtual network behind a NIC, a VM's current record
// when recovering, the image a clone is made from, the pools the reconcile pass compares with the
// engines). rpc::XmlRpcOneClient is the implementation;
// tests substitute a fake. Calls block; kNotFound means oned does not know the object.
#ifndef ONEDOCK_BRIDGE_ONE_API_H_
#define ONEDOCK_BRIDGE_ONE_API_H_

#include <vector>

#include "bridge/one_types.h"
#include "bridge/status.h"

namespace onedock {

class OneApi {
 public:
  virtual ~OneApi() = default;
  virtual Result<Vm> VmInfo(int id) = 0;
  virtual Result<Vnet> VnetInfo(int id) = 0;
  virtual Result<Image> ImageInfo(int id) = 0;
  // Every VM oned has that is not DONE, with its template and history (one read of the pool).
  virtual Result<std::vector<Vm>> LiveVms() = 0;
  // Every host of oned's pool.
  virtual Result<std::vector<Host>> Hosts() = 0;
};

}  // namespace onedock

#endif  // ONEDOCK_BRIDGE_ONE_API_H_
