// The translation unit that builds the test executables' precompiled header (tests/CMakeLists.txt,
// TYPEGRAD_TEST_PCH): CMake includes the header itself; nothing else is compiled here.
