// jit_x64.c — the compile tier: translates each function's validated slot code (compile.c, the
// words the interpreter runs) into x86-64, one template per slot instruction. See README.md
// "Compile tier" for the design, the register conventions and what stays a call into C.
//
// Register conventions of compiled code (all callee-saved in the SysV ABI, so calls into C keep
// them): rbx = frame base fp (slot k is [rbx + 8k]), r12 = linear memory base, r13 = its size in
// bytes, r14 = the store's eng_jit. rax, rcx, rdx, rsi, rdi, r8-r11, xmm0, xmm1 are scratch.
// Wasm calls between compiled functions of one instance are native call/ret with the callee's
// frame at the caller's argument slots (as in the interpreter); every other call goes through C.
// A trap jumps to the trampoline's exit, which unwinds the native stack to the innermost
// eng_jit_enter.
#include "jit.h"

#include "eval.h"
#include "gc_ops.h"
#include "numeric.h"
#include "simd.h"

#define JOFF(t, f) __builtin_offsetof(t, f)

// Run-time state of compiled code (r14). Nested entries (compiled -> C -> compiled) save and
// restore the fields they change.
typedef struct eng_jit eng_jit;
struct eng_jit {
  uint64_t saved_rsp;   // native stack of the innermost trampoline (the trap exit unwinds to it)
  uint64_t rsp_limit;   // compiled prologues trap "call stack exhausted" below this
  uint64_t *stack_end;  // end of the value stack
  uint32_t depth_left;  // Wasm frames that may still be pushed
  uint32_t pad_;
  uintptr_t exit;       // the trampoline's exit (trap stubs jump there with eax = trap)
  eng_store *s;
  eng_error *err;       // where nested calls report
  uint64_t fuel;        // fuel left (when eng_limits.fuel is set: FUEL instructions count it)
  uint8_t *tail_base;   // jit_tail's answer: the memory of the compiled callee to jump to
  uint64_t tail_size;
};

// Calls into generated code carry no function-type signature for UBSan's -fsanitize=function.
#if defined(__clang__)
#define NO_FN_SANITIZE __attribute__((no_sanitize("function")))
#else
#define NO_FN_SANITIZE
#endif

// Return codes of compiled code and its C helpers besides 0 (ok) and a trap number:
#define JIT_PROPAGATE 0x100u // a trap whose eng_error is already written
#define JIT_FUEL 0x101u      // out of fuel: HL_TRAP_HOST "fuel exhausted", as the interpreter
#define JIT_THROWN 0x102u    // an exception in flight (s->thrown): eng_jit_enter's ENG_STATUS_THROWN
#define JIT_STACK_BUDGET (512u << 10) // without plat_stack_limit: stack below the first entry
#define JIT_MAX_BYTES (256u << 20)    // machine code of one instance

enum { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15 };
enum { CC_O, CC_NO, CC_B, CC_AE, CC_E, CC_NE, CC_BE, CC_A, CC_S, CC_NS, CC_P, CC_NP, CC_L, CC_GE, CC_LE, CC_G };
enum { G_ADD = 0, G_OR = 1, G_AND = 4, G_SUB = 5, G_XOR = 6, G_CMP = 7 };        // group-1 digits
enum { SH_ROL = 0, SH_ROR = 1, SH_SHL = 4, SH_SHR = 5, SH_SAR = 7 };              // group-2 digits

typedef struct { uint32_t pos, target; } fixup;

typedef struct {
  uint8_t *b;
  size_t n, cap;
  bool bad;                         // out of memory or too big: the instance stays interpreted
  fixup *fx; size_t nfx, capfx;     // branches to word offsets of the current function
  fixup *cx; size_t ncx, capcx;     // direct calls to defined function `target`
  uint32_t stub[HL_TRAP_COUNT + 1]; // trap stubs; [0] = the dynamic one (eax set)
  uint32_t fuel_stub;
} J;

// ------------------------------------------------------------------ byte emission
static void eb(J *j, uint8_t x) {
  if (j->n == j->cap) {
    size_t nc = j->cap ? j->cap * 2 : 65536;
    uint8_t *p = nc <= JIT_MAX_BYTES ? eng_xrealloc(j->b, j->cap, nc) : NULL;
    if (!p) { j->bad = true; j->n = 0; return; }
    j->b = p;
    j->cap = nc;
  }
  j->b[j->n++] = x;
}
static void e32(J *j, uint32_t v) { for (int i = 0; i < 4; i++) eb(j, (uint8_t)(v >> (8 * i))); }
static void e64(J *j, uint64_t v) { e32(j, (uint32_t)v); e32(j, (uint32_t)(v >> 32)); }
static void patch32(J *j, uint32_t pos, uint32_t v) {
  if (j->bad) return;
  for (int i = 0; i < 4; i++) j->b[pos + i] = (uint8_t)(v >> (8 * i));
}
static bool push_fix(fixup **a, size_t *n, size_t *cap, uint32_t pos, uint32_t target) {
  if (*n == *cap) {
    size_t nc = *cap ? *cap * 2 : 256;
    fixup *p = eng_xrealloc(*a, *cap * sizeof(fixup), nc * sizeof(fixup));
    if (!p) return false;
    *a = p;
    *cap = nc;
  }
  (*a)[(*n)++] = (fixup){pos, target};
  return true;
}

static void eop(J *j, uint32_t op) {
  if (op > 0xffff) eb(j, (uint8_t)(op >> 16));
  if (op > 0xff) eb(j, (uint8_t)(op >> 8));
  eb(j, (uint8_t)op);
}
static void rex(J *j, int w, int r, int x, int b) {
  uint8_t v = (uint8_t)(0x40 | (w ? 8 : 0) | ((r >> 3) & 1) << 2 | ((x >> 3) & 1) << 1 | ((b >> 3) & 1));
  if (v != 0x40) eb(j, v);
}

typedef struct { int base, index, scale; int32_t disp; } M; // [base + index << scale + disp]
static M MS(uint32_t slot) { return (M){RBX, -1, 0, (int32_t)(slot * 8u)}; }
static M MB(int base, int32_t d) { return (M){base, -1, 0, d}; }

// op reg, [mem] with an optional mandatory prefix (0x66, 0xf2, 0xf3) and REX.W.
static void om(J *j, int pfx, int w, uint32_t op, int reg, M m) {
  if (pfx) eb(j, (uint8_t)pfx);
  rex(j, w, reg, m.index < 0 ? 0 : m.index, m.base);
  eop(j, op);
  int mod = m.disp >= -128 && m.disp <= 127 ? 1 : 2; // never mod 0: no rbp/r13 special case
  if (m.index < 0 && (m.base & 7) != 4) {
    eb(j, (uint8_t)(mod << 6 | (reg & 7) << 3 | (m.base & 7)));
  } else {
    eb(j, (uint8_t)(mod << 6 | (reg & 7) << 3 | 4));
    eb(j, (uint8_t)(m.scale << 6 | ((m.index < 0 ? 4 : m.index) & 7) << 3 | (m.base & 7)));
  }
  if (mod == 1) eb(j, (uint8_t)m.disp);
  else e32(j, (uint32_t)m.disp);
}
// op reg, rm (register direct).
static void orr(J *j, int pfx, int w, uint32_t op, int reg, int rm) {
  if (pfx) eb(j, (uint8_t)pfx);
  rex(j, w, reg, 0, rm);
  eop(j, op);
  eb(j, (uint8_t)(0xc0 | (reg & 7) << 3 | (rm & 7)));
}

static void ld(J *j, int w, int r, M m) { om(j, 0, w, 0x8b, r, m); }
static void st(J *j, int w, M m, int r) { om(j, 0, w, 0x89, r, m); }
static void movri(J *j, int r, uint64_t v) {
  if (v <= 0xffffffffu) {
    rex(j, 0, 0, 0, r);
    eb(j, (uint8_t)(0xb8 + (r & 7)));
    e32(j, (uint32_t)v);
  } else {
    rex(j, 1, 0, 0, r);
    eb(j, (uint8_t)(0xb8 + (r & 7)));
    e64(j, v);
  }
}
static void movrp(J *j, int r, const void *p) { movri(j, r, (uint64_t)(uintptr_t)p); }
static bool fits8(int64_t v) { return v >= -128 && v <= 127; }
static bool fits32(int64_t v) { return v >= INT32_MIN && v <= INT32_MAX; }
static void alu_ri(J *j, int w, int g, int r, int32_t imm) {
  if (fits8(imm)) { orr(j, 0, w, 0x83, g, r); eb(j, (uint8_t)imm); }
  else { orr(j, 0, w, 0x81, g, r); e32(j, (uint32_t)imm); }
}
static void alu_mi(J *j, int w, int g, M m, int32_t imm) {
  if (fits8(imm)) { om(j, 0, w, 0x83, g, m); eb(j, (uint8_t)imm); }
  else { om(j, 0, w, 0x81, g, m); e32(j, (uint32_t)imm); }
}
static void alu_rm(J *j, int w, int g, int r, M m) { om(j, 0, w, (uint32_t)(g * 8 + 3), r, m); }
static void alu_rr(J *j, int w, int g, int r, int rm) { orr(j, 0, w, (uint32_t)(g * 8 + 3), r, rm); }
static void setcc_rax(J *j, int cc) {
  orr(j, 0, 0, 0x0f90u | (uint32_t)cc, 0, RAX);
  orr(j, 0, 0, 0x0fb6, RAX, RAX); // movzx eax, al
}
static void lea(J *j, int r, M m) { om(j, 0, 1, 0x8d, r, m); }
// rel32 jumps: return the position of the rel32 field.
static uint32_t jcc32(J *j, int cc) { eb(j, 0x0f); eb(j, (uint8_t)(0x80 + cc)); e32(j, 0); return (uint32_t)j->n - 4; }
static uint32_t jmp32(J *j) { eb(j, 0xe9); e32(j, 0); return (uint32_t)j->n - 4; }
static void here(J *j, uint32_t pos) { patch32(j, pos, (uint32_t)(j->n - (pos + 4))); }
static void to_stub(J *j, uint32_t pos, uint32_t trap) { patch32(j, pos, j->stub[trap] - (pos + 4)); }
static void jstub(J *j, int cc, uint32_t trap) { to_stub(j, jcc32(j, cc), trap); }
static void jword(J *j, int cc, uint32_t target) { // to a word offset of the current function
  uint32_t p = cc < 0 ? jmp32(j) : jcc32(j, cc);
  if (!push_fix(&j->fx, &j->nfx, &j->capfx, p, target)) j->bad = true;
}
static void call_abs(J *j, const void *fn) { movrp(j, RAX, fn); orr(j, 0, 0, 0xff, 2, RAX); }

// ------------------------------------------------------------------ run-time helpers (C)
static uint32_t (*tramp)(eng_jit *, uint64_t *, void *, uint8_t *, uint64_t);
static uintptr_t tramp_exit;

NO_FN_SANITIZE static uint32_t jit_call_slow(eng_jit *c, eng_func *callee, uint64_t *cfp, eng_inst *caller) {
  eng_store *s = c->s;
  uint32_t saved_base = s->nest_base, saved_frames = s->nest_frames;
  if (callee->is_host) { // as the interpreter's do_call
    uint32_t need = callee->nparams > callee->nresults ? callee->nparams : callee->nresults;
    if ((size_t)(c->stack_end - cfp) < need) return HL_TRAP_CALL_STACK_EXHAUSTED;
    s->nest_base = (uint32_t)(cfp - s->stack) + need;
    s->nest_frames = s->max_frames - c->depth_left;
    s->in_host++;
    eng_mem *m = caller->mem;
    uint32_t hst = plat_host_call(callee->host_id, cfp, callee->nparams, callee->nresults,
                                  m ? m->base : NULL, m ? m->size : 0);
    s->in_host--;
    s->nest_base = saved_base;
    s->nest_frames = saved_frames;
    return hst || !eng_host_results_ok(callee, cfp) ? HL_TRAP_HOST : 0;
  }
  if (callee->jit_entry) { // another instance's compiled function: its own memory
    eng_mem *m = callee->inst->mem;
    return tramp(c, cfp, callee->jit_entry, m ? m->base : NULL, m ? m->size : 0);
  }
  // Interpreted: a nested eng_invoke with the frames left (above every frame in use: the
  // call site already took one from depth_left).
  s->nest_base = (uint32_t)(cfp - s->stack);
  s->nest_frames = s->max_frames - c->depth_left - 1;
  s->fuel_left = c->fuel;
  uint32_t st = eng_invoke(s, callee, c->err);
  c->fuel = s->fuel_left;
  s->nest_base = saved_base;
  s->nest_frames = saved_frames;
  return st == ENG_STATUS_THROWN ? JIT_THROWN : st ? JIT_PROPAGATE : 0;
}

// Tail calls other than a direct jump within the instance (jit_tail's answer in rax): the
// callee replaces the caller's frame at fp (its arguments at afp). A compiled callee (any
// instance): the arguments are moved down to fp[0..] and its entry returned; the caller's code
// loads r12/r13 from tail_base/tail_size, pops its frame and jumps there (constant native stack).
// A host callee runs as a call and its results move down (as the interpreter's do_tail_call).
// An interpreted callee runs as a nested eng_invoke in the caller's place (the frames it may
// use are the caller's); its own tail calls, also to compiled functions, then stay inside that
// interpreter (interp.c do_tail_call runs any function's slot code), so a chain of tail calls
// crossing the tiers costs one native eng_invoke frame, not one per call. 0: the call ran, its
// results are at fp[0..] (the caller returns); otherwise a trap (below JIT_ENTRY_MIN).
#define JIT_ENTRY_MIN 0x1000u
NO_FN_SANITIZE static uintptr_t jit_tail(eng_jit *c, eng_func *callee, uint64_t *fp, uint64_t *afp, eng_inst *caller) {
  eng_store *s = c->s;
  if (callee->is_host) {
    uint32_t rc = jit_call_slow(c, callee, afp, caller);
    if (rc) return rc;
    for (uint32_t k = 0; k < callee->nresults; k++) fp[k] = afp[k];
    return 0;
  }
  for (uint32_t k = 0; k < callee->nparams; k++) fp[k] = afp[k]; // afp > fp: ascending is safe
  if (callee->jit_entry) {
    eng_mem *m = callee->inst->mem;
    c->tail_base = m ? m->base : NULL;
    c->tail_size = m ? m->size : 0;
    return (uintptr_t)callee->jit_entry;
  }
  uint32_t saved_base = s->nest_base, saved_frames = s->nest_frames;
  s->nest_base = (uint32_t)(fp - s->stack);
  s->nest_frames = s->max_frames - c->depth_left - 1; // the caller's frame, which it replaces
  s->fuel_left = c->fuel;
  uint32_t st = eng_invoke(s, callee, c->err);
  c->fuel = s->fuel_left;
  s->nest_base = saved_base;
  s->nest_frames = saved_frames;
  return st == ENG_STATUS_THROWN ? JIT_THROWN : st ? JIT_PROPAGATE : 0;
}

// throw: the exception (tag tg, payload at vals) goes in flight; compiled code has no handlers
// (a function with one stays interpreted), so its caller's exit leaves for eng_jit_enter.
static uint32_t jit_throw(eng_jit *c, const eng_tag *tg, const uint64_t *vals) {
  eng_exn *x = eng_xalloc(sizeof *x + (size_t)tg->nslots * 8);
  if (!x) {
    eng_set_error(c->err, HL_STATUS_NO_MEMORY, "out of memory (exception)");
    return JIT_PROPAGATE;
  }
  x->tag = tg;
  x->nslots = tg->nslots;
  for (uint32_t k = 0; k < tg->nslots; k++) x->vals[k] = vals[k];
  c->s->thrown = x;
  return JIT_THROWN;
}
// throw_ref and the legacy rethrow: the exception an exnref points to goes in flight again.
static uint32_t jit_throw_ref(eng_jit *c, uint64_t ref) {
  if (!ref) return HL_TRAP_NULL_REFERENCE;
  c->s->thrown = (eng_exn *)(uintptr_t)ref;
  return JIT_THROWN;
}

// GC instructions (gc_ops.h): one C call each, the frame written back first (an allocation
// may collect; its roots end at live_end, the top of the frame). 0 or the trap.
static uint32_t jit_gc(eng_jit *c, const eng_inst *inst, const uint32_t *ip, uint64_t *fp, uint64_t *live_end) {
  return eng_gc_op(c->s, inst, ip[-1], ip, fp, live_end);
}
static uint32_t jit_ref_test(eng_jit *c, uint64_t v, uint32_t w) { return eng_ref_test(c->s, v, w); }

// call_indirect's and return_call_indirect's table lookup: the callee, or a trap (below
// JIT_ENTRY_MIN).
static uintptr_t jit_resolve_indirect(eng_jit *c, eng_table *t, uint32_t tid, uint64_t i) {
  eng_func *callee = NULL;
  uint32_t trap = 0;
  if (i >= t->size) trap = HL_TRAP_UNDEFINED_ELEMENT;
  else if (!(callee = (eng_func *)(uintptr_t)t->elems[i])) trap = HL_TRAP_UNINITIALIZED_ELEMENT;
  if (trap) {
    eng_set_trap(c->err, trap);
    eng_trap_index(c->err, i);
    return JIT_PROPAGATE;
  }
  if (callee->type_id != tid && !eng_type_sub(c->s, callee->type_id, tid)) return HL_TRAP_INDIRECT_TYPE_MISMATCH;
  return (uintptr_t)callee;
}

static uint32_t jit_call_indirect(eng_jit *c, eng_table *t, uint32_t tid, uint64_t i, uint64_t *cfp,
                                  eng_inst *caller) {
  uintptr_t callee = jit_resolve_indirect(c, t, tid, i);
  if (callee < JIT_ENTRY_MIN) return (uint32_t)callee; // the trap
  return jit_call_slow(c, (eng_func *)callee, cfp, caller);
}

// Numeric instructions without a template: one C call computing the opcodes.h expression.
typedef uint64_t (*num_fn)(uint64_t, uint64_t);
#define JH_N1(n, byte_, in, out, e)                                                             \
  static uint64_t jh_##n(uint64_t ra, uint64_t rb) {                                            \
    (void)rb;                                                                                   \
    CT_##in a = LD_##in(ra);                                                                    \
    return ST_##out(e);                                                                         \
  }
#define JH_N2(n, byte_, i1, i2, out, e)                                                         \
  static uint64_t jh_##n(uint64_t ra, uint64_t rb) { return ST_##out(ev_##n(LD_##i1(ra), LD_##i2(rb))); }
#define JH_Z(...)
HL_OPCODES(JH_N1, JH_N2, JH_Z, JH_Z, JH_Z, JH_Z, JH_Z, JH_N1, JH_Z, JH_Z)
#define JT_N(n, ...) [OP_##n] = jh_##n,
#define JT_IMM(n, ...) [OP_##n##_IMM] = jh_##n,
static const num_fn num_helpers[OP_COUNT] = {
    HL_OPCODES(JT_N, JT_N, JH_Z, JH_Z, JH_Z, JH_Z, JH_Z, JT_N, JH_Z, JH_Z)
    HL_OPCODES(JH_Z, JT_IMM, JH_Z, JH_Z, JH_Z, JH_Z, JH_Z, JH_Z, JH_Z, JH_Z)};

