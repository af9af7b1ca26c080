// internal.h — engine-private data structures shared by decode.c, compile.c, interp.c, store.c.
#ifndef HL_ENGINE_INTERNAL_H
#define HL_ENGINE_INTERNAL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "opcodes.h"
#include "simd.h"

// The runtime provides these four (engine.h contract); declared here so no libc header is needed.
void *memcpy(void *restrict d, const void *restrict s, size_t n);
void *memmove(void *d, const void *s, size_t n);
void *memset(void *d, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);

// ---- limits (documented in LIMITS.md) ----
#define ENG_MAX_MODULE_BYTES HL_MAX_MODULE_BYTES // module binary size (256 MiB, internal/abi)
#define ENG_MAX_TYPES 100000u              // type section entries
#define ENG_MAX_FUNC_PARAMS 1000u          // params (and results) of one function type
#define ENG_MAX_FIELDS 10000u              // fields of one struct type
#define ENG_MAX_FUNCS 1000000u             // functions (imported + defined)
#define ENG_MAX_IMPORTS 100000u
#define ENG_MAX_EXPORTS 100000u
#define ENG_MAX_GLOBALS 1000000u
#define ENG_MAX_TABLES 100000u
#define ENG_MAX_SEGMENTS 100000u           // element segments, data segments
#define ENG_MAX_LOCALS 50000u              // params + locals of one function
#define ENG_MAX_NESTING 65536u             // nested blocks in one function
#define ENG_MAX_OPERANDS 65536u            // operand stack height within one function
#define ENG_MAX_TABLE_ELEMS 10000000u      // table size (initial and growth)
#define ENG_MAX_BODY_BYTES (64u << 20)     // compiled code of one function, bytes
#define ENG_STACK_SLOTS (1u << 19)         // value stack of a store, 8-byte slots (4 MiB)
#define ENG_MAX_CONST_OPS 65536u           // instructions of one constant expression
#define ENG_MAX_CONST_DEPTH 64u            // operand stack height within a constant expression
#define ENG_PAGE 65536u

// Value types (eng_vt; 0 = unknown / bottom, used by the validator). A numeric or vector type
// is its binary byte. A reference type is the byte of its heap type's kind (VT_FUNCREF: func or
// a function type, VT_EXTERNREF, VT_EXNREF) with VT_NONNULL for a non-nullable (ref ht) and
// VT_IDX(x) for a concrete heap type (type index x of the module; its kind byte is VT_FUNCREF).
// So funcref/externref/exnref are (ref null func/extern/exn), and vt_kind() is the byte the
// host sees (api.ValueType). Subtyping: compile.c vt_sub.
typedef uint32_t eng_vt;
// GC's abstract heap types are kinds too (their bytes): any, eq, i31, struct, array and the
// bottom types none, nofunc, noextern, noexn. A concrete heap type's kind byte is that of its
// type's form: VT_FUNCREF (func), VT_STRUCTREF (struct), VT_ARRAYREF (array); the reader sets
// it from the module's types (rd.kinds), so vt_top works on concrete types too. VT_I8/VT_I16
// are the packed storage types (struct and array fields only).
enum { VT_UNKNOWN = 0, VT_I32 = 0x7f, VT_I64 = 0x7e, VT_F32 = 0x7d, VT_F64 = 0x7c, VT_V128 = 0x7b,
       VT_FUNCREF = 0x70, VT_EXTERNREF = 0x6f, VT_EXNREF = 0x69,
       VT_ANYREF = 0x6e, VT_EQREF = 0x6d, VT_I31REF = 0x6c, VT_STRUCTREF = 0x6b, VT_ARRAYREF = 0x6a,
       VT_NONE = 0x71, VT_NOFUNC = 0x73, VT_NOEXTERN = 0x72, VT_NOEXN = 0x74,
       VT_I8 = 0x78, VT_I16 = 0x77 };
