# Install rules and the Debian package: `cmake --build build --target package` makes
# onedock_<version>_amd64.deb (CPack's DEB generator). OpenNebula fixes where an add-on's files go:
# the driver scripts under oned's remotes, configuration under /etc/one, logs under /var/log/one.
# The binaries follow OpenNebula's own (oned, onemonitord and the scheduler are in /usr/bin): the
# daemon runs as oneadmin, not as root, so it is not a system administration program of /usr/sbin.
include(GNUInstallDirs)

set(ONEDOCK_REMOTES_DIR /var/lib/one/remotes CACHE PATH "OpenNebula's remotes directory")
set(ONEDOCK_ETC_DIR /etc/one CACHE PATH "OpenNebula's configuration directory")

install(TARGETS onedockd onedock RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# The driver scripts as drivers/install.sh lays them out for the test bed (install(DIRECTORY)
# keeps the not_supported links as links), and the client they exec.
foreach(dir vmm/onedock im/onedock.d datastore/onedock tm/onedock vnm/onedock etc/onedock)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/drivers/${dir}/ DESTINATION ${ONEDOCK_REMOTES_DIR}/${dir}
          USE_SOURCE_PERMISSIONS)
endforeach()
install(TARGETS onedock-stub RUNTIME DESTINATION ${ONEDOCK_REMOTES_DIR}/onedock)

# The installed onedockd.conf is etc/onedockd.conf with one key changed: the log goes where
# OpenNebula's daemons log, and logrotate (etc/logrotate.d/onedock) rotates it.
file(READ ${PROJECT_SOURCE_DIR}/etc/onedockd.conf conf_text)
string(REPLACE "# onedockd configuration. Every key is shown with its default;"
       "# onedockd configuration. Every key is shown with its default ([log] file excepted: the\n# package logs to /var/log/one);"
       conf_text "${conf_text}")
string(REGEX REPLACE "\nfile =\n" "\nfile = /var/log/one/onedockd.log\n" conf_text "${conf_text}")
if(NOT conf_text MATCHES "\nfile = /var/log/one/onedockd.log\n")
  message(FATAL_ERROR "etc/onedockd.conf: no empty [log] file key to set")
endif()
file(CONFIGURE OUTPUT ${PROJECT_BINARY_DIR}/package/onedockd.conf CONTENT "${conf_text}" @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/package/onedockd.conf DESTINATION ${ONEDOCK_ETC_DIR})

install(FILES ${PROJECT_SOURCE_DIR}/etc/oned-onedock.conf ${PROJECT_SOURCE_DIR}/etc/monitord-onedock.conf
        DESTINATION ${CMAKE_INSTALL_DATADIR}/onedock)
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
# Debian 12's place for units shipped by packages.
install(FILES ${PROJECT_SOURCE_DIR}/etc/systemd/opennebula-onedock.service
        DESTINATION /lib/systemd/system)
install(FILES ${PROJECT_SOURCE_DIR}/etc/logrotate.d/onedock DESTINATION /etc/logrotate.d)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME onedock)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "onedock maintainers <onedock@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Docker containers as OpenNebula VMs")
set(CPACK_PACKAGE_DESCRIPTION
    "onedockd runs on the OpenNebula front-end beside oned and serves onedock's VMM, TM, datastore, network and monitoring drivers; it reaches each host's Docker Engine API over mutual TLS, so a host needs only dockerd.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_STRIP_FILES ON)
# Control files, with the maintainer scripts' modes as Debian wants them (0755, the rest 0644).
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/etc/debian/conffiles ${PROJECT_SOURCE_DIR}/etc/debian/postinst
    ${PROJECT_SOURCE_DIR}/etc/debian/prerm ${PROJECT_SOURCE_DIR}/etc/debian/postrm)
include(CPack)
