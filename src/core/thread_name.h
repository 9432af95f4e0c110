// Names the calling thread, so that top -H, perf and gdb tell houston's threads apart (the
// store writer, the HTTP I/O threads, each engine loop). Linux keeps 15 bytes of a name: longer
// names are cut.
#pragma once

#include <string_view>

namespace houston {

void NameThisThread(std::string_view name);

}  // namespace houston
