// spectest_wasm.c — the binary of tests/spectest/spectest.wat (spectest_wasm.inc, made by
// mk/testdata.mk: "make regen-spectest").
#include "spectest_host.h"

const uint8_t spectest_wasm[] = {
#include "spectest_wasm.inc"
};
const size_t spectest_wasm_len = sizeof spectest_wasm;