#define VT_NONNULL 0x100u
#define VT_CONCRETE 0x200u
#define VT_IDXK(x, k) (VT_CONCRETE | (uint32_t)(k) | ((uint32_t)(x) << 10))
#define VT_IDX(x) VT_IDXK(x, VT_FUNCREF) // a function type's
#define VT_IDX_OF(t) ((t) >> 10)
#define VT_BLOCK_EMPTY 0x40u // block type: no params, no results
static inline uint8_t vt_kind(eng_vt t) { return (uint8_t)t; }
// The top of a heap type kind's hierarchy (func, extern, exn or any), 0 if k is no reference kind.
static inline uint8_t vt_top(uint8_t k) {
  switch (k) {
  case VT_FUNCREF: case VT_NOFUNC: return VT_FUNCREF;
  case VT_EXTERNREF: case VT_NOEXTERN: return VT_EXTERNREF;
  case VT_EXNREF: case VT_NOEXN: return VT_EXNREF;
  case VT_ANYREF: case VT_EQREF: case VT_I31REF: case VT_STRUCTREF: case VT_ARRAYREF: case VT_NONE:
    return VT_ANYREF;
  default: return 0;
  }
}
static inline bool vt_is_ref(eng_vt t) { return vt_top(vt_kind(t)) != 0; }
// The bottom heap types (only null references have them).
static inline bool vt_is_bottom(uint8_t k) { return k == VT_NONE || k == VT_NOFUNC || k == VT_NOEXTERN || k == VT_NOEXN; }
// i31 references are unboxed: (value << 1) | 1 (never 0, the null reference).
static inline uint64_t eng_i31(uint32_t v) { return (uint64_t)(v & 0x7fffffffu) << 1 | 1; }
// Whether a local of type t has a default value (non-nullable references do not).
static inline bool vt_defaultable(eng_vt t) { return !(t & VT_NONNULL); }

enum { EXT_FUNC = 0, EXT_TABLE = 1, EXT_MEM = 2, EXT_GLOBAL = 3, EXT_TAG = 4 };

// internal opcodes (opcodes.h HL_ALL_OPS: every row, then the derived and fused forms)
#define E_NONE(...)
enum {
#define E_ROW(n, ...) OP_##n,
#define E_IMM(n, ...) OP_##n##_IMM,
#define E_BRIF(n) OP_BRIF_##n,
#define E_BRIF_IMM(n) OP_BRIF_##n##_IMM,
#define E_LDX(n, ...) OP_##n##_X,
#define E_FB(o, i, ty, imm, comm) HL_FB_ID(OP_, o, i, imm),
#define E_FL(o, l, ...) OP_##o##__##l, OP_##o##__##l##_X,
#define E_CP() OP_COPY2, // dst1, src1, dst2, src2: two COPYs in one (compile.c merges adjacent COPYs)
  HL_ALL_OPS(E_ROW, E_IMM, E_BRIF, E_BRIF_IMM, E_LDX, E_FB, E_FL, E_CP)
  OP_COUNT
#undef E_ROW
#undef E_IMM
#undef E_BRIF
#undef E_BRIF_IMM
#undef E_LDX
#undef E_FB
#undef E_FL
#undef E_CP
};

// Words after the opcode word of the S/FS/I rows, as constants (interp.c advances ip by them).
enum {
#define E_WS(n, b, imm, cexpr, w, ...) OPW_##n = w,
#define E_WFS(n, b, imm, w, ...) OPW_##n = w,
#define E_WI(n, w) OPW_##n = w,
  HL_OPCODES(E_NONE, E_NONE, E_NONE, E_NONE, E_NONE, E_NONE, E_WS, E_NONE, E_WFS, E_WI)
#undef E_WS
#undef E_WFS
#undef E_WI
};

// Immediate kinds (opcodes.h HL_IMM_KINDS) and what the reader (reader.h rd_imm) returns.
enum {
#define E_IMMK(k, ...) IMM_##k,
  HL_IMM_KINDS(E_IMMK)
#undef E_IMMK
  IMM_COUNT
};
typedef struct {
  uint32_t a, b;      // indices, counts, memarg align (a) and offset (b)
  uint8_t t;          // lane index, a byte
  eng_vt ty;          // value/reference/heap/block type (BLOCKT: 0 = a type index in .a)
  uint32_t m;         // memory index (multi-memory; memory.copy: the destination's)
  uint64_t v;         // constants (bits)
  const uint8_t *p;   // 16 immediate bytes (v128.const, i8x16.shuffle), br_table's labels
} eng_imm;

