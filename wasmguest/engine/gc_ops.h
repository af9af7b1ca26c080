// gc_ops.h — the semantics of the GC instructions that neither branch nor call (i31, ref.eq,
// ref.test/ref.cast, struct.*, array.*, extern conversions), once for both tiers: the
// interpreter's handlers inline eng_gc_op with a constant opcode, compiled code calls it
// through one C helper (jit_x64.c jit_gc). br_on_cast/br_on_cast_fail branch, so each tier has
// its own (both on eng_ref_test).
#ifndef HL_GC_OPS_H
#define HL_GC_OPS_H

#include "internal.h"

// Bytes of an array element of (numeric or vector) storage type t in a data segment.
static inline uint32_t gc_elem_bytes(uint32_t t) {
  switch (t) {
  case VT_I8: return 1;
  case VT_I16: return 2;
  case VT_I32: case VT_F32: return 4;
  case VT_V128: return 16;
  default: return 8; // i64, f64
  }
}

// Reads n elements of storage type t from p (little-endian) into array slots f from index d.
static inline void gc_read_data(uint64_t *f, const uint8_t *p, uint32_t d, uint32_t n, uint32_t t) {
  uint32_t z = gc_elem_bytes(t), es = eng_field_slots(t);
  for (uint32_t k = 0; k < n; k++) {
    uint64_t v[2] = {0, 0};
    memcpy(v, p + (uint64_t)k * z, z);
    memcpy(f + ((uint64_t)d + k) * es, v, (size_t)es * 8);
  }
}

// Slots of a struct type's fields (an object's nslots).
static inline uint32_t gc_field_slot_count(const eng_functype *t) {
  uint32_t n = 0;
  for (uint32_t k = 0; k < t->nparams; k++) n += eng_field_slots(t->types[k]);
  return n;
}

// A field or element read into d (packed fields sign- or zero-extended) and written from src
// (packed fields masked to their width).
static inline void gc_load(uint64_t *d, const uint64_t *src, uint32_t mode, bool sgn) {
  uint64_t v = src[0];
  if (mode == VT_V128) d[1] = src[1];
  else if (sgn && mode == VT_I8) v = (uint32_t)(int32_t)(int8_t)v;
  else if (sgn && mode == VT_I16) v = (uint32_t)(int32_t)(int16_t)v;
  d[0] = v;
}
static inline void gc_store(uint64_t *d, const uint64_t *src, uint32_t mode) {
  uint64_t v = src[0];
  if (mode == VT_V128) d[1] = src[1];
  else if (mode == VT_I8) v &= 0xffu;
  else if (mode == VT_I16) v &= 0xffffu;
  d[0] = v;
}

// Whether op is one of eng_gc_op's instructions.
static inline bool eng_is_gc_op(uint32_t op) {
  switch (op) {
  case OP_REF_EQ: case OP_REF_I31: case OP_I31_GET_S: case OP_I31_GET_U: case OP_REF_TEST:
  case OP_REF_TEST_NULL: case OP_REF_CAST: case OP_REF_CAST_NULL: case OP_STRUCT_NEW:
  case OP_STRUCT_NEW_DEFAULT: case OP_STRUCT_GET: case OP_STRUCT_GET_S: case OP_STRUCT_GET_U:
  case OP_STRUCT_SET: case OP_ARRAY_NEW: case OP_ARRAY_NEW_DEFAULT: case OP_ARRAY_NEW_FIXED:
  case OP_ARRAY_GET: case OP_ARRAY_GET_S: case OP_ARRAY_GET_U: case OP_ARRAY_SET: case OP_ARRAY_LEN:
  case OP_ARRAY_FILL: case OP_ARRAY_COPY: case OP_ARRAY_NEW_DATA: case OP_ARRAY_NEW_ELEM:
  case OP_ARRAY_INIT_DATA: case OP_ARRAY_INIT_ELEM: case OP_ANY_CONVERT_EXTERN: case OP_EXTERN_CONVERT_ANY:
    return true;
  default: return false;
  }
}

