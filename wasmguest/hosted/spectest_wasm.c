// spectest_wasm.c — tests/spectest/spectest64.wasm (spectest.wat with a 64-bit table; made by
// mk/testdata.mk: "make regen-spectest").
#include "spectest_host.h"

const uint8_t spectest_wasm[] = {
#include "spectest_wasm.inc"
};
const size_t spectest_wasm_len = sizeof spectest_wasm;
