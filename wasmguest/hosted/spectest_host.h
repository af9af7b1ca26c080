// spectest_host.h — the spec suite's `spectest` module (spectest.wat) for the hosted tools.
#ifndef HL_HOSTED_SPECTEST_HOST_H
#define HL_HOSTED_SPECTEST_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../engine/engine.h"

// The module's binary (spectest_wasm.c).
extern const uint8_t spectest_wasm[];
extern const size_t spectest_wasm_len;

// Instantiates the spectest module in s and registers it as "spectest". With host_funcs, its
// print functions become host functions (eng_bind_host, as the guest runtime binds the host's
// functions) served by spectest_host_call, which this installs with plat_hosted_set_host_call.
// Returns HL_STATUS_OK or the failing call's status, with err saying which call failed.
uint32_t spectest_setup(eng_store *s, bool host_funcs, eng_error *err);

// The host side of the print functions: no-ops that fail (trap) when called with the wrong
// number of parameters or results for their id.
uint32_t spectest_host_call(uint32_t id, uint64_t *slots, uint32_t nparams, uint32_t nresults,
                            uint8_t *mem, uint64_t mem_size);

#endif
