// wasm_info.c — see wasm_info.h.
#include "wasm_info.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
  const uint8_t *p, *end;
  bool bad;
} reader;

static uint8_t rd_u8(reader *r) {
  if (r->p >= r->end) {
    r->bad = true;
    return 0;
  }
  return *r->p++;
}

static uint64_t rd_leb(reader *r, unsigned max_bits) {
  uint64_t v = 0;
  for (unsigned shift = 0; shift < max_bits + 7; shift += 7) {
    uint8_t b = rd_u8(r);
    if (r->bad) return 0;
    if (shift < 64) v |= (uint64_t)(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return v;
  }
  r->bad = true;
  return 0;
}

static uint32_t rd_u32(reader *r) { return (uint32_t)rd_leb(r, 32); }

static void rd_skip(reader *r, uint64_t n) {
  if (n > (uint64_t)(r->end - r->p)) {
    r->bad = true;
    r->p = r->end;
    return;
  }
  r->p += n;
}

// Value type -> uint64_t slots, or -1 for a type this reader does not know.
static int slots_of(uint8_t t) {
  switch (t) {
  case 0x7f: case 0x7e: case 0x7d: case 0x7c: case 0x78: case 0x77: return 1;
  case 0x7b: return 2;
  default: return t >= 0x69 && t <= 0x74 ? 1 : -1; // reference types (GC's abstract ones too)
  }
}

// One value type (a typed reference, 0x63/0x64, is followed by its heap type) -> its slots;
// *ref says whether it is a reference.
static int rd_valtype(reader *r, bool *ref) {
  uint8_t t = rd_u8(r);
  *ref = t == 0x63 || t == 0x64 || (t >= 0x69 && t <= 0x74);
  if (t == 0x63 || t == 0x64) {
    rd_leb(r, 33);
    return 1;
  }
  return slots_of(t);
}

static void rd_limits(reader *r) {
  uint8_t flags = rd_u8(r);
  rd_leb(r, 64);
  if (flags & 1) rd_leb(r, 64);
}

typedef struct {
  int32_t params, results;
  uint64_t result_refs;
} sig;

// Reads a vector of value types: its slots (-1 if a type is unknown), and in *refs a bit per
// slot (the first 64) that holds a reference.
static int32_t rd_valtypes(reader *r, uint64_t *refs) {
  uint32_t n = rd_u32(r);
  int32_t slots = 0;
  *refs = 0;
  for (uint32_t i = 0; i < n && !r->bad; i++) {
    bool ref;
    int s = rd_valtype(r, &ref);
    if (s < 0 || slots < 0) slots = -1;
    else {
      if (ref && slots < 64) *refs |= (uint64_t)1 << slots;
      if (slots < INT32_MAX - 2) slots += s;
    }
  }
  return slots;
}

bool wasm_info_read(const uint8_t *bytes, size_t len, wasm_info *info) {
  memset(info, 0, sizeof *info);
  reader r = {bytes, bytes + len, false};
  if (len < 8 || memcmp(bytes, "\0asm\1\0\0\0", 8) != 0) return false;
  r.p += 8;

  sig *types = NULL;
  uint32_t ntypes = 0;
  uint32_t *func_types = NULL; // type index of every function, imports first
  uint32_t nfuncs = 0, funcs_cap = 0;
  bool ok = false;

  while (r.p < r.end && !r.bad) {
    uint8_t id = rd_u8(&r);
    uint32_t size = rd_u32(&r);
    if (r.bad || size > (size_t)(r.end - r.p)) goto out;
    reader s = {r.p, r.p + size, false};
    r.p += size;
    if (id == 1) { // types
      // rec groups (0x4e) of sub types (0x50/0x4f, supertypes), composite types: func (0x60),
      // struct (0x5f: fields, each a storage type and mutability), array (0x5e: one field)
      uint32_t n = rd_u32(&s), cap = 0;
      if (n > size) goto out;
      free(types);
      types = NULL;
      ntypes = 0;
      for (uint32_t g = 0; g < n && !s.bad; g++) {
        uint32_t k = 1;
        if (s.p < s.end && *s.p == 0x4e) { s.p++; k = rd_u32(&s); }
        if (k > size) goto out;
        for (uint32_t j = 0; j < k && !s.bad; j++) {
          if (ntypes == cap) {
            cap = cap ? cap * 2 : 16;
            sig *nt = realloc(types, cap * sizeof *nt);
            if (!nt) goto out;
            types = nt;
          }
          sig *t = &types[ntypes++];
          memset(t, 0, sizeof *t);
          uint8_t form = rd_u8(&s);
          if (form == 0x50 || form == 0x4f) {
            uint32_t ns = rd_u32(&s);
            for (uint32_t x = 0; x < ns && !s.bad; x++) rd_u32(&s);
            form = rd_u8(&s);
          }
          uint64_t refs;
          bool ref;
          if (form == 0x60) {
            t->params = rd_valtypes(&s, &refs);
            t->results = rd_valtypes(&s, &t->result_refs);
          } else if (form == 0x5f || form == 0x5e) {
            uint32_t nf = form == 0x5e ? 1 : rd_u32(&s);
            for (uint32_t x = 0; x < nf && !s.bad; x++) { rd_valtype(&s, &ref); rd_u8(&s); }
            t->params = t->results = -1; // not a function type
          } else {
            goto out;
          }
        }
      }
    } else if (id == 2 || id == 3) { // imports, functions
      uint32_t n = rd_u32(&s);
      if (n > size) goto out;
      for (uint32_t i = 0; i < n && !s.bad; i++) {
        bool is_func = true;
        if (id == 2) {
          rd_skip(&s, rd_u32(&s)); // module
          rd_skip(&s, rd_u32(&s)); // field
          uint8_t kind = rd_u8(&s);
          is_func = kind == WASM_EXTERN_FUNC;
          bool ref;
          if (kind == WASM_EXTERN_TABLE) {
            rd_valtype(&s, &ref);
            rd_limits(&s);
            continue;
          } else if (kind == WASM_EXTERN_MEMORY) {
            rd_limits(&s);
            continue;
          } else if (kind == WASM_EXTERN_GLOBAL) {
            rd_valtype(&s, &ref);
            rd_u8(&s);
            continue;
          } else if (kind == 4) { // tag: attribute, type index
            rd_u8(&s);
            rd_u32(&s);
            continue;
          } else if (!is_func) {
            goto out;
          }
        }
        uint32_t t = rd_u32(&s);
        if (nfuncs == funcs_cap) {
          funcs_cap = funcs_cap ? funcs_cap * 2 : 16;
          uint32_t *nf = realloc(func_types, funcs_cap * sizeof *nf);
          if (nf == NULL) goto out;
          func_types = nf;
        }
        func_types[nfuncs++] = t;
      }
    } else if (id == 7) { // exports
      uint32_t n = rd_u32(&s);
      if (n > size) goto out;
      wasm_info_free(info);
      info->exports = calloc(n ? n : 1, sizeof *info->exports);
      if (info->exports == NULL) goto out;
      for (uint32_t i = 0; i < n && !s.bad; i++) {
        wasm_export *e = &info->exports[i];
        uint32_t nl = rd_u32(&s);
        const uint8_t *name = s.p;
        rd_skip(&s, nl);
        if (s.bad) break;
        e->name = malloc((size_t)nl + 1);
        if (e->name == NULL) goto out;
        memcpy(e->name, name, nl);
        e->name[nl] = 0;
        e->name_len = nl;
        info->n = i + 1;
        e->kind = rd_u8(&s);
        e->index = rd_u32(&s);
        e->param_slots = e->result_slots = -1;
      }
    }
    if (s.bad) goto out;
  }
  if (r.bad) goto out;
  for (uint32_t i = 0; i < info->n; i++) {
    wasm_export *e = &info->exports[i];
    if (e->kind == WASM_EXTERN_FUNC && e->index < nfuncs && func_types[e->index] < ntypes) {
      e->param_slots = types[func_types[e->index]].params;
      e->result_slots = types[func_types[e->index]].results;
      e->result_refs = types[func_types[e->index]].result_refs;
    }
  }
  ok = true;
out:
  free(types);
  free(func_types);
  if (!ok) wasm_info_free(info);
  return ok;
}

void wasm_info_free(wasm_info *info) {
  for (uint32_t i = 0; i < info->n; i++) free(info->exports[i].name);
  free(info->exports);
  info->exports = NULL;
  info->n = 0;
}

int64_t wasm_info_find(const wasm_info *info, const char *name, size_t name_len, uint8_t kind) {
  for (uint32_t i = 0; i < info->n; i++) {
    const wasm_export *e = &info->exports[i];
    if (e->kind == kind && e->name_len == name_len && memcmp(e->name, name, name_len) == 0)
      return i;
  }
  return -1;
}
