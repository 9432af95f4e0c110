// The headers that most of houston's sources include, compiled once per build into a
// precompiled header that every library and program reuses (CMakeLists.txt, HOUSTON_PCH).
// Parsing them took more than half of each compiler run in a -O0 build. Only stable,
// third-party and standard headers belong here: a change to one rebuilds everything.
#pragma once

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/json.hpp>