// Per-opcode facts generated from opcodes.h (compile.c): immediate kind, constant-expression flag,
// words after the opcode word in the compiled form (W_NEVER, W_VAR: opcodes.h).
extern const uint8_t eng_op_imm[OP_COUNT];
extern const uint8_t eng_op_cexpr[OP_COUNT];
extern const uint8_t eng_op_words[OP_COUNT];
// Maps a byte (0xFC: sub-opcode) of the binary encoding to OP_* + 1 (0: not an opcode).
extern const uint16_t eng_byte_map[256];
extern const uint16_t eng_fc_map[HL_PREFIX_MAP]; // 0xFC sub-opcodes, and 0xFB's at HL_FB(sub)

// Length in words (opcode word included) of the compiled instruction at code[0], of at most `left`
// words; 0 when it is not a valid compiled instruction (unknown or never emitted, or cut short).
// Steps over every op of compiled code (a debug iterator; tests/codewalk.c, the perf dumper).
static inline uint32_t eng_op_len(const uint32_t *code, uint32_t left) {
  if (left == 0 || code[0] >= OP_COUNT) return 0;
  uint32_t w = eng_op_words[code[0]];
  uint64_t n;
  if (w == W_NEVER) return 0;
  if (w != W_VAR) n = 1 + w;
  else if (left < 3) return 0;
  else if (code[0] == OP_BR_TABLE_X) n = 5 + 2 * ((uint64_t)code[2] + 1); // idx n arity src, n+1 x (target, dst)
  else if (code[0] == OP_HANDLER) n = left < 6 ? (uint64_t)left + 1 : 1 + HL_W_HANDLER((uint64_t)code[5]);
  else n = 1 + (code[2] == SIMD_V128_CONST || code[2] == SIMD_I8X16_SHUFFLE ? SIMD_WORDS_DATA : SIMD_WORDS);
  return n <= left ? (uint32_t)n : 0;
}

// ---- allocation with size header ----
void *eng_xalloc(size_t n);  // zeroed, NULL when exhausted or n too large
void eng_xfree(void *p);
void *eng_xrealloc(void *p, size_t old_n, size_t new_n); // zero-fills the tail

// ---- module (decoded) ----
// A defined type (GC: a sub type of a rec group). In a module, super and rec are module type
// indices; in the store (eng_store.types), store type ids.
enum { TK_FUNC = 0, TK_STRUCT = 1, TK_ARRAY = 2 };
#define ENG_NO_SUPER UINT32_MAX
#define ENG_MAX_SUBTYPE_DEPTH 1000u // length of a declared supertype chain
typedef struct {
  uint32_t nparams, nresults; // func; struct: nparams fields (nresults 0); array: 1 field
  eng_vt *types;  // func: params then results; struct/array: the fields' storage types
  uint8_t *muts;  // struct/array: each field's mutability (in the same allocation as types)
  uint32_t id;    // store-wide canonical id (iso-recursive)
  uint8_t kind;   // TK_*
  bool final;
  uint32_t super; // declared supertype, ENG_NO_SUPER
  uint32_t depth; // supertypes above it
  uint32_t rec, nrec; // its rec group: first type, number of types
} eng_functype;
static inline uint8_t tk_vt(uint8_t kind) {
  return kind == TK_STRUCT ? VT_STRUCTREF : kind == TK_ARRAY ? VT_ARRAYREF : VT_FUNCREF;
}

typedef struct eng_constexpr {
  uint16_t op;    // OP_I32_CONST... OP_REF_NULL, OP_REF_FUNC, OP_GLOBAL_GET, OP_REF_I31
  eng_vt type;    // result value type
  uint32_t idx;   // func or global index
  uint64_t val;   // constant bits
  uint64_t val_hi; // v128.const: the high 64 bits
  // An extended constant expression (more than one instruction, HL_CONST_BIN): all nseq
  // instructions in order (owned; the fields above are those of the first). NULL otherwise.
  struct eng_constexpr *seq;
  uint32_t nseq;
} eng_constexpr;

// Limits of a table or memory; is64: memory64's 64-bit memory (i64 addresses, min and max up to
// 2^48 pages) or table (i64 indices, min and max up to 2^64-1 elements).
typedef struct { uint64_t min, max; bool has_max; bool is64; } eng_limits_t;
// The memory word of the multi-memory/memory64 forms (LOAD_M..., and the c word of SIMD memory
// instructions): the memory index, MEM_FAR when the static offset is 2^32 or more (every access
// is then out of bounds: no memory is larger than 4 GiB, ENG_MAX_MEM_PAGES) and, in SIMD, MEM_SEL
// (the instruction names a memory other than memory 0's 32-bit fast path).
#define MEM_FAR 0x40000000u
#define MEM_SEL 0x80000000u
#define MEM_IDX(w) ((w) & 0x3fffffffu)
#define ENG_MAX_MEM_PAGES 65536u // the engine's cap on any memory, 64-bit ones included
typedef struct {
  eng_vt elemtype; eng_limits_t lim;
  bool has_init; eng_constexpr init; // a table with an initializer expression (defined tables)
} eng_tabletype;
typedef struct { eng_vt type; uint8_t mut; } eng_globaltype;

typedef struct {
  const uint8_t *module; uint32_t module_len; // point into the module's owned name buffer
  const uint8_t *name; uint32_t name_len;
  uint8_t kind;
  uint32_t typeidx;       // EXT_FUNC
  eng_tabletype table;    // EXT_TABLE
  eng_limits_t mem;       // EXT_MEM
  eng_globaltype global;  // EXT_GLOBAL (EXT_TAG: typeidx)
} eng_import;

typedef struct {
  const uint8_t *name; uint32_t name_len;
  uint8_t kind;
  uint32_t idx;
} eng_export;

enum { SEG_ACTIVE = 0, SEG_PASSIVE = 1, SEG_DECLARATIVE = 2 };

// Element segment items take 4 bytes each (a segment's items are at least 1 byte each in the
// binary, so memory stays a small multiple of the module's size): a function index below
// ELEM_GLOBAL (ref.func x, or the plain function-index encoding), ELEM_GLOBAL | x (global.get
// x), ELEM_NULL | reftype (ref.null t), or ELEM_OTHER | k: any other constant expression, kept
// whole as exprs[k] (GC's ref.i31, or a numeric one or an index of 2^30 or more, which
// validation refuses).
#define ELEM_TAG 0xc0000000u
#define ELEM_GLOBAL 0x40000000u
#define ELEM_NULL 0x80000000u
#define ELEM_OTHER 0xc0000000u

typedef struct {
  uint8_t mode;
  eng_vt type;
  uint32_t table;
  eng_constexpr offset;
  uint32_t count;
  uint32_t *items;     // ELEM_* encoded; freed after instantiation unless the segment is passive
  eng_constexpr *exprs; // the ELEM_OTHER items (owned; their count: nexprs)
  uint32_t nexprs;
} eng_elemseg;

typedef struct {
  uint8_t mode;
  uint32_t mem; // active: the memory index
  eng_constexpr offset;
  uint32_t len;
  uint8_t *bytes; // owned copy
} eng_dataseg;

typedef struct {
  const uint8_t *body; // points into the caller's bytes; valid only during instantiation
  uint32_t body_len;
} eng_code;

typedef struct {
  uint32_t ntypes; eng_functype *types;
  uint8_t *type_kinds; // each type's kind byte (tk_vt), for the readers of the sections after types
  uint32_t nimports; eng_import *imports;
  uint32_t nfuncs, nfunc_imports; uint32_t *func_types; // all functions' type indices
  uint32_t ntables, ntable_imports; eng_tabletype *tables;
  uint32_t nmems, nmem_imports; eng_limits_t *mems;
  uint32_t nglobals, nglobal_imports; eng_globaltype *globals; eng_constexpr *global_inits;
  uint32_t nexports; eng_export *exports;
  bool has_start; uint32_t start;
  uint32_t nelems; eng_elemseg *elems;
  bool has_datacount; uint32_t datacount;
  uint32_t ndatas; eng_dataseg *datas;
  uint32_t ncodes; eng_code *codes;
  uint32_t ntags, ntag_imports; uint32_t *tag_types; // exception tags: type indices
  bool has_legacy_try; // a body uses the legacy try instruction (eng_scan_module)
  uint8_t *names; size_t names_len; // owned copy of all import/export names
  uint8_t *declared_refs; // bitmap over functions: referenced outside function bodies
  uint32_t *canon;        // type index -> the first structurally equal type's (validation)
  uint32_t *export_hash;  // open-addressing index of exports by name (UINT32_MAX = empty)
  uint32_t export_hash_mask;
} eng_module;

// ---- runtime objects ----
typedef struct eng_inst eng_inst;

typedef struct eng_func {
  eng_inst *inst;
  uint32_t type_id;
  uint32_t nparams, nresults, nlocals; // nlocals includes params
  uint32_t max_stack;                  // slots: locals + operand stack maximum
  uint32_t code_len;
  uint32_t *code;
  const eng_functype *type;
  uint32_t host_id; // is_host: the embedder's id for plat_host_call
  bool is_host;     // calls go to plat_host_call instead of code (see eng_bind_host)
  uint32_t *handlers; uint32_t nhandlers; // code offsets of its HANDLERs, innermost first
  void *jit_entry;  // machine code (the executable view), NULL: interpreted (jit.h)
} eng_func;

// An exception tag (a runtime object: identity is what catch compares).
typedef struct {
  uint32_t type_id; // store-wide function type id (no results)
  uint32_t nslots;  // payload slots
} eng_tag;

// A thrown exception; an exnref is a pointer to one. Exceptions caught without a reference
// are freed at once; one that a reference was taken of (catch_ref, a legacy catch that may
// rethrow) is kept on the store's list, until eng_exn_collect finds it unreachable (it runs
// when the list has doubled since the last run) or the store is freed.
typedef struct eng_exn {
  struct eng_exn *next; // the store's kept exceptions
  const eng_tag *tag;
  uint32_t nslots;
  bool kept;
  uint64_t vals[];
} eng_exn;

// A GC object (struct or array) in the engine heap; an any-hierarchy reference to it is its
// address (even, never 0; odd words are i31). Every field or element takes one slot (v128
// two; packed i8/i16 fields hold the value masked to its width). Objects are on the store's
// list (objs) and freed by eng_gc_collect when unreachable.
typedef struct eng_obj {
  struct eng_obj *next;
  uint32_t type_id; // store type id (struct or array type)
  uint32_t len;     // array: elements; struct: fields
  uint32_t nslots;  // slots of f
  uint8_t mark;
  bool ext;         // in the store's ext set: its address was handed out as an externref
  uint64_t f[];
} eng_obj;
// Objects that are no struct or array (type_id): a box (any.convert_extern of a host value,
// f[0] the value) and a wrap (extern.convert_any of an i31 reference, f[0] the i31 word).
#define ENG_TYPE_BOX (UINT32_MAX - 1)
#define ENG_TYPE_WRAP (UINT32_MAX - 2)
#define ENG_MAX_ARRAY_SLOTS (1u << 27) // slots of one array (1 GiB)

typedef struct {
  uint64_t *elems;
  uint32_t size, cap_elems; // allocated length of elems
  uint32_t max;             // effective maximum (declared max, capped by ENG_MAX_TABLE_ELEMS)
  eng_limits_t decl;        // declared limits (decl.min updated on growth for import matching)
  eng_vt type;              // store-wide: a concrete heap type is a store type id
} eng_table;

typedef struct {
  uint8_t *base;
  uint64_t size;       // bytes
  uint32_t pages;
  uint32_t cap_pages;  // reserved pages: min(declared max, limits.max_memory_pages)
  uint64_t reserved;   // bytes reserved with plat_mem_reserve (0 if none)
  eng_limits_t decl;
} eng_mem;

typedef struct {
  uint64_t val;
  uint64_t val_hi; // v128: the high 64 bits
  eng_vt type;     // store-wide: a concrete heap type is a store type id
  uint8_t mut;
} eng_global;

typedef struct { // an instance's element segment: the module's items (count 0 once dropped)
  const uint32_t *items; uint32_t count; eng_vt type;
  const eng_constexpr *exprs; // the module's ELEM_OTHER items
  uint64_t *vals; // GC: a segment whose items allocate (struct.new, ...): their values, made once
                  // at instantiation (owned; a root of the collector), else NULL
} eng_relem;

typedef struct {
  const uint8_t *bytes; uint32_t len;
} eng_rdata;

struct eng_inst {
  eng_store *store;
  eng_module *mod;
  eng_func **funcs; uint32_t nfuncs;
  eng_func *own_funcs; uint32_t nown_funcs;
  eng_table **tables; uint32_t ntables;
  eng_mem *mem; // memory 0 or NULL (the one the interpreter and compiled code keep at hand)
  eng_mem **mems; uint32_t nmems; // every memory (multi-memory), mems[0] == mem
  eng_global **globals; uint32_t nglobals;
  eng_tag **tags; uint32_t ntags;
  eng_tag *own_tags;
  eng_relem *elems; uint32_t nelems;
  eng_rdata *datas; uint32_t ndatas;
  uint32_t *type_ids; // module type index -> store id
  // objects owned (defined) by this instance, freed with the store
  eng_table *own_tables; uint32_t nown_tables;
  eng_mem *own_mems; uint32_t nown_mems;
  eng_global *own_globals; uint32_t nown_globals;
  bool code_ok; // instantiation completed (exports usable, registrable)
  void *jit_code; size_t jit_bytes; // the compile tier's machine code (writable view), or NULL
};

typedef struct {
  const uint32_t *ip;
  uint64_t *fp;
  eng_func *fn;
} eng_frame;

typedef struct {
  uint8_t *name; uint32_t len; uint32_t inst;
} eng_reg;

struct eng_store {
  eng_limits limits;
  eng_inst **insts; uint32_t ninsts, cap_insts;
  eng_reg *regs; uint32_t nregs, cap_regs;
  eng_functype *types; uint32_t ntypes, cap_types; // interned function types
  uint32_t *type_hash; uint32_t type_hash_mask;     // index of rec groups (UINT32_MAX = empty)
  uint32_t ngroups;                                 // rec groups in types
  uint64_t *stack; uint32_t stack_slots;
  eng_frame *frames; uint32_t max_frames;
  bool running;
  // Nested calls: while a host function runs, the host may call back into the store (the
  // canonical ABI's cabi_realloc). Such a call uses the value stack from nest_base and the
  // frames from nest_frames, above everything the suspended call uses.
  uint32_t in_host;     // host calls in progress
  uint32_t nest_base;   // first free value-stack slot for a nested call
  uint32_t nest_frames; // first free frame for a nested call
  eng_exn *exns;        // kept exceptions (eng_exn)
  eng_exn *thrown;      // the exception in flight while eng_invoke returns ENG_STATUS_THROWN
  uint64_t fuel_left;   // the call's fuel budget where it crosses into and out of eng_invoke
  uint32_t nkept;       // length of exns
  uint32_t collect_at;  // nkept at which eng_exn_collect runs next (0: ENG_EXN_COLLECT_MIN)
  struct eng_jit *jit;  // the compile tier's run-time state, NULL: interpreter only (jit.h)
  eng_obj *objs;        // every GC object
  uint64_t obj_bytes;   // their size
  uint64_t gc_at;       // obj_bytes at which the next allocation collects first (0: ENG_GC_MIN)
  bool const_oom;       // a constant expression's GC allocation failed (instantiation checks it)
  // The ext set: addresses of the objects (and wraps) that extern.convert_any handed out, so
  // any.convert_extern knows them from host values (open addressing, 0 = empty; rebuilt by
  // every collection).
  uintptr_t *ext_set; uint32_t ext_cap, ext_n;
};
#define ENG_GC_MIN (4u << 20)

uint64_t eng_eval_const(const eng_inst *in, const eng_constexpr *e);

// The reference an ELEM_* item (of a validated module; exprs: its segment's ELEM_OTHER items)
// stands for in instance `in`. global.get names an immutable global, and the expressions that
// allocate (GC) are evaluated once at instantiation (eng_relem.vals), so the value is the same
// whenever this runs for an item of an eng_relem without vals.
static inline uint64_t eng_elem_value(const eng_inst *in, const eng_constexpr *exprs, uint32_t item) {
  switch (item & ELEM_TAG) {
  case 0: return (uint64_t)(uintptr_t)in->funcs[item];
  case ELEM_GLOBAL: return in->globals[item & ~ELEM_TAG]->val;
  case ELEM_OTHER: return eng_eval_const(in, &exprs[item & ~ELEM_TAG]);
  default: return 0; // ELEM_NULL
  }
}

// Whether a host function's results (f's, at r) are references the engine can hold: an any
// hierarchy result is null or an i31 (objects are the engine's: a host word there would be a
// forged pointer), a struct/array or bottom one null. Host calls trap (HL_TRAP_HOST) otherwise.
static inline bool eng_host_results_ok(const eng_func *f, const uint64_t *r) {
  const eng_vt *t = f->type->types + f->type->nparams;
  for (uint32_t i = 0, k = 0; i < f->type->nresults; k += t[i] == VT_V128 ? 2 : 1, i++) {
    uint8_t kind = vt_kind(t[i]);
    if (!r[k]) continue;
    if ((kind == VT_ANYREF || kind == VT_EQREF || kind == VT_I31REF) && !(r[k] & 1)) return false;
    if (kind == VT_STRUCTREF || kind == VT_ARRAYREF || vt_is_bottom(kind)) return false;
  }
  return true;
}

// Item k of an instance's element segment e.
static inline uint64_t eng_relem_value(const eng_inst *in, const eng_relem *e, uint32_t k) {
  return e->vals ? e->vals[k] : eng_elem_value(in, e->exprs, e->items[k]);
}

// ---- cross-file functions ----
void eng_set_error(eng_error *err, uint32_t status, const char *msg);
void eng_set_error2(eng_error *err, uint32_t status, const char *msg, const uint8_t *name,
                    size_t name_len, const uint8_t *name2, size_t name2_len);
void eng_set_trap(eng_error *err, uint32_t trap);

uint32_t eng_hash(const uint8_t *p, size_t n);
// Finds export `name` of module m (by its hash index), or NULL.
const eng_export *eng_find_export(const eng_module *m, const uint8_t *name, uint32_t len);

uint32_t eng_decode(const uint8_t *bytes, size_t len, eng_module *m, eng_error *err);
void eng_module_free(eng_module *m);

// Validates and compiles defined function `i` (index among defined functions) of module m.
uint32_t eng_compile_func(eng_store *s, const eng_module *m, const uint32_t *type_ids, uint32_t i,
                          eng_func *out, eng_error *err);
bool eng_is_opcode(uint8_t b);
// Checks the binary structure of every function body (decode-only; no types).
uint32_t eng_scan_module(const eng_module *m, eng_error *err);
// Validates a constant expression's type/rules after decoding (module-level validation).
uint32_t eng_validate_module(const eng_module *m, eng_error *err);
// Whether a value of type a may be used where b is expected (a validated module's types).
bool eng_vt_sub(const eng_module *m, eng_vt a, eng_vt b);
bool eng_heap_sub(const eng_module *m, eng_vt a, eng_vt b); // heap types of a and b (nullability ignored)
// The store-wide form of t (a concrete heap type's index mapped through type_ids).
static inline eng_vt eng_vt_store(const uint32_t *type_ids, eng_vt t) {
  if (!(t & VT_CONCRETE)) return t;
  return (t & 0x3ffu) | ((uint32_t)type_ids[VT_IDX_OF(t)] << 10);
}

// Iso-recursive type equality and the hash of a rec group (compile.c): a and b are types of
// groups at ga and gb of n types each; references out of a group compare through ma/mb (a
// module's canon or store ids; NULL: the indices are store ids already).
bool eng_type_same(const eng_functype *a, uint32_t ga, const uint32_t *ma, const eng_functype *b, uint32_t gb,
                   const uint32_t *mb, uint32_t n);
uint32_t eng_group_hash(const eng_functype *t, uint32_t g, const uint32_t *map, uint32_t n);
// Store-wide subtyping (store.c): type ids (declared supertype chains), heap types.
bool eng_type_sub(const eng_store *s, uint32_t a, uint32_t b);
bool eng_store_heap_sub(const eng_store *s, eng_vt a, eng_vt b);

// Whether reference v (0: null) passes a cast to w (compile.c cast_word: a store-wide reference
// type; VT_NONNULL: null fails). A concrete function type matches a function whose type is it
// or declares it as a supertype. Of the any hierarchy, only i31 values exist (struct and array
// objects and internalized external references are not implemented).
static inline bool eng_ref_test(const eng_store *s, uint64_t v, eng_vt w) {
  if (!v) return !(w & VT_NONNULL);
  const eng_obj *o = (const eng_obj *)(uintptr_t)v;
  switch (vt_kind(w)) {
  case VT_FUNCREF:
    return !(w & VT_CONCRETE) || eng_type_sub(s, ((const eng_func *)(uintptr_t)v)->type_id, VT_IDX_OF(w));
  case VT_ANYREF: case VT_EXTERNREF: case VT_EXNREF: return true;
  case VT_EQREF: return (v & 1) || o->type_id != ENG_TYPE_BOX; // i31 or a struct/array
  case VT_I31REF: return (v & 1) != 0;
  case VT_STRUCTREF: case VT_ARRAYREF:
    if ((v & 1) || o->type_id == ENG_TYPE_BOX) return false;
    if (w & VT_CONCRETE) return eng_type_sub(s, o->type_id, VT_IDX_OF(w));
    return s->types[o->type_id].kind == (vt_kind(w) == VT_STRUCTREF ? TK_STRUCT : TK_ARRAY);
  default: return false; // the bottom types: null only
  }
}

// GC objects (store.c): a new object of store type tid with nslots zeroed slots (len: array
// elements), NULL when the heap is full even after a collection; the collector (roots: the
// value stack below live_end, globals and tables, kept exceptions' payloads; objects traced by
// their types).
eng_obj *eng_obj_new(eng_store *s, uint32_t tid, uint32_t len, uint64_t nslots, uint64_t *live_end);
void eng_gc_collect(eng_store *s, const uint64_t *live_end);
// any.convert_extern and extern.convert_any (store.c); *ok false when out of memory.
uint64_t eng_internalize(eng_store *s, uint64_t x, uint64_t *live_end, bool *ok);
uint64_t eng_externalize(eng_store *s, uint64_t a, uint64_t *live_end, bool *ok);
// Slots per field/element of storage type t.
static inline uint32_t eng_field_slots(eng_vt t) { return t == VT_V128 ? 2 : 1; }

// The value of HL_CONST_BIN row op applied to a and b (interp.c, from the row's semantics).
uint64_t eng_const_bin(uint32_t op, uint64_t a, uint64_t b);

// Frees the kept exceptions (s->exns) that nothing can reach: no value-stack slot below
// live_end (every frame of every call in progress), no exnref global or table of any instance
// and no reachable exception's payload holds their address. Conservative: a stale slot that
// happens to hold an address keeps that exception.
void eng_exn_collect(eng_store *s, const uint64_t *live_end);
#define ENG_EXN_COLLECT_MIN 1024u
// Linear memory and table growth (memory.grow, table.grow): the old size, or UINT32_MAX.
uint32_t eng_mem_grow(eng_mem *m, uint32_t delta);
uint64_t eng_table_grow(eng_table *t, uint64_t n, uint64_t v);
void eng_trap_index(eng_error *err, uint64_t idx);
void eng_trap_fuel(eng_error *err);

// Runs f with its nparams arguments already at s->stack[0..]; results left at s->stack[0..].
// Fuel (when limited): starts from s->fuel_left and leaves what remains there, so one budget
// covers a call however often it crosses the tiers.
// An exception that no frame of this invocation handles leaves it as ENG_STATUS_THROWN with
// the exception in s->thrown: the caller (compiled code, then the interpreter frame that made
// the call) continues the handler search; at the outermost call eng_uncaught makes it a trap.
uint32_t eng_invoke(eng_store *s, eng_func *f, eng_error *err);
#define ENG_STATUS_THROWN 0x100u // engine-internal: never leaves eng_call or eng_instantiate
// Ends an exception in flight (s->thrown) that reached the outermost call: frees it unless an
// exnref keeps it, reports HL_TRAP_UNCAUGHT_EXCEPTION; returns HL_STATUS_TRAP.
uint32_t eng_uncaught(eng_store *s, eng_error *err);

#endif
