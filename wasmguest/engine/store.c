// store.c — stores, instantiation (linking, segment initialization, start) and the host-facing API.
#include "internal.h"
#include "jit.h"

#define DEFAULT_CALL_DEPTH 10000u
#define MAX_CALL_DEPTH_CAP 1000000u

static uint8_t empty_memory[16]; // base for zero-sized memories (never written: size 0)

eng_store *eng_store_new(const eng_limits *limits) {
  eng_store *s = eng_xalloc(sizeof *s);
  if (!s) return NULL;
  if (limits) s->limits = *limits;
  if (s->limits.max_memory_pages == 0 || s->limits.max_memory_pages > 65536)
    s->limits.max_memory_pages = 65536;
  if (s->limits.max_call_depth == 0) s->limits.max_call_depth = DEFAULT_CALL_DEPTH;
  if (s->limits.max_call_depth > MAX_CALL_DEPTH_CAP) s->limits.max_call_depth = MAX_CALL_DEPTH_CAP;
  s->stack_slots = ENG_STACK_SLOTS;
  s->stack = eng_xalloc((size_t)s->stack_slots * 8);
  s->max_frames = s->limits.max_call_depth;
  s->frames = eng_xalloc((size_t)s->max_frames * sizeof(eng_frame));
  if (!s->stack || !s->frames || !eng_jit_store_init(s)) {
    eng_store_free(s);
    return NULL;
  }
  return s;
}

// ---------------------------------------------------------------- exceptions
// Sorts a[0..n) ascending (heapsort: no libc, no recursion).
static void sort_ptrs(uintptr_t *a, uint32_t n) {
  for (uint32_t k = n; k-- > 0;) {
    for (uint32_t i = k, c; (c = 2 * i + 1) < n; i = c) {
      if (c + 1 < n && a[c + 1] > a[c]) c++;
      if (a[i] >= a[c]) break;
      uintptr_t t = a[i]; a[i] = a[c]; a[c] = t;
    }
  }
  for (uint32_t end = n; end-- > 1;) {
    uintptr_t t = a[0]; a[0] = a[end]; a[end] = t;
    for (uint32_t i = 0, c; (c = 2 * i + 1) < end; i = c) {
      if (c + 1 < end && a[c + 1] > a[c]) c++;
      if (a[i] >= a[c]) break;
      t = a[i]; a[i] = a[c]; a[c] = t;
    }
  }
}

typedef struct {
  uintptr_t *p; uint8_t *mark; uint32_t n;
  uint32_t *work; uint32_t nwork;
} exn_gc;

