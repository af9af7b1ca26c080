// engine.h — the Wasm engine's interface. The engine is freestanding C11: it uses nothing but
// the platform services declared below (plat_*), <stddef.h>, <stdint.h>, <stdbool.h> and the
// compiler builtins memcpy/memset/memmove/memcmp. It builds twice: inside the guest image
// (wasmguest/rt provides plat_*), and hosted on Linux (wasmguest/hosted provides plat_* with libc)
// for unit tests, sanitizers and fuzzing.
//
// One store holds every instance of one micro-VM. Instances link to the exports of instances
// registered under a module name (how the spec suite's `register` and the `spectest` module work).
#ifndef HL_ENGINE_H
#define HL_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../include/abi.h" // HL_STATUS_*, HL_TRAP_*, HL_MAX_VALUES

// ---- platform services, provided by the embedder ----
// Zeroed memory, 16-byte aligned; NULL when exhausted. plat_free(NULL) is a no-op.
void *plat_alloc(size_t size);
void plat_free(void *p, size_t size);
// Address space for a linear memory that may grow in place to max_bytes (a multiple of 64 KiB):
// every byte in [base, base+max_bytes) is readable, writable and zero. NULL when exhausted.
void *plat_mem_reserve(uint64_t max_bytes);
void plat_mem_release(void *base, uint64_t max_bytes);
// Memory for compiled code: size bytes (a multiple of 16) whose writable view is returned and
// whose executable view (the same bytes, never writable) is *exec (see plat_code_free). NULL when the
// platform has none or it is exhausted (the engine then interprets).
void *plat_code_alloc(size_t size, uintptr_t *exec);
// Returns code memory no function of any store runs any more (its instance was freed).
void plat_code_free(void *p, size_t size);
// The lowest native stack address compiled code may reach (deeper calls trap "call stack
// exhausted"), leaving room below it for the C frames of host and nested calls; 0: unknown
// (the engine then allows 512 KiB below its first entry into compiled code).
uintptr_t plat_stack_limit(void);

// ---- limits ----
typedef struct {
  uint32_t max_memory_pages; // cap on every linear memory (initial and growth), 64 KiB pages
  uint32_t max_call_depth;   // Wasm frames; deeper calls trap with HL_TRAP_CALL_STACK_EXHAUSTED
  uint64_t fuel;             // 0 = unlimited; otherwise instructions (approx.) before HL_TRAP_HOST
  uint32_t tier;             // ENG_TIER_*: 0 (ENG_TIER_COMPILED) compiles to machine code
} eng_limits;

// Execution tiers. Compiled: every defined function is compiled to x86-64 at instantiation
// (jit_x64.c), falling back to the interpreter when the platform has no code memory (or it is
// exhausted). Interpreter: never compiles.
// Mixed (tests only): every other function compiled, so calls cross tiers both ways.
enum { ENG_TIER_COMPILED = 0, ENG_TIER_INTERP = 1, ENG_TIER_MIXED = 2 };

// ---- errors ----
typedef struct {
  uint32_t status; // HL_STATUS_*
  uint32_t trap;   // HL_TRAP_* when status == HL_STATUS_TRAP
  char msg[256];   // NUL-terminated, human readable; for traps the spec's wording
} eng_error;

// ---- values ----
// Every value is passed as uint64_t slots: i32 zero-extended, i64, f32/f64 as raw bits,
// funcref/externref as an opaque non-zero handle or 0 for null, v128 as two slots (low, high).
enum { ENG_I32 = 0x7f, ENG_I64 = 0x7e, ENG_F32 = 0x7d, ENG_F64 = 0x7c, ENG_V128 = 0x7b,
       ENG_FUNCREF = 0x70, ENG_EXTERNREF = 0x6f };

typedef struct eng_store eng_store;

// Creates an empty store. NULL when out of memory.
eng_store *eng_store_new(const eng_limits *limits);
void eng_store_free(eng_store *s);

// Parses, validates, links (against registered instances) and instantiates a module, then runs
// its start function. The engine copies what it keeps: bytes may be reused after return.
// On success returns HL_STATUS_OK and *inst; otherwise the status and err says why
// (MALFORMED, INVALID, UNLINKABLE, TRAP for a start function/segment trap, LIMIT, NO_MEMORY).
uint32_t eng_instantiate(eng_store *s, const uint8_t *bytes, size_t len, uint32_t *inst,
                         eng_error *err);

// Makes instance inst's exports importable under module name `name` (replacing an earlier
// registration of that name).
uint32_t eng_register(eng_store *s, uint32_t inst, const char *name, size_t name_len,
                      eng_error *err);

// Exports are addressed by their index in the module's export section.
// Calls function export `export_index`: nparams slots in params (must match the signature,
// else HL_STATUS_BAD_REQUEST); on success writes *nresults slots to results (at most
// HL_MAX_VALUES). Traps return HL_STATUS_TRAP with err->trap set; the store stays usable.
uint32_t eng_call(eng_store *s, uint32_t inst, uint32_t export_index, const uint64_t *params,
                  uint32_t nparams, uint64_t *results, uint32_t *nresults, eng_error *err);

// Reads global export `export_index` into out[0] (and out[1] for v128); *type gets ENG_*.
uint32_t eng_global_get(eng_store *s, uint32_t inst, uint32_t export_index, uint64_t out[2],
                        uint8_t *type, eng_error *err);

// ---- host functions ----
// Turns the n functions defined by instance inst (in order) into host functions: a call to
// defined function i runs plat_host_call(ids[i], ...) instead of its body. The guest runtime
// uses it on a module it synthesizes from the host's allow-list and registers under the host
// module's name, so imports link to host functions with the ordinary checks.
uint32_t eng_bind_host(eng_store *s, uint32_t inst, const uint32_t *ids, uint32_t n, eng_error *err);

// Reports where instance inst's memory 0 is and how big it is now (NULL, 0 if it has none), so
// the embedder can give the host a bounded view of it.
uint32_t eng_memory_view(eng_store *s, uint32_t inst, uint8_t **base, uint64_t *size, eng_error *err);

// Grows a memory by delta pages as memory.grow does: instance inst's memory 0 or, with inst
// UINT32_MAX, the memory of any instance whose base is at (a host function's view of its
// caller's memory). *prev is the old size in pages, or UINT32_MAX if it cannot grow;
// *base, *size the memory as it is now.
uint32_t eng_memory_grow(eng_store *s, uint32_t inst, const uint8_t *at, uint32_t delta, uint32_t *prev,
                         uint8_t **base, uint64_t *size, eng_error *err);

// Provided by the embedder (a weak default that always fails exists for hosted builds): runs
// host function id. slots holds nparams parameters on entry and receives nresults results.
// mem/mem_size: the calling instance's memory 0 (NULL, 0 if it has none). Non-zero aborts the
// Wasm call with HL_TRAP_HOST ("host function error").
uint32_t plat_host_call(uint32_t id, uint64_t *slots, uint32_t nparams, uint32_t nresults,
                        uint8_t *mem, uint64_t mem_size);

#endif
