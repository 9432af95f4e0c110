// The translation unit that builds a precompiled header (CMakeLists.txt, HOUSTON_PCH).
