// The web UI's files, embedded at build time by web/embed.cmake (see web/CMakeLists.txt).
#pragma once

#include <span>
#include <string_view>

#include "http/static_assets.h"

namespace houston::web {

// Names the immutable URLs of this build's files: /ui/<BuildId()>/<name>.
std::string_view BuildId();
// Every file; index.html is the page every UI path answers with.
std::span<const http::StaticAsset> Assets();

}  // namespace houston::web
