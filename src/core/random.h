// Random identifiers (dedup keys, tokens): the randomness seam.
#pragma once

#include <string>

namespace houston {

// A random RFC 4122 version-4 UUID in lower-case hex, from libsodium's CSPRNG. Thread-safe.
std::string NewUuid();
// `n` random bytes encoded in base62 (for API tokens). Thread-safe.
std::string RandomBase62(size_t n_bytes);
// Lower-case hex of SHA-256(data).
std::string Sha256Hex(std::string_view data);

}  // namespace houston