// The remaining instructions (tables, bulk memory, SIMD, trapping truncations, memory.grow):
// one C call running the instruction at ip (its opcode word) on frame fp, as interp.c does.
// 0, or the trap.
static uint32_t jit_slow_op(eng_inst *inst, const uint32_t *ip, uint64_t *fp) {
#define R(k) fp[ip[1 + (k)]]
  eng_mem *m = inst->mem;
  uint8_t *mem_base = m ? m->base : NULL;
  uint64_t mem_size = m ? m->size : 0;
  switch (ip[0]) {
  case OP_TABLE_GET: {
    eng_table *t = inst->tables[ip[3]];
    uint64_t i = R(1); // the whole slot (i32 zero-extended, or table64's i64)
    if (i >= t->size) return HL_TRAP_TABLE_OUT_OF_BOUNDS;
    R(0) = t->elems[i];
    return 0;
  }
  case OP_TABLE_SET: {
    eng_table *t = inst->tables[ip[3]];
    uint64_t i = R(0);
    if (i >= t->size) return HL_TRAP_TABLE_OUT_OF_BOUNDS;
    t->elems[i] = R(1);
    return 0;
  }
  case OP_MEMORY_GROW: R(0) = eng_mem_grow(m, (uint32_t)R(1)); return 0;
  case OP_MEMORY_INIT: {
    const eng_rdata *ds = &inst->datas[ip[1]];
    uint32_t d = (uint32_t)fp[ip[2]], src = (uint32_t)fp[ip[3]], n = (uint32_t)fp[ip[4]];
    if ((uint64_t)src + n > ds->len || (uint64_t)d + n > mem_size) return HL_TRAP_MEMORY_OUT_OF_BOUNDS;
    if (n) memcpy(mem_base + d, ds->bytes + src, n);
    return 0;
  }
  case OP_DATA_DROP: inst->datas[ip[1]].len = 0; return 0;
  case OP_MEMORY_COPY: {
    uint32_t d = (uint32_t)R(0), src = (uint32_t)R(1), n = (uint32_t)R(2);
    if ((uint64_t)src + n > mem_size || (uint64_t)d + n > mem_size) return HL_TRAP_MEMORY_OUT_OF_BOUNDS;
    if (n) memmove(mem_base + d, mem_base + src, n);
    return 0;
  }
  case OP_MEMORY_FILL: {
    uint32_t d = (uint32_t)R(0), v = (uint32_t)R(1), n = (uint32_t)R(2);
    if ((uint64_t)d + n > mem_size) return HL_TRAP_MEMORY_OUT_OF_BOUNDS;
    if (n) memset(mem_base + d, (int)(v & 0xff), n);
    return 0;
  }
  case OP_TABLE_INIT: {
    const eng_relem *e = &inst->elems[ip[1]];
    eng_table *t = inst->tables[ip[2]];
    uint64_t d = fp[ip[3]]; // table indices: the whole slot (i32 zero-extended, or table64's i64)
    uint32_t src = (uint32_t)fp[ip[4]], n = (uint32_t)fp[ip[5]];
    if ((uint64_t)src + n > e->count || d > t->size || n > t->size - d) return HL_TRAP_TABLE_OUT_OF_BOUNDS;
    for (uint32_t k = 0; k < n; k++) t->elems[d + k] = eng_relem_value(inst, e, src + k);
    return 0;
  }
  case OP_ELEM_DROP: inst->elems[ip[1]].count = 0; return 0;
  case OP_TABLE_COPY: {
    eng_table *td = inst->tables[ip[1]], *ts = inst->tables[ip[2]];
    uint64_t d = fp[ip[3]], src = fp[ip[4]], n = fp[ip[5]];
    if (src > ts->size || n > ts->size - src || d > td->size || n > td->size - d) return HL_TRAP_TABLE_OUT_OF_BOUNDS;
    if (n) memmove(td->elems + d, ts->elems + src, (size_t)n * 8);
    return 0;
  }
  case OP_TABLE_GROW: R(0) = eng_table_grow(inst->tables[ip[2]], R(3), R(2)); return 0;
  case OP_TABLE_SIZE: R(0) = inst->tables[ip[2]]->size; return 0;
  case OP_TABLE_FILL: {
    eng_table *t = inst->tables[ip[1]];
    uint64_t d = fp[ip[2]], n = fp[ip[4]], v = fp[ip[3]];
    if (d > t->size || n > t->size - d) return HL_TRAP_TABLE_OUT_OF_BOUNDS;
    for (uint32_t k = 0; k < n; k++) t->elems[d + k] = v;
    return 0;
  }
  case OP_SIMD:
    return eng_simd_exec(ip + 1, fp, mem_base, mem_size, inst) ? 0 : HL_TRAP_MEMORY_OUT_OF_BOUNDS;
    // Other memories and 64-bit ones (interp.c's _M forms: addresses and lengths of the
    // memory's address type; a memory is at most 4 GiB, so the checks cannot overflow).
#define MADDR(mm, v) ((mm)->decl.is64 ? (v) : (uint64_t)(uint32_t)(v))
#define MFITS(mm, a, n) ((a) <= (mm)->size && (uint64_t)(n) <= (mm)->size - (a))
  case OP_MEMORY_SIZE_M: R(0) = inst->mems[ip[2]]->pages; return 0;
  case OP_MEMORY_GROW_M: {
    eng_mem *mm = inst->mems[ip[3]];
    uint64_t delta = MADDR(mm, R(1));
    uint32_t old = delta > UINT32_MAX ? UINT32_MAX : eng_mem_grow(mm, (uint32_t)delta);
    R(0) = old == UINT32_MAX ? (mm->decl.is64 ? UINT64_MAX : UINT32_MAX) : old;
    return 0;
  }
  case OP_MEMORY_INIT_M: {
    const eng_rdata *ds = &inst->datas[ip[1]];
    const eng_mem *mm = inst->mems[ip[5]];
    uint64_t d = MADDR(mm, R(1));
    uint32_t src = (uint32_t)R(2), n = (uint32_t)R(3);
    if ((uint64_t)src + n > ds->len || !MFITS(mm, d, n)) return HL_TRAP_MEMORY_OUT_OF_BOUNDS;
    if (n) memcpy(mm->base + d, ds->bytes + src, n);
    return 0;
  }
  case OP_MEMORY_COPY_M: {
    const eng_mem *md = inst->mems[ip[4]], *ms = inst->mems[ip[5]];
    uint64_t d = MADDR(md, R(0)), src = MADDR(ms, R(1));
    uint64_t n = md->decl.is64 && ms->decl.is64 ? R(2) : (uint32_t)R(2);
    if (!MFITS(ms, src, n) || !MFITS(md, d, n)) return HL_TRAP_MEMORY_OUT_OF_BOUNDS;
    if (n) memmove(md->base + d, ms->base + src, n);
    return 0;
  }
  case OP_MEMORY_FILL_M: {
    const eng_mem *mm = inst->mems[ip[4]];
    uint64_t d = MADDR(mm, R(0)), n = MADDR(mm, R(2));
    if (!MFITS(mm, d, n)) return HL_TRAP_MEMORY_OUT_OF_BOUNDS;
    if (n) memset(mm->base + d, (int)(R(1) & 0xff), n);
    return 0;
  }
#undef MADDR
#undef MFITS
#define TRUNC(name, in, fits, conv)                                                             \
  case OP_##name: {                                                                             \
    CT_##in a = LD_##in(R(1));                                                                  \
    if (a != a) return HL_TRAP_INVALID_CONVERSION;                                              \
    if (!fits(a)) return HL_TRAP_INTEGER_OVERFLOW;                                              \
    R(0) = (conv);                                                                              \
    return 0;                                                                                   \
  }
    TRUNC(I32_TRUNC_F32_S, F, f32_fits_i32_s, (uint32_t)(int32_t)a)
    TRUNC(I32_TRUNC_F32_U, F, f32_fits_i32_u, (uint32_t)a)
    TRUNC(I32_TRUNC_F64_S, D, f64_fits_i32_s, (uint32_t)(int32_t)a)
    TRUNC(I32_TRUNC_F64_U, D, f64_fits_i32_u, (uint32_t)a)
    TRUNC(I64_TRUNC_F32_S, F, f32_fits_i64_s, (uint64_t)(int64_t)a)
    TRUNC(I64_TRUNC_F32_U, F, f32_fits_i64_u, (uint64_t)a)
    TRUNC(I64_TRUNC_F64_S, D, f64_fits_i64_s, (uint64_t)(int64_t)a)
    TRUNC(I64_TRUNC_F64_U, D, f64_fits_i64_u, (uint64_t)a)
#undef TRUNC
  default: return HL_TRAP_HOST; // never compiled to a slow call (jit_supported)
  }
#undef R
}

static bool is_slow_op(uint32_t op) {
  switch (op) {
  case OP_TABLE_GET: case OP_TABLE_SET: case OP_MEMORY_GROW: case OP_MEMORY_INIT: case OP_DATA_DROP:
  case OP_MEMORY_COPY: case OP_MEMORY_FILL: case OP_TABLE_INIT: case OP_ELEM_DROP: case OP_TABLE_COPY:
  case OP_TABLE_GROW: case OP_TABLE_SIZE: case OP_TABLE_FILL: case OP_SIMD: case OP_MEMORY_SIZE_M:
  case OP_MEMORY_GROW_M: case OP_MEMORY_INIT_M: case OP_MEMORY_COPY_M: case OP_MEMORY_FILL_M:
  case OP_I32_TRUNC_F32_S: case OP_I32_TRUNC_F32_U: case OP_I32_TRUNC_F64_S: case OP_I32_TRUNC_F64_U:
  case OP_I64_TRUNC_F32_S: case OP_I64_TRUNC_F32_U: case OP_I64_TRUNC_F64_S: case OP_I64_TRUNC_F64_U:
    return true;
  default: return false;
  }
}

// ------------------------------------------------------------------ tables from opcodes.h
#define T_Z(...)
#define T_IMMB(n, ...) [OP_##n##_IMM] = OP_##n + 1,
static const uint16_t imm_base[OP_COUNT] = {HL_OPCODES(T_Z, T_IMMB, T_Z, T_Z, T_Z, T_Z, T_Z, T_Z, T_Z, T_Z)};
#define T_IMMW(n, byte_, i1, i2, ...) [OP_##n##_IMM] = HL_IMMW_##i2,
static const uint8_t imm_words[OP_COUNT] = {HL_OPCODES(T_Z, T_IMMW, T_Z, T_Z, T_Z, T_Z, T_Z, T_Z, T_Z, T_Z)};
#define T_LDX(n, ...) [OP_##n##_X] = OP_##n + 1,
static const uint16_t ldx_base[OP_COUNT] = {HL_OPCODES(T_Z, T_Z, T_Z, T_Z, T_LDX, T_Z, T_Z, T_Z, T_Z, T_Z)};
#define T_BRIF(n) [OP_BRIF_##n] = OP_##n + 1,
#define T_BRIFI(n) [OP_BRIF_##n##_IMM] = OP_##n + 1,
static const uint16_t brif_base[OP_COUNT] = {HL_FUSED_CMP(T_BRIF) HL_FUSED_CMP(T_BRIFI)};
typedef struct { uint16_t outer, inner; uint8_t imm, x; } fused;
#define T_FB(o, i, ty, imm, comm) [HL_FB_ID(OP_, o, i, imm)] = {OP_##o + 1, OP_##i + 1, imm, 0},
static const fused fb_info[OP_COUNT] = {HL_FUSED_BIN(T_FB)};
#define T_FL(o, l, ...) [OP_##o##__##l] = {OP_##o + 1, OP_##l + 1, 0, 0}, [OP_##o##__##l##_X] = {OP_##o + 1, OP_##l + 1, 0, 1},
static const fused fl_info[OP_COUNT] = {HL_FUSED_LD(T_FL)};

// ------------------------------------------------------------------ slot cache
// Within a basic block, slots live in registers: a result goes to a cache register (dirty) and
// later reads take it from there, so dependent instructions do not wait on a store and a
// reload. Every label, branch, call and call into C first writes dirty registers back (flush);
// labels and calls also forget them (clear), so the memory frame is exact wherever control
// joins, as the interpreter's. GPRs hold integer values (i32 zero-extended), XMMs floats.
static const int cache_gpr[] = {RSI, RDI, R8, R9, R10, R11, R15, RBP};
#define NG ((int)(sizeof cache_gpr / sizeof cache_gpr[0]))
#define NX 13 // xmm2..xmm14 (xmm15 is the SIMD templates' third scratch)
#define XS 15
// CK_V128: a v128 value of slots slot and slot + 1 (no other entry overlaps them).
enum { CK_GPR = 1, CK_F32, CK_F64, CK_V128 };
// konst: a GPR entry defined by a constant (defg_imm), its value in kv.
typedef struct { uint32_t slot; uint32_t age; uint8_t kind; bool dirty; bool konst; uint64_t kv; } centry;

typedef struct {
  J *j;
  eng_inst *in;
  uint32_t nown;  // defined functions of the instance
  uint32_t first; // index of the first defined function in in->funcs
  bool *ok;       // defined functions being compiled (direct calls go to them)
  bool mem_fixed; // no code of the instance can move or grow its memory (mem_may_change)
  centry g[NG], x[NX];
  // Bounds checks already made in this basic block: slot's current value + off + n <= r13 for
  // off + n <= end (a later access through the same slot within that reach needs no check;
  // memory never shrinks). Forgotten with the cache, and for a slot when it is redefined.
  struct { uint32_t slot, end; } chk[8];
  uint32_t nchk;
  struct hdr_map *hdr; // loop headers of the current function with their cache maps
  uint32_t nhdr;
  uint32_t *lastb;     // per word offset: the last backward branch to it (0: none)
  uint32_t clock;
} JC;

static int xreg(int i) { return 2 + i; }
static void movaps(J *j, int xd, int xs) { if (xd != xs) orr(j, 0, 0, 0x0f28, xd, xs); }

static void writeback(JC *c, centry *e, int reg) {
  if (!e->dirty) return;
  J *j = c->j;
  if (e->kind == CK_GPR) st(j, 1, MS(e->slot), reg);
  else if (e->kind == CK_V128) om(j, 0xf3, 0, 0x0f7f, reg, MS(e->slot)); // movdqu
  else if (e->kind == CK_F64) om(j, 0xf2, 0, 0x0f11, reg, MS(e->slot));
  else { // f32: the slot holds it zero-extended
    om(j, 0xf3, 0, 0x0f11, reg, MS(e->slot));
    om(j, 0, 0, 0xc7, 0, MB(RBX, (int32_t)(e->slot * 8u + 4))); e32(j, 0);
  }
  e->dirty = false;
}
static void flush(JC *c) {
  for (int i = 0; i < NG; i++) if (c->g[i].kind) writeback(c, &c->g[i], cache_gpr[i]);
  for (int i = 0; i < NX; i++) if (c->x[i].kind) writeback(c, &c->x[i], xreg(i));
}
static void forget(JC *c) {
  for (int i = 0; i < NG; i++) c->g[i].kind = 0;
  for (int i = 0; i < NX; i++) c->x[i].kind = 0;
  c->nchk = 0;
}
static void chk_drop(JC *c, uint32_t slot) {
  for (uint32_t i = 0; i < c->nchk; i++)
    if (c->chk[i].slot == slot) c->chk[i] = c->chk[--c->nchk];
}
static void clear(JC *c) { flush(c); forget(c); }

static centry *find(JC *c, uint32_t slot, int *reg) {
  for (int i = 0; i < NG; i++)
    if (c->g[i].kind && c->g[i].slot == slot) { *reg = cache_gpr[i]; return &c->g[i]; }
  for (int i = 0; i < NX; i++)
    if (c->x[i].kind && c->x[i].slot == slot) { *reg = xreg(i); return &c->x[i]; }
  return NULL;
}
// A cache register for slot (which is about to be redefined) of the given class.
static int alloc_reg(JC *c, uint32_t slot, bool xmm, centry **out) {
  int r;
  chk_drop(c, slot);
  for (int i = 0; i < NX; i++) // a v128 whose high half is being replaced is dead
    if (c->x[i].kind == CK_V128 && c->x[i].slot + 1 == slot) c->x[i].kind = 0;
  centry *e = find(c, slot, &r);
  if (e && (e->kind == CK_GPR) == !xmm) { *out = e; return r; }
  if (e) e->kind = 0; // the other class: its value is being replaced
  centry *t = xmm ? c->x : c->g;
  int n = xmm ? NX : NG, best = 0;
  for (int i = 0; i < n; i++) {
    if (!t[i].kind) { best = i; break; }
    if (t[i].age < t[best].age) best = i;
  }
  r = xmm ? xreg(best) : cache_gpr[best];
  if (t[best].kind) writeback(c, &t[best], r);
  t[best].slot = slot;
  *out = &t[best];
  return r;
}
static void defg(JC *c, uint32_t slot, int src) {
  centry *e;
  int r = alloc_reg(c, slot, false, &e);
  if (r != src) orr(c->j, 0, 1, 0x8b, r, src);
  e->kind = CK_GPR, e->dirty = true, e->age = ++c->clock, e->konst = false;
}
static void defg_imm(JC *c, uint32_t slot, uint64_t v) {
  centry *e;
  int r = alloc_reg(c, slot, false, &e);
  if (v == 0) alu_rr(c->j, 0, G_XOR, r, r);
  else movri(c->j, r, v);
  e->kind = CK_GPR, e->dirty = true, e->age = ++c->clock, e->konst = true, e->kv = v;
}
// Whether slot holds a constant known here (defined by defg_imm in this block).
static bool slot_const(JC *c, uint32_t slot, uint64_t *v) {
  int r;
  centry *e = find(c, slot, &r);
  if (!e || e->kind != CK_GPR || !e->konst) return false;
  *v = e->kv;
  return true;
}
static void defx(JC *c, uint32_t slot, int d, int xsrc) {
  centry *e;
  int r = alloc_reg(c, slot, true, &e);
  movaps(c->j, r, xsrc);
  e->kind = d ? CK_F64 : CK_F32, e->dirty = true, e->age = ++c->clock;
}

typedef struct { bool reg; int r; M m; } O; // an operand: a register or memory
static void oo(J *j, int pfx, int w, uint32_t op, int reg, O o) {
  if (o.reg) orr(j, pfx, w, op, reg, o.r);
  else om(j, pfx, w, op, reg, o.m);
}
// The slot as an integer operand (an XMM-cached value is moved to scratch first).
static O og(JC *c, uint32_t slot, int scratch) {
  int r;
  centry *e = find(c, slot, &r);
  if (!e) return (O){false, 0, MS(slot)};
  e->age = ++c->clock;
  if (e->kind == CK_GPR) return (O){true, r, {0}};
  orr(c->j, 0x66, e->kind == CK_F64, 0x0f7e, r, scratch); // movq/movd scratch, xmm
  return (O){true, scratch, {0}};
}
// r = slot (w = 0: its low 32 bits, zero-extended)
static void getg(JC *c, int r, uint32_t slot, int w) {
  O o = og(c, slot, r);
  if (!o.reg || o.r != r) oo(c->j, 0, w, 0x8b, r, o);
}
// The slot as a float operand (a GPR-cached value is moved to scratch first).
static O ox(JC *c, uint32_t slot, int d, int scratch) {
  int r;
  centry *e = find(c, slot, &r);
  if (!e) return (O){false, 0, MS(slot)};
  e->age = ++c->clock;
  if (e->kind != CK_GPR) return (O){true, r, {0}};
  orr(c->j, 0x66, d, 0x0f6e, scratch, r); // movq/movd scratch, gpr
  return (O){true, scratch, {0}};
}
static void getx(JC *c, int x, uint32_t slot, int d) {
  O o = ox(c, slot, d, x);
  if (o.reg) movaps(c->j, x, o.r);
  else om(c->j, d ? 0xf2 : 0xf3, 0, 0x0f10, x, o.m);
}

// ------------------------------------------------------------------ integer templates
enum { K_NONE, K_ALU, K_MUL, K_SHIFT, K_CMP };
typedef struct { uint8_t kind, w, g; } iop; // g: group-1/2 digit or condition code

static iop int_op(uint32_t op) {
  switch (op) {
#define A(n, w, k, g) case OP_##n: return (iop){k, w, g};
    A(I32_ADD, 0, K_ALU, G_ADD) A(I32_SUB, 0, K_ALU, G_SUB) A(I32_AND, 0, K_ALU, G_AND)
    A(I32_OR, 0, K_ALU, G_OR) A(I32_XOR, 0, K_ALU, G_XOR) A(I32_MUL, 0, K_MUL, 0)
    A(I32_SHL, 0, K_SHIFT, SH_SHL) A(I32_SHR_S, 0, K_SHIFT, SH_SAR) A(I32_SHR_U, 0, K_SHIFT, SH_SHR)
    A(I32_ROTL, 0, K_SHIFT, SH_ROL) A(I32_ROTR, 0, K_SHIFT, SH_ROR)
    A(I64_ADD, 1, K_ALU, G_ADD) A(I64_SUB, 1, K_ALU, G_SUB) A(I64_AND, 1, K_ALU, G_AND)
    A(I64_OR, 1, K_ALU, G_OR) A(I64_XOR, 1, K_ALU, G_XOR) A(I64_MUL, 1, K_MUL, 0)
    A(I64_SHL, 1, K_SHIFT, SH_SHL) A(I64_SHR_S, 1, K_SHIFT, SH_SAR) A(I64_SHR_U, 1, K_SHIFT, SH_SHR)
    A(I64_ROTL, 1, K_SHIFT, SH_ROL) A(I64_ROTR, 1, K_SHIFT, SH_ROR)
    A(I32_EQ, 0, K_CMP, CC_E) A(I32_NE, 0, K_CMP, CC_NE) A(I32_LT_S, 0, K_CMP, CC_L)
    A(I32_LT_U, 0, K_CMP, CC_B) A(I32_GT_S, 0, K_CMP, CC_G) A(I32_GT_U, 0, K_CMP, CC_A)
    A(I32_LE_S, 0, K_CMP, CC_LE) A(I32_LE_U, 0, K_CMP, CC_BE) A(I32_GE_S, 0, K_CMP, CC_GE)
    A(I32_GE_U, 0, K_CMP, CC_AE)
    A(I64_EQ, 1, K_CMP, CC_E) A(I64_NE, 1, K_CMP, CC_NE) A(I64_LT_S, 1, K_CMP, CC_L)
    A(I64_LT_U, 1, K_CMP, CC_B) A(I64_GT_S, 1, K_CMP, CC_G) A(I64_GT_U, 1, K_CMP, CC_A)
    A(I64_LE_S, 1, K_CMP, CC_LE) A(I64_LE_U, 1, K_CMP, CC_BE) A(I64_GE_S, 1, K_CMP, CC_GE)
    A(I64_GE_U, 1, K_CMP, CC_AE)
#undef A
  default: return (iop){K_NONE, 0, 0};
  }
}

typedef struct { bool imm; uint32_t slot; uint64_t v; } src_t;
static src_t SS(uint32_t slot) { return (src_t){false, slot, 0}; }
static src_t SI(uint64_t v) { return (src_t){true, 0, v}; }

// rax = rax <op> b (a compare leaves 0/1). Uses rcx.
static void ibin(JC *c, iop o, src_t b) {
  J *j = c->j;
  int w = o.w;
  int64_t sv = w ? (int64_t)b.v : (int64_t)(int32_t)(uint32_t)b.v;
  switch (o.kind) {
  case K_ALU: case K_CMP: {
    int g = o.kind == K_CMP ? G_CMP : o.g;
    if (!b.imm) oo(j, 0, w, (uint32_t)(g * 8 + 3), RAX, og(c, b.slot, RCX));
    else if (fits32(sv)) alu_ri(j, w, g, RAX, (int32_t)sv);
    else { movri(j, RCX, b.v); alu_rr(j, w, g, RAX, RCX); }
    if (o.kind == K_CMP) setcc_rax(j, o.g);
    break;
  }
  case K_MUL:
    if (!b.imm) oo(j, 0, w, 0x0faf, RAX, og(c, b.slot, RCX));
    else if (fits32(sv)) { orr(j, 0, w, 0x69, RAX, RAX); e32(j, (uint32_t)sv); }
    else { movri(j, RCX, b.v); orr(j, 0, w, 0x0faf, RAX, RCX); }
    break;
  case K_SHIFT:
    if (b.imm) { orr(j, 0, w, 0xc1, o.g, RAX); eb(j, (uint8_t)(b.v & (w ? 63 : 31))); }
    else { getg(c, RCX, b.slot, 0); orr(j, 0, w, 0xd3, o.g, RAX); }
    break;
  default: j->bad = true;
  }
}

// Two-operand forms: the result is computed in its cache register R (R = a; R op= b) instead
// of in rax/xmm0 and then moved. dst_reg allocates R for slot d (class xmm or GPR) and returns
// it, or -1 when R holds b (R = a would destroy it: the caller computes in scratch, then moves).
// *e is d's entry, to be given its kind by def_done.
static int dst_reg(JC *c, uint32_t d, bool xmm, uint32_t a, src_t b, centry **e) {
  int br = -1, r;
  centry *oe = find(c, d, &r);
  // d's value is an operand cached in the other class: alloc_reg would drop it unread
  if (oe && (oe->kind == CK_GPR) == xmm && (d == a || (!b.imm && d == b.slot))) return -1;
  if (!b.imm) {
    centry *be = find(c, b.slot, &r);
    if (be && (be->kind == CK_GPR) != xmm) br = r;
  }
  centry *pre = find(c, d, &r);
  bool had = pre && (pre->kind == CK_GPR) != xmm;
  int R = alloc_reg(c, d, xmm, e);
  if (!had) (*e)->kind = 0; // a fresh entry: no stale slot match while the operands are read
  return R == br ? -1 : R;
}
static void def_done(JC *c, centry *e, uint8_t kind) {
  e->kind = kind, e->dirty = true, e->age = ++c->clock, e->konst = false;
}

// ------------------------------------------------------------------ float templates
typedef struct { uint8_t kind, d, g; } fop; // d: f64; g: SSE opcode low byte or comparison
enum { F_NONE, F_ARITH, F_CMP };
enum { FC_EQ, FC_NE, FC_LT, FC_GT, FC_LE, FC_GE };
static fop float_op(uint32_t op) {
  switch (op) {
#define A(n, d, k, g) case OP_##n: return (fop){k, d, g};
    A(F32_ADD, 0, F_ARITH, 0x58) A(F32_SUB, 0, F_ARITH, 0x5c) A(F32_MUL, 0, F_ARITH, 0x59)
    A(F32_DIV, 0, F_ARITH, 0x5e) A(F64_ADD, 1, F_ARITH, 0x58) A(F64_SUB, 1, F_ARITH, 0x5c)
    A(F64_MUL, 1, F_ARITH, 0x59) A(F64_DIV, 1, F_ARITH, 0x5e)
    A(F32_EQ, 0, F_CMP, FC_EQ) A(F32_NE, 0, F_CMP, FC_NE) A(F32_LT, 0, F_CMP, FC_LT)
    A(F32_GT, 0, F_CMP, FC_GT) A(F32_LE, 0, F_CMP, FC_LE) A(F32_GE, 0, F_CMP, FC_GE)
    A(F64_EQ, 1, F_CMP, FC_EQ) A(F64_NE, 1, F_CMP, FC_NE) A(F64_LT, 1, F_CMP, FC_LT)
    A(F64_GT, 1, F_CMP, FC_GT) A(F64_LE, 1, F_CMP, FC_LE) A(F64_GE, 1, F_CMP, FC_GE)
#undef A
  default: return (fop){F_NONE, 0, 0};
  }
}
static int fpfx(int d) { return d ? 0xf2 : 0xf3; }
// x = b (an immediate's bits or a slot)
static void getx_src(JC *c, int x, int d, src_t b) {
  if (b.imm) { movri(c->j, RAX, d ? b.v : (uint32_t)b.v); orr(c->j, 0x66, d, 0x0f6e, x, RAX); }
  else getx(c, x, b.slot, d);
}
// x = x <op> b (uses xmm1 for a non-memory b that is not in an XMM)
static void farith(JC *c, int x, int d, int g, src_t b) {
  if (b.imm) { getx_src(c, 1, d, b); orr(c->j, fpfx(d), 0, 0x0f00u | (uint32_t)g, x, 1); }
  else oo(c->j, fpfx(d), 0, 0x0f00u | (uint32_t)g, x, ox(c, b.slot, d, 1));
}
// rax = a <cmp> b
static void fcmp(JC *c, int d, int k, uint32_t a, src_t b) {
  J *j = c->j;
  int pfx = d ? 0x66 : 0;
  getx(c, 0, a, d);
  getx_src(c, 1, d, b);
  switch (k) {
  case FC_EQ: case FC_NE:
    orr(j, pfx, 0, 0x0f2e, 0, 1);
    orr(j, 0, 0, 0x0f90u | (k == FC_EQ ? CC_E : CC_NE), 0, RAX);
    orr(j, 0, 0, 0x0f90u | (k == FC_EQ ? CC_NP : CC_P), 0, RCX);
    orr(j, 0, 0, k == FC_EQ ? 0x20 : 0x08, RCX, RAX); // and/or al, cl
    orr(j, 0, 0, 0x0fb6, RAX, RAX);
    break;
  case FC_GT: case FC_GE: orr(j, pfx, 0, 0x0f2e, 0, 1); setcc_rax(j, k == FC_GT ? CC_A : CC_AE); break;
  default: orr(j, pfx, 0, 0x0f2e, 1, 0); setcc_rax(j, k == FC_LT ? CC_A : CC_AE); break; // b > a
  }
}

// ------------------------------------------------------------------ memory access
// Computes address slot a (+ k in 32 bits) + offset for an n-byte access into rax, checks it
// against r13 (out of bounds: trap) and returns the operand of the access. Uses rdx.
static M ea(JC *c, uint32_t a, bool has_k, uint32_t k, uint32_t off, uint32_t n) {
  J *j = c->j;
  int base = RAX, r;
  centry *e = has_k ? NULL : find(c, a, &r);
  if (e && e->kind == CK_GPR) { base = r; e->age = ++c->clock; } // i32: zero-extended
  else getg(c, RAX, a, 0);
  if (has_k) alu_ri(j, 0, G_ADD, RAX, (int32_t)k);
  if ((uint64_t)off + n <= 0x7fffffffu) {
    uint32_t end = off + n;
    if (!has_k) {
      for (uint32_t i = 0; i < c->nchk; i++)
        if (c->chk[i].slot == a && c->chk[i].end >= end) return (M){R12, base, 0, (int32_t)off};
    }
    lea(j, RDX, MB(base, (int32_t)end));
    alu_rr(j, 1, G_CMP, RDX, R13);
    jstub(j, CC_A, HL_TRAP_MEMORY_OUT_OF_BOUNDS);
    if (!has_k) {
      uint32_t i = 0;
      while (i < c->nchk && c->chk[i].slot != a) i++;
      if (i == c->nchk) {
        if (c->nchk == sizeof c->chk / sizeof c->chk[0]) i = 0; // full: replace the first
        else c->nchk++;
        c->chk[i].end = 0;
      }
      c->chk[i].slot = a;
      if (end > c->chk[i].end) c->chk[i].end = end;
    }
    return (M){R12, base, 0, (int32_t)off};
  }
  if (base != RAX) orr(j, 0, 1, 0x8b, RAX, base);
  movri(j, RDX, off);
  alu_rr(j, 1, G_ADD, RAX, RDX);
  lea(j, RDX, MB(RAX, (int32_t)n));
  alu_rr(j, 1, G_CMP, RDX, R13);
  jstub(j, CC_A, HL_TRAP_MEMORY_OUT_OF_BOUNDS);
  return (M){R12, RAX, 0, 0};
}

typedef struct { uint8_t n; uint8_t w; uint32_t op; uint8_t f; } ldinfo; // f: 1 f32, 2 f64
static ldinfo load_info(uint32_t op) {
  switch (op) {
  case OP_I32_LOAD: case OP_I64_LOAD32_U: return (ldinfo){4, 0, 0x8b, 0};
  case OP_F32_LOAD: return (ldinfo){4, 0, 0x8b, 1};
  case OP_I64_LOAD: return (ldinfo){8, 1, 0x8b, 0};
  case OP_F64_LOAD: return (ldinfo){8, 1, 0x8b, 2};
  case OP_I32_LOAD8_S: return (ldinfo){1, 0, 0x0fbe, 0};
  case OP_I32_LOAD8_U: case OP_I64_LOAD8_U: return (ldinfo){1, 0, 0x0fb6, 0};
  case OP_I32_LOAD16_S: return (ldinfo){2, 0, 0x0fbf, 0};
  case OP_I32_LOAD16_U: case OP_I64_LOAD16_U: return (ldinfo){2, 0, 0x0fb7, 0};
  case OP_I64_LOAD8_S: return (ldinfo){1, 1, 0x0fbe, 0};
  case OP_I64_LOAD16_S: return (ldinfo){2, 1, 0x0fbf, 0};
  case OP_I64_LOAD32_S: return (ldinfo){4, 1, 0x63, 0};
  default: return (ldinfo){0, 0, 0, 0};
  }
}
static uint32_t store_bytes(uint32_t op) {
  switch (op) {
  case OP_I32_STORE8: case OP_I64_STORE8: return 1;
  case OP_I32_STORE16: case OP_I64_STORE16: return 2;
  case OP_I32_STORE: case OP_F32_STORE: case OP_I64_STORE32: return 4;
  case OP_I64_STORE: case OP_F64_STORE: return 8;
  default: return 0;
  }
}

// Copies n slots src -> dst in memory, in ascending order (as the interpreter); the cache
// must be flushed. Uses rax, rcx, rsi, rdi.
static void copy_slots(J *j, uint32_t dst, uint32_t src, uint32_t n) {
  if (dst == src || n == 0) return;
  if (n <= 4) {
    for (uint32_t k = 0; k < n; k++) { ld(j, 1, RAX, MS(src + k)); st(j, 1, MS(dst + k), RAX); }
    return;
  }
  lea(j, RSI, MS(src));
  lea(j, RDI, MS(dst));
  movri(j, RCX, n);
  uint32_t top = (uint32_t)j->n;
  ld(j, 1, RAX, MB(RSI, 0));
  st(j, 1, MB(RDI, 0), RAX);
  alu_ri(j, 1, G_ADD, RSI, 8);
  alu_ri(j, 1, G_ADD, RDI, 8);
  orr(j, 0, 0, 0xff, 1, RCX); // dec ecx
  uint32_t p = jcc32(j, CC_NE);
  patch32(j, p, top - (p + 4));
}

// The _M forms' loads and stores (another memory, or a 64-bit one): address slot a, of the
// memory's address type (the whole slot for memory64), + off + n checked against the memory's
// size loaded now; a carry out of 64 bits is out of bounds (never a wrap). Returns the operand
// [rax + rdx] (rax = the memory's base, loaded now: it may have moved). Uses rax, rcx, rdx.
static M ea_m(JC *c, const eng_mem *mm, uint32_t a, uint32_t off, uint32_t n) {
  J *j = c->j;
  getg(c, RDX, a, mm->decl.is64);
  if (off) {
    movri(j, RCX, off);
    alu_rr(j, 1, G_ADD, RDX, RCX);
    jstub(j, CC_B, HL_TRAP_MEMORY_OUT_OF_BOUNDS);
  }
  orr(j, 0, 1, 0x8b, RCX, RDX);
  alu_ri(j, 1, G_ADD, RCX, (int32_t)n);
  jstub(j, CC_B, HL_TRAP_MEMORY_OUT_OF_BOUNDS);
  movrp(j, RAX, mm);
  alu_rm(j, 1, G_CMP, RCX, MB(RAX, JOFF(eng_mem, size)));
  jstub(j, CC_A, HL_TRAP_MEMORY_OUT_OF_BOUNDS);
  ld(j, 1, RAX, MB(RAX, JOFF(eng_mem, base)));
  return (M){RAX, RDX, 0, 0};
}

// ------------------------------------------------------------------ per function
// A tail call through jit_tail (the callee in rsi, the cache cleared): enters a compiled
// callee by a jump from this function's caller's level, or returns when the call ran in C.
static void emit_tail_c(JC *c, uint32_t base) {
  J *j = c->j;
  orr(j, 0, 1, 0x8b, RDI, R14);
  orr(j, 0, 1, 0x8b, RDX, RBX);
  lea(j, RCX, MS(base));
  movrp(j, R8, c->in);
  call_abs(j, (const void *)jit_tail);
  orr(j, 0, 1, 0x85, RAX, RAX);
  uint32_t ran = jcc32(j, CC_E);
  alu_ri(j, 1, G_CMP, RAX, JIT_ENTRY_MIN);
  jstub(j, CC_B, 0);
  ld(j, 1, R12, MB(R14, JOFF(eng_jit, tail_base)));
  ld(j, 1, R13, MB(R14, JOFF(eng_jit, tail_size)));
  alu_ri(j, 1, G_ADD, RSP, 8);
  orr(j, 0, 0, 0xff, 4, RAX); // jmp rax
  here(j, ran);
  alu_ri(j, 1, G_ADD, RSP, 8);
  eb(j, 0xc3);
}

static void reload_mem(JC *c) {
  eng_mem *m = c->in->mem;
  if (!m) return;
  movrp(c->j, RAX, m);
  ld(c->j, 1, R12, MB(RAX, JOFF(eng_mem, base)));
  ld(c->j, 1, R13, MB(RAX, JOFF(eng_mem, size)));
}
static void depth_take(J *j) {
  alu_mi(j, 0, G_SUB, MB(R14, JOFF(eng_jit, depth_left)), 1);
  jstub(j, CC_BE, HL_TRAP_CALL_STACK_EXHAUSTED);
}
static void depth_give(J *j) { alu_mi(j, 0, G_ADD, MB(R14, JOFF(eng_jit, depth_left)), 1); }
static void check_rc(J *j) {
  orr(j, 0, 0, 0x85, RAX, RAX); // test eax, eax
  jstub(j, CC_NE, 0);
}
// cmp slot (32 bits), 0
static void test_slot(JC *c, uint32_t slot) {
  O o = og(c, slot, RCX);
  if (o.reg) orr(c->j, 0, 0, 0x85, o.r, o.r);
  else alu_mi(c->j, 0, G_CMP, o.m, 0);
}

// The N1 instructions with templates; false: use the C helper.
static bool emit_n1(JC *c, uint32_t op, const uint32_t *ip) {
  J *j = c->j;
  if (!num_helpers[op] || imm_base[op]) return false;
  uint32_t d = ip[0], a = ip[1];
  switch (op) {
  case OP_I32_EQZ: case OP_I64_EQZ:
    getg(c, RAX, a, op == OP_I64_EQZ);
    orr(j, 0, op == OP_I64_EQZ, 0x85, RAX, RAX);
    setcc_rax(j, CC_E);
    break;
  case OP_I32_CLZ: case OP_I64_CLZ: {
    int w = op == OP_I64_CLZ;
    getg(c, RAX, a, w);
    alu_ri(j, 1, G_OR, RCX, -1);
    orr(j, 0, w, 0x0fbd, RAX, RAX); // bsr
    orr(j, 0, w, 0x0f44, RAX, RCX); // cmovz: -1 for 0
    orr(j, 0, w, 0xf7, 3, RAX);     // neg
    alu_ri(j, w, G_ADD, RAX, w ? 63 : 31);
    break;
  }
  case OP_I32_CTZ: case OP_I64_CTZ: {
    int w = op == OP_I64_CTZ;
    getg(c, RAX, a, w);
    movri(j, RCX, w ? 64 : 32);
    orr(j, 0, w, 0x0fbc, RAX, RAX); // bsf
    orr(j, 0, w, 0x0f44, RAX, RCX);
    break;
  }
  case OP_I32_WRAP_I64: case OP_I64_EXTEND_I32_U: getg(c, RAX, a, 0); break;
  case OP_I64_EXTEND_I32_S: case OP_I64_EXTEND32_S: getg(c, RAX, a, 0); orr(j, 0, 1, 0x63, RAX, RAX); break;
  case OP_I32_EXTEND8_S: getg(c, RAX, a, 0); orr(j, 0, 0, 0x0fbe, RAX, RAX); break;
  case OP_I32_EXTEND16_S: getg(c, RAX, a, 0); orr(j, 0, 0, 0x0fbf, RAX, RAX); break;
  case OP_I64_EXTEND8_S: getg(c, RAX, a, 0); orr(j, 0, 1, 0x0fbe, RAX, RAX); break;
  case OP_I64_EXTEND16_S: getg(c, RAX, a, 0); orr(j, 0, 1, 0x0fbf, RAX, RAX); break;
  case OP_I32_REINTERPRET_F32: case OP_I64_REINTERPRET_F64: getg(c, RAX, a, 1); break;
  case OP_F32_REINTERPRET_I32: getx(c, 0, a, 0); defx(c, d, 0, 0); return true;
  case OP_F64_REINTERPRET_I64: getx(c, 0, a, 1); defx(c, d, 1, 0); return true;
  case OP_F32_ABS: getg(c, RAX, a, 0); alu_ri(j, 0, G_AND, RAX, 0x7fffffff); break;
  case OP_F32_NEG: getg(c, RAX, a, 0); alu_ri(j, 0, G_XOR, RAX, INT32_MIN); break;
  case OP_F64_ABS: getg(c, RAX, a, 1); orr(j, 0, 1, 0x0fba, 6, RAX); eb(j, 63); break; // btr
  case OP_F64_NEG: getg(c, RAX, a, 1); orr(j, 0, 1, 0x0fba, 7, RAX); eb(j, 63); break; // btc
  case OP_F32_SQRT: case OP_F64_SQRT: {
    int dd = op == OP_F64_SQRT;
    oo(j, fpfx(dd), 0, 0x0f51, 0, ox(c, a, dd, 1));
    defx(c, d, dd, 0);
    return true;
  }
  case OP_F32_CONVERT_I32_S: case OP_F64_CONVERT_I32_S:
  case OP_F32_CONVERT_I64_S: case OP_F64_CONVERT_I64_S: {
    int dd = op == OP_F64_CONVERT_I32_S || op == OP_F64_CONVERT_I64_S;
    int w = op == OP_F32_CONVERT_I64_S || op == OP_F64_CONVERT_I64_S;
    oo(j, fpfx(dd), w, 0x0f2a, 0, og(c, a, RCX)); // cvtsi2sd/ss
    defx(c, d, dd, 0);
    return true;
  }
  case OP_F32_CONVERT_I32_U: case OP_F64_CONVERT_I32_U: { // exact via the 64-bit signed form
    int dd = op == OP_F64_CONVERT_I32_U;
    getg(c, RAX, a, 0);
    orr(j, fpfx(dd), 1, 0x0f2a, 0, RAX);
    defx(c, d, dd, 0);
    return true;
  }
  case OP_F64_PROMOTE_F32: oo(j, 0xf3, 0, 0x0f5a, 0, ox(c, a, 0, 1)); defx(c, d, 1, 0); return true;
  case OP_F32_DEMOTE_F64: oo(j, 0xf2, 0, 0x0f5a, 0, ox(c, a, 1, 1)); defx(c, d, 0, 0); return true;
  default: return false;
  }
  defg(c, d, RAX);
  return true;
}

// Integer division and remainder with the spec's traps.
static bool emit_div(JC *c, uint32_t op, const uint32_t *ip) {
  J *j = c->j;
  int w, sgn, rem;
  switch (op) {
  case OP_I32_DIV_S: w = 0, sgn = 1, rem = 0; break;
  case OP_I32_DIV_U: w = 0, sgn = 0, rem = 0; break;
  case OP_I32_REM_S: w = 0, sgn = 1, rem = 1; break;
  case OP_I32_REM_U: w = 0, sgn = 0, rem = 1; break;
  case OP_I64_DIV_S: w = 1, sgn = 1, rem = 0; break;
  case OP_I64_DIV_U: w = 1, sgn = 0, rem = 0; break;
  case OP_I64_REM_S: w = 1, sgn = 1, rem = 1; break;
  case OP_I64_REM_U: w = 1, sgn = 0, rem = 1; break;
  default: return false;
  }
  getg(c, RAX, ip[1], w);
  getg(c, RCX, ip[2], w);
  orr(j, 0, w, 0x85, RCX, RCX);
  jstub(j, CC_E, HL_TRAP_DIVIDE_BY_ZERO);
  if (!sgn) {
    alu_rr(j, 0, G_XOR, RDX, RDX);
    orr(j, 0, w, 0xf7, 6, RCX); // div
  } else {
    alu_ri(j, w, G_CMP, RCX, -1);
    uint32_t normal = jcc32(j, CC_NE);
    if (rem) { // x rem -1 = 0 (idiv would fault on INT_MIN)
      alu_rr(j, 0, G_XOR, RDX, RDX);
    } else {
      if (w) { movri(j, RDX, 0x8000000000000000ull); alu_rr(j, 1, G_CMP, RAX, RDX); }
      else alu_ri(j, 0, G_CMP, RAX, INT32_MIN);
      jstub(j, CC_E, HL_TRAP_INTEGER_OVERFLOW);
      orr(j, 0, w, 0xf7, 3, RAX); // x / -1 = -x
    }
    uint32_t done = jmp32(j);
    here(j, normal);
    if (w) eb(j, 0x48);
    eb(j, 0x99); // cdq / cqo
    orr(j, 0, w, 0xf7, 7, RCX); // idiv
    here(j, done);
  }
  defg(c, ip[0], rem ? RDX : RAX); // 32-bit results are zero-extended by the 32-bit ops
  return true;
}

// ------------------------------------------------------------------ SIMD templates
// v128 values live in XMM cache entries (CK_V128, two slots each) within a basic block, as
// floats do; xmm0, xmm1 and xmm15 (XS) are scratch. Instructions without a template here
// (or whose template needs a CPU feature the guest's CPUID lacks) stay one call into
// eng_simd_exec, as before. SSE2 is the baseline of x86-64; SSSE3, SSE4.1 and SSE4.2
// templates are gated on CPUID (cpu_feat).
enum { CF_SSSE3 = 1, CF_SSE41 = 2, CF_SSE42 = 4, CF_PROBED = 0x80000000u };
static uint32_t cpu_feat;
// Tests only: features the generator must not use (hosted runners set it to cover the SSE2
// fallbacks on a CPU that has them).
uint32_t eng_jit_cpu_mask = 0;

static uint32_t cpu_features(void) {
  uint32_t f = __atomic_load_n(&cpu_feat, __ATOMIC_RELAXED);
  if (!(f & CF_PROBED)) {
    uint32_t a = 1, b, cx = 0, d;
    __asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(cx), "=d"(d));
    (void)b;
    (void)d;
    // The host's snapshot files record these same bits (HL_CPU_FEAT_USED, internal/abi).
    f = CF_PROBED | (cx & HL_CPU_FEAT_SSSE3 ? CF_SSSE3 : 0) | (cx & HL_CPU_FEAT_SSE41 ? CF_SSE41 : 0) |
        (cx & HL_CPU_FEAT_SSE42 ? CF_SSE42 : 0);
    __atomic_store_n(&cpu_feat, f, __ATOMIC_RELAXED);
  }
  return f & ~eng_jit_cpu_mask;
}

uint32_t eng_jit_cpu_probe(void) {
  uint32_t f = cpu_features();
  return (f & CF_SSSE3 ? HL_CPU_FEAT_SSSE3 : 0) | (f & CF_SSE41 ? HL_CPU_FEAT_SSE41 : 0) |
         (f & CF_SSE42 ? HL_CPU_FEAT_SSE42 : 0);
}

static void sx(J *j, int pfx, uint32_t op, int reg, int rm) { orr(j, pfx, 0, op, reg, rm); }
static void sxi(J *j, int pfx, uint32_t op, int reg, int rm, uint8_t imm) { orr(j, pfx, 0, op, reg, rm); eb(j, imm); }

// Writes back and forgets every cache entry overlapping slot s (the frame must hold it).
static void spill_slot(JC *c, uint32_t s) {
  for (int i = 0; i < NG; i++)
    if (c->g[i].kind && c->g[i].slot == s) { writeback(c, &c->g[i], cache_gpr[i]); c->g[i].kind = 0; }
  for (int i = 0; i < NX; i++)
    if (c->x[i].kind && (c->x[i].slot == s || (c->x[i].kind == CK_V128 && c->x[i].slot + 1 == s))) {
      writeback(c, &c->x[i], xreg(i));
      c->x[i].kind = 0;
    }
}
// The XMM holding the v128 of slot s: its cache register; else loaded from the frame into a
// free cache register (a clean entry: later reads in the block take it from there; never an
// eviction, so registers the caller already holds stay valid), or into scratch.
static int vget(JC *c, uint32_t s, int scratch) {
  int r;
  centry *e = find(c, s, &r);
  if (e && e->kind == CK_V128) { e->age = ++c->clock; return r; }
  spill_slot(c, s);
  spill_slot(c, s + 1);
  int fi = -1;
  for (int i = 0; i < NX && fi < 0; i++)
    if (!c->x[i].kind) fi = i;
  r = fi < 0 ? scratch : xreg(fi);
  om(c->j, 0xf3, 0, 0x0f6f, r, MS(s)); // movdqu
  if (fi >= 0) c->x[fi] = (centry){s, ++c->clock, CK_V128, false, false, 0};
  return r;
}
static void vto(JC *c, int x, uint32_t s) { movaps(c->j, x, vget(c, s, x)); }
// The cache register that slots d, d + 1 get (entries overlapping them are dropped: their
// values are being replaced); def_done(c, *e, CK_V128) completes it.
static int vdef_reg(JC *c, uint32_t d, centry **out) {
  chk_drop(c, d + 1);
  for (int i = 0; i < NG; i++)
    if (c->g[i].kind && (c->g[i].slot == d || c->g[i].slot == d + 1)) c->g[i].kind = 0;
  for (int i = 0; i < NX; i++) {
    centry *e = &c->x[i];
    if (e->kind && e->slot != d && (e->slot == d + 1 || (e->kind == CK_V128 && e->slot + 1 == d))) e->kind = 0;
  }
  return alloc_reg(c, d, true, out);
}
// Slots d, d + 1 get the v128 in xmm src.
static void vdef(JC *c, uint32_t d, int src) {
  centry *e;
  int r = vdef_reg(c, d, &e);
  movaps(c->j, r, src);
  e->kind = CK_V128, e->dirty = true, e->age = ++c->clock;
}
// d = op(a) for an op that does not read its destination (sqrtps, cvtdq2ps, pmovsx, ...).
static void vun(JC *c, uint32_t d, uint32_t a, int pfx, uint32_t op, int imm) {
  int ra = vget(c, a, 1);
  centry *e;
  int R = vdef_reg(c, d, &e);
  orr(c->j, pfx, 0, op, R, ra);
  if (imm >= 0) eb(c->j, (uint8_t)imm);
  e->kind = CK_V128, e->dirty = true, e->age = ++c->clock;
}
static void all_ones(J *j, int x) { sx(j, 0x66, 0x0f76, x, x); } // pcmpeqd x, x
// xmm0 = a <op> b (op: a 66-prefixed SSE opcode unless pfx says otherwise); swap: b <op> a.
// Integer and bitwise ops whose operands commute bit for bit (not float ops: NaN payloads).
static bool vcommutes(int pfx, uint32_t op) {
  if (pfx != 0x66) return false;
  switch (op) {
  case 0x0fdb: case 0x0feb: case 0x0fef: case 0x0ffc: case 0x0ffd: case 0x0ffe: case 0x0fd4:
  case 0x0fd5: case 0x0fec: case 0x0fed: case 0x0fdc: case 0x0fdd: case 0x0f74: case 0x0f75:
  case 0x0f76: case 0x0fda: case 0x0fde: case 0x0fea: case 0x0fee: case 0x0fe0: case 0x0fe3:
  case 0x0ff5: case 0x0f3840: case 0x0f3829: case 0x0f3838: case 0x0f3839: case 0x0f383a:
  case 0x0f383b: case 0x0f383c: case 0x0f383d: case 0x0f383e: case 0x0f383f:
    return true;
  default: return false;
  }
}
static void vbin(JC *c, uint32_t d, uint32_t a, uint32_t b, int pfx, uint32_t op, bool swap, bool invert) {
  J *j = c->j;
  if (swap) { uint32_t t = a; a = b; b = t; }
  int ra = vget(c, a, 0);
  int rb = a == b ? ra : vget(c, b, 1);
  centry *e;
  int R = vdef_reg(c, d, &e); // an evicted operand's register keeps its value until written
  if (R == rb && R != ra && vcommutes(pfx, op)) { int t = ra; ra = rb; rb = t; } // R op= a
  if (R == rb && R != ra) { // R = a would destroy b: compute in xmm0
    movaps(j, 0, ra);
    sx(j, pfx, op, 0, rb);
    movaps(j, R, 0);
  } else {
    movaps(j, R, ra);
    sx(j, pfx, op, R, rb);
  }
  if (invert) { all_ones(j, 0); sx(j, 0x66, 0x0fef, R, 0); }
  e->kind = CK_V128, e->dirty = true, e->age = ++c->clock;
}
// The 16 bytes v into xmm x (uses rax, xmm1 when x != 1).
static void vconst(J *j, int x, uint64_t lo, uint64_t hi) {
  if (!lo && !hi) { sx(j, 0x66, 0x0fef, x, x); return; }
  if (lo == UINT64_MAX && hi == UINT64_MAX) { all_ones(j, x); return; }
  int t = x == 1 ? XS : 1;
  movri(j, RAX, lo);
  orr(j, 0x66, 1, 0x0f6e, x, RAX); // movq x, rax
  if (hi == lo) { sx(j, 0x66, 0x0f6c, x, x); return; } // punpcklqdq
  movri(j, RAX, hi);
  orr(j, 0x66, 1, 0x0f6e, t, RAX);
  sx(j, 0x66, 0x0f6c, x, t);
}
// xmm0 = the scalar of slot s broadcast (bytes: 1, 2, 4 or 8 per lane).
static void vsplat(JC *c, uint32_t s, int bytes) {
  J *j = c->j;
  getg(c, RAX, s, bytes == 8);
  if (bytes == 1) { orr(j, 0, 0, 0x0fb6, RAX, RAX); orr(j, 0, 0, 0x69, RAX, RAX); e32(j, 0x01010101u); }
  if (bytes == 2) { orr(j, 0, 0, 0x0fb7, RAX, RAX); orr(j, 0, 0, 0x69, RAX, RAX); e32(j, 0x00010001u); }
  orr(j, 0x66, bytes == 8, 0x0f6e, 0, RAX); // movd/movq xmm0, (e/r)ax
  if (bytes == 8) sx(j, 0x66, 0x0f6c, 0, 0);
  else sxi(j, 0x66, 0x0f70, 0, 0, 0); // pshufd xmm0, xmm0, 0
}

// i8x16.shuffle with immediate lanes idx: true if emitted into xmm0.
static bool vshuffle(JC *c, uint32_t a, uint32_t b, const uint8_t *idx, uint32_t feat) {
  J *j = c->j;
  uint8_t q[4];
  bool dwords = true;
  for (int k = 0; k < 4 && dwords; k++) {
    q[k] = idx[4 * k] >> 2;
    for (int i = 0; i < 4; i++) dwords = dwords && idx[4 * k + i] == 4 * q[k] + i && !(idx[4 * k] & 3);
  }
  if (dwords) {
    bool lo_a = q[0] < 4 && q[1] < 4, hi_a = q[2] < 4 && q[3] < 4;
    bool lo_b = q[0] >= 4 && q[1] >= 4, hi_b = q[2] >= 4 && q[3] >= 4;
    uint8_t imm = (uint8_t)((q[0] & 3) | (q[1] & 3) << 2 | (q[2] & 3) << 4 | (q[3] & 3) << 6);
    if ((lo_a && hi_a) || (lo_b && hi_b) || a == b) { // one source: pshufd
      sxi(j, 0x66, 0x0f70, 0, vget(c, lo_a ? a : b, 1), imm);
      return true;
    }
    if ((lo_a && hi_b) || (lo_b && hi_a)) { // shufps: low lanes from the first, high from the second
      vto(c, 0, lo_a ? a : b);
      sxi(j, 0, 0x0fc6, 0, vget(c, lo_a ? b : a, 1), imm);
      return true;
    }
  }
  if (!(feat & CF_SSSE3)) return false;
  uint64_t ma[2] = {0, 0}, mb[2] = {0, 0};
  for (int i = 0; i < 16; i++) {
    uint64_t va = a == b ? idx[i] & 15u : idx[i] < 16 ? idx[i] : 0x80; // one source: both halves index it
    uint64_t vb = idx[i] >= 16 ? (uint64_t)(idx[i] - 16) : 0x80;
    ma[i / 8] |= va << (8 * (i % 8));
    mb[i / 8] |= vb << (8 * (i % 8));
  }
  vconst(j, XS, ma[0], ma[1]); // uses xmm1 as its temporary
  vto(c, 0, a);
  sx(j, 0x66, 0x0f3800, 0, XS); // pshufb
  if (a != b) {
    vconst(j, XS, mb[0], mb[1]);
    vto(c, 1, b);
    sx(j, 0x66, 0x0f3800, 1, XS);
    sx(j, 0x66, 0x0feb, 0, 1); // por
  }
  return true;
}

// The templates. false: no template (the caller emits the C call).
static bool emit_simd(JC *c, const uint32_t *ip) {
  J *j = c->j;
  const uint32_t d = ip[0], sub = ip[1], a = ip[2], b = ip[3], cc = ip[4], x = ip[5];
  const uint32_t f = cpu_features();
  const bool s41 = (f & CF_SSE41) != 0;
#define BIN(op) vbin(c, d, a, b, 0x66, op, false, false); return true
#define BINS(op, sw, inv) vbin(c, d, a, b, 0x66, op, sw, inv); return true
#define BIN41(op) if (!s41) return false; BIN(op)
#define FBIN(pd, op) vbin(c, d, a, b, pd ? 0x66 : 0, op, false, false); return true
  switch ((enum simd_op)sub) {
  // ---- memory
  case SIMD_V128_LOAD: case SIMD_V128_LOAD32_ZERO: case SIMD_V128_LOAD64_ZERO: case SIMD_V128_LOAD32_SPLAT:
  case SIMD_V128_LOAD64_SPLAT: {
    uint32_t n = sub == SIMD_V128_LOAD ? 16 : sub == SIMD_V128_LOAD32_ZERO || sub == SIMD_V128_LOAD32_SPLAT ? 4 : 8;
    M m = ea(c, a, false, 0, x, n);
    if (n == 16) om(j, 0xf3, 0, 0x0f6f, 0, m);     // movdqu
    else if (n == 8) om(j, 0xf3, 0, 0x0f7e, 0, m); // movq
    else om(j, 0x66, 0, 0x0f6e, 0, m);             // movd
    if (sub == SIMD_V128_LOAD32_SPLAT) sxi(j, 0x66, 0x0f70, 0, 0, 0);
    if (sub == SIMD_V128_LOAD64_SPLAT) sx(j, 0x66, 0x0f6c, 0, 0);
    vdef(c, d, 0);
    return true;
  }
  case SIMD_V128_LOAD8X8_S: case SIMD_V128_LOAD8X8_U: case SIMD_V128_LOAD16X4_S: case SIMD_V128_LOAD16X4_U:
  case SIMD_V128_LOAD32X2_S: case SIMD_V128_LOAD32X2_U: {
    if (!s41) return false;
    static const uint8_t ext[] = {0x20, 0x30, 0x23, 0x33, 0x25, 0x35}; // pmovsx/zx bw, wd, dq
    M m = ea(c, a, false, 0, x, 8);
    om(j, 0x66, 0, 0x0f3800u | ext[sub - SIMD_V128_LOAD8X8_S], 0, m);
    vdef(c, d, 0);
    return true;
  }
  case SIMD_V128_STORE: {
    int r = vget(c, b, 1);
    M m = ea(c, a, false, 0, x, 16);
    om(j, 0xf3, 0, 0x0f7f, r, m);
    return true;
  }
  case SIMD_V128_CONST: {
    centry *e;
    int R = vdef_reg(c, d, &e);
    vconst(j, R, (uint64_t)ip[7] | (uint64_t)ip[8] << 32, (uint64_t)ip[9] | (uint64_t)ip[10] << 32);
    e->kind = CK_V128, e->dirty = true, e->age = ++c->clock;
    return true;
  }
  // ---- lanes
  case SIMD_I8X16_SHUFFLE: {
    uint8_t idx[16];
    memcpy(idx, ip + 7, 16);
    if (!vshuffle(c, a, b, idx, f)) return false;
    vdef(c, d, 0);
    return true;
  }
  case SIMD_I8X16_SWIZZLE: // indices >= 16 pick 0: saturating + 0x70 sets their top bit
    if (!(f & CF_SSSE3)) return false;
    vconst(j, XS, 0x7070707070707070ull, 0x7070707070707070ull);
    vto(c, 1, b);
    sx(j, 0x66, 0x0fdc, 1, XS); // paddusb
    vto(c, 0, a);
    sx(j, 0x66, 0x0f3800, 0, 1); // pshufb
    vdef(c, d, 0);
    return true;
  case SIMD_I8X16_SPLAT: vsplat(c, a, 1); vdef(c, d, 0); return true;
  case SIMD_I16X8_SPLAT: vsplat(c, a, 2); vdef(c, d, 0); return true;
  case SIMD_I32X4_SPLAT: case SIMD_F32X4_SPLAT: vsplat(c, a, 4); vdef(c, d, 0); return true;
  case SIMD_I64X2_SPLAT: case SIMD_F64X2_SPLAT: vsplat(c, a, 8); vdef(c, d, 0); return true;
  case SIMD_I8X16_EXTRACT_LANE_S: case SIMD_I8X16_EXTRACT_LANE_U: {
    orr(j, 0x66, 0, 0x0fc5, RAX, vget(c, a, 1)); // pextrw eax, v, x / 2
    eb(j, (uint8_t)(x >> 1));
    if (x & 1) { orr(j, 0, 0, 0xc1, SH_SHR, RAX); eb(j, 8); }
    orr(j, 0, 0, sub == SIMD_I8X16_EXTRACT_LANE_S ? 0x0fbe : 0x0fb6, RAX, RAX); // movsx/movzx eax, al
    defg(c, d, RAX);
    return true;
  }
  case SIMD_I16X8_EXTRACT_LANE_S: case SIMD_I16X8_EXTRACT_LANE_U:
    orr(j, 0x66, 0, 0x0fc5, RAX, vget(c, a, 1));
    eb(j, (uint8_t)x);
    if (sub == SIMD_I16X8_EXTRACT_LANE_S) orr(j, 0, 0, 0x0fbf, RAX, RAX);
    defg(c, d, RAX);
    return true;
  case SIMD_I32X4_EXTRACT_LANE: case SIMD_F32X4_EXTRACT_LANE: {
    int r = vget(c, a, 1);
    if (x) { sxi(j, 0x66, 0x0f70, 0, r, (uint8_t)x); r = 0; }
    if (sub == SIMD_F32X4_EXTRACT_LANE) { defx(c, d, 0, r); return true; }
    orr(j, 0x66, 0, 0x0f7e, r, RAX); // movd eax, r
    defg(c, d, RAX);
    return true;
  }
  case SIMD_I64X2_EXTRACT_LANE: case SIMD_F64X2_EXTRACT_LANE: {
    int r = vget(c, a, 1);
    if (x) { sxi(j, 0x66, 0x0f70, 0, r, 0xee); r = 0; }
    if (sub == SIMD_F64X2_EXTRACT_LANE) { defx(c, d, 1, r); return true; }
    orr(j, 0x66, 1, 0x0f7e, r, RAX); // movq rax, r
    defg(c, d, RAX);
    return true;
  }
  case SIMD_I8X16_REPLACE_LANE:
    if (!s41) return false;
    getg(c, RCX, b, 0);
    vto(c, 0, a);
    orr(j, 0x66, 0, 0x0f3a20, 0, RCX); // pinsrb xmm0, ecx, x
    eb(j, (uint8_t)x);
    vdef(c, d, 0);
    return true;
  case SIMD_I16X8_REPLACE_LANE:
    getg(c, RCX, b, 0);
    vto(c, 0, a);
    orr(j, 0x66, 0, 0x0fc4, 0, RCX); // pinsrw xmm0, ecx, x
    eb(j, (uint8_t)x);
    vdef(c, d, 0);
    return true;
  case SIMD_I32X4_REPLACE_LANE: case SIMD_F32X4_REPLACE_LANE:
    getg(c, RCX, b, 0);
    vto(c, 0, a);
    if (!x) {
      orr(j, 0x66, 0, 0x0f6e, 1, RCX); // movd xmm1, ecx
      sx(j, 0xf3, 0x0f10, 0, 1);       // movss xmm0, xmm1
    } else {
      orr(j, 0x66, 0, 0x0fc4, 0, RCX);
      eb(j, (uint8_t)(2 * x));
      orr(j, 0, 0, 0xc1, SH_SHR, RCX);
      eb(j, 16);
      orr(j, 0x66, 0, 0x0fc4, 0, RCX);
      eb(j, (uint8_t)(2 * x + 1));
    }
    vdef(c, d, 0);
    return true;
  case SIMD_I64X2_REPLACE_LANE: case SIMD_F64X2_REPLACE_LANE:
    getg(c, RCX, b, 1);
    vto(c, 0, a);
    orr(j, 0x66, 1, 0x0f6e, 1, RCX);                // movq xmm1, rcx
    if (!x) sx(j, 0xf2, 0x0f10, 0, 1);              // movsd xmm0, xmm1
    else sx(j, 0x66, 0x0f6c, 0, 1);                 // punpcklqdq xmm0, xmm1
    vdef(c, d, 0);
    return true;
  // ---- integer comparisons
  case SIMD_I8X16_EQ: BIN(0x0f74);
  case SIMD_I16X8_EQ: BIN(0x0f75);
  case SIMD_I32X4_EQ: BIN(0x0f76);
  case SIMD_I64X2_EQ: BIN41(0x0f3829);
  case SIMD_I8X16_NE: BINS(0x0f74, false, true);
  case SIMD_I16X8_NE: BINS(0x0f75, false, true);
  case SIMD_I32X4_NE: BINS(0x0f76, false, true);
  case SIMD_I64X2_NE: if (!s41) return false; BINS(0x0f3829, false, true);
  case SIMD_I8X16_GT_S: BIN(0x0f64);
  case SIMD_I16X8_GT_S: BIN(0x0f65);
  case SIMD_I32X4_GT_S: BIN(0x0f66);
  case SIMD_I8X16_LT_S: BINS(0x0f64, true, false);
  case SIMD_I16X8_LT_S: BINS(0x0f65, true, false);
  case SIMD_I32X4_LT_S: BINS(0x0f66, true, false);
  case SIMD_I8X16_LE_S: BINS(0x0f64, false, true);
  case SIMD_I16X8_LE_S: BINS(0x0f65, false, true);
  case SIMD_I32X4_LE_S: BINS(0x0f66, false, true);
  case SIMD_I8X16_GE_S: BINS(0x0f64, true, true);
  case SIMD_I16X8_GE_S: BINS(0x0f65, true, true);
  case SIMD_I32X4_GE_S: BINS(0x0f66, true, true);
  case SIMD_I64X2_GT_S: if (!(f & CF_SSE42)) return false; BINS(0x0f3837, false, false);
  case SIMD_I64X2_LT_S: if (!(f & CF_SSE42)) return false; BINS(0x0f3837, true, false);
  case SIMD_I64X2_LE_S: if (!(f & CF_SSE42)) return false; BINS(0x0f3837, false, true);
  case SIMD_I64X2_GE_S: if (!(f & CF_SSE42)) return false; BINS(0x0f3837, true, true);
  case SIMD_I8X16_LE_U: case SIMD_I8X16_GE_U: case SIMD_I8X16_GT_U: case SIMD_I8X16_LT_U:
  case SIMD_I16X8_LE_U: case SIMD_I16X8_GE_U: case SIMD_I16X8_GT_U: case SIMD_I16X8_LT_U:
  case SIMD_I32X4_LE_U: case SIMD_I32X4_GE_U: case SIMD_I32X4_GT_U: case SIMD_I32X4_LT_U: {
    // a <= b  <=>  min_u(a, b) == a;  a >= b  <=>  max_u(a, b) == a; gt/lt are their negations
    int w = sub <= SIMD_I8X16_GE_U ? 0 : sub <= SIMD_I16X8_GE_U ? 1 : 2;
    bool le = sub == SIMD_I8X16_LE_U || sub == SIMD_I16X8_LE_U || sub == SIMD_I32X4_LE_U ||
              sub == SIMD_I8X16_GT_U || sub == SIMD_I16X8_GT_U || sub == SIMD_I32X4_GT_U;
    bool inv = sub == SIMD_I8X16_GT_U || sub == SIMD_I16X8_GT_U || sub == SIMD_I32X4_GT_U ||
               sub == SIMD_I8X16_LT_U || sub == SIMD_I16X8_LT_U || sub == SIMD_I32X4_LT_U;
    static const uint32_t mn[3] = {0x0fda, 0x0f383a, 0x0f383b}, mx[3] = {0x0fde, 0x0f383e, 0x0f383f};
    static const uint32_t eq[3] = {0x0f74, 0x0f75, 0x0f76};
    if (w && !s41) return false;
    vto(c, 0, a);
    vto(c, 1, a);
    sx(j, 0x66, le ? mn[w] : mx[w], 1, vget(c, b, XS));
    sx(j, 0x66, eq[w], 0, 1);
    if (inv) { all_ones(j, 1); sx(j, 0x66, 0x0fef, 0, 1); }
    vdef(c, d, 0);
    return true;
  }
  // ---- float comparisons: cmpps/cmppd predicates (eq 0, lt 1, le 2, neq 4)
  case SIMD_F32X4_EQ: case SIMD_F32X4_NE: case SIMD_F32X4_LT: case SIMD_F32X4_GT: case SIMD_F32X4_LE:
  case SIMD_F32X4_GE: case SIMD_F64X2_EQ: case SIMD_F64X2_NE: case SIMD_F64X2_LT: case SIMD_F64X2_GT:
  case SIMD_F64X2_LE: case SIMD_F64X2_GE: {
    bool pd = sub >= SIMD_F64X2_EQ;
    uint32_t k = sub - (pd ? SIMD_F64X2_EQ : SIMD_F32X4_EQ); // eq ne lt gt le ge
    static const uint8_t pred[6] = {0, 4, 1, 1, 2, 2};
    bool sw = k == 3 || k == 5;
    vto(c, 0, sw ? b : a);
    sxi(j, pd ? 0x66 : 0, 0x0fc2, 0, vget(c, sw ? a : b, 1), pred[k]);
    vdef(c, d, 0);
    return true;
  }
  // ---- bitwise
  case SIMD_V128_NOT: vto(c, 0, a); all_ones(j, 1); sx(j, 0x66, 0x0fef, 0, 1); vdef(c, d, 0); return true;
  case SIMD_V128_AND: BIN(0x0fdb);
  case SIMD_V128_OR: BIN(0x0feb);
  case SIMD_V128_XOR: BIN(0x0fef);
  case SIMD_V128_ANDNOT: BINS(0x0fdf, true, false); // pandn: ~b & a
  case SIMD_V128_BITSELECT: // ((a ^ b) & c) ^ b
    vto(c, 0, a);
    sx(j, 0x66, 0x0fef, 0, vget(c, b, 1));
    sx(j, 0x66, 0x0fdb, 0, vget(c, cc, XS));
    sx(j, 0x66, 0x0fef, 0, vget(c, b, 1));
    vdef(c, d, 0);
    return true;
  // ---- tests
  case SIMD_V128_ANY_TRUE: case SIMD_I8X16_ALL_TRUE: case SIMD_I16X8_ALL_TRUE: case SIMD_I32X4_ALL_TRUE:
  case SIMD_I64X2_ALL_TRUE: {
    static const uint32_t eq[] = {0x0f74, 0x0f74, 0x0f75, 0x0f76, 0x0f3829};
    int k = sub == SIMD_V128_ANY_TRUE ? 0 : sub == SIMD_I8X16_ALL_TRUE ? 1 : sub == SIMD_I16X8_ALL_TRUE ? 2 :
            sub == SIMD_I32X4_ALL_TRUE ? 3 : 4;
    if (k == 4 && !s41) return false;
    if (k == 0 && s41) { // ptest v, v: ZF when all bits are 0
      int r = vget(c, a, 1);
      sx(j, 0x66, 0x0f3817, r, r);
      setcc_rax(j, CC_NE);
      defg(c, d, RAX);
      return true;
    }
    sx(j, 0x66, 0x0fef, 0, 0);         // xmm0 = 0
    sx(j, 0x66, eq[k], 0, vget(c, a, 1)); // lanes equal to zero
    orr(j, 0x66, 0, 0x0fd7, RAX, 0);   // pmovmskb eax, xmm0
    if (k == 0) { alu_ri(j, 0, G_CMP, RAX, 0xffff); setcc_rax(j, CC_NE); }
    else { orr(j, 0, 0, 0x85, RAX, RAX); setcc_rax(j, CC_E); }
    defg(c, d, RAX);
    return true;
  }
  case SIMD_I8X16_BITMASK: orr(j, 0x66, 0, 0x0fd7, RAX, vget(c, a, 1)); defg(c, d, RAX); return true;
  case SIMD_I32X4_BITMASK: orr(j, 0, 0, 0x0f50, RAX, vget(c, a, 1)); defg(c, d, RAX); return true;
  case SIMD_I64X2_BITMASK: orr(j, 0x66, 0, 0x0f50, RAX, vget(c, a, 1)); defg(c, d, RAX); return true;
  case SIMD_I16X8_BITMASK:
    vto(c, 0, a);
    sx(j, 0x66, 0x0f63, 0, 0); // packsswb xmm0, xmm0
    orr(j, 0x66, 0, 0x0fd7, RAX, 0);
    orr(j, 0, 0, 0x0fb6, RAX, RAX);
    defg(c, d, RAX);
    return true;
  // ---- shifts by a slot (count modulo the lane width)
  case SIMD_I16X8_SHL: case SIMD_I16X8_SHR_S: case SIMD_I16X8_SHR_U: case SIMD_I32X4_SHL: case SIMD_I32X4_SHR_S:
  case SIMD_I32X4_SHR_U: case SIMD_I64X2_SHL: case SIMD_I64X2_SHR_U: {
    uint32_t op, mask;
    switch (sub) {
    case SIMD_I16X8_SHL: op = 0x0ff1, mask = 15; break;
    case SIMD_I16X8_SHR_S: op = 0x0fe1, mask = 15; break;
    case SIMD_I16X8_SHR_U: op = 0x0fd1, mask = 15; break;
    case SIMD_I32X4_SHL: op = 0x0ff2, mask = 31; break;
    case SIMD_I32X4_SHR_S: op = 0x0fe2, mask = 31; break;
    case SIMD_I32X4_SHR_U: op = 0x0fd2, mask = 31; break;
    case SIMD_I64X2_SHL: op = 0x0ff3, mask = 63; break;
    default: op = 0x0fd3, mask = 63; break;
    }
    uint64_t k;
    if (slot_const(c, b, &k)) { // by an immediate: 66 0F 71/72/73 /digit ib
      static const struct { uint32_t reg; uint32_t imm; uint8_t dig; } im[] = {
          {0x0ff1, 0x0f71, 6}, {0x0fe1, 0x0f71, 4}, {0x0fd1, 0x0f71, 2}, {0x0ff2, 0x0f72, 6},
          {0x0fe2, 0x0f72, 4}, {0x0fd2, 0x0f72, 2}, {0x0ff3, 0x0f73, 6}, {0x0fd3, 0x0f73, 2}};
      size_t q = 0;
      while (im[q].reg != op) q++;
      int ra = vget(c, a, 0);
      centry *e;
      int R = vdef_reg(c, d, &e);
      movaps(j, R, ra);
      sxi(j, 0x66, im[q].imm, im[q].dig, R, (uint8_t)(k & mask));
      e->kind = CK_V128, e->dirty = true, e->age = ++c->clock;
      return true;
    }
    getg(c, RCX, b, 0);
    alu_ri(j, 0, G_AND, RCX, (int32_t)mask);
    orr(j, 0x66, 0, 0x0f6e, 1, RCX); // movd xmm1, ecx
    vto(c, 0, a);
    sx(j, 0x66, op, 0, 1);
    vdef(c, d, 0);
    return true;
  }
  // ---- integer arithmetic
  case SIMD_I8X16_ADD: BIN(0x0ffc);
  case SIMD_I8X16_SUB: BIN(0x0ff8);
  case SIMD_I8X16_ADD_SAT_S: BIN(0x0fec);
  case SIMD_I8X16_ADD_SAT_U: BIN(0x0fdc);
  case SIMD_I8X16_SUB_SAT_S: BIN(0x0fe8);
  case SIMD_I8X16_SUB_SAT_U: BIN(0x0fd8);
  case SIMD_I8X16_MIN_U: BIN(0x0fda);
  case SIMD_I8X16_MAX_U: BIN(0x0fde);
  case SIMD_I8X16_MIN_S: BIN41(0x0f3838);
  case SIMD_I8X16_MAX_S: BIN41(0x0f383c);
  case SIMD_I8X16_AVGR_U: BIN(0x0fe0);
  case SIMD_I8X16_NARROW_I16X8_S: BIN(0x0f63);
  case SIMD_I8X16_NARROW_I16X8_U: BIN(0x0f67);
  case SIMD_I16X8_ADD: BIN(0x0ffd);
  case SIMD_I16X8_SUB: BIN(0x0ff9);
  case SIMD_I16X8_MUL: BIN(0x0fd5);
  case SIMD_I16X8_ADD_SAT_S: BIN(0x0fed);
  case SIMD_I16X8_ADD_SAT_U: BIN(0x0fdd);
  case SIMD_I16X8_SUB_SAT_S: BIN(0x0fe9);
  case SIMD_I16X8_SUB_SAT_U: BIN(0x0fd9);
  case SIMD_I16X8_MIN_S: BIN(0x0fea);
  case SIMD_I16X8_MAX_S: BIN(0x0fee);
  case SIMD_I16X8_MIN_U: BIN41(0x0f383a);
  case SIMD_I16X8_MAX_U: BIN41(0x0f383e);
  case SIMD_I16X8_AVGR_U: BIN(0x0fe3);
  case SIMD_I16X8_NARROW_I32X4_S: BIN(0x0f6b);
  case SIMD_I16X8_NARROW_I32X4_U: BIN41(0x0f382b);
  case SIMD_I32X4_ADD: BIN(0x0ffe);
  case SIMD_I32X4_SUB: BIN(0x0ffa);
  case SIMD_I32X4_MUL: BIN41(0x0f3840);
  case SIMD_I32X4_MIN_S: BIN41(0x0f3839);
  case SIMD_I32X4_MIN_U: BIN41(0x0f383b);
  case SIMD_I32X4_MAX_S: BIN41(0x0f383d);
  case SIMD_I32X4_MAX_U: BIN41(0x0f383f);
  case SIMD_I32X4_DOT_I16X8_S: BIN(0x0ff5); // pmaddwd
  case SIMD_I64X2_ADD: BIN(0x0fd4);
  case SIMD_I64X2_SUB: BIN(0x0ffb);
  case SIMD_I8X16_NEG: case SIMD_I16X8_NEG: case SIMD_I32X4_NEG: case SIMD_I64X2_NEG: {
    static const uint32_t psub[] = {0x0ff8, 0x0ff9, 0x0ffa, 0x0ffb};
    sx(j, 0x66, 0x0fef, 0, 0);
    sx(j, 0x66, psub[sub == SIMD_I8X16_NEG ? 0 : sub == SIMD_I16X8_NEG ? 1 : sub == SIMD_I32X4_NEG ? 2 : 3], 0,
       vget(c, a, 1));
    vdef(c, d, 0);
    return true;
  }
  case SIMD_I8X16_ABS: case SIMD_I16X8_ABS: case SIMD_I32X4_ABS:
    if (!(f & CF_SSSE3)) return false;
    vun(c, d, a, 0x66, sub == SIMD_I8X16_ABS ? 0x0f381c : sub == SIMD_I16X8_ABS ? 0x0f381d : 0x0f381e, -1);
    return true;
  case SIMD_I16X8_EXTEND_LOW_I8X16_S: case SIMD_I16X8_EXTEND_HIGH_I8X16_S: case SIMD_I16X8_EXTEND_LOW_I8X16_U:
  case SIMD_I16X8_EXTEND_HIGH_I8X16_U: case SIMD_I32X4_EXTEND_LOW_I16X8_S: case SIMD_I32X4_EXTEND_HIGH_I16X8_S:
  case SIMD_I32X4_EXTEND_LOW_I16X8_U: case SIMD_I32X4_EXTEND_HIGH_I16X8_U: case SIMD_I64X2_EXTEND_LOW_I32X4_S:
  case SIMD_I64X2_EXTEND_HIGH_I32X4_S: case SIMD_I64X2_EXTEND_LOW_I32X4_U: case SIMD_I64X2_EXTEND_HIGH_I32X4_U: {
    if (!s41) return false;
    uint32_t k = sub >= SIMD_I64X2_EXTEND_LOW_I32X4_S ? sub - SIMD_I64X2_EXTEND_LOW_I32X4_S + 8
                 : sub >= SIMD_I32X4_EXTEND_LOW_I16X8_S ? sub - SIMD_I32X4_EXTEND_LOW_I16X8_S + 4
                                                         : sub - SIMD_I16X8_EXTEND_LOW_I8X16_S;
    // k % 4: low_s, high_s, low_u, high_u; k / 4: bw, wd, dq
    static const uint8_t sx_op[3] = {0x20, 0x23, 0x25}, zx_op[3] = {0x30, 0x33, 0x35};
    int r = vget(c, a, 1);
    if (k % 2) { sxi(j, 0x66, 0x0f70, 0, r, 0xee); r = 0; } // the high half down
    sx(j, 0x66, 0x0f3800u | (k % 4 < 2 ? sx_op[k / 4] : zx_op[k / 4]), 0, r);
    vdef(c, d, 0);
    return true;
  }
  // ---- floating point
  case SIMD_F32X4_ADD: FBIN(0, 0x0f58);
  case SIMD_F32X4_SUB: FBIN(0, 0x0f5c);
  case SIMD_F32X4_MUL: FBIN(0, 0x0f59);
  case SIMD_F32X4_DIV: FBIN(0, 0x0f5e);
  case SIMD_F64X2_ADD: FBIN(1, 0x0f58);
  case SIMD_F64X2_SUB: FBIN(1, 0x0f5c);
  case SIMD_F64X2_MUL: FBIN(1, 0x0f59);
  case SIMD_F64X2_DIV: FBIN(1, 0x0f5e);
  case SIMD_F32X4_PMIN: vbin(c, d, a, b, 0, 0x0f5d, true, false); return true; // minps(b, a) = b < a ? b : a
  case SIMD_F32X4_PMAX: vbin(c, d, a, b, 0, 0x0f5f, true, false); return true; // maxps(b, a) = b > a ? b : a
  case SIMD_F64X2_PMIN: vbin(c, d, a, b, 0x66, 0x0f5d, true, false); return true;
  case SIMD_F64X2_PMAX: vbin(c, d, a, b, 0x66, 0x0f5f, true, false); return true;
  case SIMD_F32X4_SQRT: vun(c, d, a, 0, 0x0f51, -1); return true;
  case SIMD_F64X2_SQRT: vun(c, d, a, 0x66, 0x0f51, -1); return true;
  case SIMD_F32X4_ABS: case SIMD_F64X2_ABS: case SIMD_F32X4_NEG: case SIMD_F64X2_NEG: {
    bool pd = sub == SIMD_F64X2_ABS || sub == SIMD_F64X2_NEG, neg = sub == SIMD_F32X4_NEG || sub == SIMD_F64X2_NEG;
    all_ones(j, 1);
    if (neg) sxi(j, 0x66, pd ? 0x0f73 : 0x0f72, 6, 1, pd ? 63 : 31); // psllq/pslld: sign bits
    else sxi(j, 0x66, pd ? 0x0f73 : 0x0f72, 2, 1, 1);                 // psrlq/psrld: all but sign
    vto(c, 0, a);
    sx(j, 0x66, neg ? 0x0fef : 0x0fdb, 0, 1);
    vdef(c, d, 0);
    return true;
  }
  case SIMD_F32X4_CEIL: case SIMD_F32X4_FLOOR: case SIMD_F32X4_TRUNC: case SIMD_F32X4_NEAREST:
  case SIMD_F64X2_CEIL: case SIMD_F64X2_FLOOR: case SIMD_F64X2_TRUNC: case SIMD_F64X2_NEAREST: {
    if (!s41) return false;
    bool pd = sub == SIMD_F64X2_CEIL || sub == SIMD_F64X2_FLOOR || sub == SIMD_F64X2_TRUNC || sub == SIMD_F64X2_NEAREST;
    uint8_t mode = sub == SIMD_F32X4_CEIL || sub == SIMD_F64X2_CEIL ? 2 : sub == SIMD_F32X4_FLOOR || sub == SIMD_F64X2_FLOOR ? 1
                   : sub == SIMD_F32X4_TRUNC || sub == SIMD_F64X2_TRUNC ? 3 : 0;
    vun(c, d, a, 0x66, pd ? 0x0f3a09 : 0x0f3a08, mode | 8); // roundps/pd, inexact masked
    return true;
  }
  case SIMD_F32X4_CONVERT_I32X4_S: vun(c, d, a, 0, 0x0f5b, -1); return true;    // cvtdq2ps
  case SIMD_F64X2_CONVERT_LOW_I32X4_S: vun(c, d, a, 0xf3, 0x0fe6, -1); return true; // cvtdq2pd
  case SIMD_F32X4_DEMOTE_F64X2_ZERO: vun(c, d, a, 0x66, 0x0f5a, -1); return true; // cvtpd2ps
  case SIMD_F64X2_PROMOTE_LOW_F32X4: vun(c, d, a, 0, 0x0f5a, -1); return true;    // cvtps2pd
  // ---- internal
  case SIMD_V128_COPY: vdef(c, d, vget(c, a, 0)); return true;
  case SIMD_V128_SELECT: {
    // both operands into scratch first: the cache must be the same on both paths
    vto(c, 0, a);
    vto(c, 1, b);
    test_slot(c, cc);
    uint32_t p = jcc32(j, CC_NE);
    movaps(j, 0, 1);
    here(j, p);
    vdef(c, d, 0);
    return true;
  }
  case SIMD_V128_GLOBAL_GET:
    movrp(j, RAX, &c->in->globals[x]->val);
    om(j, 0xf3, 0, 0x0f6f, 0, MB(RAX, 0));
    vdef(c, d, 0);
    return true;
  case SIMD_V128_GLOBAL_SET: {
    int r = vget(c, a, 1);
    movrp(j, RAX, &c->in->globals[x]->val);
    om(j, 0xf3, 0, 0x0f7f, r, MB(RAX, 0));
    return true;
  }
  default: return false;
  }
#undef BIN
#undef BINS
#undef BIN41
#undef FBIN
}

// Every WebAssembly 3.0 instruction compiles (the rare ones and GC's as calls into C, throws
// as jit_throw) except the handlers of exception handling: a function with a try_table (or a
// legacy try) stays on the interpreter, which runs the handler search (per-function fallback).
static bool jit_supported(const uint32_t *code) {
  switch (code[0]) {
  case OP_HANDLER: return false; // a function with a handler is interpreted (jit_throw)
  case OP_LOAD_M: return load_info(code[5]).n != 0; // (the LD rows: v128 loads are OP_SIMD)
  case OP_STORE_M: return store_bytes(code[5]) != 0;
  default: return true;
  }
}

// Whether running the instance's code can move or resize its memory: memory.grow, or a call
// that may leave the instance (an import, call_indirect, call_ref, a tail call). A direct call between
// its compiled functions then needs no reload of r12/r13.
static bool mem_may_change(const eng_inst *in) {
  uint32_t first = in->nfuncs - in->nown_funcs;
  for (uint32_t i = 0; i < in->nown_funcs; i++) {
    const eng_func *f = &in->own_funcs[i];
    for (uint32_t pc = 0, n; pc < f->code_len; pc += n) {
      n = eng_op_len(f->code + pc, f->code_len - pc);
      if (!n) return true;
      uint32_t op = f->code[pc];
      if (op == OP_MEMORY_GROW || op == OP_MEMORY_GROW_M || op == OP_CALL_INDIRECT || op == OP_RETURN_CALL ||
          op == OP_RETURN_CALL_INDIRECT || op == OP_CALL_REF || op == OP_RETURN_CALL_REF ||
          (op == OP_CALL && f->code[pc + 1] < first))
        return true;
    }
  }
  return false;
}

// Loop headers: a label that only backward branches without slot copies reach (besides falling
// through) keeps the cache at its entry, written back but not forgotten (its "map"); each such
// branch first makes the registers hold what the map says (moves, or loads from the written-back
// frame), so values carried around a loop stay in registers instead of going through memory.
#define LAB_JOIN 1 // a label
#define LAB_FWD 2  // reached by a forward branch, br_table or a branch that copies slots
#define NHDR 64    // loop headers with a map, per function (more: plain labels)
typedef struct hdr_map { uint32_t pc; centry g[NG], x[NX]; } hdr_map;

static const hdr_map *find_hdr(const JC *c, uint32_t pc) {
  for (uint32_t i = 0; i < c->nhdr; i++)
    if (c->hdr[i].pc == pc) return &c->hdr[i];
  return NULL;
}

// At loop header pc (the cache written back): loads the v128 locals that SIMD instructions of
// the loop (up to its last backward branch, at most 4096 words on) read into free XMM registers,
// so they become part of the header's map and stay in registers around the loop.
static void preload_v128(JC *c, const uint32_t *code, uint32_t len, uint32_t pc, uint32_t end, uint32_t nlocals) {
  if (end > pc + 4096) end = pc + 4096;
  for (uint32_t p = pc, n; p < end; p += n) {
    n = eng_op_len(code + p, len - p);
    if (!n) return;
    if (code[p] != OP_SIMD) continue;
    const uint32_t *ip = code + p + 1;
    uint32_t sub = ip[1], a_ = 0, rd[3], nr = 0;
    switch (sub) {
    case SIMD_V128_COPY: case SIMD_V128_GLOBAL_SET: rd[nr++] = ip[2]; break;
    case SIMD_V128_SELECT: rd[nr++] = ip[2]; rd[nr++] = ip[3]; break;
    case SIMD_V128_GLOBAL_GET: break;
    default:
      switch (eng_simd_kind(sub, &a_)) {
      case SK_STORE: case SK_LOADLANE: case SK_STORELANE: rd[nr++] = ip[3]; break;
      case SK_SHUFFLE: case SK_BIN: rd[nr++] = ip[2]; rd[nr++] = ip[3]; break;
      case SK_TERN: rd[nr++] = ip[2]; rd[nr++] = ip[3]; rd[nr++] = ip[4]; break;
      case SK_EXTRACT: case SK_REPLACE: case SK_UN: case SK_TEST: case SK_SHIFT: rd[nr++] = ip[2]; break;
      default: break;
      }
    }
    for (uint32_t k = 0; k < nr; k++) {
      uint32_t sl = rd[k];
      if (sl + 1 >= nlocals) continue;
      bool busy = false;
      int fi = -1;
      for (int i = 0; i < NG; i++)
        if (c->g[i].kind && (c->g[i].slot == sl || c->g[i].slot == sl + 1)) busy = true;
      for (int i = 0; i < NX; i++) {
        const centry *e = &c->x[i];
        if (!e->kind && fi < 0) fi = i;
        if (e->kind && (e->slot == sl || e->slot == sl + 1 || (e->kind == CK_V128 && e->slot + 1 == sl))) busy = true;
      }
      if (busy || fi < 0) continue;
      om(c->j, 0xf3, 0, 0x0f6f, xreg(fi), MS(sl)); // movdqu
      c->x[fi] = (centry){sl, ++c->clock, CK_V128, false, false, 0};
    }
  }
}

// Emits the moves that make registers hold the map's slots (the cache is flushed: the frame is
// exact, so a load is always right; a register move is used when the slot is in a register now).
// Parallel-move order: a register is written only when no pending move still reads it; a cycle
// is broken by loading one value from the frame.
static void reconcile(JC *c, const hdr_map *h) {
  J *j = c->j;
  struct { const centry *e; int dst, src; bool gpr; } mv[NG + NX];
  int n = 0;
  for (int i = 0; i < NG + NX; i++) {
    const centry *e = i < NG ? &h->g[i] : &h->x[i - NG];
    if (!e->kind) continue;
    int dst = i < NG ? cache_gpr[i] : xreg(i - NG), r, src = -1;
    centry *cur = find(c, e->slot, &r);
    if (cur && cur->kind == e->kind) src = r;
    if (src == dst) continue;
    mv[n].e = e, mv[n].dst = dst, mv[n].src = src, mv[n].gpr = i < NG;
    n++;
  }
  while (n) {
    int k = -1;
    for (int a = 0; a < n && k < 0; a++) {
      bool read = false;
      for (int b = 0; b < n; b++)
        if (b != a && mv[b].src == mv[a].dst && mv[b].gpr == mv[a].gpr) read = true;
      if (!read) k = a;
    }
    if (k < 0) { // a cycle: the readers of mv[0]'s destination load from the frame instead
      k = 0;
      for (int b = 1; b < n; b++)
        if (mv[b].src == mv[0].dst && mv[b].gpr == mv[0].gpr) mv[b].src = -1;
    }
    const centry *e = mv[k].e;
    int dst = mv[k].dst, src = mv[k].src;
    if (e->kind == CK_GPR) {
      if (src >= 0) orr(j, 0, 1, 0x8b, dst, src);
      else ld(j, 1, dst, MS(e->slot));
    } else if (src >= 0) {
      movaps(j, dst, src);
    } else if (e->kind == CK_V128) {
      om(j, 0xf3, 0, 0x0f6f, dst, MS(e->slot));
    } else {
      om(j, e->kind == CK_F64 ? 0xf2 : 0xf3, 0, 0x0f10, dst, MS(e->slot));
    }
    mv[k] = mv[--n];
  }
}

// A branch (cc < 0: unconditional) to word offset target; the cache is flushed. To a loop
// header with a map: the moves on the taken path only (the fall-through keeps its cache).
static void jbranch(JC *c, int cc, uint32_t target) {
  J *j = c->j;
  const hdr_map *h = find_hdr(c, target);
  if (!h) { jword(j, cc, target); return; }
  uint32_t skip = cc >= 0 ? jcc32(j, cc ^ 1) : 0;
  reconcile(c, h);
  jword(j, -1, target);
  if (cc >= 0) here(j, skip);
}

// Marks the word offsets control can reach other than by falling through (labels).
static bool mark_labels(const uint32_t *code, uint32_t len, uint8_t *lab, uint32_t *lastb) {
  for (uint32_t pc = 0, n; pc < len; pc += n) {
    n = eng_op_len(code + pc, len - pc);
    if (!n) return false;
    const uint32_t *ip = code + pc + 1;
    uint32_t op = code[pc];
    uint32_t t = UINT32_MAX;
    if (brif_base[op] || op == OP_JMP || op == OP_BR_MOVE || op == OP_BR_IF_NZ || op == OP_BR_IF_MOVE ||
        op == OP_BR_UNLESS || op == OP_BRIF_I32_EQZ || op == OP_BR_ON_NULL || op == OP_BR_ON_NON_NULL ||
        op == OP_BR_ON_CAST || op == OP_BR_ON_CAST_FAIL)
      t = ip[0];
    if (t != UINT32_MAX) {
      if (t >= len) return false;
      bool moves = op == OP_BR_MOVE || op == OP_BR_IF_MOVE || op == OP_BR_ON_NULL || op == OP_BR_ON_NON_NULL ||
                   op == OP_BR_ON_CAST || op == OP_BR_ON_CAST_FAIL;
      lab[t] |= LAB_JOIN | (t > pc ? LAB_FWD : 0) | (moves ? LAB_FWD : 0);
      if (t <= pc) lastb[t] = pc; // the last backward branch to t: where its loop ends
    }
    if (op == OP_BR_TABLE_X)
      for (uint32_t k = 0; k <= ip[1]; k++) {
        if (ip[4 + 2 * k] >= len) return false;
        lab[ip[4 + 2 * k]] |= LAB_JOIN | LAB_FWD;
      }
  }
  return true;
}

static bool emit_func(JC *c, eng_func *f, uint32_t **mapp) {
  J *j = c->j;
  const uint32_t *code = f->code;
  uint32_t len = f->code_len;
  uint32_t *map = *mapp; // the instance's largest function fits (eng_jit_instance)
  memset(map, 0, (size_t)(len + 1) * 5);
  uint8_t *lab = (uint8_t *)map + (size_t)(len + 1) * 4; // after the map: len + 1 label flags
  memset(c->lastb, 0, (size_t)(len + 1) * 4);
  if (!mark_labels(code, len, lab, c->lastb)) return false;
  j->nfx = 0;
  c->nhdr = 0;
  forget(c);
  // prologue: 16-byte aligned stack for C calls, native and value stack checks, locals zeroed
  alu_ri(j, 1, G_SUB, RSP, 8);
  alu_rm(j, 1, G_CMP, RSP, MB(R14, JOFF(eng_jit, rsp_limit)));
  jstub(j, CC_B, HL_TRAP_CALL_STACK_EXHAUSTED);
  lea(j, RAX, MS(f->max_stack));
  alu_rm(j, 1, G_CMP, RAX, MB(R14, JOFF(eng_jit, stack_end)));
  jstub(j, CC_A, HL_TRAP_CALL_STACK_EXHAUSTED);
  uint32_t nz = f->nlocals - f->nparams;
  if (nz) {
    alu_rr(j, 0, G_XOR, RAX, RAX);
    if (nz <= 8) {
      for (uint32_t k = f->nparams; k < f->nlocals; k++) st(j, 1, MS(k), RAX);
    } else {
      lea(j, RDI, MS(f->nparams));
      movri(j, RCX, nz);
      eb(j, 0xf3); eb(j, 0x48); eb(j, 0xab); // rep stosq
    }
  }
  for (uint32_t pc = 0; pc <= len; pc++) map[pc] = UINT32_MAX;
  for (uint32_t pc = 0; pc < len;) {
    uint32_t n = eng_op_len(code + pc, len - pc);
    if (!n) return false;
    uint32_t op = code[pc];
    const uint32_t *ip = code + pc + 1;
    if (lab[pc] && !(lab[pc] & LAB_FWD) && c->nhdr < NHDR) { // a loop header: keep a map
      flush(c);
      c->nchk = 0;
      hdr_map *h = &c->hdr[c->nhdr++];
      h->pc = pc;
      // locals only (operand-stack slots are rarely live around a loop): the others are
      // forgotten here, so the cache below the header is exactly the map
      for (int i = 0; i < NG; i++) {
        if (c->g[i].slot >= f->nlocals) c->g[i].kind = 0;
        c->g[i].konst = false; // a back edge brings other values
      }
      for (int i = 0; i < NX; i++)
        if (c->x[i].slot + (c->x[i].kind == CK_V128) >= f->nlocals) c->x[i].kind = 0;
      preload_v128(c, code, len, pc, c->lastb[pc], f->nlocals);
      memcpy(h->g, c->g, sizeof h->g);
      memcpy(h->x, c->x, sizeof h->x);
    } else if (lab[pc]) {
      clear(c); // control joins here: the frame must be in memory
    }
    map[pc] = (uint32_t)j->n;
    iop io;
    fop fo;
    ldinfo li;
    uint32_t sb;
    if (imm_base[op] || (num_helpers[op] && eng_op_words[op] == HL_W_N2)) { // N2 rows, _IMM forms
      uint32_t base = imm_base[op] ? imm_base[op] - 1u : op;
      src_t b = imm_base[op] ? SI(imm_words[op] == 2 ? (uint64_t)ip[2] | (uint64_t)ip[3] << 32 : ip[2]) : SS(ip[2]);
      int R;
      centry *de;
      if ((io = int_op(base)).kind == K_ALU || io.kind == K_MUL) {
        int64_t sv = io.w ? (int64_t)b.v : (int64_t)(int32_t)(uint32_t)b.v;
        if ((b.imm && !fits32(sv)) || (R = dst_reg(c, ip[0], false, ip[1], b, &de)) < 0) {
          getg(c, RAX, ip[1], io.w);
          ibin(c, io, b);
          defg(c, ip[0], RAX);
        } else {
          getg(c, R, ip[1], io.w);
          if (io.kind == K_ALU && b.imm) alu_ri(j, io.w, io.g, R, (int32_t)sv);
          else if (io.kind == K_ALU) oo(j, 0, io.w, (uint32_t)(io.g * 8 + 3), R, og(c, b.slot, RCX));
          else if (b.imm) { orr(j, 0, io.w, 0x69, R, R); e32(j, (uint32_t)sv); }
          else oo(j, 0, io.w, 0x0faf, R, og(c, b.slot, RCX));
          def_done(c, de, CK_GPR);
        }
      } else if (io.kind) {
        getg(c, RAX, ip[1], io.w);
        ibin(c, io, b);
        defg(c, ip[0], RAX);
      } else if ((fo = float_op(base)).kind == F_ARITH) {
        if ((R = dst_reg(c, ip[0], true, ip[1], b, &de)) < 0) {
          getx(c, 0, ip[1], fo.d);
          farith(c, 0, fo.d, fo.g, b);
          defx(c, ip[0], fo.d, 0);
        } else {
          getx(c, R, ip[1], fo.d);
          farith(c, R, fo.d, fo.g, b);
          def_done(c, de, fo.d ? CK_F64 : CK_F32);
        }
      } else if (fo.kind == F_CMP) {
        fcmp(c, fo.d, fo.g, ip[1], b);
        defg(c, ip[0], RAX);
      } else { // C helper
        clear(c);
        ld(j, 1, RDI, MS(ip[1]));
        if (b.imm) movri(j, RSI, b.v);
        else ld(j, 1, RSI, MS(b.slot));
        call_abs(j, (const void *)num_helpers[base]);
        defg(c, ip[0], RAX);
      }
    } else if (brif_base[op]) {
      io = int_op(brif_base[op] - 1u);
      flush(c);
      getg(c, RAX, ip[1], 0);
      if (op >= OP_BRIF_I32_EQ_IMM) alu_ri(j, 0, G_CMP, RAX, (int32_t)ip[2]);
      else oo(j, 0, 0, G_CMP * 8 + 3, RAX, og(c, ip[2], RCX));
      jbranch(c, io.g, ip[0]);
    } else if (fb_info[op].outer) {
      const fused *fz = &fb_info[op];
      uint32_t o = fz->outer - 1u, i = fz->inner - 1u;
      src_t y = fz->imm ? SI(ip[2]) : SS(ip[2]);
      if ((io = int_op(i)).kind) {
        getg(c, RAX, ip[1], io.w);
        ibin(c, io, y);
        ibin(c, int_op(o), SS(ip[3])); // outer ops of int pairs are commutative
        defg(c, ip[0], RAX);
      } else {
        fo = float_op(i);
        getx(c, 0, ip[1], 1);
        farith(c, 0, 1, fo.g, y);
        centry *de;
        int R = dst_reg(c, ip[0], true, ip[3], SI(0), &de); // its second operand is xmm0
        if (R < 0) {
          getx(c, 1, ip[3], 1);
          orr(j, 0xf2, 0, 0x0f00u | float_op(o).g, 1, 0); // xmm1 = a <outer> t
          defx(c, ip[0], 1, 1);
        } else {
          getx(c, R, ip[3], 1);
          orr(j, 0xf2, 0, 0x0f00u | float_op(o).g, R, 0); // R = a <outer> t
          def_done(c, de, CK_F64);
        }
      }
    } else if (fl_info[op].outer || ldx_base[op] || load_info(op).n) {
      const fused *fz = &fl_info[op];
      uint32_t lop = fz->outer ? fz->inner - 1u : ldx_base[op] ? ldx_base[op] - 1u : op;
      bool x = fz->outer ? fz->x : ldx_base[op] != 0;
      li = load_info(lop);
      M m = x ? ea(c, ip[1], true, ip[2], ip[3], li.n) : ea(c, ip[1], false, 0, ip[2], li.n);
      if (!fz->outer) {
        centry *de;
        int R = alloc_reg(c, ip[0], li.f != 0, &de); // evicting writes back: rax and the base survive
        if (li.f) { om(j, li.f == 2 ? 0xf2 : 0xf3, 0, 0x0f10, R, m); def_done(c, de, li.f == 2 ? CK_F64 : CK_F32); }
        else { om(j, 0, li.w, li.op, R, m); def_done(c, de, CK_GPR); }
      } else {
        uint32_t o = fz->outer - 1u, a = ip[x ? 4 : 3];
        centry *de;
        int R;
        if ((io = int_op(o)).kind == K_ALU && (R = dst_reg(c, ip[0], false, a, SS(a), &de)) >= 0) {
          om(j, 0, li.w, li.op, R, m);
          oo(j, 0, io.w, (uint32_t)(io.g * 8 + 3), R, og(c, a, RCX)); // commutative
          def_done(c, de, CK_GPR);
        } else if (io.kind) {
          om(j, 0, li.w, li.op, RAX, m);
          ibin(c, io, SS(a)); // commutative
          defg(c, ip[0], RAX);
        } else if ((R = dst_reg(c, ip[0], true, a, SI(0), &de)) >= 0) { // the load: its second operand
          getx(c, R, a, 1);
          om(j, 0xf2, 0, 0x0f00u | float_op(o).g, R, m); // R = a <outer> [m]
          def_done(c, de, CK_F64);
        } else {
          om(j, 0xf2, 0, 0x0f10, 0, m);
          getx(c, 1, a, 1);
          orr(j, 0xf2, 0, 0x0f00u | float_op(o).g, 1, 0);
          defx(c, ip[0], 1, 1);
        }
      }
    } else if ((sb = store_bytes(op))) {
      M m = ea(c, ip[0], false, 0, ip[2], sb);
      int xr;
      centry *xe = find(c, ip[1], &xr);
      if (xe && xe->kind != CK_GPR && (op == OP_F64_STORE || op == OP_F32_STORE)) { // from its XMM
        om(j, op == OP_F64_STORE ? 0xf2 : 0xf3, 0, 0x0f11, xr, m);
        xe->age = ++c->clock;
      } else {
      getg(c, RCX, ip[1], sb == 8);
      if (sb == 1) om(j, 0, 0, 0x88, RCX, m);
      else om(j, sb == 2 ? 0x66 : 0, sb == 8, 0x89, RCX, m);
      }
    } else if (emit_n1(c, op, ip) || emit_div(c, op, ip)) {
      // done
    } else if (num_helpers[op]) { // N1 without a template
      clear(c);
      ld(j, 1, RDI, MS(ip[1]));
      call_abs(j, (const void *)num_helpers[op]);
      defg(c, ip[0], RAX);
    } else if (op == OP_SIMD && emit_simd(c, ip)) {
      // done
    } else if (eng_is_gc_op(op)) { // jit_gc
      clear(c);
      orr(j, 0, 1, 0x8b, RDI, R14);
      movrp(j, RSI, c->in);
      movrp(j, RDX, ip);
      orr(j, 0, 1, 0x8b, RCX, RBX);
      lea(j, R8, MS(f->max_stack));
      call_abs(j, (const void *)jit_gc);
      check_rc(j);
    } else if (is_slow_op(op)) {
      clear(c);
      movrp(j, RDI, c->in);
      movrp(j, RSI, code + pc);
      orr(j, 0, 1, 0x8b, RDX, RBX);
      call_abs(j, (const void *)jit_slow_op);
      check_rc(j);
      if (op == OP_MEMORY_GROW || op == OP_MEMORY_GROW_M) reload_mem(c);
    } else if ((op == OP_LOAD_M || op == OP_STORE_M) && (ip[3] & MEM_FAR)) {
      to_stub(j, jmp32(j), HL_TRAP_MEMORY_OUT_OF_BOUNDS); // an offset of 2^32 or more: never in bounds
      forget(c);
    } else if (op == OP_LOAD_M && (li = load_info(ip[4])).n) { // dst, addr, offset, mem, op
      M m = ea_m(c, c->in->mems[MEM_IDX(ip[3])], ip[1], ip[2], li.n);
      centry *de;
      int R = alloc_reg(c, ip[0], li.f != 0, &de); // evicting writes back: rax and rdx survive
      if (li.f) { om(j, li.f == 2 ? 0xf2 : 0xf3, 0, 0x0f10, R, m); def_done(c, de, li.f == 2 ? CK_F64 : CK_F32); }
      else { om(j, 0, li.w, li.op, R, m); def_done(c, de, CK_GPR); }
    } else if (op == OP_STORE_M && (sb = store_bytes(ip[4]))) { // addr, val, offset, mem, op
      M m = ea_m(c, c->in->mems[MEM_IDX(ip[3])], ip[0], ip[2], sb);
      int xr;
      centry *xe = find(c, ip[1], &xr);
      if (xe && xe->kind != CK_GPR && (ip[4] == OP_F64_STORE || ip[4] == OP_F32_STORE)) {
        om(j, ip[4] == OP_F64_STORE ? 0xf2 : 0xf3, 0, 0x0f11, xr, m);
        xe->age = ++c->clock;
      } else {
        getg(c, RCX, ip[1], sb == 8);
        if (sb == 1) om(j, 0, 0, 0x88, RCX, m);
        else om(j, sb == 2 ? 0x66 : 0, sb == 8, 0x89, RCX, m);
      }
    } else {
      switch (op) {
      case OP_UNREACHABLE: to_stub(j, jmp32(j), HL_TRAP_UNREACHABLE); forget(c); break;
      case OP_FUEL: { // only emitted with fuel on
        if (ip[0] <= INT32_MAX) alu_mi(j, 1, G_SUB, MB(R14, JOFF(eng_jit, fuel)), (int32_t)ip[0]);
        else { movri(j, RAX, ip[0]); om(j, 0, 1, G_SUB * 8 + 1, RAX, MB(R14, JOFF(eng_jit, fuel))); }
        uint32_t p = jcc32(j, CC_B);
        patch32(j, p, j->fuel_stub - (p + 4));
        break;
      }
      case OP_COPY: case OP_COPY2: {
        for (int k = 0; k < (op == OP_COPY2 ? 2 : 1); k++) {
          uint32_t d = ip[2 * k], s = ip[2 * k + 1];
          int r;
          centry *e = find(c, s, &r);
          if (e && e->kind != CK_GPR) {
            defx(c, d, e->kind == CK_F64, r);
          } else if (e) { // from its register (if alloc_reg evicts it for d, the value stays)
            e->age = ++c->clock;
            defg(c, d, r);
          } else {
            getg(c, RAX, s, 1);
            defg(c, d, RAX);
          }
        }
        break;
      }
      case OP_I32_CONST: case OP_F32_CONST: defg_imm(c, ip[0], ip[1]); break;
      case OP_I64_CONST: case OP_F64_CONST: defg_imm(c, ip[0], (uint64_t)ip[1] | (uint64_t)ip[2] << 32); break;
      case OP_REF_NULL: defg_imm(c, ip[0], 0); break;
      case OP_REF_IS_NULL:
        getg(c, RAX, ip[1], 1);
        orr(j, 0, 1, 0x85, RAX, RAX);
        setcc_rax(j, CC_E);
        defg(c, ip[0], RAX);
        break;
      case OP_REF_FUNC: defg_imm(c, ip[0], (uint64_t)(uintptr_t)c->in->funcs[ip[1]]); break;
      case OP_SELECT:
        getg(c, RAX, ip[1], 1);
        test_slot(c, ip[3]);
        oo(j, 0, 1, 0x0f44, RAX, og(c, ip[2], RCX)); // cmovz (og's movq does not touch flags)
        defg(c, ip[0], RAX);
        break;
      case OP_GLOBAL_GET:
        movrp(j, RAX, &c->in->globals[ip[1]]->val);
        ld(j, 1, RAX, MB(RAX, 0));
        defg(c, ip[0], RAX);
        break;
      case OP_GLOBAL_SET:
        getg(c, RCX, ip[0], 1);
        movrp(j, RAX, &c->in->globals[ip[1]]->val);
        st(j, 1, MB(RAX, 0), RCX);
        break;
      case OP_MEMORY_SIZE:
        movrp(j, RAX, &c->in->mem->pages);
        ld(j, 0, RAX, MB(RAX, 0));
        defg(c, ip[0], RAX);
        break;
      case OP_JMP: flush(c); jbranch(c, -1, ip[0]); forget(c); break;
      case OP_BR_IF_NZ: case OP_BR_UNLESS: case OP_BRIF_I32_EQZ:
        flush(c);
        test_slot(c, ip[1]);
        jbranch(c, op == OP_BR_IF_NZ ? CC_NE : CC_E, ip[0]);
        break;
      case OP_BR_MOVE: clear(c); copy_slots(j, ip[1], ip[2], ip[3]); jword(j, -1, ip[0]); break;
      case OP_BR_IF_MOVE: {
        flush(c);
        test_slot(c, ip[1]);
        uint32_t skip = jcc32(j, CC_E);
        copy_slots(j, ip[2], ip[3], ip[4]); // clobbers rsi/rdi: this path leaves the block
        jword(j, -1, ip[0]);
        here(j, skip);
        if (ip[4] > 4) forget(c); // (the fall-through path kept them; be safe about the copy)
        break;
      }
      case OP_BR_TABLE_X: {
        uint32_t nt = ip[1], ar = ip[2], src = ip[3];
        clear(c);
        ld(j, 0, RAX, MS(ip[0]));
        movri(j, RCX, nt);
        alu_rr(j, 0, G_CMP, RAX, RCX);
        orr(j, 0, 0, 0x0f47, RAX, RCX); // cmova: clamp to the default
        eb(j, 0x48); eb(j, 0x8d); eb(j, 0x0d); e32(j, 0); // lea rcx, [rip + table]
        uint32_t lp = (uint32_t)j->n - 4;
        eb(j, 0x48); eb(j, 0x63); eb(j, 0x04); eb(j, 0x81); // movsxd rax, [rcx + rax*4]
        alu_rr(j, 1, G_ADD, RAX, RCX);
        orr(j, 0, 0, 0xff, 4, RAX); // jmp rax
        uint32_t table = (uint32_t)j->n;
        patch32(j, lp, table - (lp + 4));
        for (uint32_t k = 0; k <= nt; k++) e32(j, 0);
        for (uint32_t k = 0; k <= nt && !j->bad; k++) {
          patch32(j, table + 4 * k, (uint32_t)j->n - table);
          copy_slots(j, ip[5 + 2 * k], src, ar);
          jword(j, -1, ip[4 + 2 * k]);
        }
        break;
      }
      case OP_RETURN_X:
        clear(c);
        copy_slots(j, 0, ip[1], ip[0]);
        alu_ri(j, 1, G_ADD, RSP, 8);
        eb(j, 0xc3);
        break;
      case OP_CALL: {
        eng_func *callee = c->in->funcs[ip[0]];
        uint32_t base = ip[1];
        clear(c);
        depth_take(j);
        if (ip[0] >= c->first && ip[0] - c->first < c->nown && c->ok[ip[0] - c->first]) {
          if (base) lea(j, RBX, MS(base));
          eb(j, 0xe8); e32(j, 0);
          if (!push_fix(&j->cx, &j->ncx, &j->capcx, (uint32_t)j->n - 4, ip[0] - c->first)) j->bad = true;
          if (base) lea(j, RBX, (M){RBX, -1, 0, -(int32_t)(base * 8)});
          depth_give(j);
          if (c->mem_fixed) break; // r12/r13 are still right
        } else {
          orr(j, 0, 1, 0x8b, RDI, R14);
          movrp(j, RSI, callee);
          lea(j, RDX, MS(base));
          movrp(j, RCX, c->in);
          call_abs(j, (const void *)jit_call_slow);
          depth_give(j);
          check_rc(j);
        }
        reload_mem(c);
        break;
      }
      case OP_CALL_REF: // typed function references: the callee's type is validated
        clear(c);
        ld(j, 1, RSI, MS(ip[0]));
        orr(j, 0, 1, 0x85, RSI, RSI);
        jstub(j, CC_E, HL_TRAP_NULL_FUNCTION_REFERENCE);
        depth_take(j);
        orr(j, 0, 1, 0x8b, RDI, R14);
        lea(j, RDX, MS(ip[1]));
        movrp(j, RCX, c->in);
        call_abs(j, (const void *)jit_call_slow);
        depth_give(j);
        check_rc(j);
        reload_mem(c);
        break;
      case OP_RETURN_CALL: {
        uint32_t fi = ip[0], base = ip[1];
        clear(c);
        if (fi >= c->first && fi - c->first < c->nown && c->ok[fi - c->first]) {
          // a compiled function of this instance: the arguments move down, the frame is popped
          // and the callee's code entered by a jump (the depth and native stack stay the same)
          copy_slots(j, 0, base, c->in->funcs[fi]->nparams);
          alu_ri(j, 1, G_ADD, RSP, 8);
          eb(j, 0xe9); e32(j, 0);
          if (!push_fix(&j->cx, &j->ncx, &j->capcx, (uint32_t)j->n - 4, fi - c->first)) j->bad = true;
        } else {
          movrp(j, RSI, c->in->funcs[fi]);
          emit_tail_c(c, base);
        }
        forget(c);
        break;
      }
      case OP_RETURN_CALL_REF:
        clear(c);
        ld(j, 1, RSI, MS(ip[0]));
        orr(j, 0, 1, 0x85, RSI, RSI);
        jstub(j, CC_E, HL_TRAP_NULL_FUNCTION_REFERENCE);
        emit_tail_c(c, ip[1]);
        forget(c);
        break;
      case OP_RETURN_CALL_INDIRECT:
        clear(c);
        orr(j, 0, 1, 0x8b, RDI, R14);
        movrp(j, RSI, c->in->tables[ip[0]]);
        movri(j, RDX, ip[1]);
        ld(j, 1, RCX, MS(ip[2])); // the whole slot (i32 zero-extended, or table64's i64)
        call_abs(j, (const void *)jit_resolve_indirect);
        alu_ri(j, 1, G_CMP, RAX, JIT_ENTRY_MIN);
        jstub(j, CC_B, 0);
        orr(j, 0, 1, 0x8b, RSI, RAX);
        emit_tail_c(c, ip[3]);
        forget(c);
        break;
      case OP_THROW: // tag, base: the payload is in the frame (clear), jit_throw copies it
        clear(c);
        orr(j, 0, 1, 0x8b, RDI, R14);
        movrp(j, RSI, c->in->tags[ip[0]]);
        lea(j, RDX, MS(ip[1]));
        call_abs(j, (const void *)jit_throw);
        to_stub(j, jmp32(j), 0); // always a code (JIT_THROWN): the dynamic exit
        forget(c);
        break;
      case OP_THROW_REF: case OP_RETHROW: // the exnref's slot
        clear(c);
        orr(j, 0, 1, 0x8b, RDI, R14);
        ld(j, 1, RSI, MS(ip[0]));
        call_abs(j, (const void *)jit_throw_ref);
        to_stub(j, jmp32(j), 0);
        forget(c);
        break;
      case OP_REF_AS_NON_NULL:
        getg(c, RAX, ip[1], 1);
        orr(j, 0, 1, 0x85, RAX, RAX);
        jstub(j, CC_E, HL_TRAP_NULL_REFERENCE);
        defg(c, ip[0], RAX);
        break;
      case OP_BR_ON_CAST: case OP_BR_ON_CAST_FAIL: { // target, ref, dst, src, n, cast target
        clear(c); // (jit_ref_test is a C call)
        orr(j, 0, 1, 0x8b, RDI, R14);
        ld(j, 1, RSI, MS(ip[1]));
        movri(j, RDX, ip[5]);
        call_abs(j, (const void *)jit_ref_test);
        orr(j, 0, 0, 0x85, RAX, RAX);
        uint32_t skip = jcc32(j, op == OP_BR_ON_CAST ? CC_E : CC_NE);
        copy_slots(j, ip[2], ip[3], ip[4]);
        jword(j, -1, ip[0]);
        here(j, skip);
        break;
      }
      case OP_BR_ON_NULL: case OP_BR_ON_NON_NULL: { // target, ref, dst, src, n
        flush(c);
        getg(c, RAX, ip[1], 1);
        orr(j, 0, 1, 0x85, RAX, RAX);
        uint32_t skip = jcc32(j, op == OP_BR_ON_NULL ? CC_NE : CC_E);
        copy_slots(j, ip[2], ip[3], ip[4]); // clobbers rsi/rdi: this path leaves the block
        jword(j, -1, ip[0]);
        here(j, skip);
        if (ip[4] > 4) forget(c);
        break;
      }
      case OP_CALL_INDIRECT:
        clear(c);
        depth_take(j);
        orr(j, 0, 1, 0x8b, RDI, R14);
        movrp(j, RSI, c->in->tables[ip[0]]);
        movri(j, RDX, ip[1]);
        ld(j, 1, RCX, MS(ip[2])); // the whole slot: an i32 index is zero-extended, table64's is i64
        lea(j, R8, MS(ip[3]));
        movrp(j, R9, c->in);
        call_abs(j, (const void *)jit_call_indirect);
        depth_give(j);
        check_rc(j);
        reload_mem(c);
        break;
      default: return false;
      }
    }
    if (j->bad) return false;
    pc += n;
  }
  for (size_t k = 0; k < j->nfx; k++) {
    uint32_t t = j->fx[k].target;
    if (t >= len || map[t] == UINT32_MAX) return false;
    patch32(j, j->fx[k].pos, map[t] - (j->fx[k].pos + 4));
  }
  return !j->bad;
}

// ------------------------------------------------------------------ trampoline and stubs
// tramp(ctx, fp, entry, mem_base, mem_size): saves the callee-saved registers and the previous
// saved_rsp, calls entry with the conventions above and returns 0; a trap stub jumps to `exit`
// with eax = trap, which unwinds to the saved_rsp of the innermost tramp.
static bool make_tramp(void) {
  J j = {0};
  static const uint8_t pushes[] = {0x53, 0x55, 0x41, 0x54, 0x41, 0x55, 0x41, 0x56, 0x41, 0x57};
  for (size_t k = 0; k < sizeof pushes; k++) eb(&j, pushes[k]); // rbx rbp r12 r13 r14 r15
  om(&j, 0, 0, 0xff, 6, MB(RDI, JOFF(eng_jit, saved_rsp)));  // push [rdi + saved_rsp]
  st(&j, 1, MB(RDI, JOFF(eng_jit, saved_rsp)), RSP);
  orr(&j, 0, 1, 0x8b, R14, RDI);
  orr(&j, 0, 1, 0x8b, RBX, RSI);
  orr(&j, 0, 1, 0x8b, R12, RCX);
  orr(&j, 0, 1, 0x8b, R13, R8);
  orr(&j, 0, 0, 0xff, 2, RDX); // call rdx
  alu_rr(&j, 0, G_XOR, RAX, RAX);
  uint32_t exit = (uint32_t)j.n;
  ld(&j, 1, RSP, MB(R14, JOFF(eng_jit, saved_rsp)));
  om(&j, 0, 0, 0x8f, 0, MB(R14, JOFF(eng_jit, saved_rsp))); // pop [r14 + saved_rsp]
  static const uint8_t pops[] = {0x41, 0x5f, 0x41, 0x5e, 0x41, 0x5d, 0x41, 0x5c, 0x5d, 0x5b, 0xc3};
  for (size_t k = 0; k < sizeof pops; k++) eb(&j, pops[k]);
  if (j.bad) return false;
  uintptr_t x;
  uint8_t *w = plat_code_alloc((j.n + 15) & ~(size_t)15, &x);
  if (w) {
    memcpy(w, j.b, j.n);
    __atomic_store_n(&tramp_exit, x + exit, __ATOMIC_RELEASE);
    __atomic_store_n(&tramp, (uint32_t (*)(eng_jit *, uint64_t *, void *, uint8_t *, uint64_t))x, __ATOMIC_RELEASE);
  }
  eng_xfree(j.b);
  return w != NULL;
}

// Weak defaults for embedders without code memory: the store stays interpreted.
__attribute__((weak)) void *plat_code_alloc(size_t size, uintptr_t *exec) {
  (void)size;
  (void)exec;
  return NULL;
}
__attribute__((weak)) void plat_code_free(void *p, size_t size) {
  (void)p;
  (void)size;
}
__attribute__((weak)) uintptr_t plat_stack_limit(void) { return 0; }

bool eng_jit_store_init(eng_store *s) {
  if (s->limits.tier != ENG_TIER_COMPILED && s->limits.tier != ENG_TIER_MIXED) return true;
  // Stores of one process share the trampoline (hosted runners create stores on threads: a
  // race makes two, harmlessly).
  if (!__atomic_load_n(&tramp, __ATOMIC_ACQUIRE) && !make_tramp()) return true; // no code memory
  eng_jit *c = eng_xalloc(sizeof *c);
  if (!c) return false;
  c->s = s;
  c->stack_end = s->stack + s->stack_slots;
  c->exit = __atomic_load_n(&tramp_exit, __ATOMIC_ACQUIRE);
  s->jit = c;
  return true;
}

void eng_jit_store_free(eng_store *s) {
  eng_xfree(s->jit);
  s->jit = NULL;
}

void eng_jit_instance(eng_store *s, eng_inst *in) {
  if (!s->jit || !in->nown_funcs) return;
  JC c = {.in = in, .nown = in->nown_funcs, .first = in->nfuncs - in->nown_funcs, .mem_fixed = !mem_may_change(in)};
  J j = {0};
  c.j = &j;
  // One map for all functions and a code buffer sized for the usual expansion (about 4.4
  // bytes per word): fresh guest pages cost a fault each on first touch, so no per-function
  // allocations and no doubling copies.
  size_t maxlen = 0, words = 0;
  for (uint32_t i = 0; i < c.nown; i++) {
    if (in->own_funcs[i].code_len > maxlen) maxlen = in->own_funcs[i].code_len;
    words += in->own_funcs[i].code_len;
  }
  uint32_t *map = eng_xalloc((maxlen + 1) * 5), *starts = eng_xalloc((size_t)c.nown * 4 + 4);
  c.ok = eng_xalloc((size_t)c.nown + 1);
  c.hdr = eng_xalloc(NHDR * sizeof(hdr_map));
  c.lastb = eng_xalloc((maxlen + 1) * 4);
  if (!map || !starts || !c.ok || !c.hdr || !c.lastb) goto out;
  j.cap = words * 6 + 65536;
  if (j.cap > JIT_MAX_BYTES || !(j.b = eng_xalloc(j.cap))) goto out;
  for (uint32_t i = 0; i < c.nown; i++) { // which functions compile (per-function fallback)
    eng_func *f = &in->own_funcs[i];
    bool ok = true;
    for (uint32_t pc = 0, n; ok && pc < f->code_len; pc += n) {
      n = eng_op_len(f->code + pc, f->code_len - pc);
      ok = n && jit_supported(f->code + pc);
    }
    c.ok[i] = ok && (s->limits.tier != ENG_TIER_MIXED || i % 2 == 0);
  }
  // trap stubs: mov eax, trap; jmp [r14 + exit]
  for (uint32_t t = 0; t <= HL_TRAP_COUNT + 1; t++) {
    if (t <= HL_TRAP_COUNT) j.stub[t] = (uint32_t)j.n;
    else j.fuel_stub = (uint32_t)j.n;
    if (t) movri(&j, RAX, t <= HL_TRAP_COUNT ? t : JIT_FUEL);
    om(&j, 0, 0, 0xff, 4, MB(R14, JOFF(eng_jit, exit)));
  }
  for (uint32_t i = 0; i < c.nown; i++) {
    while (j.n & 15) eb(&j, 0xcc);
    starts[i] = (uint32_t)j.n;
    if (c.ok[i] && !emit_func(&c, &in->own_funcs[i], &map)) {
      if (j.bad) goto out;
      // a function the generator cannot take stays interpreted (no direct calls reach it:
      // it passed the scan, so this is a generator gap; direct calls were resolved by index)
      goto out;
    }
  }
  for (size_t k = 0; k < j.ncx; k++) {
    uint32_t p = j.cx[k].pos;
    patch32(&j, p, starts[j.cx[k].target] - (p + 4));
  }
  if (j.bad) goto out;
  uintptr_t x;
  uint8_t *w = plat_code_alloc((j.n + 15) & ~(size_t)15, &x);
  if (!w) goto out;
  memcpy(w, j.b, j.n);
  in->jit_code = w;
  in->jit_bytes = (j.n + 15) & ~(size_t)15;
  for (uint32_t i = 0; i < c.nown; i++)
    if (c.ok[i]) in->own_funcs[i].jit_entry = (void *)(x + starts[i]);
out:
  eng_xfree(map);
  eng_xfree(starts);
  eng_xfree(c.ok);
  eng_xfree(c.hdr);
  eng_xfree(c.lastb);
  eng_xfree(j.b);
  eng_xfree(j.fx);
  eng_xfree(j.cx);
}

NO_FN_SANITIZE uint32_t eng_jit_enter(eng_store *s, eng_func *f, uint64_t *fp, uint32_t depth_left, uint64_t *fuel,
                                     eng_error *err) {
  eng_jit *c = s->jit;
  uint32_t old_depth = c->depth_left;
  uint64_t old_fuel = c->fuel;
  c->fuel = *fuel;
  eng_error *old_err = c->err;
  uint64_t old_limit = c->rsp_limit;
  if (!old_limit) {
    uintptr_t here = (uintptr_t)__builtin_frame_address(0), lim = plat_stack_limit();
    c->rsp_limit = lim && lim < here ? lim : here - JIT_STACK_BUDGET;
  }
  c->depth_left = depth_left;
  c->err = err;
  eng_mem *m = f->inst->mem;
  uint32_t rc = tramp(c, fp, f->jit_entry, m ? m->base : NULL, m ? m->size : 0);
  c->depth_left = old_depth;
  c->err = old_err;
  c->rsp_limit = old_limit;
  *fuel = c->fuel;
  c->fuel = old_fuel;
  if (!rc) return HL_STATUS_OK;
  if (rc == JIT_THROWN) return ENG_STATUS_THROWN;
  if (rc == JIT_FUEL) {
    eng_trap_fuel(err);
  } else if (rc != JIT_PROPAGATE) {
    eng_set_trap(err, rc);
  }
  return HL_STATUS_TRAP;
}
