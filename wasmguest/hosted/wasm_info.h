// wasm_info.h — reads a module's export section (and the signatures of exported functions) from
// its binary, so the hosted tools can address exports by index as engine.h requires. Only
// meant for modules the engine accepted, but every read is bounds-checked.
#ifndef HL_HOSTED_WASM_INFO_H
#define HL_HOSTED_WASM_INFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { WASM_EXTERN_FUNC = 0, WASM_EXTERN_TABLE = 1, WASM_EXTERN_MEMORY = 2, WASM_EXTERN_GLOBAL = 3 };

typedef struct {
  char *name; // NUL-terminated copy (names may contain NUL: use name_len)
  uint32_t name_len;
  uint8_t kind;          // WASM_EXTERN_*
  uint32_t index;        // index in the kind's index space
  int32_t param_slots;   // functions: uint64_t slots of the parameters (v128 = 2); -1 unknown
  int32_t result_slots;  // functions: likewise for the results
  uint64_t result_refs;  // functions: bit k set if result slot k (< 64) is a reference
} wasm_export;

typedef struct {
  wasm_export *exports; // in export-section order: exports[i] is export index i
  uint32_t n;
} wasm_info;

// Fills *info (free with wasm_info_free). Returns false on malformed input or out of memory;
// *info is then empty.
bool wasm_info_read(const uint8_t *bytes, size_t len, wasm_info *info);
void wasm_info_free(wasm_info *info);

// The export index of `name` with kind `kind`, or -1.
int64_t wasm_info_find(const wasm_info *info, const char *name, size_t name_len, uint8_t kind);

#endif