// Marks the kept exception v is the address of (if any) and queues it for its payload.
static void gc_mark(exn_gc *g, uint64_t v) {
  if (v < g->p[0] || v > g->p[g->n - 1]) return;
  uint32_t lo = 0, hi = g->n;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (g->p[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  if (lo < g->n && g->p[lo] == v && !g->mark[lo]) {
    g->mark[lo] = 1;
    g->work[g->nwork++] = lo;
  }
}

static void gc_scan(exn_gc *g, const uint64_t *v, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (v[i]) gc_mark(g, v[i]);
}

uint32_t eng_uncaught(eng_store *s, eng_error *err) {
  eng_exn *x = s->thrown;
  s->thrown = NULL;
  if (x && !x->kept) eng_xfree(x);
  eng_set_trap(err, HL_TRAP_UNCAUGHT_EXCEPTION);
  return HL_STATUS_TRAP;
}

void eng_exn_collect(eng_store *s, const uint64_t *live_end) {
  exn_gc g = {0};
  g.n = s->nkept;
  if (g.n == 0) return;
  g.p = eng_xalloc((size_t)g.n * sizeof *g.p);
  g.mark = eng_xalloc(g.n);
  g.work = eng_xalloc((size_t)g.n * 4);
  if (g.p && g.mark && g.work) {
    uint32_t k = 0;
    for (eng_exn *x = s->exns; x && k < g.n; x = x->next) g.p[k++] = (uintptr_t)x;
    g.n = k;
    sort_ptrs(g.p, g.n);
    if (live_end > s->stack) gc_scan(&g, s->stack, (size_t)(live_end - s->stack));
    for (uint32_t i = 0; i < s->ninsts; i++) {
      const eng_inst *in = s->insts[i];
      for (uint32_t t = 0; t < in->nown_tables; t++)
        if (vt_kind(in->own_tables[t].type) == VT_EXNREF) gc_scan(&g, in->own_tables[t].elems, in->own_tables[t].size);
      for (uint32_t t = 0; t < in->nown_globals; t++)
        if (vt_kind(in->own_globals[t].type) == VT_EXNREF) gc_scan(&g, &in->own_globals[t].val, 1);
    }
    for (const eng_obj *o = s->objs; o; o = o->next) gc_scan(&g, o->f, o->nslots); // objects' exnref fields
    while (g.nwork) { // payloads of reachable exceptions
      const eng_exn *x = (const eng_exn *)g.p[g.work[--g.nwork]];
      gc_scan(&g, x->vals, x->nslots);
    }
    eng_exn **link = &s->exns;
    while (*link) {
      eng_exn *x = *link;
      uint32_t lo = 0, hi = g.n; // x's index in g.p
      while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (g.p[mid] < (uintptr_t)x) lo = mid + 1;
        else hi = mid;
      }
      if (lo < g.n && g.p[lo] == (uintptr_t)x && !g.mark[lo]) {
        *link = x->next;
        eng_xfree(x);
        s->nkept--;
      } else {
        link = &x->next;
      }
    }
  }
  eng_xfree(g.p);
  eng_xfree(g.mark);
  eng_xfree(g.work);
}

// ---- GC objects: allocation and a mark-sweep collector
// Roots: the value stack below live_end (conservatively: any slot holding an object's address
// keeps it; a stale slot may keep garbage, never the reverse), globals and tables of the any
// hierarchy (precisely, by type), and the payloads of kept exceptions (conservatively).
// Objects are traced precisely: only fields and elements whose storage type is a reference of
// the any hierarchy are followed. Compiled code never allocates (GC instructions are
// interpreted) and writes back every value it holds before a call, so every reference a
// compiled caller holds is in its frame when an allocation collects.
// References of the any hierarchy, and external ones (an externalized object is its address).
static bool holds_any(eng_vt t) { return vt_top(vt_kind(t)) == VT_ANYREF || vt_top(vt_kind(t)) == VT_EXTERNREF; }

static uint32_t ext_hash(uintptr_t p, uint32_t cap) { return (uint32_t)((p >> 4) * 0x9e3779b97f4a7c15ull >> 32) & (cap - 1); }

static bool ext_find(const eng_store *s, uintptr_t p) {
  if (!s->ext_n) return false;
  for (uint32_t h = ext_hash(p, s->ext_cap);; h = (h + 1) & (s->ext_cap - 1)) {
    if (s->ext_set[h] == p) return true;
    if (!s->ext_set[h]) return false;
  }
}

// Adds o to the ext set (grown at half full); false when out of memory.
static bool ext_add(eng_store *s, eng_obj *o) {
  if (o->ext) return true;
  if ((uint64_t)(s->ext_n + 1) * 2 > s->ext_cap) {
    uint32_t nc = s->ext_cap ? s->ext_cap * 2 : 64;
    uintptr_t *t = eng_xalloc((size_t)nc * sizeof *t);
    if (!t) return false;
    for (uint32_t i = 0; i < s->ext_cap; i++)
      if (s->ext_set[i]) {
        uint32_t h = ext_hash(s->ext_set[i], nc);
        while (t[h]) h = (h + 1) & (nc - 1);
        t[h] = s->ext_set[i];
      }
    eng_xfree(s->ext_set);
    s->ext_set = t;
    s->ext_cap = nc;
  }
  uint32_t h = ext_hash((uintptr_t)o, s->ext_cap);
  while (s->ext_set[h]) h = (h + 1) & (s->ext_cap - 1);
  s->ext_set[h] = (uintptr_t)o;
  s->ext_n++;
  o->ext = true;
  return true;
}

// any.convert_extern: null stays null; an address extern.convert_any handed out (a live object,
// or a wrap of an i31) gives that reference back; any other (host) value is boxed, so an any
// reference is only ever null, i31 or an engine object.
uint64_t eng_internalize(eng_store *s, uint64_t x, uint64_t *live_end, bool *ok) {
  *ok = true;
  if (!x) return 0;
  if (ext_find(s, (uintptr_t)x)) {
    const eng_obj *o = (const eng_obj *)(uintptr_t)x;
    return o->type_id == ENG_TYPE_WRAP ? o->f[0] : x;
  }
  eng_obj *b = eng_obj_new(s, ENG_TYPE_BOX, 0, 1, live_end);
  if (!b) return *ok = false, 0;
  b->f[0] = x;
  return (uint64_t)(uintptr_t)b;
}

// extern.convert_any: a box gives its host value back; an object is handed out as its address
// and an i31 as a new wrap, both entered in the ext set.
uint64_t eng_externalize(eng_store *s, uint64_t a, uint64_t *live_end, bool *ok) {
  *ok = true;
  if (!a) return 0;
  eng_obj *o = (eng_obj *)(uintptr_t)a;
  if (!(a & 1) && o->type_id == ENG_TYPE_BOX) return o->f[0];
  if (a & 1) {
    if (!(o = eng_obj_new(s, ENG_TYPE_WRAP, 0, 1, live_end))) return *ok = false, 0;
    o->f[0] = a;
  }
  if (!ext_add(s, o)) return *ok = false, 0;
  return (uint64_t)(uintptr_t)o;
}

void eng_gc_collect(eng_store *s, const uint64_t *live_end) {
  exn_gc g = {0};
  uint64_t n = 0;
  for (eng_obj *o = s->objs; o; o = o->next) n++;
  if (n == 0 || n >= UINT32_MAX) return;
  g.n = (uint32_t)n;
  g.p = eng_xalloc((size_t)g.n * sizeof *g.p);
  g.mark = eng_xalloc(g.n);
  g.work = eng_xalloc((size_t)g.n * 4);
  if (g.p && g.mark && g.work) {
    uint32_t k = 0;
    for (eng_obj *o = s->objs; o; o = o->next) g.p[k++] = (uintptr_t)o;
    sort_ptrs(g.p, g.n);
    if (live_end > s->stack) gc_scan(&g, s->stack, (size_t)(live_end - s->stack));
    for (uint32_t i = 0; i < s->ninsts; i++) {
      const eng_inst *in = s->insts[i];
      for (uint32_t t = 0; t < in->nown_tables; t++)
        if (holds_any(in->own_tables[t].type)) gc_scan(&g, in->own_tables[t].elems, in->own_tables[t].size);
      for (uint32_t t = 0; t < in->nown_globals; t++)
        if (holds_any(in->own_globals[t].type)) gc_scan(&g, &in->own_globals[t].val, 1);
      for (uint32_t e = 0; e < in->nelems; e++)
        if (in->elems[e].vals) gc_scan(&g, in->elems[e].vals, in->elems[e].count);
    }
    for (const eng_exn *x = s->exns; x; x = x->next) gc_scan(&g, x->vals, x->nslots);
    while (g.nwork) {
      const eng_obj *o = (const eng_obj *)g.p[g.work[--g.nwork]];
      if (o->type_id == ENG_TYPE_BOX || o->type_id == ENG_TYPE_WRAP) continue; // hold no references
      const eng_functype *t = &s->types[o->type_id];
      if (t->kind == TK_ARRAY) {
        if (holds_any(t->types[0])) gc_scan(&g, o->f, o->nslots);
      } else {
        for (uint32_t f = 0, off = 0; f < t->nparams; off += eng_field_slots(t->types[f]), f++)
          if (holds_any(t->types[f])) gc_scan(&g, o->f + off, 1);
      }
    }
    eng_obj **link = &s->objs;
    k = 0;
    while (*link) {
      eng_obj *o = *link;
      uint32_t lo = 0, hi = g.n; // o's index in g.p
      while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (g.p[mid] < (uintptr_t)o) lo = mid + 1;
        else hi = mid;
      }
      if (!g.mark[lo]) {
        *link = o->next;
        s->obj_bytes -= sizeof *o + (uint64_t)o->nslots * 8;
        eng_xfree(o);
      } else {
        link = &o->next;
      }
    }
    // the ext set keeps the survivors (a freed object's address is no longer known)
    if (s->ext_set) memset(s->ext_set, 0, (size_t)s->ext_cap * sizeof *s->ext_set);
    s->ext_n = 0;
    for (eng_obj *o = s->objs; o; o = o->next)
      if (o->ext) {
        uint32_t h = ext_hash((uintptr_t)o, s->ext_cap);
        while (s->ext_set[h]) h = (h + 1) & (s->ext_cap - 1);
        s->ext_set[h] = (uintptr_t)o;
        s->ext_n++;
      }
  }
  eng_xfree(g.p);
  eng_xfree(g.mark);
  eng_xfree(g.work);
}

