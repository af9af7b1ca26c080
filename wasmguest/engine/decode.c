// decode.c — binary module decoding (WebAssembly 1.0 + 2.0 sections), utilities.
#include "internal.h"

// ---------------------------------------------------------------- allocation
void *eng_xalloc(size_t n) {
  if (n > ((size_t)1 << 40)) return NULL;
  uint8_t *p = plat_alloc(n + 16);
  if (!p) return NULL;
  memcpy(p, &n, sizeof n);
  return p + 16;
}

void eng_xfree(void *p) {
  if (!p) return;
  uint8_t *b = (uint8_t *)p - 16;
  size_t n;
  memcpy(&n, b, sizeof n);
  plat_free(b, n + 16);
}

void *eng_xrealloc(void *p, size_t old_n, size_t new_n) {
  void *q = eng_xalloc(new_n);
  if (!q) return NULL;
  if (p) {
    memcpy(q, p, old_n < new_n ? old_n : new_n);
    eng_xfree(p);
  }
  return q;
}

uint32_t eng_hash(const uint8_t *p, size_t n) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
  return h;
}

const eng_export *eng_find_export(const eng_module *m, const uint8_t *name, uint32_t len) {
  if (!m->export_hash) return NULL;
  for (uint32_t h = eng_hash(name, len) & m->export_hash_mask;; h = (h + 1) & m->export_hash_mask) {
    uint32_t i = m->export_hash[h];
    if (i == UINT32_MAX) return NULL;
    const eng_export *e = &m->exports[i];
    if (e->name_len == len && memcmp(e->name, name, len) == 0) return e;
  }
}

// ---------------------------------------------------------------- errors
static size_t str_copy(char *dst, size_t cap, size_t at, const char *s, size_t n) {
  for (size_t i = 0; i < n && s[i] && at + 1 < cap; i++) dst[at++] = s[i];
  dst[at < cap ? at : cap - 1] = 0;
  return at;
}

static size_t cstrlen(const char *s) {
  size_t n = 0;
  while (s[n]) n++;
  return n;
}

void eng_set_error(eng_error *err, uint32_t status, const char *msg) {
  if (!err) return;
  err->status = status;
  err->trap = 0;
  str_copy(err->msg, sizeof err->msg, 0, msg, cstrlen(msg));
}

