// Test helpers shared by the config unit tests: load a config from text and
// check where an error points.
#pragma once

#include <catch2/catch.hpp>

#include <string>

#include "config/config.h"

namespace muster::test {

using config::Config;
using config::ConfigError;
using config::load_string;
using config::LoadResult;

inline const std::string kPath = "/srv/site/muster.toml";
// A TCP socket "web" on lines 1-2.
inline const std::string kWebSocket = "[sockets.web]\nlisten = \"0.0.0.0:8000\"\n";

inline Config load_ok(const std::string& text, config::HostChecks host = config::HostChecks::skip) {
  LoadResult result = load_string(text, kPath, host);
  for (const ConfigError& error : result.errors) UNSCOPED_INFO(error.to_string());
  REQUIRE(result.errors.empty());
  REQUIRE(result.config);
  return *result.config;
}

// The one error `text` has.
inline ConfigError load_error(const std::string& text,
                              config::HostChecks host = config::HostChecks::skip) {
  LoadResult result = load_string(text, kPath, host);
  for (const ConfigError& error : result.errors) UNSCOPED_INFO(error.to_string());
  REQUIRE(result.errors.size() == 1);
  CHECK_FALSE(result.config);
  return result.errors.front();
}

inline void check_at(const ConfigError& error, int line, int column, const std::string& key) {
  INFO(error.to_string());
  CHECK(error.file == kPath);
  CHECK(error.line == line);
  CHECK(error.column == column);
  CHECK(error.key == key);
}

}  // namespace muster::test