// Runs GC instruction op of instance inst on frame fp: ip = its immediates (the words after the
// opcode, opcodes.h), live_end = the end of the frame's slots (an allocation may collect: its
// roots are the value stack below live_end, conservatively, plus globals, tables and kept
// exceptions, store.c eng_gc_collect). Returns 0 or the trap.
static inline uint32_t eng_gc_op(eng_store *s, const eng_inst *inst, uint32_t op, const uint32_t *ip, uint64_t *fp,
                                 uint64_t *live_end) {
#define GR(k) fp[ip[k]]
  switch (op) {
  case OP_REF_EQ: GR(0) = GR(1) == GR(2); return 0;
  case OP_REF_I31: GR(0) = eng_i31((uint32_t)GR(1)); return 0;
  case OP_I31_GET_S: case OP_I31_GET_U: {
    uint64_t v = GR(1);
    if (!v) return HL_TRAP_NULL_I31_REFERENCE;
    uint32_t x = (uint32_t)(v >> 1) & 0x7fffffffu;
    if (op == OP_I31_GET_S && (x & 0x40000000u)) x |= 0x80000000u; // sign-extend 31 bits
    GR(0) = x;
    return 0;
  }
  case OP_REF_TEST: case OP_REF_TEST_NULL: GR(0) = eng_ref_test(s, GR(1), ip[2]); return 0;
  case OP_REF_CAST: case OP_REF_CAST_NULL:
    if (!eng_ref_test(s, GR(1), ip[2])) return HL_TRAP_CAST_FAILURE;
    GR(0) = GR(1);
    return 0;
  case OP_STRUCT_NEW: case OP_STRUCT_NEW_DEFAULT: {
    const eng_functype *t = &s->types[ip[1]];
    eng_obj *o = eng_obj_new(s, ip[1], t->nparams, gc_field_slot_count(t), live_end);
    if (!o) return HL_TRAP_HEAP_EXHAUSTED;
    if (op == OP_STRUCT_NEW) {
      const uint64_t *a = fp + ip[2];
      for (uint32_t k = 0, off = 0; k < t->nparams; off += eng_field_slots(t->types[k]), k++)
        gc_store(o->f + off, a + off, t->types[k]);
    }
    GR(0) = (uint64_t)(uintptr_t)o;
    return 0;
  }
  case OP_STRUCT_GET: case OP_STRUCT_GET_S: case OP_STRUCT_GET_U: {
    const eng_obj *o = (const eng_obj *)(uintptr_t)GR(1);
    if (!o) return HL_TRAP_NULL_STRUCT_REFERENCE;
    gc_load(fp + ip[0], o->f + ip[2], ip[3], op == OP_STRUCT_GET_S);
    return 0;
  }
  case OP_STRUCT_SET: {
    eng_obj *o = (eng_obj *)(uintptr_t)GR(0);
    if (!o) return HL_TRAP_NULL_STRUCT_REFERENCE;
    gc_store(o->f + ip[2], fp + ip[1], ip[3]);
    return 0;
  }
  case OP_ARRAY_NEW: case OP_ARRAY_NEW_DEFAULT: {
    bool init = op == OP_ARRAY_NEW;
    uint32_t n = (uint32_t)fp[ip[init ? 3 : 2]], mode = ip[init ? 4 : 3], es = eng_field_slots(mode);
    if ((uint64_t)n * es > ENG_MAX_ARRAY_SLOTS) return HL_TRAP_HEAP_EXHAUSTED;
    uint64_t v[2] = {0, 0};
    if (init) { v[0] = fp[ip[2]]; if (es == 2) v[1] = fp[ip[2] + 1]; }
    eng_obj *o = eng_obj_new(s, ip[1], n, (uint64_t)n * es, live_end);
    if (!o) return HL_TRAP_HEAP_EXHAUSTED;
    if (init)
      for (uint32_t k = 0; k < n; k++) gc_store(o->f + (uint64_t)k * es, v, mode);
    GR(0) = (uint64_t)(uintptr_t)o;
    return 0;
  }
  case OP_ARRAY_NEW_FIXED: {
    uint32_t n = ip[2], mode = ip[3], es = eng_field_slots(mode);
    eng_obj *o = eng_obj_new(s, ip[1], n, (uint64_t)n * es, live_end);
    if (!o) return HL_TRAP_HEAP_EXHAUSTED;
    const uint64_t *a = fp + ip[0];
    for (uint32_t k = 0; k < n; k++) gc_store(o->f + (uint64_t)k * es, a + (uint64_t)k * es, mode);
    GR(0) = (uint64_t)(uintptr_t)o;
    return 0;
  }
  case OP_ARRAY_GET: case OP_ARRAY_GET_S: case OP_ARRAY_GET_U: {
    const eng_obj *o = (const eng_obj *)(uintptr_t)GR(1);
    uint32_t i = (uint32_t)GR(2), mode = ip[3];
    if (!o) return HL_TRAP_NULL_ARRAY_REFERENCE;
    if (i >= o->len) return HL_TRAP_ARRAY_OUT_OF_BOUNDS;
    gc_load(fp + ip[0], o->f + (uint64_t)i * eng_field_slots(mode), mode, op == OP_ARRAY_GET_S);
    return 0;
  }
  case OP_ARRAY_SET: {
    eng_obj *o = (eng_obj *)(uintptr_t)GR(0);
    uint32_t i = (uint32_t)GR(1), mode = ip[3];
    if (!o) return HL_TRAP_NULL_ARRAY_REFERENCE;
    if (i >= o->len) return HL_TRAP_ARRAY_OUT_OF_BOUNDS;
    gc_store(o->f + (uint64_t)i * eng_field_slots(mode), fp + ip[2], mode);
    return 0;
  }
  case OP_ARRAY_LEN: {
    const eng_obj *o = (const eng_obj *)(uintptr_t)GR(1);
    if (!o) return HL_TRAP_NULL_ARRAY_REFERENCE;
    GR(0) = o->len;
    return 0;
  }
  case OP_ARRAY_FILL: {
    eng_obj *o = (eng_obj *)(uintptr_t)GR(0);
    uint32_t d = (uint32_t)GR(1), n = (uint32_t)GR(3), mode = ip[4], es = eng_field_slots(mode);
    if (!o) return HL_TRAP_NULL_ARRAY_REFERENCE;
    if ((uint64_t)d + n > o->len) return HL_TRAP_ARRAY_OUT_OF_BOUNDS;
    for (uint32_t k = 0; k < n; k++) gc_store(o->f + ((uint64_t)d + k) * es, fp + ip[2], mode);
    return 0;
  }
  case OP_ARRAY_COPY: {
    eng_obj *od = (eng_obj *)(uintptr_t)GR(0);
    const eng_obj *os = (const eng_obj *)(uintptr_t)GR(2);
    uint32_t d = (uint32_t)GR(1), sidx = (uint32_t)GR(3), n = (uint32_t)GR(4), es = ip[5];
    if (!od || !os) return HL_TRAP_NULL_ARRAY_REFERENCE;
    if ((uint64_t)d + n > od->len || (uint64_t)sidx + n > os->len) return HL_TRAP_ARRAY_OUT_OF_BOUNDS;
    memmove(od->f + (uint64_t)d * es, os->f + (uint64_t)sidx * es, (size_t)n * es * 8);
    return 0;
  }
  case OP_ARRAY_NEW_DATA: case OP_ARRAY_NEW_ELEM: {
    bool data = op == OP_ARRAY_NEW_DATA;
    uint32_t seg = ip[2], off = (uint32_t)GR(3), n = (uint32_t)GR(4), mode = data ? ip[5] : 0;
    uint64_t es = data ? eng_field_slots(mode) : 1, z = data ? gc_elem_bytes(mode) : 1;
    uint64_t seglen = data ? inst->datas[seg].len : inst->elems[seg].count;
    if ((uint64_t)off + (uint64_t)n * z > seglen) return data ? HL_TRAP_MEMORY_OUT_OF_BOUNDS : HL_TRAP_TABLE_OUT_OF_BOUNDS;
    if ((uint64_t)n * es > ENG_MAX_ARRAY_SLOTS) return HL_TRAP_HEAP_EXHAUSTED;
    eng_obj *o = eng_obj_new(s, ip[1], n, (uint64_t)n * es, live_end);
    if (!o) return HL_TRAP_HEAP_EXHAUSTED;
    if (data) gc_read_data(o->f, inst->datas[seg].bytes + off, 0, n, mode);
    else
      for (uint32_t k = 0; k < n; k++) o->f[k] = eng_relem_value(inst, &inst->elems[seg], off + k);
    GR(0) = (uint64_t)(uintptr_t)o;
    return 0;
  }
  case OP_ARRAY_INIT_DATA: case OP_ARRAY_INIT_ELEM: {
    bool data = op == OP_ARRAY_INIT_DATA;
    eng_obj *o = (eng_obj *)(uintptr_t)GR(0);
    uint32_t d = (uint32_t)GR(1), src = (uint32_t)GR(2), n = (uint32_t)GR(3), seg = ip[4], mode = data ? ip[5] : 0;
    uint64_t z = data ? gc_elem_bytes(mode) : 1;
    uint64_t seglen = data ? inst->datas[seg].len : inst->elems[seg].count;
    if (!o) return HL_TRAP_NULL_ARRAY_REFERENCE;
    if ((uint64_t)d + n > o->len) return HL_TRAP_ARRAY_OUT_OF_BOUNDS;
    if ((uint64_t)src + (uint64_t)n * z > seglen) return data ? HL_TRAP_MEMORY_OUT_OF_BOUNDS : HL_TRAP_TABLE_OUT_OF_BOUNDS;
    if (data) gc_read_data(o->f, inst->datas[seg].bytes + src, d, n, mode);
    else
      for (uint32_t k = 0; k < n; k++) o->f[d + k] = eng_relem_value(inst, &inst->elems[seg], src + k);
    return 0;
  }
  case OP_ANY_CONVERT_EXTERN: case OP_EXTERN_CONVERT_ANY: {
    bool ok;
    uint64_t v = op == OP_ANY_CONVERT_EXTERN ? eng_internalize(s, GR(1), live_end, &ok)
                                             : eng_externalize(s, GR(1), live_end, &ok);
    if (!ok) return HL_TRAP_HEAP_EXHAUSTED;
    GR(0) = v;
    return 0;
  }
  default: return HL_TRAP_UNREACHABLE; // not reached: callers pass only the ops above
  }
#undef GR
}

#endif