static size_t name_copy(char *dst, size_t cap, size_t at, const uint8_t *s, size_t n) {
  for (size_t i = 0; i < n && at + 1 < cap; i++) {
    uint8_t c = s[i];
    dst[at++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
  }
  dst[at < cap ? at : cap - 1] = 0;
  return at;
}

void eng_set_error2(eng_error *err, uint32_t status, const char *msg, const uint8_t *name,
                    size_t name_len, const uint8_t *name2, size_t name2_len) {
  if (!err) return;
  err->status = status;
  err->trap = 0;
  size_t at = str_copy(err->msg, sizeof err->msg, 0, msg, cstrlen(msg));
  at = str_copy(err->msg, sizeof err->msg, at, " \"", 2);
  at = name_copy(err->msg, sizeof err->msg, at, name, name_len);
  if (name2) {
    at = str_copy(err->msg, sizeof err->msg, at, "\" \"", 3);
    at = name_copy(err->msg, sizeof err->msg, at, name2, name2_len);
  }
  str_copy(err->msg, sizeof err->msg, at, "\"", 1);
}

static const char *const trap_messages[] = HL_TRAP_MESSAGES;

void eng_set_trap(eng_error *err, uint32_t trap) {
  if (!err) return;
  if (trap >= HL_TRAP_COUNT) trap = HL_TRAP_HOST;
  eng_set_error(err, HL_STATUS_TRAP, trap_messages[trap]);
  err->trap = trap;
}

#include "reader.h"

// ---------------------------------------------------------------- sections
// A field's storage type (a value type, or packed i8/i16) and mutability.
static bool rd_fieldtype(rd *r, eng_vt *t, uint8_t *mut) {
  if (r->p < r->end && (*r->p == VT_I8 || *r->p == VT_I16)) *t = *r->p++;
  else if (!rd_valtype(r, t)) return false;
  if (!rd_byte(r, mut)) return false;
  if (*mut > 1) return MALF(r, "malformed mutability");
  return true;
}

// The storage of a type's n value types and, for struct/array, n mutability bytes after them.
static bool type_alloc(rd *r, eng_functype *t, uint32_t n) {
  if (!(t->types = eng_xalloc(((size_t)n + 1) * sizeof(eng_vt) + n)))
    return fail(r, HL_STATUS_NO_MEMORY, "out of memory");
  t->muts = (uint8_t *)(t->types + n + 1);
  return true;
}

// One composite type: func (0x60), struct (0x5f) or array (0x5e).
static bool rd_comptype(rd *r, eng_functype *t) {
  uint8_t form;
  uint32_t np, nr;
  eng_vt v;
  uint8_t mu;
  if (!rd_byte(r, &form)) return false;
  if (form == 0x5e) {
    t->kind = TK_ARRAY;
    t->nparams = 1;
    if (!type_alloc(r, t, 1)) return false;
    return rd_fieldtype(r, &t->types[0], &t->muts[0]);
  }
  if (form == 0x5f) {
    t->kind = TK_STRUCT;
    if (!rd_count(r, &np, ENG_MAX_FIELDS, "too many fields")) return false;
    rd again = *r;
    for (uint32_t k = 0; k < np; k++)
      if (!rd_fieldtype(r, &v, &mu)) return false;
    if (!type_alloc(r, t, np)) return false;
    for (uint32_t k = 0; k < np; k++) rd_fieldtype(&again, &t->types[k], &t->muts[k]);
    t->nparams = np;
    return true;
  }
  if (form != 0x60) return MALF(r, "integer representation too long");
  t->kind = TK_FUNC;
  if (!rd_count(r, &np, ENG_MAX_FUNC_PARAMS, "too many parameters")) return false;
  rd again = *r; // the types are read twice: checked and counted, then stored
  for (uint32_t k = 0; k < np; k++)
    if (!rd_valtype(r, &v)) return false;
  if (!rd_count(r, &nr, ENG_MAX_FUNC_PARAMS, "too many results")) return false;
  for (uint32_t k = 0; k < nr; k++)
    if (!rd_valtype(r, &v)) return false;
  if (!type_alloc(r, t, np + nr)) return false;
  for (uint32_t k = 0; k < np; k++) rd_valtype(&again, &t->types[k]);
  rd_u32(&again, &nr);
  for (uint32_t k = 0; k < nr; k++) rd_valtype(&again, &t->types[np + k]);
  t->nparams = np;
  t->nresults = nr;
  return true;
}

// The type section: rec groups (0x4e) of sub types (0x50 sub, 0x4f sub final, or a bare
// composite type: final, no supertype). The index space counts sub types. Once read, every
// concrete heap type's kind byte is set from the type it names (forward references within a
// rec group are only known now), and m->type_kinds serves the later sections' readers.
static bool sec_types(rd *r, eng_module *m) {
  uint32_t ngroups, cap = 0;
  if (!rd_count(r, &ngroups, ENG_MAX_TYPES, "too many types")) return false;
  for (uint32_t g = 0; g < ngroups; g++) {
    uint32_t n = 1;
    bool rec = r->p < r->end && *r->p == 0x4e;
    if (rec) {
      r->p++;
      if (!rd_count(r, &n, ENG_MAX_TYPES, "too many types")) return false;
    }
    if ((uint64_t)m->ntypes + n > ENG_MAX_TYPES) return fail(r, HL_STATUS_LIMIT, "too many types");
    if (m->ntypes + n > cap) {
      uint32_t nc = cap ? cap : 8;
      while (nc < m->ntypes + n) nc *= 2;
      eng_functype *p = eng_xrealloc(m->types, (size_t)cap * sizeof *p, (size_t)nc * sizeof *p);
      if (!p) return fail(r, HL_STATUS_NO_MEMORY, "out of memory");
      m->types = p;
      cap = nc;
    }
    uint32_t first = m->ntypes;
    for (uint32_t k = 0; k < n; k++) {
      eng_functype *t = &m->types[m->ntypes++];
      memset(t, 0, sizeof *t);
      t->super = ENG_NO_SUPER;
      t->final = true;
      t->rec = first;
      t->nrec = n;
      if (r->p < r->end && (*r->p == 0x50 || *r->p == 0x4f)) {
        t->final = *r->p++ == 0x4f;
        uint32_t ns, x;
        if (!rd_count(r, &ns, ENG_MAX_TYPES, "too many supertypes")) return false;
        for (uint32_t j = 0; j < ns; j++) {
          if (!rd_u32(r, &x)) return false;
          // more than one supertype: kept as an impossible index (validation: "sub type")
          t->super = j == 0 ? x : UINT32_MAX - 1;
        }
      }
      if (!rd_comptype(r, t)) return false;
    }
  }
  if (!(m->type_kinds = eng_xalloc((size_t)m->ntypes + 1))) return fail(r, HL_STATUS_NO_MEMORY, "out of memory");
  for (uint32_t i = 0; i < m->ntypes; i++) m->type_kinds[i] = tk_vt(m->types[i].kind);
  for (uint32_t i = 0; i < m->ntypes; i++) {
    eng_functype *t = &m->types[i];
    for (uint32_t k = 0; k < t->nparams + t->nresults; k++) {
      eng_vt v = t->types[k];
      if ((v & VT_CONCRETE) && VT_IDX_OF(v) < m->ntypes)
        t->types[k] = (v & ~0xffu) | m->type_kinds[VT_IDX_OF(v)];
    }
  }
  return true;
}

// A tag type: attribute 0 (exception), then a type index.
static bool rd_tagtype(rd *r, uint32_t *typeidx) {
  uint8_t attr;
  if (!rd_byte(r, &attr)) return false;
  if (attr != 0) return MALF(r, "malformed tag attribute");
  return rd_u32(r, typeidx);
}

static bool sec_tags(rd *r, eng_module *m, uint32_t n) {
  if ((uint64_t)n + m->ntag_imports > ENG_MAX_GLOBALS) return fail(r, HL_STATUS_LIMIT, "too many tags");
  m->ntags = m->ntag_imports + n;
  if (!(m->tag_types = alloc_array(r, m->ntags, sizeof *m->tag_types))) return false;
  uint32_t k = 0;
  for (uint32_t i = 0; i < m->nimports; i++)
    if (m->imports[i].kind == EXT_TAG) m->tag_types[k++] = m->imports[i].typeidx;
  for (uint32_t i = 0; i < n; i++)
    if (!rd_tagtype(r, &m->tag_types[k++])) return false;
  return true;
}

static bool sec_imports(rd *r, eng_module *m) {
  if (!rd_count(r, &m->nimports, ENG_MAX_IMPORTS, "too many imports")) return false;
  if (!(m->imports = alloc_array(r, m->nimports, sizeof *m->imports))) return false;
  for (uint32_t i = 0; i < m->nimports; i++) {
    eng_import *im = &m->imports[i];
    if (!rd_name(r, &im->module, &im->module_len)) return false;
    if (!rd_name(r, &im->name, &im->name_len)) return false;
    if (!rd_byte(r, &im->kind)) return false;
    switch (im->kind) {
    case EXT_FUNC: if (!rd_u32(r, &im->typeidx)) return false; m->nfunc_imports++; break;
    case EXT_TABLE:
      if (!rd_reftype(r, &im->table.elemtype) || !rd_limits(r, &im->table.lim)) return false;
      m->ntable_imports++;
      break;
    case EXT_MEM: if (!rd_limits(r, &im->mem)) return false; m->nmem_imports++; break;
    case EXT_GLOBAL: if (!rd_globaltype(r, &im->global)) return false; m->nglobal_imports++; break;
    case EXT_TAG: if (!rd_tagtype(r, &im->typeidx)) return false; m->ntag_imports++; break;
    default: return MALF(r, "malformed import kind");
    }
  }
  return true;
}

static bool sec_functions(rd *r, eng_module *m, uint32_t *nfuncs_defined) {
  uint32_t n;
  if (!rd_count(r, &n, ENG_MAX_FUNCS, "too many functions")) return false;
  if ((uint64_t)n + m->nfunc_imports > ENG_MAX_FUNCS) return fail(r, HL_STATUS_LIMIT, "too many functions");
  *nfuncs_defined = n;
  m->nfuncs = m->nfunc_imports + n;
  if (!(m->func_types = alloc_array(r, m->nfuncs, sizeof *m->func_types))) return false;
  uint32_t k = 0;
  for (uint32_t i = 0; i < m->nimports; i++)
    if (m->imports[i].kind == EXT_FUNC) m->func_types[k++] = m->imports[i].typeidx;
  for (uint32_t i = 0; i < n; i++)
    if (!rd_u32(r, &m->func_types[k++])) return false;
  return true;
}

static bool sec_tables(rd *r, eng_module *m, uint32_t n) {
  if ((uint64_t)n + m->ntable_imports > ENG_MAX_TABLES) return fail(r, HL_STATUS_LIMIT, "too many tables");
  m->ntables = m->ntable_imports + n;
  if (!(m->tables = alloc_array(r, m->ntables, sizeof *m->tables))) return false;
  uint32_t k = 0;
  for (uint32_t i = 0; i < m->nimports; i++)
    if (m->imports[i].kind == EXT_TABLE) m->tables[k++] = m->imports[i].table;
  for (uint32_t i = 0; i < n; i++) {
    eng_tabletype *t = &m->tables[k++];
    bool init = r->p < r->end && *r->p == 0x40; // a table with an initializer expression
    if (init) {
      uint8_t zero;
      r->p++;
      if (!rd_byte(r, &zero)) return false;
      if (zero != 0) return MALF(r, "malformed table");
    }
    if (!rd_reftype(r, &t->elemtype) || !rd_limits(r, &t->lim)) return false;
    if (init) {
      if (!rd_constexpr(r, &t->init)) return false;
      t->has_init = true;
    }
  }
  return true;
}

static bool sec_mems(rd *r, eng_module *m, uint32_t n) {
  if ((uint64_t)n + m->nmem_imports > ENG_MAX_TABLES) return fail(r, HL_STATUS_LIMIT, "too many memories");
  m->nmems = m->nmem_imports + n;
  if (!(m->mems = alloc_array(r, m->nmems, sizeof *m->mems))) return false;
  uint32_t k = 0;
  for (uint32_t i = 0; i < m->nimports; i++)
    if (m->imports[i].kind == EXT_MEM) m->mems[k++] = m->imports[i].mem;
  for (uint32_t i = 0; i < n; i++)
    if (!rd_limits(r, &m->mems[k++])) return false;
  return true;
}

static bool sec_globals(rd *r, eng_module *m, uint32_t n) {
  if ((uint64_t)n + m->nglobal_imports > ENG_MAX_GLOBALS) return fail(r, HL_STATUS_LIMIT, "too many globals");
  m->nglobals = m->nglobal_imports + n;
  if (!(m->globals = alloc_array(r, m->nglobals, sizeof *m->globals))) return false;
  if (!(m->global_inits = alloc_array(r, m->nglobals, sizeof *m->global_inits))) return false;
  uint32_t k = 0;
  for (uint32_t i = 0; i < m->nimports; i++)
    if (m->imports[i].kind == EXT_GLOBAL) m->globals[k++] = m->imports[i].global;
  for (uint32_t i = 0; i < n; i++) {
    if (!rd_globaltype(r, &m->globals[k])) return false;
    if (!rd_constexpr(r, &m->global_inits[k])) return false;
    k++;
  }
  return true;
}

static bool sec_exports(rd *r, eng_module *m) {
  if (!rd_count(r, &m->nexports, ENG_MAX_EXPORTS, "too many exports")) return false;
  if (!(m->exports = alloc_array(r, m->nexports, sizeof *m->exports))) return false;
  for (uint32_t i = 0; i < m->nexports; i++) {
    eng_export *e = &m->exports[i];
    if (!rd_name(r, &e->name, &e->name_len)) return false;
    if (!rd_byte(r, &e->kind)) return false;
    if (e->kind > EXT_TAG) return MALF(r, "malformed export kind");
    if (!rd_u32(r, &e->idx)) return false;
  }
  return true;
}

// Stores item i of s: its ELEM_* encoding (an ELEM_OTHER item in full, in s->exprs).
static bool put_item(rd *r, eng_elemseg *s, uint32_t i, const eng_constexpr *e) {
  uint32_t v = ELEM_OTHER;
  if (e->seq) v = ELEM_OTHER; // extended (ref.i31 of a number, or numeric)
  else if (e->op == OP_REF_FUNC && e->idx < ELEM_GLOBAL) v = e->idx;
  else if (e->op == OP_GLOBAL_GET && e->idx < ELEM_GLOBAL) v = ELEM_GLOBAL | e->idx;
  else if (e->op == OP_REF_NULL) v = ELEM_NULL | e->type; // a heap type fits in 30 bits (ENG_MAX_TYPES)
  if (v == ELEM_OTHER) {
    if (!s->exprs && !(s->exprs = alloc_array(r, s->count, sizeof *s->exprs))) {
      eng_xfree(e->seq);
      return false;
    }
    v |= s->nexprs; // count <= ENG_MAX_TABLE_ELEMS < 2^30
    s->exprs[s->nexprs++] = *e; // takes e->seq
  }
  s->items[i] = v;
  return true;
}

static bool rd_funcidx_items(rd *r, eng_elemseg *s) {
  if (!rd_count(r, &s->count, ENG_MAX_TABLE_ELEMS, "too many elements")) return false;
  if (!(s->items = alloc_array(r, s->count, sizeof *s->items))) return false;
  for (uint32_t i = 0; i < s->count; i++) {
    eng_constexpr e = {.op = OP_REF_FUNC, .type = VT_FUNCREF};
    if (!rd_u32(r, &e.idx) || !put_item(r, s, i, &e)) return false;
  }
  return true;
}

static bool rd_expr_items(rd *r, eng_elemseg *s) {
  if (!rd_count(r, &s->count, ENG_MAX_TABLE_ELEMS, "too many elements")) return false;
  if (!(s->items = alloc_array(r, s->count, sizeof *s->items))) return false;
  for (uint32_t i = 0; i < s->count; i++) {
    eng_constexpr e;
    if (!rd_constexpr(r, &e) || !put_item(r, s, i, &e)) return false;
  }
  return true;
}

static bool sec_elems(rd *r, eng_module *m) {
  if (!rd_count(r, &m->nelems, ENG_MAX_SEGMENTS, "too many element segments")) return false;
  if (!(m->elems = alloc_array(r, m->nelems, sizeof *m->elems))) return false;
  for (uint32_t i = 0; i < m->nelems; i++) {
    eng_elemseg *s = &m->elems[i];
    uint32_t flags;
    uint8_t kind;
    if (!rd_u32(r, &flags)) return false;
    if (flags > 7) return MALF(r, "malformed elements segment kind");
    s->type = VT_FUNCREF;
    s->table = 0;
    s->mode = (flags & 1) ? ((flags & 2) ? SEG_DECLARATIVE : SEG_PASSIVE) : SEG_ACTIVE;
    if (s->mode == SEG_ACTIVE) {
      if ((flags & 2) && !rd_u32(r, &s->table)) return false;
      if (!rd_constexpr(r, &s->offset)) return false;
    }
    bool exprs = (flags & 4) != 0;
    if (flags & 3) { // explicit elemkind / reftype
      if (exprs) {
        if (!rd_reftype(r, &s->type)) return false;
      } else {
        if (!rd_byte(r, &kind)) return false;
        if (kind != 0) return MALF(r, "malformed element kind");
      }
    }
    if (!exprs) s->type = VT_FUNCREF | VT_NONNULL; // function indices: (ref func)
    if (exprs ? !rd_expr_items(r, s) : !rd_funcidx_items(r, s)) return false;
  }
  return true;
}

static bool sec_datas(rd *r, eng_module *m) {
  if (!rd_count(r, &m->ndatas, ENG_MAX_SEGMENTS, "too many data segments")) return false;
  if (!(m->datas = alloc_array(r, m->ndatas, sizeof *m->datas))) return false;
  for (uint32_t i = 0; i < m->ndatas; i++) {
    eng_dataseg *d = &m->datas[i];
    uint32_t flags, memidx = 0;
    const uint8_t *b;
    if (!rd_u32(r, &flags)) return false;
    if (flags > 2) return MALF(r, "malformed data segment kind");
    d->mode = flags == 1 ? SEG_PASSIVE : SEG_ACTIVE;
    if (flags == 2 && !rd_u32(r, &memidx)) return false;
    d->mem = memidx; // checked by validation
    if (d->mode == SEG_ACTIVE && !rd_constexpr(r, &d->offset)) return false;
    if (!rd_u32(r, &d->len)) return false;
    if (!rd_bytes(r, d->len, &b)) return false;
    if (!(d->bytes = eng_xalloc(d->len + 1))) return fail(r, HL_STATUS_NO_MEMORY, "out of memory");
    memcpy(d->bytes, b, d->len);
  }
  return true;
}

static bool sec_code(rd *r, eng_module *m, uint32_t nfuncs_defined) {
  if (!rd_count(r, &m->ncodes, ENG_MAX_FUNCS, "too many functions")) return false;
  if (m->ncodes != nfuncs_defined)
    return MALF(r, "function and code section have inconsistent lengths");
  if (!(m->codes = alloc_array(r, m->ncodes, sizeof *m->codes))) return false;
  for (uint32_t i = 0; i < m->ncodes; i++) {
    uint32_t size;
    if (!rd_u32(r, &size)) return false;
    if (!rd_bytes(r, size, &m->codes[i].body)) return false;
    m->codes[i].body_len = size;
  }
  return true;
}

// Copies every import/export name into one owned buffer.
static bool own_names(rd *r, eng_module *m) {
  size_t total = 1;
  for (uint32_t i = 0; i < m->nimports; i++) total += m->imports[i].module_len + m->imports[i].name_len;
  for (uint32_t i = 0; i < m->nexports; i++) total += m->exports[i].name_len;
  if (!(m->names = eng_xalloc(total))) return fail(r, HL_STATUS_NO_MEMORY, "out of memory");
  m->names_len = total;
  size_t at = 0;
  for (uint32_t i = 0; i < m->nimports; i++) {
    eng_import *im = &m->imports[i];
    memcpy(m->names + at, im->module, im->module_len); im->module = m->names + at; at += im->module_len;
    memcpy(m->names + at, im->name, im->name_len); im->name = m->names + at; at += im->name_len;
  }
  for (uint32_t i = 0; i < m->nexports; i++) {
    eng_export *e = &m->exports[i];
    memcpy(m->names + at, e->name, e->name_len); e->name = m->names + at; at += e->name_len;
  }
  return true;
}

uint32_t eng_decode(const uint8_t *bytes, size_t len, eng_module *m, eng_error *err) {
  memset(m, 0, sizeof *m);
  rd r = {bytes, bytes + len, err, 0, NULL, 0};
  // section id -> position: 13 (tag) between memory and global, 12 (datacount) before 10 (code)
  static const uint8_t order[14] = {0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 12, 13, 11, 6};
  uint32_t nfuncs_defined = 0;
  bool have_funcs = false, have_code = false;
  int last = 0;
  if (len > ENG_MAX_MODULE_BYTES) { fail(&r, HL_STATUS_LIMIT, "module too large"); return r.status; }
  if (len < 4 || memcmp(bytes, "\0asm", 4) != 0) { MALF(&r, "magic header not detected"); return r.status; }
  if (len < 8 || memcmp(bytes + 4, "\1\0\0\0", 4) != 0) { MALF(&r, "unknown binary version"); return r.status; }
  r.p += 8;
  while (r.p < r.end) {
    uint8_t id;
    uint32_t size;
    if (!rd_byte(&r, &id)) goto out;
    if (!rd_u32(&r, &size)) goto out;
    if ((size_t)(r.end - r.p) < size) { MALF(&r, "length out of bounds"); goto out; }
    rd s = {r.p, r.p + size, err, 0, m->type_kinds, m->ntypes};
    if (id > 13) { MALF(&r, "malformed section id"); goto out; }
    if (id != 0) {
      if (order[id] <= last) { MALF(&r, "unexpected content after last section"); goto out; }
      last = order[id];
    }
    bool ok = true;
    uint32_t n;
    switch (id) {
    case 0: { const uint8_t *nm; uint32_t nl; ok = rd_name(&s, &nm, &nl); s.p = s.end; break; }
    case 1: ok = sec_types(&s, m); break;
    case 2: ok = sec_imports(&s, m); break;
    case 3: ok = sec_functions(&s, m, &nfuncs_defined); have_funcs = true; break;
    case 4: ok = rd_count(&s, &n, ENG_MAX_TABLES, "too many tables") && sec_tables(&s, m, n); break;
    case 5: ok = rd_count(&s, &n, ENG_MAX_TABLES, "too many memories") && sec_mems(&s, m, n); break;
    case 6: ok = rd_count(&s, &n, ENG_MAX_GLOBALS, "too many globals") && sec_globals(&s, m, n); break;
    case 7: ok = sec_exports(&s, m); break;
    case 8: ok = rd_u32(&s, &m->start); m->has_start = true; break;
    case 9: ok = sec_elems(&s, m); break;
    case 10: ok = sec_code(&s, m, nfuncs_defined); have_code = true; break;
    case 11: ok = sec_datas(&s, m);
      if (ok && m->has_datacount && m->datacount != m->ndatas) {
        MALF(&s, "data count and data section have inconsistent lengths"); ok = false;
      }
      break;
    case 12: ok = rd_u32(&s, &m->datacount); m->has_datacount = true; break;
    case 13: ok = rd_count(&s, &n, ENG_MAX_GLOBALS, "too many tags") && sec_tags(&s, m, n); break;
    }
    if (!ok) { r.status = s.status; goto out; }
    if (s.p != s.end) { MALF(&r, "section size mismatch"); goto out; }
    r.p = s.end;
    // sections absent: fill implicit imported-only arrays lazily below
  }
  // Build the index spaces of sections that were absent.
  if (!m->func_types) { if (!sec_functions(&(rd){(const uint8_t *)"\0", (const uint8_t *)"\0" + 1, err, 0, NULL, 0}, m, &nfuncs_defined)) { r.status = HL_STATUS_NO_MEMORY; goto out; } }
  if (!m->tables && !sec_tables(&r, m, 0)) goto out;
  if (!m->mems && !sec_mems(&r, m, 0)) goto out;
  if (!m->globals && !sec_globals(&r, m, 0)) goto out;
  if (!m->tag_types && !sec_tags(&r, m, 0)) goto out;
  if ((have_funcs || have_code) && nfuncs_defined != m->ncodes) {
    MALF(&r, "function and code section have inconsistent lengths"); goto out;
  }
  if (!have_code && nfuncs_defined != 0) {
    MALF(&r, "function and code section have inconsistent lengths"); goto out;
  }
  if (m->has_datacount && m->datacount != m->ndatas) {
    MALF(&r, "data count and data section have inconsistent lengths"); goto out;
  }
  if (!own_names(&r, m)) goto out;
out:
  if (r.status) eng_module_free(m);
  return r.status;
}

void eng_module_free(eng_module *m) {
  if (!m) return;
  for (uint32_t i = 0; i < m->ntypes && m->types; i++) eng_xfree(m->types[i].types);
  eng_xfree(m->types);
  eng_xfree(m->imports);
  eng_xfree(m->func_types);
  for (uint32_t i = 0; i < m->ntables && m->tables; i++) eng_xfree(m->tables[i].init.seq);
  eng_xfree(m->tables);
  eng_xfree(m->mems);
  eng_xfree(m->globals);
  for (uint32_t i = 0; i < m->nglobals && m->global_inits; i++) eng_xfree(m->global_inits[i].seq);
  eng_xfree(m->global_inits);
  eng_xfree(m->exports);
  for (uint32_t i = 0; i < m->nelems && m->elems; i++) {
    eng_xfree(m->elems[i].items);
    eng_xfree(m->elems[i].offset.seq);
    for (uint32_t k = 0; k < m->elems[i].nexprs; k++) eng_xfree(m->elems[i].exprs[k].seq);
    eng_xfree(m->elems[i].exprs);
  }
  eng_xfree(m->elems);
  for (uint32_t i = 0; i < m->ndatas && m->datas; i++) {
    eng_xfree(m->datas[i].bytes);
    eng_xfree(m->datas[i].offset.seq);
  }
  eng_xfree(m->datas);
  eng_xfree(m->codes);
  eng_xfree(m->tag_types);
  eng_xfree(m->names);
  eng_xfree(m->declared_refs);
  eng_xfree(m->export_hash);
  eng_xfree(m->canon);
  eng_xfree(m->type_kinds);
  memset(m, 0, sizeof *m);
}
