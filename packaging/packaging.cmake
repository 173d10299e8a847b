# Install layout and the Debian package (scripts/package builds it).
# Included from the top-level CMakeLists.txt after every target is defined.
# Nothing here may need a tool that a plain developer build lacks: gzip is the
# only program run at build time; dpkg-shlibdeps is needed by `cpack -G DEB` only.
include(GNUInstallDirs)

set(MUSTER_PACKAGING_DIR ${CMAKE_CURRENT_LIST_DIR})
# The default config lives in /etc whatever the prefix (a dpkg conffile).
set(MUSTER_CONFIG_DIR "/etc/muster" CACHE PATH "Where the default muster.toml is installed")
# Relative to the prefix: /usr/lib/systemd/system, which systemd reads on Debian.
set(MUSTER_SYSTEMD_UNIT_DIR "lib/systemd/system" CACHE STRING "systemd system unit directory")
set(MUSTER_PYTHON_DIR "lib/python3/dist-packages" CACHE STRING
    "Where muster_worker.py is installed (relative to the prefix); Debian's python3 path")

# Programs. musterd is a system daemon (sbin, Debian convention); the example
# worker is what the commented app in the default config runs.
install(TARGETS musterd DESTINATION ${CMAKE_INSTALL_SBINDIR})
install(TARGETS musterctl DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS muster-hello DESTINATION ${CMAKE_INSTALL_LIBEXECDIR}/muster)

# Worker libraries: the C++ header library and the Python module.
install(DIRECTORY ${CMAKE_SOURCE_DIR}/include/muster DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        FILES_MATCHING PATTERN "*.hpp")
install(FILES ${CMAKE_SOURCE_DIR}/python/muster_worker.py DESTINATION ${MUSTER_PYTHON_DIR})

# Documentation and examples.
install(FILES ${CMAKE_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY ${CMAKE_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}
        FILES_MATCHING PATTERN "*.md")
install(DIRECTORY ${CMAKE_SOURCE_DIR}/examples/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples
        PATTERN "__pycache__" EXCLUDE PATTERN "*.pyc" EXCLUDE)

# systemd units, with the installed paths filled in.
set(MUSTER_INSTALLED_MUSTERD "${CMAKE_INSTALL_FULL_SBINDIR}/musterd")
set(MUSTER_INSTALLED_MUSTERCTL "${CMAKE_INSTALL_FULL_BINDIR}/musterctl")
set(MUSTER_INSTALLED_CONFIG "${MUSTER_CONFIG_DIR}/muster.toml")
set(MUSTER_INSTALLED_HELLO "${CMAKE_INSTALL_FULL_LIBEXECDIR}/muster/muster-hello")
set(MUSTER_GENERATED_DIR ${CMAKE_BINARY_DIR}/packaging)
configure_file(${MUSTER_PACKAGING_DIR}/systemd/musterd.service.in
               ${MUSTER_GENERATED_DIR}/musterd.service @ONLY)
configure_file(${MUSTER_PACKAGING_DIR}/muster.toml.in ${MUSTER_GENERATED_DIR}/muster.toml @ONLY)
install(FILES ${MUSTER_GENERATED_DIR}/musterd.service
              ${MUSTER_PACKAGING_DIR}/systemd/musterd.socket
        DESTINATION ${MUSTER_SYSTEMD_UNIT_DIR})
# Never over an admin's file: a plain `cmake --install` keeps an existing one
# (the package's staging directory never has one; dpkg handles conffiles).
install(CODE "
  if(EXISTS \"\$ENV{DESTDIR}${MUSTER_CONFIG_DIR}/muster.toml\")
    message(STATUS \"Keeping existing: \$ENV{DESTDIR}${MUSTER_CONFIG_DIR}/muster.toml\")
  else()
    file(INSTALL DESTINATION \"${MUSTER_CONFIG_DIR}\" TYPE FILE
         FILES \"${MUSTER_GENERATED_DIR}/muster.toml\")
  endif()")

# Man pages (roff, written directly), compressed as Debian policy wants.
set(MUSTER_MAN_PAGES musterd.8 musterctl.1 muster.toml.5)
set(MUSTER_MAN_OUTPUTS)
foreach(page ${MUSTER_MAN_PAGES})
  string(REGEX MATCH "[0-9]$" section ${page})
  set(out ${MUSTER_GENERATED_DIR}/man/${page}.gz)
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${MUSTER_GENERATED_DIR}/man
    COMMAND gzip -9nc ${MUSTER_PACKAGING_DIR}/man/${page} > ${out}
    DEPENDS ${MUSTER_PACKAGING_DIR}/man/${page}
    COMMENT "Compressing man page ${page}"
    VERBATIM)
  list(APPEND MUSTER_MAN_OUTPUTS ${out})
  install(FILES ${out} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section})
endforeach()
add_custom_target(muster-man ALL DEPENDS ${MUSTER_MAN_OUTPUTS})

install(FILES ${MUSTER_PACKAGING_DIR}/bash-completion/musterctl
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)

# The Debian package: `cpack -G DEB` in a build configured with
# -DCMAKE_INSTALL_PREFIX=/usr (scripts/package).
set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "muster")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_VENDOR "muster")
set(CPACK_PACKAGE_CONTACT "muster maintainers <muster@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "process supervisor playing Node.js cluster's primary for any worker")
# The body; CPack puts the summary above it and indents every line.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "musterd reads a TOML config, binds and keeps the listening sockets, spawns
the workers, hands connections to them (round-robin like Node's cluster, or
shared accept), restarts them by policy and logs their output. Unmodified
Node.js cluster scripts, systemd socket-activated servers and plain programs
run under it; musterctl drives a running musterd over a Unix socket.

This package holds musterd, musterctl, the systemd units, the C++ worker
header library and the Python worker module.")
set(CPACK_DEBIAN_PACKAGE_SECTION "admin")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "bash-completion, nodejs, python3")
set(CPACK_PACKAGING_INSTALL_PREFIX "${CMAKE_INSTALL_PREFIX}")
# The config in /etc is an absolute destination: stage it through DESTDIR.
set(CPACK_SET_DESTDIR ON)
set(CPACK_STRIP_FILES ON)
configure_file(${MUSTER_PACKAGING_DIR}/debian/conffiles.in ${MUSTER_GENERATED_DIR}/debian/conffiles
               @ONLY)
foreach(script postinst prerm postrm)
  file(COPY ${MUSTER_PACKAGING_DIR}/debian/${script} DESTINATION ${MUSTER_GENERATED_DIR}/debian
       FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
                        WORLD_READ WORLD_EXECUTE)
endforeach()
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${MUSTER_GENERATED_DIR}/debian/conffiles ${MUSTER_GENERATED_DIR}/debian/postinst
    ${MUSTER_GENERATED_DIR}/debian/prerm ${MUSTER_GENERATED_DIR}/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
