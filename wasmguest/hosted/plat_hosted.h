// plat_hosted.h — hosted extras of plat_hosted.c beyond engine.h's plat_* services.
#ifndef HL_HOSTED_PLAT_HOSTED_H
#define HL_HOSTED_PLAT_HOSTED_H

#include <stdint.h>

// A handler for plat_host_call (engine.h): host functions bound with eng_bind_host call it.
// Returns 0 on success; non-zero makes the Wasm call trap with HL_TRAP_HOST.
typedef uint32_t (*plat_hosted_host_fn)(uint32_t id, uint64_t *slots, uint32_t nparams,
                                        uint32_t nresults, uint8_t *mem, uint64_t mem_size);

// Installs the handler (NULL: every host call fails). Not thread-safe: set it before running.
void plat_hosted_set_host_call(plat_hosted_host_fn fn);

// Caps what plat_alloc hands out at once (bytes; 0: no cap), as the guest's fixed heap does:
// tests of the engine's behaviour when its heap is full (the GC's collections). Not
// thread-safe: set it while no engine runs.
void plat_hosted_set_heap_limit(uint64_t bytes);

#endif
