# Package.cmake -- install rules and the Debian package (CPack's DEB generator).
#
#   cmake -S . -B build-deb -DSWARM_TESTS=OFF && cmake --build build-deb -j2
#   (cd build-deb && cpack -G DEB)        -> build-deb/redis-swarm_<version>_<arch>.deb
#
# The package is named redis-swarm: Debian already has an unrelated package called swarm.
# It installs the module where Debian's own Redis module packages put theirs, which is
# also one of the few places the stock redis-server.service lets the server map
# executable code from (ExecPaths=/usr/bin/redis-server /usr/lib /lib).
#
#   /usr/lib/redis/modules/swarm.so
#   /usr/share/redis-swarm/prometheus/   swarm.lua (redis_exporter -script), relabel and alert rules
#   /usr/share/doc/redis-swarm/          README, the docs, copyright (the BSD-3-Clause LICENSE)

set(SWARM_DOC_DIR share/doc/redis-swarm)
set(SWARM_SHARE_DIR share/redis-swarm)

# Executable: redis-server 7.0 refuses to load a module file without an execute bit.
install(TARGETS swarm
    LIBRARY DESTINATION lib/redis/modules
    PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ
                WORLD_EXECUTE)
install(FILES ${CMAKE_SOURCE_DIR}/contrib/prometheus/swarm.lua
    ${CMAKE_SOURCE_DIR}/contrib/prometheus/relabel.yml
    ${CMAKE_SOURCE_DIR}/contrib/prometheus/alerts.yml
    DESTINATION ${SWARM_SHARE_DIR}/prometheus)
install(FILES ${CMAKE_SOURCE_DIR}/README.md DESTINATION ${SWARM_DOC_DIR})
install(DIRECTORY ${CMAKE_SOURCE_DIR}/docs/ DESTINATION ${SWARM_DOC_DIR}
    FILES_MATCHING PATTERN "*.md")

# debian/copyright in the machine-readable format, carrying LICENSE's text.
file(READ ${CMAKE_SOURCE_DIR}/LICENSE SWARM_LICENSE_TEXT)
string(FIND "${SWARM_LICENSE_TEXT}" "Redistribution" SWARM_LICENSE_START)
if(SWARM_LICENSE_START LESS 0)
    message(FATAL_ERROR "LICENSE is not the BSD-3-Clause text this package declares")
endif()
string(SUBSTRING "${SWARM_LICENSE_TEXT}" ${SWARM_LICENSE_START} -1 SWARM_LICENSE_BODY)
string(STRIP "${SWARM_LICENSE_BODY}" SWARM_LICENSE_BODY)
string(REPLACE "\n\n" "\n.\n" SWARM_LICENSE_BODY "${SWARM_LICENSE_BODY}")
string(REPLACE "\n" "\n " SWARM_LICENSE_BODY "${SWARM_LICENSE_BODY}")
file(WRITE ${CMAKE_BINARY_DIR}/copyright
"Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: swarm

Files: *
Copyright: 2026, the swarm authors
License: BSD-3-Clause

License: BSD-3-Clause
 ${SWARM_LICENSE_BODY}
")
install(FILES ${CMAKE_BINARY_DIR}/copyright DESTINATION ${SWARM_DOC_DIR})

set(SWARM_DEB_MAINTAINER "The swarm authors" CACHE STRING "Maintainer field of the .deb")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME redis-swarm)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "${SWARM_DEB_MAINTAINER}")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION database)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Debian's redis-server carries epoch 5 (5:7.0.15-1~deb12u10); the module targets the 7.0
# module API and is tested against 7.0 only.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "redis-server (>= 5:7.0), redis-server (<< 5:7.1~)")
# libpcre2-8-0 and libxxhash0 come from dpkg-shlibdeps.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SUGGESTS prometheus-redis-exporter)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Redis module routing events between swarms of AI agents")
# CPack writes the summary as the Description line and indents this text under it.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
"swarm adds validated, routed publishing (SWARM.PUBLISH) to pub/sub channels
and streams, with per-swarm routing tables, ALLOW/DENY rules, dead letters and
circuit breakers (SWARM.ROUTE), and versioned JSON state snapshots
(SWARM.SNAPSHOT). To load it, add this line to /etc/redis/redis.conf:
loadmodule /usr/lib/redis/modules/swarm.so

Prometheus metrics: /usr/share/redis-swarm/prometheus/swarm.lua for
prometheus-redis-exporter's -script option.")
include(CPack)
