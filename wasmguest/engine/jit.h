// jit.h — the compile tier (jit_x64.c): validated slot code (compile.c) to x86-64 machine code.
#ifndef HL_ENGINE_JIT_H
#define HL_ENGINE_JIT_H

#include "internal.h"

// Sets up s->jit when the store's tier is ENG_TIER_COMPILED and the platform has code memory; otherwise leaves it NULL (interpreter only). false: out of memory.
bool eng_jit_store_init(eng_store *s);
void eng_jit_store_free(eng_store *s);

// Compiles every defined function of instance in (its imports, tables, globals and memory
// resolved) and sets their jit_entry. Functions it cannot compile stay interpreted; nothing
// fails (no code memory left: the instance is interpreted).
void eng_jit_instance(eng_store *s, eng_inst *in);

// Runs compiled function f with its frame at fp (arguments in place), allowing depth_left
// further Wasm frames (this one included); *fuel is the fuel left (compiled code runs the same
// FUEL instructions as the interpreter; read only when fuel is on) and is updated.
// HL_STATUS_OK or HL_STATUS_TRAP (err set).
uint32_t eng_jit_enter(eng_store *s, eng_func *f, uint64_t *fp, uint32_t depth_left, uint64_t *fuel,
                       eng_error *err);

// Tests only: CPU features (jit_x64.c CF_*: 1 SSSE3, 2 SSE4.1, 4 SSE4.2) the SIMD templates
// must not use, as on a CPU without them (0: use what CPUID reports).
extern uint32_t eng_jit_cpu_mask;

// Probes the CPU (once; later calls return the cached answer) and returns the HL_CPU_FEAT_*
// bits the generator uses from now on: the guest runtime reports them to the host, which records
// them in snapshot files (code compiled here may need them wherever the snapshot runs).
uint32_t eng_jit_cpu_probe(void);

#endif
