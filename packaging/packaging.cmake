# Install layout: `cmake --install`, which debian/rules runs for the Debian
# package (scripts/package builds it).
# Included from the top-level CMakeLists.txt after every target is defined.
# Nothing here may need a tool that a plain developer build lacks: gzip is the
# only program run at build time.
include(GNUInstallDirs)

set(MUSTER_PACKAGING_DIR ${CMAKE_CURRENT_LIST_DIR})
# The default config lives in /etc whatever the prefix (a dpkg conffile).
set(MUSTER_CONFIG_DIR "/etc/muster" CACHE PATH "Where the default muster.toml is installed")
# Relative to the prefix: /usr/lib/systemd/system, which systemd reads on Debian.
# debian/rules passes /lib/systemd/system, where Debian 12's dh_installsystemd
# looks for units.
set(MUSTER_SYSTEMD_UNIT_DIR "lib/systemd/system" CACHE STRING "systemd system unit directory")
set(MUSTER_PYTHON_DIR "lib/python3/dist-packages" CACHE STRING
    "Where muster_worker.py is installed (relative to the prefix); Debian's python3 path")

# Programs. musterd is a system daemon (sbin, Debian convention); the example
# worker is what the commented app in the default config runs.
install(TARGETS musterd DESTINATION ${CMAKE_INSTALL_SBINDIR})
install(TARGETS musterctl DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS muster-hello DESTINATION ${CMAKE_INSTALL_LIBEXECDIR}/muster)

# Worker libraries: the C++ header library and the Python module (muster_worker
# and the muster_worker_channel it imports).
install(DIRECTORY ${CMAKE_SOURCE_DIR}/include/muster DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        FILES_MATCHING PATTERN "*.hpp")
install(FILES ${CMAKE_SOURCE_DIR}/python/muster_worker.py ${CMAKE_SOURCE_DIR}/python/muster_worker_channel.py
        DESTINATION ${MUSTER_PYTHON_DIR})

set(MUSTER_INSTALLED_MUSTERD "${CMAKE_INSTALL_FULL_SBINDIR}/musterd")
set(MUSTER_INSTALLED_MUSTERCTL "${CMAKE_INSTALL_FULL_BINDIR}/musterctl")
set(MUSTER_INSTALLED_CONFIG "${MUSTER_CONFIG_DIR}/muster.toml")
set(MUSTER_INSTALLED_HELLO "${CMAKE_INSTALL_FULL_LIBEXECDIR}/muster/muster-hello")
set(MUSTER_GENERATED_DIR ${CMAKE_BINARY_DIR}/packaging)

# Documentation and examples, laid out as in the source tree so that the
# README's relative links (docs/*.md, bench/RELIABILITY.md) work in the doc
# directory too.
install(FILES ${CMAKE_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY ${CMAKE_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/docs
        FILES_MATCHING PATTERN "*.md")
install(FILES ${CMAKE_SOURCE_DIR}/bench/RELIABILITY.md DESTINATION ${CMAKE_INSTALL_DOCDIR}/bench)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/examples/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples
        PATTERN "__pycache__" EXCLUDE PATTERN "*.pyc" EXCLUDE PATTERN "hello.toml" EXCLUDE)
# examples/hello.toml runs the muster-hello of a build tree next to it; the
# installed copy runs the installed one, so that it works as it is:
#   musterd -c /usr/share/doc/muster/examples/hello.toml
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/examples/hello.toml)
file(READ ${CMAKE_SOURCE_DIR}/examples/hello.toml MUSTER_HELLO_TOML)
set(MUSTER_HELLO_EXEC_IN_TREE [[exec = "../build/muster-hello"       # relative to this file's directory]])
string(FIND "${MUSTER_HELLO_TOML}" "${MUSTER_HELLO_EXEC_IN_TREE}" MUSTER_HELLO_EXEC_AT)
if(MUSTER_HELLO_EXEC_AT EQUAL -1)
  message(FATAL_ERROR "examples/hello.toml: no line '${MUSTER_HELLO_EXEC_IN_TREE}' to point at "
                      "the installed muster-hello (packaging/packaging.cmake)")
endif()
string(REPLACE "${MUSTER_HELLO_EXEC_IN_TREE}"
       "exec = \"${MUSTER_INSTALLED_HELLO}\"    # the packaged example worker"
       MUSTER_HELLO_TOML "${MUSTER_HELLO_TOML}")
file(WRITE ${MUSTER_GENERATED_DIR}/examples/hello.toml
     "# Installed copy: musterd -c ${CMAKE_INSTALL_FULL_DOCDIR}/examples/hello.toml\n"
     "${MUSTER_HELLO_TOML}")
install(FILES ${MUSTER_GENERATED_DIR}/examples/hello.toml DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)

# systemd units, with the installed paths filled in.
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

# The Grafana dashboard and Prometheus alert rules (docs/metrics.md, "Dashboard
# and alerts"): data to load, not documentation, so in /usr/share/muster where
# dh_compress leaves them as they are.
install(FILES ${MUSTER_PACKAGING_DIR}/grafana/muster-dashboard.json
        DESTINATION ${CMAKE_INSTALL_DATADIR}/muster/grafana)
install(FILES ${MUSTER_PACKAGING_DIR}/prometheus/muster-alerts.yml
        DESTINATION ${CMAKE_INSTALL_DATADIR}/muster/prometheus)