eng_obj *eng_obj_new(eng_store *s, uint32_t tid, uint32_t len, uint64_t nslots, uint64_t *live_end) {
  uint64_t bytes = sizeof(eng_obj) + nslots * 8;
  if (nslots > ENG_MAX_ARRAY_SLOTS) return NULL;
  if (live_end && s->obj_bytes + bytes >= (s->gc_at ? s->gc_at : ENG_GC_MIN)) {
    eng_gc_collect(s, live_end);
    s->gc_at = 2 * (s->obj_bytes + bytes);
    if (s->gc_at < ENG_GC_MIN) s->gc_at = ENG_GC_MIN;
  }
  eng_obj *o = eng_xalloc(bytes);
  if (!o && live_end) { // the heap is full: collect, then try once more
    eng_gc_collect(s, live_end);
    if (!(o = eng_xalloc(bytes))) return NULL;
  }
  o->type_id = tid;
  o->len = len;
  o->nslots = (uint32_t)nslots;
  o->next = s->objs;
  s->objs = o;
  s->obj_bytes += bytes;
  return o;
}

static void inst_free(eng_inst *in) {
  if (!in) return;
  if (in->jit_code) plat_code_free(in->jit_code, in->jit_bytes);
  for (uint32_t i = 0; i < in->nown_funcs; i++) {
    eng_xfree(in->own_funcs[i].code);
    eng_xfree(in->own_funcs[i].handlers);
  }
  eng_xfree(in->tags);
  eng_xfree(in->own_tags);
  eng_xfree(in->own_funcs);
  eng_xfree(in->funcs);
  for (uint32_t i = 0; i < in->nown_tables; i++) eng_xfree(in->own_tables[i].elems);
  eng_xfree(in->own_tables);
  eng_xfree(in->tables);
  for (uint32_t i = 0; i < in->nown_mems; i++)
    if (in->own_mems[i].reserved) plat_mem_release(in->own_mems[i].base, in->own_mems[i].reserved);
  eng_xfree(in->own_mems);
  eng_xfree(in->mems);
  eng_xfree(in->own_globals);
  eng_xfree(in->globals);
  for (uint32_t i = 0; i < in->nelems && in->elems; i++) eng_xfree(in->elems[i].vals);
  eng_xfree(in->elems); // their items belong to the module
  eng_xfree(in->datas);
  eng_xfree(in->type_ids);
  if (in->mod) {
    eng_module_free(in->mod);
    eng_xfree(in->mod);
  }
  eng_xfree(in);
}

void eng_store_free(eng_store *s) {
  if (!s) return;
  for (uint32_t i = 0; i < s->ninsts; i++) inst_free(s->insts[i]);
  eng_xfree(s->insts);
  for (uint32_t i = 0; i < s->nregs; i++) eng_xfree(s->regs[i].name);
  eng_xfree(s->regs);
  for (uint32_t i = 0; i < s->ntypes; i++) eng_xfree(s->types[i].types);
  eng_xfree(s->types);
  eng_xfree(s->type_hash);
  eng_xfree(s->stack);
  eng_xfree(s->frames);
  while (s->exns) {
    eng_exn *x = s->exns;
    s->exns = x->next;
    eng_xfree(x);
  }
  while (s->objs) {
    eng_obj *o = s->objs;
    s->objs = o->next;
    eng_xfree(o);
  }
  eng_xfree(s->ext_set);
  eng_jit_store_free(s);
  eng_xfree(s);
}

// Store-wide types: rec groups are interned (iso-recursive equality, eng_type_same), so a
// type's store id is the same in every instance whose module has an equal rec group. The hash
// index holds the first id of each group.
static uint32_t group_hash(const eng_store *s, uint32_t g) {
  return eng_group_hash(&s->types[g], g, NULL, s->types[g].nrec);
}

static bool rehash_types(eng_store *s, uint32_t cap) {
  uint32_t *h = eng_xalloc((size_t)cap * 4);
  if (!h) return false;
  memset(h, 0xff, (size_t)cap * 4);
  for (uint32_t g = 0; g < s->ntypes; g += s->types[g].nrec) {
    uint32_t k = group_hash(s, g) & (cap - 1);
    while (h[k] != UINT32_MAX) k = (k + 1) & (cap - 1);
    h[k] = g;
  }
  eng_xfree(s->type_hash);
  s->type_hash = h;
  s->type_hash_mask = cap - 1;
  return true;
}

// Interns rec group [g, g+n) of module m (earlier groups' store ids in type_ids): writes the
// store ids of its types to type_ids[g..g+n). False when out of memory or ids.
static bool intern_group(eng_store *s, const eng_module *m, uint32_t *type_ids, uint32_t g, uint32_t n) {
  uint32_t base = s->ntypes;
  if ((uint64_t)base + n >= (1u << 22)) return false; // VT_IDX holds 22 bits
  if (!s->type_hash && !rehash_types(s, 64)) return false;
  if (base + n > s->cap_types) {
    uint32_t nc = s->cap_types ? s->cap_types : 32;
    while (nc < base + n) nc *= 2;
    eng_functype *p = eng_xrealloc(s->types, (size_t)s->cap_types * sizeof *p, (size_t)nc * sizeof *p);
    if (!p) return false;
    s->types = p;
    s->cap_types = nc;
  }
  // the group in store form, tentatively at [base, base+n)
  uint32_t made = 0;
  for (; made < n; made++) {
    const eng_functype *mt = &m->types[g + made];
    eng_functype *st = &s->types[base + made];
    uint32_t cnt = mt->nparams + mt->nresults;
    *st = *mt;
    if (!(st->types = eng_xalloc((cnt + 1) * sizeof(eng_vt) + cnt))) break;
    st->muts = (uint8_t *)(st->types + cnt + 1);
    memcpy(st->muts, mt->muts, cnt);
    for (uint32_t k = 0; k < cnt; k++) {
      eng_vt v = mt->types[k];
      if (v & VT_CONCRETE) {
        uint32_t x = VT_IDX_OF(v);
        v = (v & 0x3ffu) | (x - g < n ? base + (x - g) : type_ids[x]) << 10;
      }
      st->types[k] = v;
    }
    if (mt->super != ENG_NO_SUPER) st->super = mt->super - g < n ? base + (mt->super - g) : type_ids[mt->super];
    st->rec = base;
    st->id = base + made;
  }
  if (made < n) {
    for (uint32_t k = 0; k < made; k++) eng_xfree(s->types[base + k].types);
    return false;
  }
  uint32_t h = group_hash(s, base) & s->type_hash_mask;
  for (;; h = (h + 1) & s->type_hash_mask) {
    uint32_t o = s->type_hash[h];
    if (o == UINT32_MAX) break;
    if (s->types[o].nrec != n) continue;
    uint32_t k = 0;
    while (k < n && eng_type_same(&s->types[o + k], o, NULL, &s->types[base + k], base, NULL, n)) k++;
    if (k < n) continue;
    for (k = 0; k < n; k++) {
      eng_xfree(s->types[base + k].types);
      type_ids[g + k] = o + k;
    }
    return true;
  }
  s->type_hash[h] = base;
  s->ntypes += n;
  for (uint32_t k = 0; k < n; k++) type_ids[g + k] = base + k;
  if (++s->ngroups * 2 > s->type_hash_mask + 1) {
    if (s->type_hash_mask >= (1u << 30) || !rehash_types(s, (s->type_hash_mask + 1) * 2)) return false;
  }
  return true;
}

// Whether store type a is b or declares it in its supertype chain.
bool eng_type_sub(const eng_store *s, uint32_t a, uint32_t b) {
  for (; a != ENG_NO_SUPER; a = s->types[a].super)
    if (a == b) return true;
  return false;
}

// Heap subtyping of store-wide reference types (concrete heap types by store id), as
// eng_heap_sub in a module.
bool eng_store_heap_sub(const eng_store *s, eng_vt a, eng_vt b) {
  uint8_t ka = vt_kind(a), kb = vt_kind(b);
  if (!vt_top(ka) || vt_top(ka) != vt_top(kb)) return false;
  if (vt_is_bottom(ka)) return true;
  if (b & VT_CONCRETE) return (a & VT_CONCRETE) && eng_type_sub(s, VT_IDX_OF(a), VT_IDX_OF(b));
  if (vt_is_bottom(kb)) return false;
  if (kb == vt_top(kb) || ka == kb) return true;
  return kb == VT_EQREF && (ka == VT_I31REF || ka == VT_STRUCTREF || ka == VT_ARRAYREF);
}

static bool vt_sub_store(const eng_store *s, eng_vt a, eng_vt b) {
  if (a == b) return true;
  if (!vt_is_ref(a) || !vt_is_ref(b)) return false;
  if ((b & VT_NONNULL) && !(a & VT_NONNULL)) return false;
  return eng_store_heap_sub(s, a, b);
}

static eng_inst *find_registered(eng_store *s, const uint8_t *name, uint32_t len) {
  for (uint32_t i = 0; i < s->nregs; i++)
    if (s->regs[i].len == len && memcmp(s->regs[i].name, name, len) == 0) return s->insts[s->regs[i].inst];
  return NULL;
}

static const eng_export *find_export(const eng_inst *in, const uint8_t *name, uint32_t len) {
  return eng_find_export(in->mod, name, len);
}

static bool limits_match(uint64_t cur_min, bool has_max, uint64_t max, const eng_limits_t *want) {
  if (cur_min < want->min) return false;
  if (want->has_max) {
    if (!has_max) return false;
    if (max > want->max) return false;
  }
  return true;
}

static uint64_t eval_one(const eng_inst *in, const eng_constexpr *e) {
  switch (e->op) {
  case OP_GLOBAL_GET: return in->globals[e->idx]->val;
  case OP_REF_FUNC: return (uint64_t)(uintptr_t)in->funcs[e->idx];
  case OP_REF_NULL: return 0;
  default: return e->val;
  }
}

// A GC allocation of a constant expression on stack[0..h): its operands replaced by the new
// object; the new height, 0 when out of memory. No collection runs (the stack is no root).
static uint32_t eval_alloc(const eng_inst *in, const eng_constexpr *x, uint64_t *stack, uint32_t h) {
  eng_store *s = in->store;
  uint32_t tid = in->type_ids[x->idx];
  const eng_functype *t = &s->types[tid];
  uint32_t n, npop;
  uint64_t init = 0;
  switch (x->op) {
  case OP_STRUCT_NEW: n = t->nparams; npop = n; break;
  case OP_STRUCT_NEW_DEFAULT: n = t->nparams; npop = 0; break;
  case OP_ARRAY_NEW: n = (uint32_t)stack[h - 1]; init = stack[h - 2]; npop = 2; break;
  case OP_ARRAY_NEW_DEFAULT: n = (uint32_t)stack[h - 1]; npop = 1; break;
  default: n = (uint32_t)x->val; npop = n; break; // OP_ARRAY_NEW_FIXED
  }
  eng_obj *o = eng_obj_new(s, tid, n, n, NULL);
  if (!o) {
    s->const_oom = true;
    return 0;
  }
  uint64_t mask_ = 0;
  for (uint32_t k = 0; k < n; k++) {
    eng_vt ft = t->types[t->kind == TK_STRUCT ? k : 0];
    mask_ = ft == VT_I8 ? 0xff : ft == VT_I16 ? 0xffff : ~(uint64_t)0;
    uint64_t v = x->op == OP_ARRAY_NEW ? init : (x->op == OP_STRUCT_NEW || x->op == OP_ARRAY_NEW_FIXED) ? stack[h - npop + k] : 0;
    o->f[k] = v & mask_;
  }
  h -= npop;
  stack[h++] = (uint64_t)(uintptr_t)o;
  return h;
}

// A validated constant expression's value (extended ones: at most ENG_MAX_CONST_DEPTH deep, of
// i32/i64 values, ending with one).
uint64_t eng_eval_const(const eng_inst *in, const eng_constexpr *e) {
  if (!e->seq) return eval_one(in, e);
  uint64_t stack[ENG_MAX_CONST_DEPTH];
  uint32_t h = 0;
  for (uint32_t i = 0; i < e->nseq; i++) {
    const eng_constexpr *x = &e->seq[i];
    if (x->op == OP_REF_I31) { // GC (validated: h >= 1, an i32)
      stack[h - 1] = eng_i31((uint32_t)stack[h - 1]);
    } else if (x->op == OP_ANY_CONVERT_EXTERN || x->op == OP_EXTERN_CONVERT_ANY) { // GC (validated: h >= 1)
      bool ok;
      eng_store *st = in->store;
      stack[h - 1] = x->op == OP_ANY_CONVERT_EXTERN ? eng_internalize(st, stack[h - 1], NULL, &ok)
                                                    : eng_externalize(st, stack[h - 1], NULL, &ok);
      if (!ok) { st->const_oom = true; return 0; }
    } else if (x->op >= OP_STRUCT_NEW && x->op <= OP_ARRAY_NEW_FIXED) { // GC allocation (validated)
      if (!(h = eval_alloc(in, x, stack, h))) return 0; // out of memory: null (checked by the caller)
    } else if (eng_op_cexpr[x->op] && eng_op_imm[x->op] == IMM_NONE) { // HL_CONST_BIN (validated: h >= 2)
      h--;
      stack[h - 1] = eng_const_bin(x->op, stack[h - 1], stack[h]);
    } else {
      stack[h++] = eval_one(in, x);
    }
  }
  return stack[0];
}

static uint32_t oom(eng_error *err) {
  eng_set_error(err, HL_STATUS_NO_MEMORY, "out of memory");
  return HL_STATUS_NO_MEMORY;
}

static uint32_t add_instance(eng_store *s, eng_inst *in, uint32_t *id) {
  if (s->ninsts == s->cap_insts) {
    uint32_t nc = s->cap_insts ? s->cap_insts * 2 : 16;
    eng_inst **p = eng_xrealloc(s->insts, (size_t)s->cap_insts * sizeof *p, (size_t)nc * sizeof *p);
    if (!p) return HL_STATUS_NO_MEMORY;
    s->insts = p;
    s->cap_insts = nc;
  }
  *id = s->ninsts;
  s->insts[s->ninsts++] = in;
  return HL_STATUS_OK;
}

uint32_t eng_instantiate(eng_store *s, const uint8_t *bytes, size_t len, uint32_t *inst_out,
                         eng_error *err) {
  uint32_t st;
  if (err) { err->status = 0; err->trap = 0; err->msg[0] = 0; }
  if (!s || (!bytes && len)) { eng_set_error(err, HL_STATUS_BAD_REQUEST, "bad arguments"); return HL_STATUS_BAD_REQUEST; }
  if (s->running) { eng_set_error(err, HL_STATUS_BAD_REQUEST, "store busy"); return HL_STATUS_BAD_REQUEST; }
  eng_inst *in = eng_xalloc(sizeof *in);
  if (!in) return oom(err);
  in->store = s;
  in->mod = eng_xalloc(sizeof *in->mod);
  if (!in->mod) { inst_free(in); return oom(err); }
  eng_module *m = in->mod;
  if ((st = eng_decode(bytes ? bytes : (const uint8_t *)"", len, m, err))) goto fail;
  if ((st = eng_scan_module(m, err))) goto fail;
  if ((st = eng_validate_module(m, err))) goto fail;
  // store-wide type ids
  in->type_ids = eng_xalloc((size_t)m->ntypes * 4 + 4);
  if (!in->type_ids) { st = oom(err); goto fail; }
  for (uint32_t g = 0; g < m->ntypes; g += m->types[g].nrec) { // a group refers only to earlier ones
    if (!intern_group(s, m, in->type_ids, g, m->types[g].nrec)) { st = oom(err); goto fail; }
    for (uint32_t k = g; k < g + m->types[g].nrec; k++) m->types[k].id = in->type_ids[k];
  }
  // compile
  in->own_funcs = eng_xalloc((size_t)m->ncodes * sizeof(eng_func) + 1);
  if (!in->own_funcs) { st = oom(err); goto fail; }
  for (uint32_t i = 0; i < m->ncodes; i++) {
    if ((st = eng_compile_func(s, m, in->type_ids, i, &in->own_funcs[i], err))) goto fail;
    in->nown_funcs = i + 1;
    in->own_funcs[i].inst = in;
  }
  // resolve imports
  in->funcs = eng_xalloc((size_t)m->nfuncs * sizeof(eng_func *) + 1);
  in->tables = eng_xalloc((size_t)m->ntables * sizeof(eng_table *) + 1);
  in->globals = eng_xalloc((size_t)m->nglobals * sizeof(eng_global *) + 1);
  in->tags = eng_xalloc((size_t)m->ntags * sizeof(eng_tag *) + 1);
  in->own_tags = eng_xalloc((size_t)(m->ntags - m->ntag_imports) * sizeof(eng_tag) + 1);
  if (!in->funcs || !in->tables || !in->globals || !in->tags || !in->own_tags) { st = oom(err); goto fail; }
  in->ntags = m->ntags;
  in->nfuncs = m->nfuncs;
  in->ntables = m->ntables;
  in->mems = eng_xalloc((size_t)m->nmems * sizeof(eng_mem *) + 1);
  in->own_mems = eng_xalloc((size_t)(m->nmems - m->nmem_imports) * sizeof(eng_mem) + 1);
  if (!in->mems || !in->own_mems) { st = oom(err); goto fail; }
  in->nmems = m->nmems;
  in->nglobals = m->nglobals;
  {
    uint32_t nf = 0, nt = 0, ng = 0, ntg = 0, nm = 0;
    for (uint32_t i = 0; i < m->nimports; i++) {
      const eng_import *im = &m->imports[i];
      eng_inst *src = find_registered(s, im->module, im->module_len);
      const eng_export *ex = src ? find_export(src, im->name, im->name_len) : NULL;
      if (!ex) {
        eng_set_error2(err, HL_STATUS_UNLINKABLE, "unknown import", im->module, im->module_len, im->name,
                       im->name_len);
        st = HL_STATUS_UNLINKABLE;
        goto fail;
      }
      bool ok = ex->kind == im->kind;
      if (ok) {
        switch (im->kind) {
        case EXT_FUNC: {
          eng_func *f = src->funcs[ex->idx];
          ok = eng_type_sub(s, f->type_id, in->type_ids[im->typeidx]);
          in->funcs[nf++] = f;
          break;
        }
        case EXT_TABLE: {
          eng_table *t = src->tables[ex->idx];
          ok = t->type == eng_vt_store(in->type_ids, im->table.elemtype) && t->decl.is64 == im->table.lim.is64 &&
               limits_match(t->size, t->decl.has_max, t->decl.max, &im->table.lim);
          in->tables[nt++] = t;
          break;
        }
        case EXT_MEM: {
          eng_mem *mm = src->mems[ex->idx];
          ok = mm->decl.is64 == im->mem.is64 && limits_match(mm->pages, mm->decl.has_max, mm->decl.max, &im->mem);
          in->mems[nm++] = mm;
          break;
        }
        case EXT_GLOBAL: {
          eng_global *g = src->globals[ex->idx];
          eng_vt want = eng_vt_store(in->type_ids, im->global.type);
          ok = g->mut == im->global.mut && (g->mut ? g->type == want : vt_sub_store(s, g->type, want));
          in->globals[ng++] = g;
          break;
        }
        case EXT_TAG: {
          eng_tag *tg = src->tags[ex->idx];
          ok = tg->type_id == in->type_ids[im->typeidx];
          in->tags[ntg++] = tg;
          break;
        }
        }
      }
      if (!ok) {
        eng_set_error2(err, HL_STATUS_UNLINKABLE, "incompatible import type", im->module, im->module_len,
                       im->name, im->name_len);
        st = HL_STATUS_UNLINKABLE;
        goto fail;
      }
    }
    for (uint32_t i = 0; i < m->ncodes; i++) in->funcs[nf + i] = &in->own_funcs[i];
    for (uint32_t i = ntg; i < m->ntags; i++) { // own tags: each one a new identity
      eng_tag *tg = &in->own_tags[i - ntg];
      const eng_functype *ft = &m->types[m->tag_types[i]];
      tg->type_id = in->type_ids[m->tag_types[i]];
      tg->nslots = 0;
      for (uint32_t k = 0; k < ft->nparams; k++) tg->nslots += ft->types[k] == VT_V128 ? 2 : 1;
      in->tags[i] = tg;
    }
    // own tables
    in->nown_tables = m->ntables - nt;
    in->own_tables = eng_xalloc((size_t)in->nown_tables * sizeof(eng_table) + 1);
    if (!in->own_tables) { st = oom(err); goto fail; }
    for (uint32_t i = 0; i < in->nown_tables; i++) {
      const eng_tabletype *tt = &m->tables[nt + i];
      eng_table *t = &in->own_tables[i];
      t->type = eng_vt_store(in->type_ids, tt->elemtype);
      t->decl = tt->lim;
      t->max = tt->lim.has_max && tt->lim.max < ENG_MAX_TABLE_ELEMS ? tt->lim.max : ENG_MAX_TABLE_ELEMS;
      if (tt->lim.min > t->max) {
        eng_set_error(err, HL_STATUS_LIMIT, "table too large (engine limit)");
        st = HL_STATUS_LIMIT;
        goto fail;
      }
      t->size = t->cap_elems = tt->lim.min;
      t->elems = eng_xalloc((size_t)t->size * 8 + 8);
      if (!t->elems) { st = oom(err); goto fail; }
      if (tt->has_init) { // its constant expression reads imported globals only (resolved above)
        uint64_t v = eng_eval_const(in, &tt->init);
        for (uint32_t k = 0; k < t->size; k++) t->elems[k] = v;
      }
      in->tables[nt + i] = t;
    }
    // own memory
    for (uint32_t i = nm; i < m->nmems; i++) {
      const eng_limits_t *l = &m->mems[i];
      eng_mem *mm = &in->own_mems[i - nm];
      mm->decl = *l;
      // no memory is larger than 4 GiB (64-bit ones included: ENG_MAX_MEM_PAGES)
      uint64_t cap = l->has_max && l->max < ENG_MAX_MEM_PAGES ? l->max : ENG_MAX_MEM_PAGES;
      if (cap > s->limits.max_memory_pages) cap = s->limits.max_memory_pages;
      if (l->min > cap) {
        eng_set_error(err, HL_STATUS_LIMIT, "memory too large (engine limit)");
        st = HL_STATUS_LIMIT;
        goto fail;
      }
      mm->cap_pages = (uint32_t)cap;
      mm->pages = (uint32_t)l->min;
      mm->size = (uint64_t)l->min * ENG_PAGE;
      if (cap) {
        mm->reserved = (uint64_t)cap * ENG_PAGE;
        mm->base = plat_mem_reserve(mm->reserved);
        if (!mm->base) { mm->reserved = 0; st = oom(err); goto fail; }
      } else {
        mm->base = empty_memory;
      }
      in->mems[i] = mm;
      in->nown_mems = i - nm + 1;
    }
    in->mem = m->nmems ? in->mems[0] : NULL;
    // own globals
    in->nown_globals = m->nglobals - ng;
    in->own_globals = eng_xalloc((size_t)in->nown_globals * sizeof(eng_global) + 1);
    if (!in->own_globals) { st = oom(err); goto fail; }
    for (uint32_t i = 0; i < in->nown_globals; i++) {
      eng_global *g = &in->own_globals[i];
      g->type = eng_vt_store(in->type_ids, m->globals[ng + i].type);
      g->mut = m->globals[ng + i].mut;
      const eng_constexpr *ge = &m->global_inits[ng + i];
      g->val = eng_eval_const(in, ge);
      g->val_hi = ge->op == OP_GLOBAL_GET ? in->globals[ge->idx]->val_hi : ge->val_hi; // v128
      in->globals[ng + i] = g;
    }
    if (s->const_oom) { // a GC allocation of a constant expression did not fit
      s->const_oom = false;
      eng_set_error(err, HL_STATUS_NO_MEMORY, "out of memory (GC heap)");
      st = HL_STATUS_NO_MEMORY;
      goto fail;
    }
  }
  // runtime segments
  in->elems = eng_xalloc((size_t)m->nelems * sizeof(eng_relem) + 1);
  in->datas = eng_xalloc((size_t)m->ndatas * sizeof(eng_rdata) + 1);
  if (!in->elems || !in->datas) { st = oom(err); goto fail; }
  in->nelems = m->nelems;
  in->ndatas = m->ndatas;
  for (uint32_t i = 0; i < m->nelems; i++) {
    const eng_elemseg *es = &m->elems[i];
    eng_relem *re = &in->elems[i];
    re->type = es->type;
    re->items = es->items;
    re->exprs = es->exprs;
    re->count = es->count;
    bool alloc = false;
    for (uint32_t k = 0; k < es->nexprs && !alloc; k++)
      for (uint32_t j = 0; j < es->exprs[k].nseq; j++) {
        uint16_t op = es->exprs[k].seq[j].op;
        if ((op >= OP_STRUCT_NEW && op <= OP_ARRAY_NEW_FIXED) || op == OP_ANY_CONVERT_EXTERN || op == OP_EXTERN_CONVERT_ANY)
          alloc = true;
      }
    if (alloc && es->mode != SEG_DECLARATIVE) { // evaluated once (no collection runs here)
      if (!(re->vals = eng_xalloc((size_t)re->count * 8 + 8))) { st = oom(err); goto fail; }
      for (uint32_t k = 0; k < re->count; k++) re->vals[k] = eng_elem_value(in, re->exprs, re->items[k]);
      if (s->const_oom) {
        s->const_oom = false;
        eng_set_error(err, HL_STATUS_NO_MEMORY, "out of memory (GC heap)");
        st = HL_STATUS_NO_MEMORY;
        goto fail;
      }
    }
  }
  for (uint32_t i = 0; i < m->ndatas; i++) {
    in->datas[i].bytes = m->datas[i].bytes;
    in->datas[i].len = m->datas[i].len;
  }
  // From here on the instance is part of the store (its functions may end up in shared tables
  // even if initialization traps).
  uint32_t id;
  if (add_instance(s, in, &id)) { st = oom(err); goto fail; }
  eng_jit_instance(s, in); // compile tier (jit.h); functions it does not compile stay interpreted
  // Active and declarative segments are dropped once applied: their items are freed.
  for (uint32_t i = 0; i < m->nelems; i++) {
    eng_elemseg *es = &m->elems[i];
    eng_relem *re = &in->elems[i];
    if (es->mode == SEG_ACTIVE) {
      eng_table *t = in->tables[es->table];
      uint64_t d = eng_eval_const(in, &es->offset);
      if (!t->decl.is64) d = (uint32_t)d;
      if (d > t->size || re->count > t->size - d) {
        eng_set_trap(err, HL_TRAP_TABLE_OUT_OF_BOUNDS);
        return HL_STATUS_TRAP;
      }
      for (uint32_t k = 0; k < re->count; k++) t->elems[d + k] = eng_relem_value(in, re, k);
    }
    if (es->mode != SEG_PASSIVE) {
      re->count = 0;
      re->items = NULL;
      eng_xfree(es->items);
      es->items = NULL;
      es->count = 0;
    }
  }
  for (uint32_t i = 0; i < m->ndatas; i++) {
    const eng_dataseg *ds = &m->datas[i];
    eng_rdata *rdd = &in->datas[i];
    if (ds->mode != SEG_ACTIVE) continue;
    eng_mem *mm = in->mems[ds->mem];
    uint64_t d = eng_eval_const(in, &ds->offset);
    if (!mm->decl.is64) d = (uint32_t)d;
    if (d > mm->size || rdd->len > mm->size - d) {
      eng_set_trap(err, HL_TRAP_MEMORY_OUT_OF_BOUNDS);
      return HL_STATUS_TRAP;
    }
    if (rdd->len) memcpy(mm->base + d, rdd->bytes, rdd->len);
    rdd->len = 0;
  }
  if (m->has_start) {
    s->running = true;
    s->fuel_left = s->limits.fuel;
    st = eng_invoke(s, in->funcs[m->start], err);
    if (st == ENG_STATUS_THROWN) st = eng_uncaught(s, err);
    s->running = false;
    if (st) return st;
  }
  in->code_ok = true;
  if (inst_out) *inst_out = id;
  return HL_STATUS_OK;
fail:
  inst_free(in);
  return st;
}

uint32_t eng_register(eng_store *s, uint32_t inst, const char *name, size_t name_len, eng_error *err) {
  if (!s || inst >= s->ninsts || !s->insts[inst]->code_ok || (!name && name_len) || name_len > UINT32_MAX) {
    eng_set_error(err, HL_STATUS_BAD_REQUEST, "bad instance");
    return HL_STATUS_BAD_REQUEST;
  }
  for (uint32_t i = 0; i < s->nregs; i++) {
    if (s->regs[i].len == name_len && (!name_len || memcmp(s->regs[i].name, name, name_len) == 0)) {
      s->regs[i].inst = inst;
      return HL_STATUS_OK;
    }
  }
  if (s->nregs == s->cap_regs) {
    uint32_t nc = s->cap_regs ? s->cap_regs * 2 : 8;
    eng_reg *p = eng_xrealloc(s->regs, (size_t)s->cap_regs * sizeof *p, (size_t)nc * sizeof *p);
    if (!p) return oom(err);
    s->regs = p;
    s->cap_regs = nc;
  }
  uint8_t *nm = eng_xalloc(name_len + 1);
  if (!nm) return oom(err);
  if (name_len) memcpy(nm, name, name_len);
  s->regs[s->nregs++] = (eng_reg){nm, (uint32_t)name_len, inst};
  return HL_STATUS_OK;
}

static bool is_store_func(eng_store *s, uint64_t v) {
  for (uint32_t i = 0; i < s->ninsts; i++) {
    const eng_inst *in = s->insts[i];
    uintptr_t lo = (uintptr_t)in->own_funcs, hi = lo + (uintptr_t)in->nown_funcs * sizeof(eng_func);
    if (v >= lo && v < hi && (v - lo) % sizeof(eng_func) == 0) return true;
  }
  return false;
}

static uint32_t bad(eng_error *err, const char *msg) {
  eng_set_error(err, HL_STATUS_BAD_REQUEST, msg);
  return HL_STATUS_BAD_REQUEST;
}

static const eng_export *get_export(eng_store *s, uint32_t inst, uint32_t idx, uint8_t kind,
                                    eng_inst **in_out) {
  if (!s || inst >= s->ninsts || !s->insts[inst]->code_ok) return NULL;
  eng_inst *in = s->insts[inst];
  if (idx >= in->mod->nexports || in->mod->exports[idx].kind != kind) return NULL;
  *in_out = in;
  return &in->mod->exports[idx];
}

uint32_t eng_call(eng_store *s, uint32_t inst, uint32_t export_index, const uint64_t *params,
                  uint32_t nparams, uint64_t *results, uint32_t *nresults, eng_error *err) {
  eng_inst *in;
  if (err) { err->status = 0; err->trap = 0; err->msg[0] = 0; }
  const eng_export *ex = get_export(s, inst, export_index, EXT_FUNC, &in);
  if (!ex) return bad(err, "no such function export");
  if (s->running && !s->in_host) return bad(err, "store busy");
  eng_func *f = in->funcs[ex->idx];
  const eng_functype *t = f->type;
  // slots: a v128 takes two (f->nparams/nresults count slots)
  if (nparams != f->nparams || (nparams && !params)) return bad(err, "wrong number of parameters");
  if (f->nresults && !results) return bad(err, "no result buffer");
  if (f->nparams > HL_MAX_VALUES || f->nresults > HL_MAX_VALUES) {
    eng_set_error(err, HL_STATUS_LIMIT, "too many parameters or results for the host boundary");
    return HL_STATUS_LIMIT;
  }
  for (uint32_t i = 0, ti = 0; i < nparams; i++, ti++) {
    uint64_t v = params[i];
    if (t->types[ti] == VT_V128) {
      if (s->nest_base + i >= s->stack_slots) return bad(err, "value stack exhausted");
      s->stack[s->nest_base + i++] = v;
      v = params[i];
    }
    if (!v && (t->types[ti] & VT_NONNULL)) return bad(err, "null for a non-nullable reference parameter");
    switch (vt_kind(t->types[ti])) {
    case VT_I32: case VT_F32: v &= 0xffffffffu; break;
    case VT_FUNCREF:
      if (v && !is_store_func(s, v)) return bad(err, "invalid funcref parameter");
      if (v && (t->types[ti] & VT_CONCRETE) &&
          !eng_type_sub(s, ((const eng_func *)(uintptr_t)v)->type_id, f->inst->type_ids[VT_IDX_OF(t->types[ti])]))
        return bad(err, "funcref parameter of the wrong function type");
      break;
    case VT_EXNREF: if (v) return bad(err, "an exnref parameter must be null"); break;
    // GC: an any-hierarchy value from the host is null or an i31 ((v << 1) | 1; no other
    // objects exist), a bottom type's only null
    case VT_ANYREF: case VT_EQREF: case VT_I31REF:
      if (v && !(v & 1)) return bad(err, "an anyref parameter must be null or an i31 reference");
      break;
    case VT_STRUCTREF: case VT_ARRAYREF: // objects are the engine's: the host cannot make one
      if (v) return bad(err, "a struct or array reference parameter must be null");
      break;
    case VT_NONE: case VT_NOFUNC: case VT_NOEXTERN: case VT_NOEXN:
      if (v) return bad(err, "a parameter of a bottom reference type must be null");
      break;
    default: break;
    }
    if (s->nest_base + i >= s->stack_slots) return bad(err, "value stack exhausted");
    s->stack[s->nest_base + i] = v;
  }
  bool was_running = s->running;
  s->running = true;
  s->fuel_left = s->limits.fuel;
  uint32_t st = eng_invoke(s, f, err);
  if (st == ENG_STATUS_THROWN) st = eng_uncaught(s, err);
  s->running = was_running;
  if (st) return st;
  for (uint32_t i = 0; i < f->nresults; i++) results[i] = s->stack[s->nest_base + i];
  if (nresults) *nresults = f->nresults;
  return HL_STATUS_OK;
}

uint32_t eng_global_get(eng_store *s, uint32_t inst, uint32_t export_index, uint64_t out[2],
                        uint8_t *type, eng_error *err) {
  eng_inst *in;
  if (err) { err->status = 0; err->trap = 0; err->msg[0] = 0; }
  const eng_export *ex = get_export(s, inst, export_index, EXT_GLOBAL, &in);
  if (!ex) return bad(err, "no such global export");
  const eng_global *g = in->globals[ex->idx];
  out[0] = g->val;
  out[1] = g->type == VT_V128 ? g->val_hi : 0;
  if (type) *type = vt_kind(g->type);
  return HL_STATUS_OK;
}
