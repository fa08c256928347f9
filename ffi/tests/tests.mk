# C and C++ tests and examples; included by the top-level Makefile.
# (Filled in with the C ABI test program, the examples and their checks.)
examples:
test-c:
test-cpp:
