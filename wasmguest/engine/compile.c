// compile.c — module-level validation, and one-pass validation + compilation of function bodies
// into the engine's pre-decoded code (uint32_t words: opcode, immediates; branch targets resolved).
// Validation follows the algorithm of the spec appendix with explicit value/control stacks (no
// recursion on the C stack).
#include "internal.h"
#include "reader.h"
#include "simd.h"

// ---------------------------------------------------------------- tables from opcodes.h
enum { K_NONE = 0, K_UN, K_BIN, K_LOAD, K_STORE, K_SPECIAL };
#define VT_I VT_I32
#define VT_L VT_I64
#define VT_F VT_F32
#define VT_D VT_F64

#define Z(...)
#define BM_N1(n, b, ...) [b] = OP_##n + 1,
const uint16_t eng_byte_map[256] = {HL_OPCODES(BM_N1, BM_N1, BM_N1, BM_N1, BM_N1, BM_N1, BM_N1, Z, Z, Z)};
#define FM(n, b, ...) [b] = OP_##n + 1,
const uint16_t eng_fc_map[HL_PREFIX_MAP] = {HL_OPCODES(Z, Z, Z, Z, Z, Z, Z, FM, FM, Z)};

// immediate kind and constant-expression flag of every row (N1/N2/T1/T2/FN1: none; LD/ST: memarg)
#define OI_M(n, ...) [OP_##n] = IMM_MEMARG,
#define OI_S(n, b, imm, ...) [OP_##n] = IMM_##imm,
const uint8_t eng_op_imm[OP_COUNT] = {HL_OPCODES(Z, Z, Z, Z, OI_M, OI_M, OI_S, Z, OI_S, Z)};
#define OC_S(n, b, imm, cexpr, ...) [OP_##n] = cexpr,
#define OC_B(n, ty) [OP_##n] = 1,
const uint8_t eng_op_cexpr[OP_COUNT] = {HL_OPCODES(Z, Z, Z, Z, Z, Z, OC_S, Z, Z, Z) HL_CONST_BIN(OC_B)};

// words after the opcode word of every compiled instruction (opcodes.h: rows and derived forms)
#define OW_N1(n, ...) [OP_##n] = HL_W_N1,
#define OW_N2(n, ...) [OP_##n] = HL_W_N2,
#define OW_M(n, ...) [OP_##n] = HL_W_MEM,
#define OW_S(n, b, imm, cexpr, w, ...) [OP_##n] = w,
#define OW_FS(n, b, imm, w, ...) [OP_##n] = w,
#define OW_I(n, w) [OP_##n] = w,
#define OW_ROW(n, ...) // every row kind is handled by the HL_OPCODES expansion below
#define OW_IMM(n, b, i1, i2, ...) [OP_##n##_IMM] = HL_W_IMM(i2),
#define OW_BRIF(n) [OP_BRIF_##n] = HL_W_BRIF,
#define OW_BRIFI(n) [OP_BRIF_##n##_IMM] = HL_W_BRIF,
#define OW_LDX(n, ...) [OP_##n##_X] = HL_W_LDX,
#define OW_FB(o, i, ty, imm, comm) [HL_FB_ID(OP_, o, i, imm)] = HL_W_FUSED_BIN,
#define OW_FL(o, l, ...) [OP_##o##__##l] = HL_W_FUSED_LD, [OP_##o##__##l##_X] = HL_W_FUSED_LDX,
#define OW_CP() [OP_COPY2] = HL_W_COPY2,
const uint8_t eng_op_words[OP_COUNT] = {
    HL_OPCODES(OW_N1, OW_N2, OW_N1, OW_N2, OW_M, OW_M, OW_S, OW_N1, OW_FS, OW_I)
    HL_ALL_OPS(OW_ROW, OW_IMM, OW_BRIF, OW_BRIFI, OW_LDX, OW_FB, OW_FL, OW_CP)};

#define SG_N1(n, b, in, out, e) [OP_##n] = {K_UN, VT_##in, 0, VT_##out},
#define SG_N2(n, b, i1, i2, out, e) [OP_##n] = {K_BIN, VT_##i1, VT_##i2, VT_##out},
#define SG_T1(n, b, in, out) [OP_##n] = {K_UN, VT_##in, 0, VT_##out},
#define SG_T2(n, b, i1, i2, out) [OP_##n] = {K_BIN, VT_##i1, VT_##i2, VT_##out},
#define SG_LD(n, b, t, al) [OP_##n] = {K_LOAD, VT_##t, al, 0},
#define SG_ST(n, b, t, al) [OP_##n] = {K_STORE, VT_##t, al, 0},
#define SG_S(n, ...) [OP_##n] = {K_SPECIAL, 0, 0, 0},
#define SG_FN1(n, b, in, out, e) [OP_##n] = {K_UN, VT_##in, 0, VT_##out},
static const uint8_t sigs[OP_COUNT][4] = {
    HL_OPCODES(SG_N1, SG_N2, SG_T1, SG_T2, SG_LD, SG_ST, SG_S, SG_FN1, SG_S, Z)};

#define IM(n, ...) [OP_##n] = OP_##n##_IMM,
static const uint16_t imm_of[OP_COUNT] = {HL_OPCODES(Z, IM, Z, Z, Z, Z, Z, Z, Z, Z)};
#define FZ(n) [OP_##n] = OP_BRIF_##n,
#define FZI(n) [OP_##n##_IMM] = OP_BRIF_##n##_IMM,
static const uint16_t brif_of[OP_COUNT] = {HL_FUSED_CMP(FZ) HL_FUSED_CMP(FZI)[OP_I32_EQZ] = OP_BRIF_I32_EQZ};
#define NEG(a, b) [OP_I32_##a] = OP_I32_##b, [OP_I32_##b] = OP_I32_##a, \
                  [OP_I32_##a##_IMM] = OP_I32_##b##_IMM, [OP_I32_##b##_IMM] = OP_I32_##a##_IMM,
static const uint16_t neg_cmp[OP_COUNT] = {NEG(EQ, NE) NEG(LT_S, GE_S) NEG(LT_U, GE_U) NEG(GT_S, LE_S)
                                               NEG(GT_U, LE_U)};

#define LX(n, ...) [OP_##n] = OP_##n##_X,
static const uint16_t ldx_of[OP_COUNT] = {HL_OPCODES(Z, Z, Z, Z, LX, Z, Z, Z, Z, Z)};

#define FBT(o, i, ty, imm, comm) {OP_##o, HL_IMM_ID(OP_, i, imm), HL_FB_ID(OP_, o, i, imm), comm},
#define FLT(o, l, ty, n, comm) {OP_##o, OP_##l, OP_##o##__##l, comm}, {OP_##o, OP_##l##_X, OP_##o##__##l##_X, comm},
static const struct { uint16_t outer, inner, fused; uint8_t comm; } fused_bin[] = {
    HL_FUSED_BIN(FBT) HL_FUSED_LD(FLT)};

bool eng_is_opcode(uint8_t b) { return b == 0xfc || b == 0xfb || eng_byte_map[b] != 0; }

// ---------------------------------------------------------------- module validation
static uint32_t verr(eng_error *err, const char *msg) {
  eng_set_error(err, HL_STATUS_INVALID, msg);
  return HL_STATUS_INVALID;
}

static bool limits_ok(const eng_limits_t *l, uint64_t bound) {
  if (l->min > bound) return false;
  if (l->has_max && l->max > bound) return false;
  return true;
}

// ---- canonical types (iso-recursive) and subtyping
// Types are equal when their rec groups are: the same number of types, pairwise of the same
// form, finality and fields, where a reference into the type's own group compares by position
// in the group and any other by the canonical index of the type it names. m->canon maps each
// type index to the index of the equal type in the first equal group, so two concrete heap
// types are equal when their canon is. (A type refers only to its own group and earlier ones.)

// The comparison key of value type t (or supertype index when sup) of a type in group [g, g+n):
// in-group references by position (bit 32 set), others through map (NULL: store ids as is).
static uint64_t type_key(uint32_t v, bool sup, uint32_t g, uint32_t n, const uint32_t *map) {
  uint32_t x;
  if (sup) { if (v >= ENG_NO_SUPER - 1) return v; x = v; }
  else { if (!(v & VT_CONCRETE)) return v; x = VT_IDX_OF(v); }
  if (x - g < n) return (uint64_t)1 << 32 | (sup ? x - g : ((x - g) << 10 | (v & 0x3ffu)));
  uint32_t c = map ? map[x] : x;
  return sup ? c : (c << 10 | (v & 0x3ffu));
}

// Whether type a (group at ga, via map ma) equals type b (group at gb, via mb); both groups of
// n types.
bool eng_type_same(const eng_functype *a, uint32_t ga, const uint32_t *ma, const eng_functype *b, uint32_t gb,
                   const uint32_t *mb, uint32_t n) {
  if (a->kind != b->kind || a->final != b->final || a->nparams != b->nparams || a->nresults != b->nresults)
    return false;
  if (type_key(a->super, true, ga, n, ma) != type_key(b->super, true, gb, n, mb)) return false;
  for (uint32_t k = 0; k < a->nparams + a->nresults; k++) {
    if (type_key(a->types[k], false, ga, n, ma) != type_key(b->types[k], false, gb, n, mb)) return false;
    if (a->kind != TK_FUNC && a->muts[k] != b->muts[k]) return false;
  }
  return true;
}

uint32_t eng_group_hash(const eng_functype *t, uint32_t g, const uint32_t *map, uint32_t n) {
  uint32_t h = 2166136261u ^ n;
  for (uint32_t i = 0; i < n; i++, t++) {
    h = (h ^ (t->kind | (uint32_t)t->final << 2 | t->nparams << 3)) * 16777619u;
    h = (h ^ (uint32_t)type_key(t->super, true, g, n, map)) * 16777619u;
    for (uint32_t k = 0; k < t->nparams + t->nresults; k++) {
      uint64_t x = type_key(t->types[k], false, g, n, map);
      h = (h ^ (uint32_t)x ^ (uint32_t)(x >> 32) * 31u) * 16777619u;
      if (t->kind != TK_FUNC) h = (h ^ t->muts[k]) * 16777619u;
    }
  }
  return h;
}

// Checks that every concrete heap type in t names a type below limit ("unknown type").
static bool vt_ok(eng_vt t, uint32_t limit) { return !(t & VT_CONCRETE) || VT_IDX_OF(t) < limit; }

static uint32_t sub_ok(const eng_module *m, uint32_t i);

static uint32_t canon_types(eng_module *m, eng_error *err) {
  uint32_t cap = 8;
  while (cap < 2 * (uint64_t)m->ntypes) cap *= 2;
  uint32_t *tab = eng_xalloc((size_t)cap * 4);
  if (!(m->canon = eng_xalloc((size_t)m->ntypes * 4 + 4)) || !tab) {
    eng_xfree(tab);
    eng_set_error(err, HL_STATUS_NO_MEMORY, "out of memory");
    return HL_STATUS_NO_MEMORY;
  }
  memset(tab, 0xff, (size_t)cap * 4);
  for (uint32_t g = 0; g < m->ntypes; g += m->types[g].nrec) {
    uint32_t n = m->types[g].nrec;
    for (uint32_t i = g; i < g + n; i++) {
      const eng_functype *t = &m->types[i];
      for (uint32_t k = 0; k < t->nparams + t->nresults; k++)
        if (!vt_ok(t->types[k], g + n)) {
          eng_xfree(tab);
          return verr(err, "unknown type");
        }
      if (t->super != ENG_NO_SUPER && t->super >= i && t->super != ENG_NO_SUPER - 1) {
        eng_xfree(tab);
        return verr(err, "unknown type");
      }
    }
    uint32_t h = eng_group_hash(&m->types[g], g, m->canon, n) & (cap - 1), rep = g;
    for (; tab[h] != UINT32_MAX; h = (h + 1) & (cap - 1)) {
      uint32_t o = tab[h];
      if (m->types[o].nrec != n) continue;
      uint32_t k = 0;
      while (k < n && eng_type_same(&m->types[g + k], g, m->canon, &m->types[o + k], o, m->canon, n)) k++;
      if (k == n) { rep = o; break; }
    }
    if (rep == g) tab[h] = g;
    for (uint32_t k = 0; k < n; k++) m->canon[g + k] = rep + k;
  }
  eng_xfree(tab);
  for (uint32_t i = 0; i < m->ntypes; i++) {
    uint32_t st = sub_ok(m, i);
    if (st == HL_STATUS_LIMIT) {
      eng_set_error(err, HL_STATUS_LIMIT, "subtype chain too deep (engine limit)");
      return st;
    }
    if (st) return verr(err, m->types[i].super == ENG_NO_SUPER - 1 ? "multiple supertypes" : "sub type");
  }
  return HL_STATUS_OK;
}

// Heap subtyping: within one hierarchy (vt_top), the top is above and the bottom below every
// heap type; i31, struct and array are below eq; a concrete type is below its form's abstract
// type (func, struct, array) and below the types of its declared supertype chain (equal types:
// same canon).
static bool idx_sub(const eng_module *m, uint32_t a, uint32_t b) {
  for (uint32_t cb = m->canon[b]; a != ENG_NO_SUPER; a = m->types[a].super)
    if (m->canon[a] == cb) return true;
  return false;
}

bool eng_heap_sub(const eng_module *m, eng_vt a, eng_vt b) {
  uint8_t ka = vt_kind(a), kb = vt_kind(b);
  if (!vt_top(ka) || vt_top(ka) != vt_top(kb)) return false;
  if (vt_is_bottom(ka)) return true;
  if (b & VT_CONCRETE) return (a & VT_CONCRETE) && idx_sub(m, VT_IDX_OF(a), VT_IDX_OF(b));
  if (vt_is_bottom(kb)) return false;
  if (kb == vt_top(kb) || ka == kb) return true;
  return kb == VT_EQREF && (ka == VT_I31REF || ka == VT_STRUCTREF || ka == VT_ARRAYREF);
}

bool eng_vt_sub(const eng_module *m, eng_vt a, eng_vt b) {
  if (a == b || a == VT_UNKNOWN) return true;
  if (!vt_is_ref(a) || !vt_is_ref(b)) return false;
  if ((b & VT_NONNULL) && !(a & VT_NONNULL)) return false;
  return eng_heap_sub(m, a, b);
}

// A field of a sub type matches its supertype's: the same mutability and packed type; an
// immutable one may be a subtype, a mutable one must be equal.
static bool field_sub(const eng_module *m, eng_vt a, uint8_t ma, eng_vt b, uint8_t mb) {
  if (ma != mb) return false;
  if (a == VT_I8 || a == VT_I16 || b == VT_I8 || b == VT_I16) return a == b;
  return eng_vt_sub(m, a, b) && (!ma || eng_vt_sub(m, b, a));
}

// Whether type i's declared supertype is valid for it: not final, the same form, and i's
// composite type matches (function params contravariant and results covariant; struct a prefix
// of fields; array fields). 0 if so, else an error status (LIMIT: the chain is too deep).
static uint32_t sub_ok(const eng_module *m, uint32_t i) {
  eng_functype *t = &m->types[i];
  if (t->super == ENG_NO_SUPER) return HL_STATUS_OK;
  if (t->super == ENG_NO_SUPER - 1) return HL_STATUS_INVALID;
  const eng_functype *u = &m->types[t->super];
  if (u->final || u->kind != t->kind) return HL_STATUS_INVALID;
  if ((t->depth = u->depth + 1) > ENG_MAX_SUBTYPE_DEPTH) return HL_STATUS_LIMIT;
  switch (t->kind) {
  case TK_FUNC:
    if (t->nparams != u->nparams || t->nresults != u->nresults) return HL_STATUS_INVALID;
    for (uint32_t k = 0; k < t->nparams; k++)
      if (!eng_vt_sub(m, u->types[k], t->types[k])) return HL_STATUS_INVALID;
    for (uint32_t k = t->nparams; k < t->nparams + t->nresults; k++)
      if (!eng_vt_sub(m, t->types[k], u->types[k])) return HL_STATUS_INVALID;
    return HL_STATUS_OK;
  default: // struct, array
    if (t->nparams < u->nparams) return HL_STATUS_INVALID;
    for (uint32_t k = 0; k < u->nparams; k++)
      if (!field_sub(m, t->types[k], t->muts[k], u->types[k], u->muts[k])) return HL_STATUS_INVALID;
    return HL_STATUS_OK;
  }
}

#define CBT(n, ty) [OP_##n] = VT_##ty,
static const uint8_t const_bin_type[OP_COUNT] = {HL_CONST_BIN(CBT)}; // operand/result type

// The type of one instruction of a constant expression that pushes a value (not HL_CONST_BIN).
// nglob: the globals it may read (global.get of an immutable one): those before the global it
// initializes, all of them in element and data segments, the imported ones in a table's
// initializer (tables are made before the defined globals).
static uint32_t const_type(eng_module *m, const eng_constexpr *e, uint32_t nglob, eng_vt *t, eng_error *err) {
  *t = e->type;
  if (e->op == OP_REF_I31 || e->op == OP_ANY_CONVERT_EXTERN || e->op == OP_EXTERN_CONVERT_ANY)
    return verr(err, "type mismatch"); // without its operand
  if (e->op == OP_REF_NULL && !vt_ok(e->type, m->ntypes)) return verr(err, "unknown type");
  if (e->op == OP_GLOBAL_GET) {
    if (e->idx >= nglob) return verr(err, "unknown global");
    if (m->globals[e->idx].mut) return verr(err, "constant expression required");
    *t = m->globals[e->idx].type;
  } else if (e->op == OP_REF_FUNC) {
    if (e->idx >= m->nfuncs) return verr(err, "unknown function");
    m->declared_refs[e->idx >> 3] |= (uint8_t)(1u << (e->idx & 7));
    *t = VT_IDX(m->func_types[e->idx]) | VT_NONNULL;
  }
  return HL_STATUS_OK;
}

static uint32_t check_const(eng_module *m, const eng_constexpr *e, uint32_t nglob, eng_vt want, eng_error *err) {
  eng_vt t;
  uint32_t st;
  if (!e->seq) {
    if ((st = const_type(m, e, nglob, &t, err))) return st;
    if (!eng_vt_sub(m, t, want)) return verr(err, "type mismatch");
    return HL_STATUS_OK;
  }
  // extended: a stack of types, as a function body's validation would do
  eng_vt stack[ENG_MAX_CONST_DEPTH];
  uint32_t h = 0;
  for (uint32_t i = 0; i < e->nseq; i++) {
    const eng_constexpr *x = &e->seq[i];
    if (x->op == OP_REF_I31) { // GC: [i32] -> [(ref i31)]
      if (h < 1 || stack[h - 1] != VT_I32) return verr(err, "type mismatch");
      stack[h - 1] = VT_I31REF | VT_NONNULL;
      continue;
    }
    if (x->op == OP_ANY_CONVERT_EXTERN || x->op == OP_EXTERN_CONVERT_ANY) {
      eng_vt in = x->op == OP_ANY_CONVERT_EXTERN ? VT_EXTERNREF : VT_ANYREF;
      if (h < 1 || !eng_vt_sub(m, stack[h - 1], in)) return verr(err, "type mismatch");
      stack[h - 1] = (x->op == OP_ANY_CONVERT_EXTERN ? VT_ANYREF : VT_EXTERNREF) | (stack[h - 1] & VT_NONNULL);
      continue;
    }
    if (x->op == OP_STRUCT_NEW || x->op == OP_STRUCT_NEW_DEFAULT || x->op == OP_ARRAY_NEW ||
        x->op == OP_ARRAY_NEW_DEFAULT || x->op == OP_ARRAY_NEW_FIXED) { // GC allocations
      bool st_ = x->op == OP_STRUCT_NEW || x->op == OP_STRUCT_NEW_DEFAULT;
      if (x->idx >= m->ntypes) return verr(err, "unknown type");
      const eng_functype *ty = &m->types[x->idx];
      if (ty->kind != (st_ ? TK_STRUCT : TK_ARRAY)) return verr(err, "type mismatch");
      for (uint32_t k = 0; k < ty->nparams; k++)
        if (ty->types[k] == VT_V128) {
          eng_set_error(err, HL_STATUS_UNSUPPORTED, "garbage collection (v128 fields in constant expressions)");
          return HL_STATUS_UNSUPPORTED;
        }
      uint64_t npop = x->op == OP_STRUCT_NEW ? ty->nparams : x->op == OP_ARRAY_NEW_FIXED ? x->val : 0;
      bool len = x->op == OP_ARRAY_NEW || x->op == OP_ARRAY_NEW_DEFAULT;
      if ((x->op == OP_STRUCT_NEW_DEFAULT || x->op == OP_ARRAY_NEW_DEFAULT))
        for (uint32_t k = 0; k < ty->nparams; k++)
          if (!vt_defaultable(ty->types[k])) return verr(err, "type mismatch");
      if (len) {
        if (h < 1 || stack[h - 1] != VT_I32) return verr(err, "type mismatch");
        h--;
        if (x->op == OP_ARRAY_NEW) npop = 1;
      }
      if (npop > h) return verr(err, "type mismatch");
      for (uint64_t k = 0; k < npop; k++) {
        eng_vt ft = ty->types[st_ ? ty->nparams - 1 - k : 0];
        if (ft == VT_I8 || ft == VT_I16) ft = VT_I32;
        if (!eng_vt_sub(m, stack[h - 1 - k], ft)) return verr(err, "type mismatch");
      }
      h -= (uint32_t)npop;
      stack[h++] = VT_IDXK(x->idx, st_ ? VT_STRUCTREF : VT_ARRAYREF) | VT_NONNULL;
      continue;
    }
    eng_vt bt = const_bin_type[x->op];
    if (bt) {
      if (h < 2 || stack[h - 1] != bt || stack[h - 2] != bt) return verr(err, "type mismatch");
      h--;
      continue;
    }
    if ((st = const_type(m, x, nglob, &t, err))) return st;
    if (h == ENG_MAX_CONST_DEPTH) {
      eng_set_error(err, HL_STATUS_LIMIT, "constant expression too deep (engine limit)");
      return HL_STATUS_LIMIT;
    }
    stack[h++] = t;
  }
  if (h != 1 || !eng_vt_sub(m, stack[0], want)) return verr(err, "type mismatch");
  return HL_STATUS_OK;
}

uint32_t eng_validate_module(const eng_module *cm, eng_error *err) {
  eng_module *m = (eng_module *)cm;
  uint32_t st;
  if (!(m->declared_refs = eng_xalloc(m->nfuncs / 8 + 1))) {
    eng_set_error(err, HL_STATUS_NO_MEMORY, "out of memory");
    return HL_STATUS_NO_MEMORY;
  }
  if ((st = canon_types(m, err))) return st;
  for (uint32_t i = 0; i < m->nfuncs; i++)
    if (m->func_types[i] >= m->ntypes) return verr(err, "unknown type");
    else if (m->types[m->func_types[i]].kind != TK_FUNC) return verr(err, "type mismatch");
  for (uint32_t i = 0; i < m->nglobals; i++)
    if (!vt_ok(m->globals[i].type, m->ntypes)) return verr(err, "unknown type");
  for (uint32_t i = 0; i < m->ntags; i++) {
    if (m->tag_types[i] >= m->ntypes) return verr(err, "unknown type");
    if (m->types[m->tag_types[i]].kind != TK_FUNC) return verr(err, "type mismatch");
    if (m->types[m->tag_types[i]].nresults) return verr(err, "non-empty tag result type");
  }
  for (uint32_t i = 0; i < m->ntables; i++) {
    const eng_tabletype *t = &m->tables[i];
    const eng_limits_t *l = &t->lim;
    if (!vt_ok(t->elemtype, m->ntypes)) return verr(err, "unknown type");
    if (l->has_max && l->min > l->max) return verr(err, "size minimum must not be greater than maximum");
    // a table of a non-nullable type needs an initializer
    if (!t->has_init && !vt_defaultable(t->elemtype)) return verr(err, "type mismatch");
  }
  for (uint32_t i = 0; i < m->nmems; i++) {
    const eng_limits_t *l = &m->mems[i];
    if (l->is64 && !limits_ok(l, 1ull << 48)) return verr(err, "memory size must be at most 2^48 pages");
    if (!l->is64 && !limits_ok(l, 65536)) return verr(err, "memory size must be at most 65536 pages (4GiB)");
    if (l->has_max && l->min > l->max) return verr(err, "size minimum must not be greater than maximum");
  }
  for (uint32_t i = m->nglobal_imports; i < m->nglobals; i++)
    if ((st = check_const(m, &m->global_inits[i], i, m->globals[i].type, err))) return st;
  for (uint32_t i = m->ntable_imports; i < m->ntables; i++)
    if (m->tables[i].has_init && (st = check_const(m, &m->tables[i].init, m->nglobal_imports, m->tables[i].elemtype, err)))
      return st;
  uint32_t hcap = 8;
  while (hcap < 2 * (uint64_t)m->nexports) hcap *= 2;
  if (!(m->export_hash = eng_xalloc((size_t)hcap * 4))) {
    eng_set_error(err, HL_STATUS_NO_MEMORY, "out of memory");
    return HL_STATUS_NO_MEMORY;
  }
  memset(m->export_hash, 0xff, (size_t)hcap * 4);
  m->export_hash_mask = hcap - 1;
  for (uint32_t i = 0; i < m->nexports; i++) {
    const eng_export *e = &m->exports[i];
    switch (e->kind) {
    case EXT_FUNC:
      if (e->idx >= m->nfuncs) return verr(err, "unknown function");
      m->declared_refs[e->idx >> 3] |= (uint8_t)(1u << (e->idx & 7));
      break;
    case EXT_TABLE: if (e->idx >= m->ntables) return verr(err, "unknown table"); break;
    case EXT_MEM: if (e->idx >= m->nmems) return verr(err, "unknown memory"); break;
    case EXT_GLOBAL: if (e->idx >= m->nglobals) return verr(err, "unknown global"); break;
    case EXT_TAG: if (e->idx >= m->ntags) return verr(err, "unknown tag"); break;
    }
    if (eng_find_export(m, e->name, e->name_len)) return verr(err, "duplicate export name");
    uint32_t h = eng_hash(e->name, e->name_len) & m->export_hash_mask;
    while (m->export_hash[h] != UINT32_MAX) h = (h + 1) & m->export_hash_mask;
    m->export_hash[h] = i;
  }
  if (m->has_start) {
    if (m->start >= m->nfuncs) return verr(err, "unknown function");
    const eng_functype *t = &m->types[m->func_types[m->start]];
    if (t->nparams || t->nresults) return verr(err, "start function");
  }
  for (uint32_t i = 0; i < m->nelems; i++) {
    const eng_elemseg *s = &m->elems[i];
    if (s->mode == SEG_ACTIVE) {
      if (s->table >= m->ntables) return verr(err, "unknown table");
      if ((st = check_const(m, &s->offset, m->nglobals, m->tables[s->table].lim.is64 ? VT_I64 : VT_I32, err))) return st;
      if (!eng_vt_sub(m, s->type, m->tables[s->table].elemtype)) return verr(err, "type mismatch");
    }
    if (!vt_ok(s->type, m->ntypes)) return verr(err, "unknown type");
    for (uint32_t k = 0; k < s->count; k++) {
      uint32_t v = s->items[k];
      eng_constexpr e;
      switch (v & ELEM_TAG) {
      case 0: e = (eng_constexpr){.op = OP_REF_FUNC, .type = VT_FUNCREF, .idx = v}; break;
      case ELEM_GLOBAL: e = (eng_constexpr){.op = OP_GLOBAL_GET, .type = VT_UNKNOWN, .idx = v & ~ELEM_TAG}; break;
      case ELEM_NULL: e = (eng_constexpr){.op = OP_REF_NULL, .type = v & ~ELEM_TAG}; break;
      default: e = s->exprs[v & ~ELEM_TAG]; break; // ELEM_OTHER
      }
      if ((st = check_const(m, &e, m->nglobals, s->type, err))) return st;
    }
  }
  for (uint32_t i = 0; i < m->ndatas; i++) {
    const eng_dataseg *d = &m->datas[i];
    if (d->mode == SEG_ACTIVE) {
      if (d->mem >= m->nmems) return verr(err, "unknown memory");
      if ((st = check_const(m, &d->offset, m->nglobals, m->mems[d->mem].is64 ? VT_I64 : VT_I32, err))) return st;
    }
  }
  return HL_STATUS_OK;
}

// ---------------------------------------------------------------- function compiler
// Output form ("operand slots"): every operand-stack position has a fixed frame slot (its
// natural slot: nlocals + depth), known statically from validation. Instructions name their
// source and destination slots, so local.get/drop need no code (the compiler keeps a virtual
// stack whose entries may still live in a local's slot), and "op; local.set x" writes x directly.
// All pending entries are materialized (flushed) at every control instruction and call, so
// labels, calls and returns always see values in their natural slots.
enum { CK_FUNC, CK_BLOCK, CK_LOOP, CK_IF, CK_ELSE, CK_TRY, CK_CATCH }; // CK_TRY/CATCH: legacy try
#define NOFIX UINT32_MAX
#define MAX_PENDING 32 // bounds the work of flush/protect_local (no quadratic compile time)
#define KSLOT UINT32_MAX // srcs[] value of a pending constant (its value is in kv[])

typedef struct {
  uint8_t kind;
  bool unreachable;
  uint32_t height; // validator operand height at entry (params excluded)
  uint32_t nparams, nresults;
  const eng_vt *params, *results;
  uint32_t ninit; // non-defaultable locals initialized at entry (C.inits)
  uint32_t loop_pc;
  uint32_t fixups;
  uint32_t else_fix;
  uint32_t fuel_pos;
  uint32_t ninstr0;
  // exception handling
  uint32_t handler;    // try_table: its HANDLER's offset (NOFIX otherwise)
  uint32_t tdepth;     // try/try_table blocks around and including this one (HANDLER depth)
  uint32_t try_start, try_end; // legacy try: the body's code range
  uint32_t xslot;      // legacy try: the slot keeping a caught exception (rethrow)
  uint32_t catch_desc; // legacy catch: the current clause's HANDLER
  bool rethrown;       // legacy catch: a rethrow names this catch (its xslot is needed)
  bool catch_all;      // legacy: catch_all seen
} ctl;

typedef struct {
  eng_store *s;
  const eng_module *m;
  const uint32_t *type_ids;
  rd r;
  eng_vt *vals; uint32_t nvals, cap_vals;
  uint32_t *srcs; uint32_t cap_srcs; // slot holding each operand-stack entry (or KSLOT)
  uint64_t *kv;                      // value of each pending-constant entry
  uint32_t npend;                    // entries not in their natural slot...
  uint32_t pend[MAX_PENDING];        // ...their positions, ascending
  ctl *ctls; uint32_t nctls, cap_ctls;
  uint32_t *code; uint32_t ncode, cap_code;
  eng_vt *locals; uint32_t nlocals;
  // Non-defaultable locals (typed references) may be read only once set: linit[i] says so, and
  // inits lists those set since function entry (a block's end forgets the ones set inside it).
  uint8_t *linit; uint32_t *inits; uint32_t ninits;
  eng_vt *bt1; // the single result type of the block at each nesting depth, when not a vt_single
  uint32_t max_height;               // slots
  // Slots (a v128 takes two): locals' slots, and each operand position's slot offset above them.
  uint32_t *lslot; uint32_t nlslots; // slot of each local; slots of all locals
  uint32_t *noff; uint32_t cap_noff; // noff[pos]: slot offset of position pos (valid to nvals)
  uint32_t last_dst, last_end, last_pos; // retargetable destination of the last instruction
  uint32_t copy_pos; // the last COPY, if it ends at ncode and no label is in between (else NOFIX)
  bool fuel;
  const eng_functype *ft;             // the function's type
  uint32_t ninstr;                   // instructions read so far (fuel amounts)
  uint32_t code0;                    // code length before the first instruction (nothing has run)
  uint32_t *hl; uint32_t nhl, cap_hl; // HANDLER offsets, innermost first (eng_func.handlers)
  uint32_t xbase, ntry;              // legacy try: first hidden slot, tries seen so far
} C;

static const eng_vt vt_single[] = {VT_I32, VT_I64, VT_F32, VT_F64, VT_V128, VT_FUNCREF, VT_EXTERNREF, VT_EXNREF,
                                   VT_ANYREF, VT_EQREF, VT_I31REF, VT_NONE, VT_NOFUNC, VT_NOEXTERN, VT_NOEXN};
static const eng_vt *single(eng_vt t) {
  for (unsigned i = 0; i < sizeof vt_single / sizeof vt_single[0]; i++)
    if (vt_single[i] == t) return &vt_single[i];
  return NULL;
}

static bool cerr(C *c, uint32_t status, const char *msg) { return fail(&c->r, status, msg); }
#define INVALID(c, msg) cerr((c), HL_STATUS_INVALID, (msg))

static bool grow(C *c, void **arr, uint32_t *cap, uint32_t need, size_t elem, uint32_t limit) {
  if (need <= *cap) return true;
  if (need > limit) return cerr(c, HL_STATUS_LIMIT, "function too complex (engine limit)");
  uint32_t nc = *cap ? *cap * 2 : 64;
  while (nc < need) nc *= 2;
  if (nc > limit) nc = limit;
  void *p = eng_xrealloc(*arr, (size_t)*cap * elem, (size_t)nc * elem);
  if (!p) return cerr(c, HL_STATUS_NO_MEMORY, "out of memory");
  *arr = p;
  *cap = nc;
  return true;
}

static inline uint32_t natural(const C *c, uint32_t pos) { return c->nlslots + c->noff[pos]; }
static inline uint32_t vt_slots(eng_vt t) { return t == VT_V128 ? 2 : 1; }
static uint32_t types_slots(const eng_vt *ts, uint32_t n) {
  uint32_t k = 0;
  for (uint32_t i = 0; i < n; i++) k += vt_slots(ts[i]);
  return k;
}

static bool emit(C *c, uint32_t w);

static bool emit64(C *c, uint64_t v);

// Copies a value of type t (v128: two slots) from slot src to slot dst. A COPY right after
// another COPY (no label in between: see copy_pos) turns the two into one COPY2.
static bool emit_copy(C *c, uint32_t dst, uint32_t src, eng_vt t) {
  if (t == VT_V128)
    return emit(c, OP_SIMD) && emit(c, dst) && emit(c, SIMD_V128_COPY) && emit(c, src) && emit(c, src) &&
           emit(c, 0) && emit(c, 0) && emit(c, 0);
  if (c->copy_pos != NOFIX && c->copy_pos + 3 == c->ncode && c->code[c->copy_pos] == OP_COPY) {
    c->code[c->copy_pos] = OP_COPY2;
    c->copy_pos = NOFIX;
    return emit(c, dst) && emit(c, src);
  }
  c->copy_pos = c->ncode;
  return emit(c, OP_COPY) && emit(c, dst) && emit(c, src);
}

static bool emit_const(C *c, uint32_t dst, uint64_t v) {
  if (v > UINT32_MAX) return emit(c, OP_I64_CONST) && emit(c, dst) && emit64(c, v);
  return emit(c, OP_I32_CONST) && emit(c, dst) && emit(c, (uint32_t)v);
}

// Emits the code moving entry pos (pending: a local's slot or a constant) to its natural slot.
static bool materialize(C *c, uint32_t pos) {
  uint32_t nat = natural(c, pos), s = c->srcs[pos];
  if (s == KSLOT) {
    if (!emit_const(c, nat, c->kv[pos])) return false;
  } else if (!emit_copy(c, nat, s, c->vals[pos])) {
    return false;
  }
  c->srcs[pos] = nat;
  return true;
}

// ---- operand stack (types + slots)
static bool push_x(C *c, eng_vt t, uint32_t slot, uint64_t k) {
  if (c->nvals >= c->cap_vals) {
    uint32_t cap = c->cap_vals, cap2 = cap;
    if (!grow(c, (void **)&c->vals, &c->cap_vals, c->nvals + 1, sizeof(eng_vt), ENG_MAX_OPERANDS)) return false;
    if (!grow(c, (void **)&c->srcs, &cap2, c->cap_vals, 4, ENG_MAX_OPERANDS)) return false;
    cap2 = cap;
    if (!grow(c, (void **)&c->kv, &cap2, c->cap_vals, 8, ENG_MAX_OPERANDS)) return false;
    if (!grow(c, (void **)&c->noff, &c->cap_noff, c->cap_vals + 1, 4, ENG_MAX_OPERANDS + 1)) return false;
  }
  uint32_t pos = c->nvals, nat = natural(c, pos);
  c->vals[pos] = t;
  c->srcs[pos] = slot;
  c->kv[pos] = k;
  c->noff[pos + 1] = c->noff[pos] + vt_slots(t);
  c->nvals++;
  if (c->noff[c->nvals] > c->max_height) c->max_height = c->noff[c->nvals];
  if (slot != nat) {
    if (c->npend == MAX_PENDING) return materialize(c, pos);
    c->pend[c->npend++] = pos;
  }
  return true;
}
static bool push_at(C *c, eng_vt t, uint32_t slot) { return push_x(c, t, slot, 0); }
static bool push(C *c, eng_vt t) { return push_at(c, t, natural(c, c->nvals)); }

// Pops an entry without materializing it: *slot is its slot, or KSLOT with *k its constant.
static bool pop_k(C *c, eng_vt want, eng_vt *got, uint32_t *slot, uint64_t *k) {
  ctl *f = &c->ctls[c->nctls - 1];
  if (c->nvals == f->height) {
    if (f->unreachable) {
      if (got) *got = want;
      if (slot) *slot = natural(c, c->nvals);
      return true;
    }
    return INVALID(c, "type mismatch");
  }
  eng_vt t = c->vals[--c->nvals];
  uint32_t s = c->srcs[c->nvals];
  if (s != natural(c, c->nvals)) c->npend--; // it is pend[npend - 1]: pending positions are a stack
  if (want && !eng_vt_sub(c->m, t, want)) return INVALID(c, "type mismatch");
  if (got) *got = t ? t : want;
  if (slot) *slot = s;
  if (k) *k = c->kv[c->nvals];
  return true;
}

// Pops an entry; a pending constant is first written to its natural slot.
static bool pop_s(C *c, eng_vt want, eng_vt *got, uint32_t *slot) {
  uint32_t s;
  if (!pop_k(c, want, got, &s, NULL)) return false;
  if (s == KSLOT) {
    if (!materialize(c, c->nvals)) return false;
    s = natural(c, c->nvals);
  }
  if (slot) *slot = s;
  return true;
}
static bool pop(C *c, eng_vt want, eng_vt *got) { return pop_s(c, want, got, NULL); }

static bool pop_n(C *c, const eng_vt *ts, uint32_t n) {
  for (uint32_t i = n; i-- > 0;)
    if (!pop(c, ts[i], NULL)) return false;
  return true;
}

static bool push_n(C *c, const eng_vt *ts, uint32_t n) {
  for (uint32_t i = 0; i < n; i++)
    if (!push(c, ts[i])) return false;
  return true;
}

// ---- code emission
static bool emit(C *c, uint32_t w) {
  if (c->ncode >= c->cap_code &&
      !grow(c, (void **)&c->code, &c->cap_code, c->ncode + 1, 4, ENG_MAX_BODY_BYTES / 4))
    return false;
  c->code[c->ncode++] = w;
  return true;
}
static bool emit64(C *c, uint64_t v) { return emit(c, (uint32_t)v) && emit(c, (uint32_t)(v >> 32)); }

// Emits `op dst` and pushes a result of type t in its natural slot; records dst for retargeting.
static bool emit_dst(C *c, uint32_t op, eng_vt t) {
  uint32_t pos = c->nvals;
  if (!emit(c, op)) return false;
  c->last_dst = c->ncode;
  c->last_pos = pos;
  if (!emit(c, natural(c, pos))) return false;
  return push(c, t);
}
static void mark_end(C *c) { c->last_end = c->ncode; }
static void no_retarget(C *c) { c->last_dst = NOFIX; }

// Moves every pending entry into its natural slot.
static bool flush(C *c) {
  no_retarget(c);
  for (uint32_t k = 0; k < c->npend; k++)
    if (!materialize(c, c->pend[k])) return false;
  c->npend = 0;
  return true;
}

// Before local x is written: entries still reading x get their own copy.
static bool protect_local(C *c, uint32_t x) {
  uint32_t keep = 0;
  for (uint32_t k = 0; k < c->npend; k++) {
    uint32_t i = c->pend[k];
    if (c->srcs[i] == x) {
      uint32_t nat = natural(c, i);
      if (!emit_copy(c, nat, x, c->vals[i])) return false;
      c->srcs[i] = nat;
      no_retarget(c);
    } else {
      c->pend[keep++] = i;
    }
  }
  c->npend = keep;
  return true;
}

static bool push_ctl(C *c, uint8_t kind, uint32_t np, const eng_vt *p, uint32_t nr, const eng_vt *r) {
  if (c->nctls >= c->cap_ctls &&
      !grow(c, (void **)&c->ctls, &c->cap_ctls, c->nctls + 1, sizeof(ctl), ENG_MAX_NESTING))
    return false;
  ctl *f = &c->ctls[c->nctls++];
  f->kind = kind;
  f->unreachable = false;
  f->height = c->nvals;
  f->nparams = np; f->params = p;
  f->nresults = nr; f->results = r;
  f->ninit = c->ninits;
  f->loop_pc = 0;
  f->fixups = NOFIX;
  f->else_fix = NOFIX;
  f->fuel_pos = NOFIX;
  f->ninstr0 = 0;
  f->handler = NOFIX;
  f->tdepth = c->nctls > 1 ? c->ctls[c->nctls - 2].tdepth : 0;
  f->try_start = f->try_end = 0;
  f->xslot = HL_NO_SLOT;
  f->catch_desc = NOFIX;
  f->rethrown = f->catch_all = false;
  return push_n(c, p, np);
}

static void set_unreachable(C *c) {
  ctl *f = &c->ctls[c->nctls - 1];
  while (c->nvals > f->height) pop_k(c, VT_UNKNOWN, NULL, NULL, NULL);
  f->unreachable = true;
}

static void patch(C *c, uint32_t list, uint32_t target) {
  while (list != NOFIX) {
    uint32_t next = c->code[list];
    c->code[list] = target;
    list = next;
  }
}

// label arity/types of ctl
static uint32_t label_n(const ctl *f) { return f->kind == CK_LOOP ? f->nparams : f->nresults; }
static const eng_vt *label_t(const ctl *f) { return f->kind == CK_LOOP ? f->params : f->results; }

// Makes the word at pos a branch target for label f.
static void set_target(C *c, ctl *f, uint32_t pos) {
  if (f->kind == CK_LOOP) {
    c->code[pos] = f->loop_pc;
  } else {
    c->code[pos] = f->fixups;
    f->fixups = pos;
  }
}

// Emits a branch target word for label f.
static bool emit_target(C *c, ctl *f) {
  if (f->kind == CK_LOOP) return emit(c, f->loop_pc);
  uint32_t pos = c->ncode;
  if (!emit(c, f->fixups)) return false;
  f->fixups = pos;
  return true;
}

// The block type of a block/loop/if immediate (rd_imm IMM_BLOCKTYPE): params and results.
static bool block_type(C *c, const eng_imm *im, uint32_t *np, const eng_vt **p, uint32_t *nr,
                       const eng_vt **r) {
  *np = 0; *p = NULL; *nr = 0; *r = NULL;
  if (im->ty == VT_BLOCK_EMPTY) return true;
  if (im->ty) {
    *nr = 1;
    if ((*r = single(im->ty))) return true;
    // a typed reference: kept at this block's depth (the block is pushed next)
    if (!vt_ok(im->ty, c->m->ntypes)) return INVALID(c, "unknown type");
    if (c->nctls >= ENG_MAX_NESTING) return cerr(c, HL_STATUS_LIMIT, "function too complex (engine limit)");
    if (!c->bt1 && !(c->bt1 = eng_xalloc(ENG_MAX_NESTING * sizeof(eng_vt))))
      return cerr(c, HL_STATUS_NO_MEMORY, "out of memory");
    c->bt1[c->nctls] = im->ty;
    *r = &c->bt1[c->nctls];
    return true;
  }
  if (im->a >= c->m->ntypes) return INVALID(c, "unknown type");
  const eng_functype *t = &c->m->types[im->a];
  if (t->kind != TK_FUNC) return INVALID(c, "type mismatch");
  *np = t->nparams; *p = t->types;
  *nr = t->nresults; *r = t->types + t->nparams;
  return true;
}

// Validates a memarg immediate (rd_imm IMM_MEMARG: a = align, b = offset).
// Validates a memarg immediate (rd_imm IMM_MEMARG: a = align, b/v = offset, m = memory): *at
// gets the address type, *mw the memory word of the _M forms (MEM_FAR for an offset of 2^32 or
// more), *slow whether the access needs them (a memory other than 0, or a 64-bit one).
static bool check_memarg(C *c, const eng_imm *im, uint32_t natural_align, eng_vt *at, uint32_t *mw,
                         bool *slow) {
  if (im->m >= c->m->nmems) return INVALID(c, "unknown memory");
  if (im->a > natural_align) return INVALID(c, "alignment must not be larger than natural");
  bool is64 = c->m->mems[im->m].is64;
  if (!is64 && im->v > UINT32_MAX) return INVALID(c, "offset out of range");
  *at = is64 ? VT_I64 : VT_I32;
  *mw = im->m | (im->v > UINT32_MAX ? MEM_FAR : 0);
  *slow = im->m != 0 || is64;
  return true;
}

// A memory index: *at gets its address type.
static bool need_mem(C *c, uint32_t mem, eng_vt *at) {
  if (mem >= c->m->nmems) return INVALID(c, "unknown memory");
  *at = c->m->mems[mem].is64 ? VT_I64 : VT_I32;
  return true;
}

static bool need_table(C *c, uint32_t t) {
  if (t >= c->m->ntables) return INVALID(c, "unknown table");
  return true;
}

static bool is_num(eng_vt t) { return t == VT_I32 || t == VT_I64 || t == VT_F32 || t == VT_F64 || t == VT_V128; }

// A block (or an if's branch, a catch clause) ends: the locals set inside are uninitialized again.
static void reset_inits(C *c, const ctl *f) {
  while (c->ninits > f->ninit) c->linit[c->inits[--c->ninits]] = 0;
}

// Pops three operands of types dt, st, nt (d, s, n order on the stack) and returns their slots.
static bool pop3(C *c, eng_vt dt, eng_vt st, eng_vt nt, uint32_t *d, uint32_t *s, uint32_t *n) {
  return pop_s(c, nt, NULL, n) && pop_s(c, st, NULL, s) && pop_s(c, dt, NULL, d);
}

// A table's index type: i64 for a 64-bit table (memory64), else i32.
static eng_vt table_at(const eng_module *m, uint32_t t) { return m->tables[t].lim.is64 ? VT_I64 : VT_I32; }

// If the last instruction is a fusable i32 compare whose result (in slot cond) is the branch
// condition, returns the position of its opcode word (and *end the code length after it).
static uint32_t fusable(C *c, uint32_t cond, uint32_t *end) {
  if (c->last_dst == NOFIX || c->last_end != c->ncode || c->code[c->last_dst] != cond ||
      cond != natural(c, c->nvals))
    return NOFIX;
  uint32_t op = c->code[c->last_dst - 1];
  if (!brif_of[op]) return NOFIX;
  *end = c->ncode;
  return c->last_dst - 1;
}

// If the last instruction is an inner op of HL_FUSED_BIN/HL_FUSED_LD whose result (a temporary)
// is operand s2 (or s1, for a commutative outer op) of binary op `op`, returns the fused opcode and
// the other operand's slot in *a; else 0. (The operands are popped: s1's position is c->nvals.)
static uint32_t fuse_bin(C *c, uint32_t op, uint32_t s1, uint32_t s2, uint32_t *a) {
  if (c->last_dst == NOFIX || c->last_end != c->ncode) return 0;
  uint32_t prev = c->code[c->last_dst], inner = c->code[c->last_dst - 1];
  bool right = prev == s2 && c->last_pos == c->nvals + 1 && s2 == natural(c, c->nvals + 1);
  bool left = !right && prev == s1 && c->last_pos == c->nvals && s1 == natural(c, c->nvals);
  if (!right && !left) return 0;
  for (unsigned k = 0; k < sizeof fused_bin / sizeof fused_bin[0]; k++)
    if (fused_bin[k].outer == op && fused_bin[k].inner == inner && (right || fused_bin[k].comm)) {
      *a = right ? s1 : s2;
      return fused_bin[k].fused;
    }
  return 0;
}

#define E(w) do { if (!emit(c, (w))) return false; } while (0)
// The innermost control frame, and whether the current instruction is reachable.
#define TOP(c) (&(c)->ctls[(c)->nctls - 1])
#define LIVE(c) (!TOP(c)->unreachable)

// One 0xFD-prefixed instruction (the prefix byte is consumed): validation and emission of
// OP_SIMD dst sub a b c x y [data] (simd.h), driven by the HL_SIMD_OPS table's kinds.
static bool compile_simd(C *c) {
  const bool live = LIVE(c);
  uint32_t sub, a = 0, s1 = 0, s2 = 0, s3 = 0, x = 0, y = 0;
  if (!rd_u32(&c->r, &sub)) return false;
  uint8_t k = eng_simd_kind(sub, &a);
  if (!k) return simd_illegal(&c->r, sub);
  eng_imm im = {0};
  if (!rd_imm(&c->r, simd_imm(k), &im)) return false;
  eng_vt out = VT_V128, lt = (uint8_t)(a >> 8);
  const uint8_t *data = NULL;
  switch (k) {
  case SK_LOAD: case SK_STORE: case SK_LOADLANE: case SK_STORELANE: {
    eng_vt at;
    uint32_t mw;
    bool slow;
    if (!check_memarg(c, &im, a, &at, &mw, &slow)) return false;
    x = im.b;
    if (k == SK_LOADLANE || k == SK_STORELANE) {
      if (im.t >= (16u >> a)) return INVALID(c, "invalid lane index");
      y = im.t;
    }
    if (k != SK_LOAD && !pop_s(c, VT_V128, NULL, &s2)) return false;
    if (!pop_s(c, at, NULL, &s1)) return false;
    s3 = slow || (mw & MEM_FAR) ? mw | MEM_SEL : 0; // the memory word (simd.c)
    if (k == SK_STORE || k == SK_STORELANE) out = VT_UNKNOWN;
    break;
  }
  case SK_CONST: data = im.p; break;
  case SK_SHUFFLE:
    data = im.p;
    for (int i = 0; i < 16; i++)
      if (data[i] >= 32) return INVALID(c, "invalid lane index");
    if (!pop_s(c, VT_V128, NULL, &s2) || !pop_s(c, VT_V128, NULL, &s1)) return false;
    break;
  case SK_EXTRACT: case SK_REPLACE:
    if (im.t >= (a & 0xff)) return INVALID(c, "invalid lane index");
    x = im.t;
    if (k == SK_REPLACE && !pop_s(c, lt, NULL, &s2)) return false;
    if (!pop_s(c, VT_V128, NULL, &s1)) return false;
    if (k == SK_EXTRACT) out = lt;
    break;
  case SK_SPLAT: if (!pop_s(c, lt, NULL, &s1)) return false; break;
  case SK_UN: case SK_TEST:
    if (!pop_s(c, VT_V128, NULL, &s1)) return false;
    s2 = s1;
    if (k == SK_TEST) out = VT_I32;
    break;
  case SK_BIN: if (!pop_s(c, VT_V128, NULL, &s2) || !pop_s(c, VT_V128, NULL, &s1)) return false; break;
  case SK_TERN:
    if (!pop_s(c, VT_V128, NULL, &s3) || !pop_s(c, VT_V128, NULL, &s2) || !pop_s(c, VT_V128, NULL, &s1))
      return false;
    break;
  case SK_SHIFT: if (!pop_s(c, VT_I32, NULL, &s2) || !pop_s(c, VT_V128, NULL, &s1)) return false; break;
  default: return cerr(c, HL_STATUS_MALFORMED, "illegal opcode");
  }
  if (!live) return out == VT_UNKNOWN || push(c, out);
  if (out == VT_UNKNOWN) {
    E(OP_SIMD); E(0);
    no_retarget(c);
  } else if (!emit_dst(c, OP_SIMD, out)) {
    return false;
  }
  E(sub); E(s1); E(s2); E(s3); E(x); E(y);
  if (data) {
    for (int i = 0; i < 4; i++) {
      uint32_t w;
      memcpy(&w, data + 4 * i, 4);
      E(w);
    }
  }
  if (out != VT_UNKNOWN) mark_end(c);
  return true;
}

// ---- numeric: the N1/N2/T1/T2/FN1 rows (stack signature from the table)
static bool compile_numeric(C *c, uint32_t op) {
  const ctl *top = TOP(c);
  const bool live = !top->unreachable;
  const uint8_t *sg = sigs[op];
  uint32_t s1, s2;
  if (sg[0] == K_UN) {
    if (!pop_s(c, sg[1], NULL, &s1)) return false;
    if (!live) return push(c, sg[3]);
    if (!emit_dst(c, op, sg[3])) return false;
    E(s1);
    mark_end(c);
    return true;
  }
  uint64_t k = 0;
  bool use_imm = imm_of[op] && c->nvals > top->height && c->srcs[c->nvals - 1] == KSLOT;
  if (!(use_imm ? pop_k(c, sg[2], NULL, &s2, &k) : pop_s(c, sg[2], NULL, &s2))) return false;
  if (!pop_s(c, sg[1], NULL, &s1)) return false;
  if (!live) return push(c, sg[3]);
  if (s2 == KSLOT) { // constant right operand: the _IMM form
    if (!emit_dst(c, imm_of[op], sg[3])) return false;
    E(s1);
    if (sg[2] == VT_I64 || sg[2] == VT_F64) { if (!emit64(c, k)) return false; } else E((uint32_t)k);
  } else {
    uint32_t a = 0, fz = fuse_bin(c, op, s1, s2, &a);
    if (fz) { // "inner; op": one instruction writing op's natural slot (the temporary dies)
      c->code[c->last_dst - 1] = fz;
      c->code[c->last_dst] = natural(c, c->nvals);
      c->last_pos = c->nvals;
      E(a);
      if (!push(c, sg[3])) return false;
    } else {
      if (!emit_dst(c, op, sg[3])) return false;
      E(s1); E(s2);
    }
  }
  mark_end(c);
  return true;
}

// ---- memory: loads, stores (LD/ST rows), memory.size/grow/init/copy/fill, data.drop
static bool compile_load(C *c, uint32_t op, const eng_imm *im) {
  const bool live = LIVE(c);
  const uint8_t *sg = sigs[op];
  uint32_t s1, off = im->b, mw;
  eng_vt at;
  bool slow;
  if (!check_memarg(c, im, sg[2], &at, &mw, &slow)) return false;
  if (!pop_s(c, at, NULL, &s1)) return false;
  if (!live) return push(c, sg[1]);
  if (slow || (mw & MEM_FAR)) { // multi-memory, memory64
    if (!emit_dst(c, OP_LOAD_M, sg[1])) return false;
    E(s1); E(off); E(mw); E(op);
    mark_end(c);
    return true;
  }
  if (c->last_dst != NOFIX && c->last_end == c->ncode && c->code[c->last_dst] == s1 &&
      s1 == natural(c, c->nvals) && c->code[c->last_dst - 1] == OP_I32_ADD_IMM) {
    // "i32.add (x) (i32.const k); load": one instruction; its dst is the same slot
    c->code[c->last_dst - 1] = ldx_of[op];
    c->last_pos = c->nvals;
    E(off);
    if (!push(c, sg[1])) return false;
    mark_end(c);
    return true;
  }
  if (!emit_dst(c, op, sg[1])) return false;
  E(s1); E(off);
  mark_end(c);
  return true;
}

static bool compile_store(C *c, uint32_t op, const eng_imm *im) {
  const bool live = LIVE(c);
  const uint8_t *sg = sigs[op];
  uint32_t s1, s2, mw;
  eng_vt at;
  bool slow;
  if (!check_memarg(c, im, sg[2], &at, &mw, &slow)) return false;
  if (!pop_s(c, sg[1], NULL, &s2) || !pop_s(c, at, NULL, &s1)) return false;
  if (live && (slow || (mw & MEM_FAR))) { E(OP_STORE_M); E(s1); E(s2); E(im->b); E(mw); E(op); }
  else if (live) { E(op); E(s1); E(s2); E(im->b); }
  no_retarget(c);
  return true;
}

static bool compile_memory(C *c, uint32_t op, const eng_imm *im) {
  const eng_module *m = c->m;
  const bool live = LIVE(c);
  uint32_t s1, s2, s3;
  eng_vt at, at2 = VT_I32;
  switch (op) {
  case OP_MEMORY_SIZE: case OP_MEMORY_GROW: {
    if (!need_mem(c, im->m, &at)) return false;
    if (op == OP_MEMORY_GROW && !pop_s(c, at, NULL, &s1)) return false;
    if (!live) return push(c, at);
    bool slow = im->m || at == VT_I64;
    if (slow) op = op == OP_MEMORY_SIZE ? OP_MEMORY_SIZE_M : OP_MEMORY_GROW_M;
    if (!emit_dst(c, op, at)) return false;
    if (op == OP_MEMORY_GROW || op == OP_MEMORY_GROW_M) E(s1);
    if (slow) E(im->m);
    mark_end(c);
    return true;
  }
  case OP_MEMORY_INIT: case OP_DATA_DROP: {
    uint32_t seg = im->a;
    if (!m->has_datacount && m->ndatas) return cerr(c, HL_STATUS_MALFORMED, "data count section required");
    if (op == OP_MEMORY_INIT && !need_mem(c, im->m, &at)) return false;
    if (seg >= m->ndatas) return INVALID(c, "unknown data segment");
    if (op == OP_MEMORY_INIT) {
      if (!pop_s(c, VT_I32, NULL, &s3) || !pop_s(c, VT_I32, NULL, &s2) || !pop_s(c, at, NULL, &s1)) return false;
      bool slow = im->m || at == VT_I64;
      if (live) { E(slow ? OP_MEMORY_INIT_M : op); E(seg); E(s1); E(s2); E(s3); }
      if (live && slow) E(im->m);
    } else if (live) { E(op); E(seg); }
    no_retarget(c);
    return true;
  }
  default: { // memory.copy (destination .m, source .b), memory.fill
    if (!need_mem(c, im->m, &at) || (op == OP_MEMORY_COPY && !need_mem(c, im->b, &at2))) return false;
    // copy: d has the destination's address type, s the source's, n the smaller one; fill: d
    // and n the memory's, the value i32
    eng_vt tn = op == OP_MEMORY_COPY ? (at == VT_I64 && at2 == VT_I64 ? VT_I64 : VT_I32) : at;
    eng_vt ts = op == OP_MEMORY_COPY ? at2 : VT_I32;
    if (!pop_s(c, tn, NULL, &s3) || !pop_s(c, ts, NULL, &s2) || !pop_s(c, at, NULL, &s1)) return false;
    bool slow = im->m || at == VT_I64 || (op == OP_MEMORY_COPY && (im->b || at2 == VT_I64));
    if (live && op == OP_MEMORY_COPY && slow) { E(OP_MEMORY_COPY_M); E(s1); E(s2); E(s3); E(im->m); E(im->b); }
    else if (live && op == OP_MEMORY_FILL && slow) { E(OP_MEMORY_FILL_M); E(s1); E(s2); E(s3); E(im->m); }
    else if (live) { E(op); E(s1); E(s2); E(s3); }
    no_retarget(c);
    return true;
  }
  }
}

// ---- control: block, loop, if, else, end, br, br_if, br_table, return, unreachable
static bool compile_block(C *c, uint32_t op, const eng_imm *im) {
  const bool live = LIVE(c);
  uint32_t np, nr, s1 = 0;
  const eng_vt *p, *r;
  if (!block_type(c, im, &np, &p, &nr, &r)) return false;
  uint32_t fuse = NOFIX, fuse_end = 0;
  if (op == OP_IF) {
    if (!pop_s(c, VT_I32, NULL, &s1)) return false;
    fuse = fusable(c, s1, &fuse_end);
  }
  if (!flush(c)) return false; // block params stay in their natural slots
  if (!pop_n(c, p, np)) return false;
  uint32_t else_pos = NOFIX;
  if (op == OP_IF && live) {
    uint32_t cmp = fuse != NOFIX && c->ncode == fuse_end ? c->code[fuse] : 0;
    if (cmp == OP_I32_EQZ || (cmp && neg_cmp[cmp])) { // the compare becomes the branch
      c->code[fuse] = cmp == OP_I32_EQZ ? OP_BR_IF_NZ : brif_of[neg_cmp[cmp]];
      else_pos = fuse + 1;
      c->code[else_pos] = NOFIX;
    } else {
      E(OP_BR_UNLESS); E(NOFIX); E(s1);
      else_pos = c->ncode - 2;
    }
  }
  if (!push_ctl(c, op == OP_BLOCK ? CK_BLOCK : op == OP_LOOP ? CK_LOOP : CK_IF, np, p, nr, r))
    return false;
  ctl *f = TOP(c);
  f->else_fix = else_pos;
  if (op == OP_LOOP) {
    f->loop_pc = c->ncode; // the loop's FUEL op (if any) runs on every iteration
    f->ninstr0 = c->ninstr;
    if (c->fuel) {
      E(OP_FUEL); E(1);
      f->fuel_pos = c->ncode - 1;
    }
  }
  return true;
}

static bool compile_else(C *c) {
  ctl *top = TOP(c);
  const bool live = !top->unreachable;
  if (top->kind != CK_IF) return INVALID(c, "else without if");
  if (!flush(c)) return false;
  if (!pop_n(c, top->results, top->nresults)) return false;
  if (c->nvals != top->height) return INVALID(c, "type mismatch");
  if (live) {
    uint32_t pos = c->ncode + 1;
    E(OP_JMP); E(top->fixups);
    top->fixups = pos;
  }
  if (top->else_fix != NOFIX) c->code[top->else_fix] = c->ncode;
  top->else_fix = NOFIX;
  top->kind = CK_ELSE;
  reset_inits(c, top);
  top->unreachable = false;
  return push_n(c, top->params, top->nparams);
}

// ---- exception handling: try_table, throw, throw_ref; legacy try, catch, catch_all, delegate,
// rethrow. Each try body gets HANDLER descriptors (opcodes.h) listed in c->hl, innermost first:
// a try_table's when its end is compiled, a legacy try's one per catch clause (and delegate).
static bool compile_end(C *c, bool *done);

static bool add_handler(C *c, uint32_t pos) {
  if (!grow(c, (void **)&c->hl, &c->cap_hl, c->nhl + 1, 4, ENG_MAX_BODY_BYTES / 4)) return false;
  c->hl[c->nhl++] = pos;
  return true;
}

// A legacy catch clause ends: without a rethrow naming it, its exception need not be kept.
static void finish_catch(C *c, ctl *f) {
  if (!f->rethrown && f->catch_desc != NOFIX) c->code[f->catch_desc + 10] = HL_NO_SLOT;
}

static bool need_tag(C *c, uint32_t x, const eng_functype **t) {
  if (x >= c->m->ntags) return INVALID(c, "unknown tag");
  *t = &c->m->types[c->m->tag_types[x]];
  return true;
}

// Checks that label f takes the values a catch clause of kind k (tag type t) delivers.
static bool check_catch_label(C *c, const ctl *f, uint8_t k, const eng_functype *t) {
  uint32_t n = label_n(f), want = (k <= HL_CATCH_REF ? t->nparams : 0) + (k & 1);
  const eng_vt *lt = label_t(f);
  if (n != want) return INVALID(c, "type mismatch");
  for (uint32_t i = 0; i < n; i++) {
    eng_vt w = (k & 1) && i == n - 1 ? VT_EXNREF | VT_NONNULL : t->types[i];
    if (!eng_vt_sub(c->m, w, lt[i])) return INVALID(c, "type mismatch");
  }
  return true;
}

static bool compile_try_table(C *c, const eng_imm *im) {
  const bool live = LIVE(c);
  uint32_t np, nr, hpos = NOFIX;
  const eng_vt *p, *r;
  if (!block_type(c, im, &np, &p, &nr, &r)) return false;
  if (!flush(c)) return false;
  if (!pop_n(c, p, np)) return false;
  if (live) {
    hpos = c->ncode;
    E(OP_HANDLER); E(0); E(0); E(TOP(c)->tdepth + 1); E(HL_NO_SLOT); E(im->b);
  }
  rd cr = {im->p, c->r.end, c->r.err, 0, NULL, 0}; // the clauses (read once by rd_imm: they decode)
  for (uint32_t i = 0; i < im->b; i++) {
    uint8_t k;
    uint32_t tag = 0, l;
    const eng_functype *t = NULL;
    if (!rd_byte(&cr, &k)) return false;
    if (k <= HL_CATCH_REF && (!rd_u32(&cr, &tag) || !need_tag(c, tag, &t))) return false;
    if (!rd_u32(&cr, &l)) return false;
    if (l >= c->nctls) return INVALID(c, "unknown label");
    ctl *f = &c->ctls[c->nctls - 1 - l];
    if (!check_catch_label(c, f, k, t)) return false;
    if (live) {
      E(k); E(tag);
      if (!emit_target(c, f)) return false;
      E(natural(c, f->height)); E(HL_NO_SLOT);
    }
  }
  if (!push_ctl(c, CK_BLOCK, np, p, nr, r)) return false;
  ctl *f = TOP(c);
  f->tdepth++;
  if (live) {
    f->handler = hpos;
    c->code[hpos + 1] = c->ncode; // the body starts here
  }
  return true;
}

static bool compile_try(C *c, const eng_imm *im) {
  uint32_t np, nr;
  const eng_vt *p, *r;
  if (!block_type(c, im, &np, &p, &nr, &r)) return false;
  if (!flush(c)) return false;
  if (!pop_n(c, p, np)) return false;
  if (c->ntry == UINT32_MAX) return INVALID(c, "type mismatch"); // not reached (counted by scan_body)
  if (!push_ctl(c, CK_TRY, np, p, nr, r)) return false;
  ctl *f = TOP(c);
  f->tdepth++;
  f->try_start = c->ncode;
  f->xslot = c->xbase + c->ntry++;
  return true;
}

// catch x / catch_all of a legacy try: the body (or the previous clause) ends with a jump to the
// end, then this clause's HANDLER, then its code (starting with the payload in natural slots).
static bool compile_catch(C *c, uint32_t op, const eng_imm *im) {
  ctl *top = TOP(c);
  const bool live = !top->unreachable;
  const eng_functype *t = NULL;
  if (top->kind != CK_TRY && top->kind != CK_CATCH) return INVALID(c, "catch without try");
  if (top->catch_all) return INVALID(c, op == OP_CATCH ? "catch after catch_all" : "catch_all after catch_all");
  if (op == OP_CATCH && !need_tag(c, im->a, &t)) return false;
  if (!flush(c)) return false;
  if (!pop_n(c, top->results, top->nresults)) return false;
  if (c->nvals != top->height) return INVALID(c, "type mismatch");
  if (top->kind == CK_TRY) top->try_end = c->ncode;
  else finish_catch(c, top);
  if (live) {
    uint32_t pos = c->ncode + 1;
    E(OP_JMP); E(top->fixups);
    top->fixups = pos;
  }
  uint32_t d = c->ncode;
  E(OP_HANDLER); E(top->try_start); E(top->try_end); E(top->tdepth); E(HL_NO_SLOT); E(1);
  E(op == OP_CATCH ? HL_CATCH : HL_CATCH_ALL); E(op == OP_CATCH ? im->a : 0);
  E(d + 1 + HL_W_HANDLER(1)); E(natural(c, top->height)); E(top->xslot);
  if (!add_handler(c, d)) return false;
  top->catch_desc = d;
  top->rethrown = false;
  top->catch_all = op == OP_CATCH_ALL;
  top->kind = CK_CATCH;
  reset_inits(c, top);
  top->unreachable = false;
  return op == OP_CATCH_ALL || push_n(c, t->types, t->nparams);
}

// delegate l: the try ends; an exception from its body is handled as if thrown at label l
// (counted from outside the try): the search resumes among the handlers around that block.
static bool compile_delegate(C *c, const eng_imm *im, bool *done) {
  ctl *top = TOP(c);
  if (top->kind != CK_TRY) return INVALID(c, "delegate without try");
  if (im->a + 1 >= c->nctls) return INVALID(c, "unknown label");
  if (!flush(c)) return false;
  uint32_t d = c->ncode;
  E(OP_HANDLER); E(top->try_start); E(c->ncode); E(top->tdepth); E(c->ctls[c->nctls - 2 - im->a].tdepth); E(0);
  c->code[d + 2] = d; // the body ends before this HANDLER
  if (!add_handler(c, d)) return false;
  return compile_end(c, done);
}

static bool compile_throw(C *c, uint32_t op, const eng_imm *im) {
  const bool live = LIVE(c);
  uint32_t s1 = 0;
  if (op == OP_THROW) {
    const eng_functype *t;
    if (!need_tag(c, im->a, &t)) return false;
    if (!flush(c)) return false;
    if (!pop_n(c, t->types, t->nparams)) return false;
    if (live) { E(OP_THROW); E(im->a); E(natural(c, c->nvals)); }
  } else if (op == OP_THROW_REF) {
    if (!flush(c)) return false;
    if (!pop_s(c, VT_EXNREF, NULL, &s1)) return false;
    if (live) { E(OP_THROW_REF); E(s1); }
  } else { // rethrow l: l names a legacy catch clause
    if (im->a >= c->nctls) return INVALID(c, "unknown label");
    ctl *f = &c->ctls[c->nctls - 1 - im->a];
    if (f->kind != CK_CATCH) return INVALID(c, "invalid rethrow label");
    if (!flush(c)) return false;
    if (live) { E(OP_RETHROW); E(f->xslot); }
    f->rethrown = true;
  }
  no_retarget(c);
  set_unreachable(c);
  return true;
}

// *done: this was the function's final end.
static bool compile_end(C *c, bool *done) {
  ctl *top = TOP(c);
  if (!flush(c)) return false;
  if (!pop_n(c, top->results, top->nresults)) return false;
  if (c->nvals != top->height) return INVALID(c, "type mismatch");
  if (top->kind == CK_IF) { // no else: the params are the results
    if (top->nparams != top->nresults) return INVALID(c, "type mismatch");
    for (uint32_t k = 0; k < top->nparams; k++)
      if (!eng_vt_sub(c->m, top->params[k], top->results[k])) return INVALID(c, "type mismatch");
  }
  reset_inits(c, top);
  if (top->else_fix != NOFIX) c->code[top->else_fix] = c->ncode;
  if (top->fuel_pos != NOFIX) c->code[top->fuel_pos] = c->ninstr - top->ninstr0 + 1;
  if (top->kind == CK_CATCH) finish_catch(c, top);
  if (top->handler != NOFIX) { // try_table: its body ends here
    c->code[top->handler + 2] = c->ncode;
    if (!add_handler(c, top->handler)) return false;
  }
  patch(c, top->fixups, c->ncode);
  if (top->kind == CK_FUNC) {
    E(OP_RETURN_X); E(types_slots(top->results, top->nresults)); E(c->nlslots);
    if (c->r.p != c->r.end) return cerr(c, HL_STATUS_MALFORMED, "section size mismatch");
    *done = true;
    return true;
  }
  uint32_t nr = top->nresults;
  const eng_vt *r = top->results;
  c->nctls--;
  return push_n(c, r, nr);
}

static bool compile_br(C *c, uint32_t op, const eng_imm *im) {
  const bool live = LIVE(c);
  uint32_t l = im->a, s1 = 0;
  if (l >= c->nctls) return INVALID(c, "unknown label");
  uint32_t fuse = NOFIX, fuse_end = 0;
  if (op == OP_BR_IF) {
    if (!pop_s(c, VT_I32, NULL, &s1)) return false;
    fuse = fusable(c, s1, &fuse_end);
  }
  if (!flush(c)) return false;
  ctl *f = &c->ctls[c->nctls - 1 - l];
  uint32_t n = label_n(f);
  uint32_t cur = natural(c, c->nvals), h = natural(c, f->height);
  if (!pop_n(c, label_t(f), n)) return false;
  if (live) {
    uint32_t ns = cur - natural(c, c->nvals); // slots
    bool plain = cur - ns == h || ns == 0;
    if (op == OP_BR) {
      E(plain ? OP_JMP : OP_BR_MOVE);
      if (!emit_target(c, f)) return false;
    } else if (plain && fuse != NOFIX && c->ncode == fuse_end && brif_of[c->code[fuse]]) {
      c->code[fuse] = brif_of[c->code[fuse]]; // compare + br_if in one instruction
      set_target(c, f, fuse + 1);
    } else {
      E(plain ? OP_BR_IF_NZ : OP_BR_IF_MOVE);
      if (!emit_target(c, f)) return false;
      E(s1);
    }
    if (!plain) { E(h); E(cur - ns); E(ns); }
  }
  if (op == OP_BR) set_unreachable(c);
  else if (!push_n(c, label_t(f), n)) return false;
  return true;
}

// br_on_null l: [t* (ref null ht)] -> [t* (ref ht)], branching to l (which takes t*) on null;
// br_on_non_null l: [t* (ref null ht)] -> [t*], branching to l (which takes t* (ref ht)) with the
// reference when it is not null.
static bool compile_br_on_null(C *c, uint32_t op, const eng_imm *im) {
  const bool live = LIVE(c);
  uint32_t l = im->a, s1;
  eng_vt t;
  if (l >= c->nctls) return INVALID(c, "unknown label");
  if (!flush(c)) return false;
  if (!pop_s(c, VT_UNKNOWN, &t, &s1)) return false;
  if (t && !vt_is_ref(t)) return INVALID(c, "type mismatch");
  eng_vt nn = t ? t | VT_NONNULL : VT_UNKNOWN;
  ctl *f = &c->ctls[c->nctls - 1 - l];
  uint32_t n = label_n(f);
  const eng_vt *lt = label_t(f);
  if (op == OP_BR_ON_NON_NULL) {
    if (n == 0 || !eng_vt_sub(c->m, nn, lt[n - 1])) return INVALID(c, "type mismatch");
    if (!push_at(c, nn, s1)) return false; // the reference is part of the branch's values
  }
  uint32_t k = op == OP_BR_ON_NON_NULL ? n - 1 : n; // values below the reference
  uint32_t cur = natural(c, c->nvals), h = natural(c, f->height);
  if (!pop_n(c, lt, n)) return false;
  if (live) {
    uint32_t ns = cur - natural(c, c->nvals);
    E(op);
    if (!emit_target(c, f)) return false;
    E(s1); E(h); E(cur - ns); E(ns);
  }
  if (!push_n(c, lt, k)) return false;
  no_retarget(c);
  return op == OP_BR_ON_NON_NULL || push_at(c, nn, live ? s1 : natural(c, c->nvals));
}

static bool compile_br_table(C *c, const eng_imm *im) {
  const bool live = LIVE(c);
  uint32_t n = im->a, ldef = im->b, s1;
  if (!pop_s(c, VT_I32, NULL, &s1)) return false;
  if (!flush(c)) return false;
  if (ldef >= c->nctls) return INVALID(c, "unknown label");
  uint32_t arity = label_n(&c->ctls[c->nctls - 1 - ldef]);
  uint32_t src = arity <= c->nvals ? natural(c, c->nvals - arity) : 0;
  uint32_t arity_slots = natural(c, c->nvals) - src;
  if (live) { E(OP_BR_TABLE_X); E(s1); E(n); E(arity_slots); E(src); }
  rd lr = {im->p, c->r.end, c->r.err, 0, NULL, 0}; // the labels (read once by rd_imm: they decode)
  for (uint32_t i = 0; i <= n; i++) {
    uint32_t l;
    if (i < n) { if (!rd_u32(&lr, &l)) return false; } else l = ldef;
    if (l >= c->nctls) return INVALID(c, "unknown label");
    ctl *f = &c->ctls[c->nctls - 1 - l];
    if (label_n(f) != arity) return INVALID(c, "type mismatch");
    // check operand types against this label without consuming them
    uint32_t save = c->nvals, savep = c->npend;
    if (!pop_n(c, label_t(f), arity)) return false;
    c->nvals = save;
    c->npend = savep;
    if (live) {
      if (!emit_target(c, f)) return false;
      E(natural(c, f->height));
    }
  }
  if (!pop_n(c, label_t(&c->ctls[c->nctls - 1 - ldef]), arity)) return false;
  set_unreachable(c);
  return true;
}

static bool compile_return(C *c) {
  const bool live = LIVE(c);
  ctl *f = &c->ctls[0];
  if (!flush(c)) return false;
  uint32_t cur = natural(c, c->nvals);
  if (!pop_n(c, f->results, f->nresults)) return false;
  uint32_t src = natural(c, c->nvals);
  if (live) { E(OP_RETURN_X); E(cur - src); E(src); }
  set_unreachable(c);
  return true;
}

// ---- calls: call, call_indirect, return_call, return_call_indirect
static bool compile_call(C *c, uint32_t op, const eng_imm *im) {
  const eng_module *m = c->m;
  const bool live = LIVE(c);
  const bool tail = op == OP_RETURN_CALL || op == OP_RETURN_CALL_INDIRECT || op == OP_RETURN_CALL_REF;
  const eng_functype *t;
  uint32_t s1 = 0;
  if (op == OP_CALL || op == OP_RETURN_CALL) {
    if (im->a >= m->nfuncs) return INVALID(c, "unknown function");
    t = &m->types[m->func_types[im->a]];
  } else if (op == OP_CALL_REF || op == OP_RETURN_CALL_REF) { // typed function references
    if (im->a >= m->ntypes) return INVALID(c, "unknown type");
    t = &m->types[im->a];
    if (t->kind != TK_FUNC) return INVALID(c, "type mismatch");
    if (!pop_s(c, VT_IDX(im->a), NULL, &s1)) return false;
  } else {
    uint32_t ti = im->a, tab = im->b;
    if (tab >= m->ntables) return INVALID(c, "unknown table");
    if (ti >= m->ntypes) return INVALID(c, "unknown type");
    if (!eng_vt_sub(m, m->tables[tab].elemtype, VT_FUNCREF)) return INVALID(c, "type mismatch");
    t = &m->types[ti];
    if (t->kind != TK_FUNC) return INVALID(c, "type mismatch");
    if (!pop_s(c, table_at(m, tab), NULL, &s1)) return false;
  }
  if (!flush(c)) return false;
  if (!pop_n(c, t->types, t->nparams)) return false;
  if (tail) { // the callee's results are the function's
    const ctl *f = &c->ctls[0];
    if (t->nresults != f->nresults) return INVALID(c, "type mismatch");
    for (uint32_t k = 0; k < t->nresults; k++)
      if (!eng_vt_sub(m, t->types[t->nparams + k], f->results[k])) return INVALID(c, "type mismatch");
  }
  if (live && (op == OP_CALL || op == OP_RETURN_CALL)) { E(op); E(im->a); E(natural(c, c->nvals)); }
  if (live && (op == OP_CALL_INDIRECT || op == OP_RETURN_CALL_INDIRECT)) {
    E(op); E(im->b); E(c->type_ids[im->a]); E(s1); E(natural(c, c->nvals));
  }
  if (live && (op == OP_CALL_REF || op == OP_RETURN_CALL_REF)) { E(op); E(s1); E(natural(c, c->nvals)); }
  if (tail) {
    no_retarget(c);
    set_unreachable(c);
    return true;
  }
  return push_n(c, t->types + t->nparams, t->nresults);
}

// ---- parametric: drop, select, select t
static bool compile_parametric(C *c, uint32_t op, const eng_imm *im) {
  const bool live = LIVE(c);
  if (op == OP_DROP) {
    if (!pop_k(c, VT_UNKNOWN, NULL, NULL, NULL)) return false;
    no_retarget(c);
    return true;
  }
  eng_vt t = VT_UNKNOWN, t1, t2;
  uint32_t s1, s2, s3;
  if (op == OP_SELECT_T) {
    if (im->a != 1) return INVALID(c, "invalid result arity");
    t = im->ty;
    if (!vt_ok(t, c->m->ntypes)) return INVALID(c, "unknown type");
  }
  if (!pop_s(c, VT_I32, NULL, &s3)) return false;
  if (!pop_s(c, t, &t1, &s2) || !pop_s(c, t, &t2, &s1)) return false;
  if (op == OP_SELECT) {
    if ((t1 && !is_num(t1)) || (t2 && !is_num(t2))) return INVALID(c, "type mismatch");
    if (t1 && t2 && t1 != t2) return INVALID(c, "type mismatch");
    t = t1 ? t1 : t2;
  }
  if (!live) return push(c, t);
  if (t == VT_V128) {
    if (!emit_dst(c, OP_SIMD, t)) return false;
    E(SIMD_V128_SELECT); E(s1); E(s2); E(s3); E(0); E(0);
  } else {
    if (!emit_dst(c, OP_SELECT, t)) return false;
    E(s1); E(s2); E(s3);
  }
  mark_end(c);
  return true;
}

// ---- variables: local.get/set/tee, global.get/set
static bool compile_local(C *c, uint32_t op, const eng_imm *im) {
  const ctl *top = TOP(c);
  const bool live = !top->unreachable;
  uint32_t i = im->a, s1;
  if (i >= c->nlocals) return INVALID(c, "unknown local");
  eng_vt t = c->locals[i];
  const uint32_t ls = c->lslot[i];
  if (op == OP_LOCAL_GET) {
    if (!vt_defaultable(t) && i >= c->ft->nparams && !c->linit[i]) return INVALID(c, "uninitialized local");
    return push_at(c, t, live ? ls : natural(c, c->nvals));
  }
  if (!vt_defaultable(t) && !c->linit[i]) { // set from here to the end of the enclosing block
    c->linit[i] = 1;
    c->inits[c->ninits++] = i;
  }
  uint32_t pos = c->nvals - 1;
  bool retarget = live && c->nvals > top->height && c->last_dst != NOFIX &&
                  c->last_end == c->ncode && c->last_pos == pos && c->srcs[pos] == natural(c, pos);
  uint64_t k = 0;
  if (!pop_k(c, t, NULL, &s1, &k)) return false;
  if (live && s1 == KSLOT) { // constant straight into the local
    // Declared locals start at 0: a zero written before any code ran, outside every block
    // (so no loop can come back to it), changes nothing.
    bool still_zero = k == 0 && t != VT_V128 && i >= c->ft->nparams && c->ncode == c->code0 && c->nctls == 1;
    if (!still_zero && (!protect_local(c, ls) || !emit_const(c, ls, k))) return false;
    no_retarget(c);
    if (op == OP_LOCAL_TEE && !push_x(c, t, KSLOT, k)) return false;
    return true;
  }
  if (live) {
    // entries still reading local i need their own copy first (they are below the top)
    uint32_t pend_before = c->npend;
    if (!protect_local(c, ls)) return false;
    if (c->npend != pend_before) retarget = false;
    if (retarget) {
      c->code[c->last_dst] = ls;
    } else if (s1 != ls) {
      if (!emit_copy(c, ls, s1, t)) return false;
    }
  }
  no_retarget(c);
  if (op == OP_LOCAL_TEE && !push_at(c, t, !live ? natural(c, c->nvals) : retarget ? ls : s1)) return false;
  return true;
}

static bool compile_global(C *c, uint32_t op, const eng_imm *im) {
  const eng_module *m = c->m;
  const bool live = LIVE(c);
  uint32_t i = im->a, s1;
  if (i >= m->nglobals) return INVALID(c, "unknown global");
  eng_vt t = m->globals[i].type;
  if (op == OP_GLOBAL_GET) {
    if (!live) return push(c, t);
    if (t == VT_V128) {
      if (!emit_dst(c, OP_SIMD, t)) return false;
      E(SIMD_V128_GLOBAL_GET); E(0); E(0); E(0); E(i); E(0);
    } else {
      if (!emit_dst(c, op, t)) return false;
      E(i);
    }
    mark_end(c);
    return true;
  }
  if (!m->globals[i].mut) return INVALID(c, "global is immutable");
  if (!pop_s(c, t, NULL, &s1)) return false;
  if (live && t == VT_V128) { E(OP_SIMD); E(0); E(SIMD_V128_GLOBAL_SET); E(s1); E(s1); E(0); E(i); E(0); }
  else if (live) { E(op); E(s1); E(i); }
  no_retarget(c);
  return true;
}

// ---- tables: table.get/set/init/copy/grow/size/fill, elem.drop
static bool compile_table(C *c, uint32_t op, const eng_imm *im) {
  const eng_module *m = c->m;
  const bool live = LIVE(c);
  uint32_t s1, s2, s3;
  switch (op) {
  case OP_TABLE_INIT: {
    uint32_t seg = im->a, ti = im->b;
    if (!need_table(c, ti)) return false;
    if (seg >= m->nelems) return INVALID(c, "unknown elem segment");
    if (!eng_vt_sub(m, m->elems[seg].type, m->tables[ti].elemtype)) return INVALID(c, "type mismatch");
    if (!pop3(c, table_at(m, ti), VT_I32, VT_I32, &s1, &s2, &s3)) return false;
    if (live) { E(op); E(seg); E(ti); E(s1); E(s2); E(s3); }
    no_retarget(c);
    return true;
  }
  case OP_ELEM_DROP:
    if (im->a >= m->nelems) return INVALID(c, "unknown elem segment");
    if (live) { E(op); E(im->a); }
    return true;
  case OP_TABLE_COPY: {
    uint32_t d = im->a, s = im->b;
    if (!need_table(c, d) || !need_table(c, s)) return false;
    if (!eng_vt_sub(m, m->tables[s].elemtype, m->tables[d].elemtype)) return INVALID(c, "type mismatch");
    eng_vt dt = table_at(m, d), st = table_at(m, s);
    if (!pop3(c, dt, st, dt == VT_I64 && st == VT_I64 ? VT_I64 : VT_I32, &s1, &s2, &s3)) return false;
    if (live) { E(op); E(d); E(s); E(s1); E(s2); E(s3); }
    no_retarget(c);
    return true;
  }
  default: break;
  }
  uint32_t ti = im->a;
  if (!need_table(c, ti)) return false;
  eng_vt t = m->tables[ti].elemtype, at = table_at(m, ti);
  switch (op) {
  case OP_TABLE_GET:
    if (!pop_s(c, at, NULL, &s1)) return false;
    if (!live) return push(c, t);
    if (!emit_dst(c, op, t)) return false;
    E(s1); E(ti);
    mark_end(c);
    return true;
  case OP_TABLE_SET:
    if (!pop_s(c, t, NULL, &s2) || !pop_s(c, at, NULL, &s1)) return false;
    if (live) { E(op); E(s1); E(s2); E(ti); }
    no_retarget(c);
    return true;
  case OP_TABLE_GROW:
    if (!pop_s(c, at, NULL, &s2) || !pop_s(c, t, NULL, &s1)) return false;
    if (!live) return push(c, at);
    if (!emit_dst(c, op, at)) return false;
    E(ti); E(s1); E(s2);
    mark_end(c);
    return true;
  case OP_TABLE_SIZE:
    if (!live) return push(c, at);
    if (!emit_dst(c, op, at)) return false;
    E(ti);
    mark_end(c);
    return true;
  default: // table.fill
    if (!pop_s(c, at, NULL, &s3) || !pop_s(c, t, NULL, &s2) || !pop_s(c, at, NULL, &s1))
      return false;
    if (live) { E(op); E(ti); E(s1); E(s2); E(s3); }
    no_retarget(c);
    return true;
  }
}

// ---- constants and references: t.const, ref.null, ref.is_null, ref.func
static bool compile_const_ref(C *c, uint32_t op, const eng_imm *im) {
  const eng_module *m = c->m;
  const bool live = LIVE(c);
  uint32_t s1;
  eng_vt t;
  switch (op) {
  case OP_I32_CONST: case OP_I64_CONST: case OP_F32_CONST: case OP_F64_CONST:
    t = op == OP_I32_CONST ? VT_I32 : op == OP_I64_CONST ? VT_I64 : op == OP_F32_CONST ? VT_F32 : VT_F64;
    return live ? push_x(c, t, KSLOT, im->v) : push(c, t); // a pending constant
  case OP_REF_NULL:
    if (!vt_ok(im->ty, m->ntypes)) return INVALID(c, "unknown type");
    if (!live) return push(c, im->ty);
    if (!emit_dst(c, op, im->ty)) return false;
    mark_end(c);
    return true;
  case OP_REF_IS_NULL: case OP_REF_AS_NON_NULL:
    if (!pop_s(c, VT_UNKNOWN, &t, &s1)) return false;
    if (t && !vt_is_ref(t)) return INVALID(c, "type mismatch");
    if (op == OP_REF_IS_NULL) {
      if (!live) return push(c, VT_I32);
      if (!emit_dst(c, op, VT_I32)) return false;
    } else {
      t = t ? t | VT_NONNULL : VT_UNKNOWN;
      if (!live) return push(c, t);
      if (!emit_dst(c, op, t)) return false;
    }
    E(s1);
    mark_end(c);
    return true;
  default: { // ref.func
    uint32_t fi = im->a;
    if (fi >= m->nfuncs) return INVALID(c, "unknown function");
    if (!(m->declared_refs[fi >> 3] & (1u << (fi & 7)))) return INVALID(c, "undeclared function reference");
    t = VT_IDX(m->func_types[fi]) | VT_NONNULL;
    if (!live) return push(c, t);
    if (!emit_dst(c, op, t)) return false;
    E(fi);
    mark_end(c);
    return true;
  }
  }
}

// ---- GC: ref.eq, ref.i31, i31.get_s/u, ref.test, ref.cast, br_on_cast, br_on_cast_fail
// A cast's target as a store-wide word (eng_ref_test): the heap type (a concrete one by its
// store type id) with VT_NONNULL when null fails the cast.
static uint32_t cast_word(const C *c, eng_vt rt) { return eng_vt_store(c->type_ids, rt); }

// br_on_cast l rt1 rt2: [t* rt1] -> [t* rt1\rt2], branching to l (taking t* rt2) when the cast
// to rt2 succeeds; br_on_cast_fail: [t* rt1] -> [t* rt2], branching (with t* rt1\rt2) when it
// fails. rt1\rt2 is rt1, non-nullable when rt2 is nullable.
static bool compile_br_on_cast(C *c, uint32_t op, const eng_imm *im) {
  const eng_module *m = c->m;
  const bool live = LIVE(c);
  uint32_t l = im->a, s1;
  if (im->t > 3) return cerr(c, HL_STATUS_MALFORMED, "malformed br_on_cast flags");
  eng_vt rt1 = im->ty | ((im->t & 1) ? 0 : VT_NONNULL), rt2 = im->b | ((im->t & 2) ? 0 : VT_NONNULL);
  if (!vt_ok(rt1, m->ntypes) || !vt_ok(rt2, m->ntypes)) return INVALID(c, "unknown type");
  if (!eng_vt_sub(m, rt2, rt1)) return INVALID(c, "type mismatch");
  if (l >= c->nctls) return INVALID(c, "unknown label");
  eng_vt diff = (rt2 & VT_NONNULL) ? rt1 : rt1 | VT_NONNULL;
  eng_vt bt = op == OP_BR_ON_CAST ? rt2 : diff, ft = op == OP_BR_ON_CAST ? diff : rt2;
  if (!flush(c)) return false;
  if (!pop_s(c, rt1, NULL, &s1)) return false;
  ctl *f = &c->ctls[c->nctls - 1 - l];
  uint32_t n = label_n(f);
  const eng_vt *lt = label_t(f);
  if (n == 0 || !eng_vt_sub(m, bt, lt[n - 1])) return INVALID(c, "type mismatch");
  if (!push_at(c, bt, s1)) return false; // the reference is part of the branch's values
  uint32_t cur = natural(c, c->nvals), h = natural(c, f->height);
  if (!pop_n(c, lt, n)) return false;
  if (live) {
    uint32_t ns = cur - natural(c, c->nvals);
    E(op);
    if (!emit_target(c, f)) return false;
    E(s1); E(h); E(cur - ns); E(ns); E(cast_word(c, rt2));
  }
  if (!push_n(c, lt, n - 1)) return false;
  no_retarget(c);
  return push_at(c, ft, live ? s1 : natural(c, c->nvals));
}

// ---- GC: struct and array instructions (objects: internal.h eng_obj, one slot per field or
// element, two for v128)
static eng_vt unpacked(eng_vt t) { return t == VT_I8 || t == VT_I16 ? VT_I32 : t; }

// The type at index x when it has form kind (else "type mismatch"/"unknown type").
static const eng_functype *gc_type(C *c, uint32_t x, uint8_t kind) {
  if (x >= c->m->ntypes) return INVALID(c, "unknown type"), NULL;
  const eng_functype *t = &c->m->types[x];
  if (t->kind != kind) return INVALID(c, "type mismatch"), NULL;
  return t;
}

static uint32_t field_slot(const eng_functype *t, uint32_t k) {
  uint32_t off = 0;
  for (uint32_t i = 0; i < k; i++) off += eng_field_slots(t->types[i]);
  return off;
}

static bool compile_struct(C *c, uint32_t op, const eng_imm *im) {
  const bool live = LIVE(c);
  const eng_functype *t = gc_type(c, im->a, TK_STRUCT);
  uint32_t s1, s2;
  if (!t) return false;
  eng_vt ref = VT_IDXK(im->a, VT_STRUCTREF);
  if (op == OP_STRUCT_NEW || op == OP_STRUCT_NEW_DEFAULT) {
    if (op == OP_STRUCT_NEW) {
      if (!flush(c)) return false;
      for (uint32_t k = t->nparams; k-- > 0;)
        if (!pop(c, unpacked(t->types[k]), NULL)) return false;
      if (live) { E(op); E(natural(c, c->nvals)); E(c->type_ids[im->a]); E(natural(c, c->nvals)); }
      no_retarget(c);
      return push(c, ref | VT_NONNULL);
    }
    for (uint32_t k = 0; k < t->nparams; k++)
      if (!vt_defaultable(t->types[k])) return INVALID(c, "type mismatch");
    if (!live) return push(c, ref | VT_NONNULL);
    if (!emit_dst(c, op, ref | VT_NONNULL)) return false;
    E(c->type_ids[im->a]);
    mark_end(c);
    return true;
  }
  if (im->b >= t->nparams) return INVALID(c, "unknown field");
  eng_vt ft = t->types[im->b];
  bool packed = ft == VT_I8 || ft == VT_I16;
  if (op == OP_STRUCT_SET) {
    if (!t->muts[im->b]) return INVALID(c, "immutable field");
    if (!pop_s(c, unpacked(ft), NULL, &s2) || !pop_s(c, ref, NULL, &s1)) return false;
    if (live) { E(op); E(s1); E(s2); E(field_slot(t, im->b)); E(ft); }
    no_retarget(c);
    return true;
  }
  if ((op == OP_STRUCT_GET) == packed) return INVALID(c, "type mismatch");
  if (!pop_s(c, ref, NULL, &s1)) return false;
  if (!live) return push(c, unpacked(ft));
  if (!emit_dst(c, op, unpacked(ft))) return false;
  E(s1); E(field_slot(t, im->b)); E(ft);
  mark_end(c);
  return true;
}

static bool compile_array(C *c, uint32_t op, const eng_imm *im) {
  const bool live = LIVE(c);
  uint32_t s1, s2, s3, s4, s5;
  if (op == OP_ARRAY_LEN) {
    if (!pop_s(c, VT_ARRAYREF, NULL, &s1)) return false;
    if (!live) return push(c, VT_I32);
    if (!emit_dst(c, op, VT_I32)) return false;
    E(s1);
    mark_end(c);
    return true;
  }
  const eng_functype *t = gc_type(c, im->a, TK_ARRAY);
  if (!t) return false;
  eng_vt ref = VT_IDXK(im->a, VT_ARRAYREF), et = t->types[0], ut = unpacked(et);
  bool packed = et == VT_I8 || et == VT_I16;
  switch (op) {
  case OP_ARRAY_NEW: case OP_ARRAY_NEW_DEFAULT:
    if (!pop_s(c, VT_I32, NULL, &s2)) return false;
    if (op == OP_ARRAY_NEW && !pop_s(c, ut, NULL, &s1)) return false;
    if (op == OP_ARRAY_NEW_DEFAULT && !vt_defaultable(et)) return INVALID(c, "type mismatch");
    if (!live) return push(c, ref | VT_NONNULL);
    if (!emit_dst(c, op, ref | VT_NONNULL)) return false;
    E(c->type_ids[im->a]);
    if (op == OP_ARRAY_NEW) E(s1);
    E(s2); E(et);
    mark_end(c);
    return true;
  case OP_ARRAY_NEW_FIXED:
    if (!flush(c)) return false;
    if ((uint64_t)im->b * eng_field_slots(et) > ENG_MAX_OPERANDS) return cerr(c, HL_STATUS_LIMIT, "function too complex (engine limit)");
    for (uint32_t k = 0; k < im->b; k++)
      if (!pop(c, ut, NULL)) return false;
    if (live) { E(op); E(natural(c, c->nvals)); E(c->type_ids[im->a]); E(im->b); E(et); }
    no_retarget(c);
    return push(c, ref | VT_NONNULL);
  case OP_ARRAY_GET: case OP_ARRAY_GET_S: case OP_ARRAY_GET_U:
    if ((op == OP_ARRAY_GET) == packed) return INVALID(c, "type mismatch");
    if (!pop_s(c, VT_I32, NULL, &s2) || !pop_s(c, ref, NULL, &s1)) return false;
    if (!live) return push(c, ut);
    if (!emit_dst(c, op, ut)) return false;
    E(s1); E(s2); E(et);
    mark_end(c);
    return true;
  case OP_ARRAY_SET:
    if (!t->muts[0]) return INVALID(c, "immutable array");
    if (!pop_s(c, ut, NULL, &s3) || !pop_s(c, VT_I32, NULL, &s2) || !pop_s(c, ref, NULL, &s1)) return false;
    if (live) { E(op); E(s1); E(s2); E(s3); E(et); }
    no_retarget(c);
    return true;
  case OP_ARRAY_FILL:
    if (!t->muts[0]) return INVALID(c, "immutable array");
    if (!pop_s(c, VT_I32, NULL, &s4) || !pop_s(c, ut, NULL, &s3) || !pop_s(c, VT_I32, NULL, &s2) ||
        !pop_s(c, ref, NULL, &s1))
      return false;
    if (live) { E(op); E(s1); E(s2); E(s3); E(s4); E(et); }
    no_retarget(c);
    return true;
  case OP_ARRAY_NEW_DATA: case OP_ARRAY_INIT_DATA: case OP_ARRAY_NEW_ELEM: case OP_ARRAY_INIT_ELEM: {
    bool data = op == OP_ARRAY_NEW_DATA || op == OP_ARRAY_INIT_DATA, init = op == OP_ARRAY_INIT_DATA || op == OP_ARRAY_INIT_ELEM;
    if (data) {
      if (!c->m->has_datacount) return cerr(c, HL_STATUS_MALFORMED, "data count section required");
      if (im->b >= c->m->ndatas) return INVALID(c, "unknown data segment");
      if (vt_is_ref(et)) return INVALID(c, "array type is not numeric or vector");
    } else {
      if (im->b >= c->m->nelems) return INVALID(c, "unknown elem segment");
      if (!eng_vt_sub(c->m, c->m->elems[im->b].type, et)) return INVALID(c, "type mismatch");
    }
    if (init && !t->muts[0]) return INVALID(c, "immutable array");
    if (!pop_s(c, VT_I32, NULL, &s4) || !pop_s(c, VT_I32, NULL, &s3)) return false;
    if (init && (!pop_s(c, VT_I32, NULL, &s2) || !pop_s(c, ref, NULL, &s1))) return false;
    if (!init) {
      if (!live) return push(c, ref | VT_NONNULL);
      if (!emit_dst(c, op, ref | VT_NONNULL)) return false;
      E(c->type_ids[im->a]); E(im->b); E(s3); E(s4);
      if (data) E(et);
      mark_end(c);
      return true;
    }
    if (live) { E(op); E(s1); E(s2); E(s3); E(s4); E(im->b); if (data) E(et); }
    no_retarget(c);
    return true;
  }
  default: { // OP_ARRAY_COPY: dst type im->a, src type im->b
    if (!t->muts[0]) return INVALID(c, "immutable array");
    const eng_functype *u = gc_type(c, im->b, TK_ARRAY);
    if (!u) return false;
    eng_vt st = u->types[0];
    bool ok = (et == VT_I8 || et == VT_I16 || st == VT_I8 || st == VT_I16) ? et == st : eng_vt_sub(c->m, st, et);
    if (!ok) return INVALID(c, "array types do not match");
    if (!pop_s(c, VT_I32, NULL, &s5) || !pop_s(c, VT_I32, NULL, &s4) ||
        !pop_s(c, VT_IDXK(im->b, VT_ARRAYREF), NULL, &s3) || !pop_s(c, VT_I32, NULL, &s2) ||
        !pop_s(c, ref, NULL, &s1))
      return false;
    if (live) { E(op); E(s1); E(s2); E(s3); E(s4); E(s5); E(eng_field_slots(et)); }
    no_retarget(c);
    return true;
  }
  }
}

static bool compile_gc(C *c, uint32_t op, const eng_imm *im) {
  const eng_module *m = c->m;
  const bool live = LIVE(c);
  uint32_t s1, s2;
  switch (op) {
  case OP_REF_EQ:
    if (!pop_s(c, VT_EQREF, NULL, &s2) || !pop_s(c, VT_EQREF, NULL, &s1)) return false;
    if (!live) return push(c, VT_I32);
    if (!emit_dst(c, op, VT_I32)) return false;
    E(s1); E(s2);
    mark_end(c);
    return true;
  case OP_ANY_CONVERT_EXTERN: case OP_EXTERN_CONVERT_ANY: {
    eng_vt got, in = op == OP_ANY_CONVERT_EXTERN ? VT_EXTERNREF : VT_ANYREF;
    if (!pop_s(c, in, &got, &s1)) return false;
    eng_vt out = (op == OP_ANY_CONVERT_EXTERN ? VT_ANYREF : VT_EXTERNREF) | (got & VT_NONNULL);
    if (!live) return push(c, out);
    if (!emit_dst(c, op, out)) return false;
    E(s1);
    mark_end(c);
    return true;
  }
  case OP_REF_I31: case OP_I31_GET_S: case OP_I31_GET_U: {
    eng_vt in = op == OP_REF_I31 ? VT_I32 : VT_I31REF, out = op == OP_REF_I31 ? VT_I31REF | VT_NONNULL : VT_I32;
    if (!pop_s(c, in, NULL, &s1)) return false;
    if (!live) return push(c, out);
    if (!emit_dst(c, op, out)) return false;
    E(s1);
    mark_end(c);
    return true;
  }
  case OP_REF_TEST: case OP_REF_TEST_NULL: case OP_REF_CAST: case OP_REF_CAST_NULL: {
    bool nullable = op == OP_REF_TEST_NULL || op == OP_REF_CAST_NULL;
    eng_vt rt = im->ty | (nullable ? 0 : VT_NONNULL);
    if (!vt_ok(rt, m->ntypes)) return INVALID(c, "unknown type");
    // the operand: any reference of the target's hierarchy
    if (!pop_s(c, vt_top(vt_kind(rt)), NULL, &s1)) return false;
    eng_vt out = op == OP_REF_TEST || op == OP_REF_TEST_NULL ? VT_I32 : rt;
    if (!live) return push(c, out);
    if (!emit_dst(c, op, out)) return false;
    E(s1); E(cast_word(c, rt));
    mark_end(c);
    return true;
  }
  default: return compile_br_on_cast(c, op, im);
  }
}

// An opcode byte the engine does not know: a proposal it does not implement is named
// (HL_STATUS_UNSUPPORTED), anything else is malformed.
static bool illegal_op(rd *r, uint8_t b) {
  switch (b) {
  case 0xfb: // the GC instructions not implemented (and unknown sub-opcodes)
    return fail(r, HL_STATUS_MALFORMED, "illegal opcode");
  case 0xfe: return fail(r, HL_STATUS_UNSUPPORTED, "threads");
  default: return fail(r, HL_STATUS_MALFORMED, "illegal opcode");
  }
}

// Reads the next instruction's opcode (0xFC: with its sub-opcode) as OP_* + 1; 0 if illegal.
static uint32_t read_op(rd *r, uint8_t b) {
  if (b != 0xfc && b != 0xfb) return eng_byte_map[b];
  uint32_t sub;
  if (!rd_u32(r, &sub)) return UINT32_MAX;
  return sub >= 32 ? 0 : b == 0xfc ? eng_fc_map[sub] : eng_fc_map[HL_FB(sub)];
}

static bool compile_body(C *c, const eng_functype *ft) {
  c->last_dst = NOFIX;
  c->copy_pos = NOFIX;
  c->ft = ft;
  if (!push_ctl(c, CK_FUNC, 0, NULL, ft->nresults, ft->types + ft->nparams)) return false;
  if (c->fuel) {
    E(OP_FUEL); E(1);
    c->ctls[0].fuel_pos = c->ncode - 1;
  }
  c->code0 = c->ncode; // nothing has run while ncode == code0
  c->ninstr = 0;
  for (;;) {
    uint8_t b;
    if (!rd_byte(&c->r, &b)) return cerr(c, HL_STATUS_MALFORMED, "unexpected end of section or function");
    c->ninstr++;
    if (b == 0xfd) {
      if (!compile_simd(c)) return false;
      continue;
    }
    uint32_t op = read_op(&c->r, b);
    if (op == UINT32_MAX) return false;
    if (!op) return illegal_op(&c->r, b);
    op--;
    eng_imm im = {0};
    if (!rd_imm(&c->r, eng_op_imm[op], &im)) return false;
    bool ok, done = false;
    switch (sigs[op][0]) {
    case K_UN: case K_BIN: ok = compile_numeric(c, op); break;
    case K_LOAD: ok = compile_load(c, op, &im); break;
    case K_STORE: ok = compile_store(c, op, &im); break;
    default:
      switch (op) {
      case OP_UNREACHABLE:
        if (LIVE(c)) E(OP_UNREACHABLE);
        no_retarget(c);
        set_unreachable(c);
        ok = true;
        break;
      case OP_NOP: ok = true; break;
      case OP_BLOCK: case OP_LOOP: case OP_IF: ok = compile_block(c, op, &im); break;
      case OP_ELSE: ok = compile_else(c); break;
      case OP_END: ok = compile_end(c, &done); break;
      case OP_TRY_TABLE: ok = compile_try_table(c, &im); break;
      case OP_TRY: ok = compile_try(c, &im); break;
      case OP_CATCH: case OP_CATCH_ALL: ok = compile_catch(c, op, &im); break;
      case OP_DELEGATE: ok = compile_delegate(c, &im, &done); break;
      case OP_THROW: case OP_THROW_REF: case OP_RETHROW: ok = compile_throw(c, op, &im); break;
      case OP_BR: case OP_BR_IF: ok = compile_br(c, op, &im); break;
      case OP_BR_TABLE: ok = compile_br_table(c, &im); break;
      case OP_RETURN: ok = compile_return(c); break;
      case OP_CALL: case OP_CALL_INDIRECT: case OP_RETURN_CALL: case OP_RETURN_CALL_INDIRECT:
      case OP_CALL_REF: case OP_RETURN_CALL_REF:
        ok = compile_call(c, op, &im);
        break;
      case OP_BR_ON_NULL: case OP_BR_ON_NON_NULL: ok = compile_br_on_null(c, op, &im); break;
      case OP_REF_EQ: case OP_REF_I31: case OP_I31_GET_S: case OP_I31_GET_U: case OP_REF_TEST:
      case OP_REF_TEST_NULL: case OP_REF_CAST: case OP_REF_CAST_NULL: case OP_BR_ON_CAST:
      case OP_BR_ON_CAST_FAIL: case OP_ANY_CONVERT_EXTERN: case OP_EXTERN_CONVERT_ANY:
        ok = compile_gc(c, op, &im);
        break;
      case OP_STRUCT_NEW: case OP_STRUCT_NEW_DEFAULT: case OP_STRUCT_GET: case OP_STRUCT_GET_S:
      case OP_STRUCT_GET_U: case OP_STRUCT_SET:
        ok = compile_struct(c, op, &im);
        break;
      case OP_ARRAY_NEW: case OP_ARRAY_NEW_DEFAULT: case OP_ARRAY_NEW_FIXED: case OP_ARRAY_GET:
      case OP_ARRAY_GET_S: case OP_ARRAY_GET_U: case OP_ARRAY_SET: case OP_ARRAY_LEN: case OP_ARRAY_FILL:
      case OP_ARRAY_COPY: case OP_ARRAY_NEW_DATA: case OP_ARRAY_NEW_ELEM: case OP_ARRAY_INIT_DATA:
      case OP_ARRAY_INIT_ELEM:
        ok = compile_array(c, op, &im);
        break;
      case OP_DROP: case OP_SELECT: case OP_SELECT_T: ok = compile_parametric(c, op, &im); break;
      case OP_LOCAL_GET: case OP_LOCAL_SET: case OP_LOCAL_TEE: ok = compile_local(c, op, &im); break;
      case OP_GLOBAL_GET: case OP_GLOBAL_SET: ok = compile_global(c, op, &im); break;
      case OP_MEMORY_SIZE: case OP_MEMORY_GROW: case OP_MEMORY_INIT: case OP_DATA_DROP:
      case OP_MEMORY_COPY: case OP_MEMORY_FILL:
        ok = compile_memory(c, op, &im);
        break;
      case OP_TABLE_GET: case OP_TABLE_SET: case OP_TABLE_INIT: case OP_ELEM_DROP: case OP_TABLE_COPY:
      case OP_TABLE_GROW: case OP_TABLE_SIZE: case OP_TABLE_FILL:
        ok = compile_table(c, op, &im);
        break;
      case OP_I32_CONST: case OP_I64_CONST: case OP_F32_CONST: case OP_F64_CONST: case OP_REF_NULL:
      case OP_REF_IS_NULL: case OP_REF_FUNC: case OP_REF_AS_NON_NULL:
        ok = compile_const_ref(c, op, &im);
        break;
      default: return cerr(c, HL_STATUS_MALFORMED, "illegal opcode");
      }
      // a COPY may merge with the next one only across local.get/set/tee, drop and nop (no
      // label may fall between the two)
      if (op != OP_LOCAL_SET && op != OP_LOCAL_TEE && op != OP_LOCAL_GET && op != OP_DROP && op != OP_NOP)
        c->copy_pos = NOFIX;
      break;
    }
    if (!ok) return false;
    if (done) return true;
  }
}

// ---------------------------------------------------------------- decode-only pre-scan
// The spec decodes a whole module before validating it, so a malformed body must be reported as
// MALFORMED even when an earlier instruction is invalid. This pass checks the binary structure of
// every body (opcodes, immediates, nesting, exact end) without validating types.
static bool scan_body(const eng_module *m, const eng_code *code, eng_error *err, uint32_t *ntry) {
  rd rr = {code->body, code->body + code->body_len, err, 0, NULL, 0}, *r = &rr;
  uint32_t ngroups, n, x;
  uint64_t total = 0;
  eng_vt t;
  uint8_t b;
  eng_imm im;
  if (!rd_u32(r, &ngroups)) return false;
  for (uint32_t g = 0; g < ngroups; g++) {
    if (!rd_u32(r, &n) || !rd_valtype(r, &t)) return false;
    total += n;
    if (total > UINT32_MAX) return fail(r, HL_STATUS_MALFORMED, "too many locals");
  }
  uint64_t depth = 1;
  while (depth) {
    if (!rd_byte(r, &b)) return fail(r, HL_STATUS_MALFORMED, "unexpected end of section or function");
    if (b == 0xfd) { // SIMD: sub-opcode and immediates by kind (simd.h)
      uint32_t a;
      if (!rd_u32(r, &x)) return false;
      uint8_t sk = eng_simd_kind(x, &a);
      if (!sk) return simd_illegal(r, x);
      if (!rd_imm(r, simd_imm(sk), &im)) return false;
      continue;
    }
    uint32_t op = read_op(r, b);
    if (op == UINT32_MAX) return false;
    if (!op) return illegal_op(r, b);
    op--;
    if (!rd_imm(r, eng_op_imm[op], &im)) return false;
    switch (op) {
    case OP_TRY: if (*ntry < UINT32_MAX) (*ntry)++; depth++; break;
    case OP_BLOCK: case OP_LOOP: case OP_IF: case OP_TRY_TABLE: depth++; break;
    case OP_END: case OP_DELEGATE: depth--; break;
    case OP_DATA_DROP: case OP_MEMORY_INIT: case OP_ARRAY_NEW_DATA: case OP_ARRAY_INIT_DATA:
      if (!m->has_datacount && m->ndatas) return fail(r, HL_STATUS_MALFORMED, "data count section required");
      break;
    default: break;
    }
  }
  if (r->p != r->end) return fail(r, HL_STATUS_MALFORMED, "section size mismatch");
  return true;
}

uint32_t eng_scan_module(const eng_module *cm, eng_error *err) {
  eng_module *m = (eng_module *)cm;
  for (uint32_t i = 0; i < m->ncodes; i++) {
    uint32_t ntry = 0;
    if (!scan_body(m, &m->codes[i], err, &ntry)) return err && err->status ? err->status : HL_STATUS_MALFORMED;
    if (ntry) m->has_legacy_try = true;
  }
  return HL_STATUS_OK;
}

uint32_t eng_compile_func(eng_store *s, const eng_module *m, const uint32_t *type_ids, uint32_t i,
                          eng_func *out, eng_error *err) {
  C c;
  memset(&c, 0, sizeof c);
  c.s = s;
  c.m = m;
  c.type_ids = type_ids;
  c.fuel = s->limits.fuel != 0;
  const eng_code *code = &m->codes[i];
  c.r = (rd){code->body, code->body + code->body_len, err, 0, m->type_kinds, m->ntypes};
  uint32_t fidx = m->nfunc_imports + i;
  const eng_functype *ft = &m->types[m->func_types[fidx]];
  // locals
  uint32_t ngroups;
  uint64_t total = ft->nparams;
  bool ok = rd_u32(&c.r, &ngroups);
  const uint8_t *groups = c.r.p;
  for (uint32_t g = 0; ok && g < ngroups; g++) {
    uint32_t n;
    eng_vt t;
    ok = rd_u32(&c.r, &n) && rd_valtype(&c.r, &t);
    if (ok && !vt_ok(t, m->ntypes)) ok = INVALID(&c, "unknown type");
    total += n;
    if (ok && total > UINT32_MAX) ok = cerr(&c, HL_STATUS_MALFORMED, "too many locals");
  }
  // legacy try: one hidden slot per try (the caught exception, for rethrow), after the locals
  uint32_t ntry = 0;
  if (ok && m->has_legacy_try && !scan_body(m, code, err, &ntry)) ok = false;
  if (ok && total + ntry > ENG_MAX_LOCALS) ok = cerr(&c, HL_STATUS_LIMIT, "too many locals (engine limit)");
  if (ok) {
    c.nlocals = (uint32_t)total;
    c.locals = eng_xalloc((total + 1) * sizeof(eng_vt));
    c.linit = eng_xalloc(total + 1);
    c.inits = eng_xalloc((total + 1) * 4);
    if (!c.locals || !c.linit || !c.inits) ok = cerr(&c, HL_STATUS_NO_MEMORY, "out of memory");
  }
  if (ok) {
    memcpy(c.locals, ft->types, ft->nparams * sizeof(eng_vt));
    rd g = {groups, c.r.end, err, 0, m->type_kinds, m->ntypes};
    uint32_t at = ft->nparams;
    for (uint32_t k = 0; k < ngroups; k++) {
      uint32_t n = 0;
      eng_vt t = 0;
      if (!rd_u32(&g, &n) || !rd_valtype(&g, &t)) break; // cannot fail: checked above
      for (uint32_t q = 0; q < n; q++) c.locals[at + q] = t;
      at += n;
    }
    // slots: a v128 local takes two
    c.lslot = eng_xalloc((size_t)c.nlocals * 4 + 4);
    if (!c.lslot || !grow(&c, (void **)&c.noff, &c.cap_noff, 65, 4, ENG_MAX_OPERANDS + 1)) {
      ok = c.lslot ? false : cerr(&c, HL_STATUS_NO_MEMORY, "out of memory");
    } else {
      for (uint32_t k = 0; k < c.nlocals; k++) {
        c.lslot[k] = c.nlslots;
        c.nlslots += vt_slots(c.locals[k]);
      }
      c.xbase = c.nlslots;
      c.nlslots += ntry;
      ok = compile_body(&c, ft);
    }
  }
  if (ok) {
    out->nparams = types_slots(ft->types, ft->nparams); // slots
    out->nresults = types_slots(ft->types + ft->nparams, ft->nresults);
    out->nlocals = c.nlslots;
    out->max_stack = c.nlslots + c.max_height + 2;
    out->type = ft;
    out->type_id = type_ids[m->func_types[fidx]];
    out->code = eng_xalloc((size_t)c.ncode * 4);
    if (!out->code) ok = cerr(&c, HL_STATUS_NO_MEMORY, "out of memory");
    else {
      memcpy(out->code, c.code, (size_t)c.ncode * 4);
      out->code_len = c.ncode;
    }
  }
  if (ok && c.nhl) {
    out->handlers = eng_xalloc((size_t)c.nhl * 4);
    if (!out->handlers) ok = cerr(&c, HL_STATUS_NO_MEMORY, "out of memory");
    else {
      memcpy(out->handlers, c.hl, (size_t)c.nhl * 4);
      out->nhandlers = c.nhl;
    }
  }
  eng_xfree(c.vals);
  eng_xfree(c.srcs);
  eng_xfree(c.kv);
  eng_xfree(c.ctls);
  eng_xfree(c.code);
  eng_xfree(c.locals);
  eng_xfree(c.linit);
  eng_xfree(c.inits);
  eng_xfree(c.bt1);
  eng_xfree(c.lslot);
  eng_xfree(c.noff);
  eng_xfree(c.hl);
  return ok ? HL_STATUS_OK : (c.r.status ? c.r.status : HL_STATUS_INVALID);
}
