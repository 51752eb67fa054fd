// The doctor's decisions over what oned says about itself: its configuration (the XML of
// `one.system.config`) and the pools that decide where the scheduler may put a onedock VM. Pure
// functions over the documents as oned sends them; a document that does not parse is a FAIL
// finding, never an exception.
#ifndef ONEDOCK_BRIDGE_ADMIN_DOCTOR_ONED_CHECKS_H_
#define ONEDOCK_BRIDGE_ADMIN_DOCTOR_ONED_CHECKS_H_

#include <string>
#include <string_view>
#include <vector>

#include "bridge/admin/doctor_report.h"

namespace onedock::admin {

// The actions VM_MAD onedock's -l list must name, as one_vmm_exec upper-cases and compares them
// (etc/oned-onedock.conf ships exactly these): the VMM actions onedock handles, then the network
// driver's steps, which oned otherwise runs over ssh on the host.
extern const std::vector<std::string_view> kLocalActions;

// The items of a one_vmm_exec / one_tm / one_datastore option list ("-l a,b=script" or "-d a,b")
// in ARGUMENTS, each upper-cased without its "=script" part; empty when the option is absent.
std::vector<std::string> OptionList(std::string_view arguments, std::string_view option);

// oned.conf as onedock needs it: VM_MAD onedock (one_vmm_exec, hypervisor onedock, every local
// action), onedock in TM_MAD's and DATASTORE_MAD's -d lists, the TM_MAD_CONF, DS_MAD_CONF and
// VN_MAD_CONF entries with etc/oned-onedock.conf's values, INHERIT_IMAGE_ATTR DOCKER_MOUNT.
std::vector<Finding> CheckOnedConfig(std::string_view system_config_xml);

// The pools as one.hostpool.info, one.clusterpool.info, one.datastorepool.info and
// one.vnpool.info return them.
struct OnedPools {
  std::string hosts;
  std::string clusters;
  std::string datastores;
  std::string vnets;
};

// For every host whose VM_MAD is onedock: its cluster has system datastores and all of them have
// TM_MAD onedock (else the scheduler may pair the host with one whose driver copies disk files
// over ssh); for every cluster holding such hosts: each of its vnets has VN_MAD onedock (another
// network driver runs its steps on the front-end). A warning when no host is onedock's.
std::vector<Finding> CheckPlacement(const OnedPools& pools);

}  // namespace onedock::admin

#endif  // ONEDOCK_BRIDGE_ADMIN_DOCTOR_ONED_CHECKS_H_
