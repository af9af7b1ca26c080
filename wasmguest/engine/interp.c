// interp.c — the interpreter: computed-goto dispatch over the pre-decoded "operand slot" code
// produced by compile.c (each instruction names its source/destination slots relative to the
// frame pointer). Wasm calls never recurse on the C stack: frames live in s->frames, values and
// locals in s->stack (one contiguous slot array; a frame's locals are followed by its operand
// slots, and a callee's frame starts at the caller's argument slots).
#include "internal.h"
#include "gc_ops.h"

#include "numeric.h"
#include "eval.h"
#include "jit.h"
#include "simd.h"

// A load or store (LD/ST row op) of a memory other than 0 at ea (LOAD_M, STORE_M): false when
// out of bounds. Loads give the slot value (i32 results zero-extended, as the rows' handlers).
static bool mem_load(uint32_t op, const uint8_t *base, uint64_t size, uint64_t ea, uint64_t *out) {
  uint32_t n = op == OP_I64_LOAD || op == OP_F64_LOAD ? 8
               : op == OP_I32_LOAD || op == OP_F32_LOAD || op == OP_I64_LOAD32_S || op == OP_I64_LOAD32_U ? 4
               : op == OP_I32_LOAD16_S || op == OP_I32_LOAD16_U || op == OP_I64_LOAD16_S || op == OP_I64_LOAD16_U ? 2
               : 1;
  if (ea > size || n > size - ea) return false;
  uint64_t v = 0;
  memcpy(&v, base + ea, n); // little-endian
  switch (op) {
  case OP_I32_LOAD8_S: v = (uint32_t)(int32_t)(int8_t)v; break;
  case OP_I32_LOAD16_S: v = (uint32_t)(int32_t)(int16_t)v; break;
  case OP_I64_LOAD8_S: v = (uint64_t)(int64_t)(int8_t)v; break;
  case OP_I64_LOAD16_S: v = (uint64_t)(int64_t)(int16_t)v; break;
  case OP_I64_LOAD32_S: v = (uint64_t)(int64_t)(int32_t)v; break;
  default: break;
  }
  *out = v;
  return true;
}

static bool mem_store(uint32_t op, uint8_t *base, uint64_t size, uint64_t ea, uint64_t v) {
  uint32_t n = op == OP_I64_STORE || op == OP_F64_STORE ? 8
               : op == OP_I32_STORE || op == OP_F32_STORE || op == OP_I64_STORE32 ? 4
               : op == OP_I32_STORE16 || op == OP_I64_STORE16 ? 2
               : 1;
  if (ea > size || n > size - ea) return false;
  memcpy(base + ea, &v, n); // little-endian
  return true;
}

uint32_t eng_mem_grow(eng_mem *m, uint32_t delta) {
  uint32_t old = m->pages;
  if (delta > m->cap_pages - old) return UINT32_MAX;
  m->pages = old + delta;
  m->size = (uint64_t)m->pages * ENG_PAGE;
  return old;
}

// Grows t by n elements set to v; returns the old size, or -1 of the table's index type
// (UINT32_MAX or, for a 64-bit table, UINT64_MAX) if it cannot grow.
uint64_t eng_table_grow(eng_table *t, uint64_t n, uint64_t v) {
  uint32_t old = t->size;
  const uint64_t fail = t->decl.is64 ? UINT64_MAX : UINT32_MAX;
  if (n > t->max - old) return fail;
  uint32_t ns = old + (uint32_t)n;
  if (ns > t->cap_elems) {
    uint64_t nc = (uint64_t)t->cap_elems * 2;
    if (nc < ns) nc = ns;
    if (nc > t->max) nc = t->max;
    uint64_t *e = eng_xrealloc(t->elems, (size_t)t->cap_elems * 8, (size_t)nc * 8);
    if (!e) return fail;
    t->elems = e;
    t->cap_elems = (uint32_t)nc;
  }
  for (uint32_t i = old; i < ns; i++) t->elems[i] = v;
  t->size = ns;
  return old;
}

// BOUNDS_CHECK is the explicit linear-memory bounds check of every load and store.
// HL_MEASURE_NO_BOUNDS_CHECKS removes it in the profiling build only (tests/perf `make bounds`)
// to measure what guard regions — unmapped pages after each memory, turning an out-of-bounds
// access into a page fault — could save at best. Never set it in the guest or hosted builds.
#ifdef HL_MEASURE_NO_BOUNDS_CHECKS
#define BOUNDS_CHECK(oob) ((void)0)
#else
#define BOUNDS_CHECK(oob)                                                                         \
  do {                                                                                            \
    if (oob) TRAP(HL_TRAP_MEMORY_OUT_OF_BOUNDS);                                                  \
  } while (0)
#endif

// Appends " <idx>" to a trap message: the reference interpreter names the element index of
// call_indirect's traps ("uninitialized element 2").
void eng_trap_index(eng_error *err, uint64_t idx) {
  if (!err) return;
  char d[21];
  int nd = 0;
  uint64_t v = idx;
  do { d[nd++] = (char)('0' + v % 10); v /= 10; } while (v && nd < 20);
  size_t at = 0;
  while (err->msg[at]) at++;
  if (at + (size_t)nd + 2 < sizeof err->msg) {
    err->msg[at++] = ' ';
    while (nd) err->msg[at++] = d[--nd];
    err->msg[at] = 0;
  }
}

// The trap of running out of fuel: HL_TRAP_HOST with its own message.
void eng_trap_fuel(eng_error *err) {
  eng_set_trap(err, HL_TRAP_HOST);
  if (!err) return;
  const char *m = "fuel exhausted";
  size_t i = 0;
  for (; m[i]; i++) err->msg[i] = m[i];
  err->msg[i] = 0;
}

uint64_t eng_const_bin(uint32_t op, uint64_t a, uint64_t b) {
  switch (op) {
#define CB_CASE(n, ty) case OP_##n: return ST_##ty(ev_##n(LD_##ty(a), LD_##ty(b)));
    HL_CONST_BIN(CB_CASE)
#undef CB_CASE
  default: return 0; // not reached: module validation admits only HL_CONST_BIN rows
  }
}

// Finds the innermost handler of exn thrown at top->ip (inside the throwing instruction): the
// function's HANDLERs covering it (innermost first; a delegate moves the search out to its
// depth), then each caller's at its call (frames are popped as a return would). A match writes
// the payload (and the exnref) to the clause's slots and leaves *top at its target. Returns
// the depth of the handler's frame, UINT32_MAX if no frame of this invocation has one.
static __attribute__((noinline)) uint32_t unwind(eng_store *s, const eng_frame *frames, uint32_t depth,
                                                 eng_frame *top, eng_exn *exn) {
  eng_func *fn = top->fn;
  uint64_t *fp = top->fp;
  uint32_t maxd = UINT32_MAX, pc = (uint32_t)(top->ip - fn->code);
  for (;;) {
    const uint32_t *cb = fn->code;
    const eng_inst *inst = fn->inst;
    for (uint32_t h = 0; h < fn->nhandlers; h++) {
      const uint32_t *d = cb + fn->handlers[h] + 1;
      if (pc < d[0] || pc >= d[1] || d[2] > maxd) continue;
      if (d[3] != HL_NO_SLOT) {
        maxd = d[3];
        continue;
      }
      for (uint32_t k = 0; k < d[4]; k++) {
        const uint32_t *cl = d + 5 + 5 * (size_t)k;
        uint32_t kind = cl[0], n = 0;
        if (kind == HL_CATCH || kind == HL_CATCH_REF) {
          if (exn->tag != inst->tags[cl[1]]) continue;
          n = exn->nslots;
          for (uint32_t j = 0; j < n; j++) fp[cl[3] + j] = exn->vals[j];
        }
        bool ref = kind == HL_CATCH_REF || kind == HL_CATCH_ALL_REF;
        if (ref) fp[cl[3] + n] = (uint64_t)(uintptr_t)exn;
        if (cl[4] != HL_NO_SLOT) fp[cl[4]] = (uint64_t)(uintptr_t)exn;
        if (ref || cl[4] != HL_NO_SLOT) {
          if (!exn->kept) {
            exn->kept = true;
            exn->next = s->exns;
            s->exns = exn;
            if (++s->nkept >= (s->collect_at ? s->collect_at : ENG_EXN_COLLECT_MIN)) {
              eng_exn_collect(s, fp + fn->max_stack); // exn is in a slot of this frame now
              s->collect_at = 2 * s->nkept > ENG_EXN_COLLECT_MIN ? 2 * s->nkept : ENG_EXN_COLLECT_MIN;
            }
          }
        } else if (!exn->kept) {
          eng_xfree(exn);
        }
        top->ip = cb + cl[2];
        top->fp = fp;
        top->fn = fn;
        return depth;
      }
    }
    if (depth == 0) return UINT32_MAX; // (exn stays alive: the caller's search goes on)
    depth--;
    const uint32_t *rip = frames[depth].ip;
    fp = frames[depth].fp;
    fn = frames[depth].fn;
    pc = (uint32_t)(rip - fn->code) - 1; // inside the call instruction
    maxd = UINT32_MAX;
  }
}

uint32_t eng_invoke(eng_store *s, eng_func *entry, eng_error *err) {
#define LBL_N(n, ...) &&L_##n,
#define LBL_IMM(n, ...) &&L_##n##_IMM,
#define LBL_BRIF(n) &&L_BRIF_##n,
#define LBL_BRIF_IMM(n) &&L_BRIF_##n##_IMM,
#define LBL_LDX(n, ...) &&L_##n##_X,
#define LBL_FB(o, i, ty, imm, comm) &&HL_FB_ID(L_, o, i, imm),
#define LBL_FL(o, l, ...) &&L_##o##__##l, &&L_##o##__##l##_X,
#define LBL_CP() &&L_COPY2
  static const void *const labels[OP_COUNT] = {
      HL_ALL_OPS(LBL_N, LBL_IMM, LBL_BRIF, LBL_BRIF_IMM, LBL_LDX, LBL_FB, LBL_FL, LBL_CP)};
#undef LBL_N
#undef LBL_IMM
#undef LBL_BRIF
#undef LBL_BRIF_IMM
#undef LBL_LDX
#undef LBL_FB
#undef LBL_FL
#undef LBL_CP
  // A nested call (made by the host during a host call) runs above the suspended call's slots
  // and frames; an outermost call starts at 0.
  uint64_t *const stack = s->stack + s->nest_base;
  uint64_t *const stack_end = s->stack + s->stack_slots;
  eng_frame *const frames = s->frames + s->nest_frames;
  const uint32_t max_depth = s->max_frames - s->nest_frames;
  uint32_t depth = 0;
  const bool fuel_on = s->limits.fuel != 0;
  uint64_t fuel = s->fuel_left;
  uint32_t trap = 0;
  uint64_t trap_idx = UINT32_MAX;

  eng_func *fn = entry;
  eng_inst *inst;
  const uint32_t *cb, *ip;
  uint64_t *fp = stack;
  uint8_t *mem_base;
  uint64_t mem_size;
  eng_func *callee;
  uint32_t call_base;

#define RELOAD()                                                                                \
  do {                                                                                          \
    inst = fn->inst;                                                                            \
    eng_mem *m_ = inst->mem;                                                                    \
    mem_base = m_ ? m_->base : NULL;                                                            \
    mem_size = m_ ? m_->size : 0;                                                               \
  } while (0)
#define NEXT() goto *labels[*ip++]
#define TRAP(t)                                                                                 \
  do {                                                                                          \
    trap = (t);                                                                                 \
    goto trap_out;                                                                              \
  } while (0)
#define R(k) fp[ip[k]]

  bool host_failed = false;
  if (entry->is_host) { // a host function exported directly: no calling instance, no memory
    uint32_t need = entry->nparams > entry->nresults ? entry->nparams : entry->nresults;
    if ((size_t)(stack_end - stack) < need) TRAP(HL_TRAP_CALL_STACK_EXHAUSTED);
    uint32_t saved_base = s->nest_base;
    s->nest_base += need;
    s->in_host++;
    uint32_t hst = plat_host_call(entry->host_id, stack, entry->nparams, entry->nresults, NULL, 0);
    s->in_host--;
    s->nest_base = saved_base;
    if (hst != 0) {
      host_failed = true;
      TRAP(HL_TRAP_HOST);
    }
    goto done;
  }
  if (max_depth < 2 || entry->max_stack > (size_t)(stack_end - stack)) TRAP(HL_TRAP_CALL_STACK_EXHAUSTED);
  if (entry->jit_entry) { // compiled (jit.h)
    uint32_t jst = eng_jit_enter(s, entry, stack, max_depth, &fuel, err);
    s->fuel_left = fuel;
    return jst;
  }
  for (uint32_t k = entry->nparams; k < entry->nlocals; k++) fp[k] = 0;
  cb = ip = fn->code;
  RELOAD();
  NEXT();

  // ---------------------------------------------------------------- generated numeric handlers
#define H_N1(n, byte_, in, out, e)                                                             \
  L_##n : {                                                                                     \
    CT_##in a = LD_##in(R(1));                                                                  \
    R(0) = ST_##out(e);                                                                         \
    ip += HL_W_N1;                                                                              \
    NEXT();                                                                                     \
  }
#define H_N2(n, byte_, i1, i2, out, e)                                                         \
  L_##n : {                                                                                     \
    CT_##i1 a = LD_##i1(R(1));                                                                  \
    CT_##i2 b = LD_##i2(R(2));                                                                  \
    R(0) = ST_##out(ev_##n(a, b));                                                                         \
    ip += HL_W_N2;                                                                              \
    NEXT();                                                                                     \
  }
#define IMM_I ((uint64_t)ip[2])
#define IMM_F ((uint64_t)ip[2])
#define IMM_L ((uint64_t)ip[2] | ((uint64_t)ip[3] << 32))
#define IMM_D IMM_L
#define H_IMM(n, byte_, i1, i2, out, e)                                                        \
  L_##n##_IMM : {                                                                               \
    CT_##i1 a = LD_##i1(R(1));                                                                  \
    CT_##i2 b = LD_##i2(IMM_##i2);                                                              \
    R(0) = ST_##out(ev_##n(a, b));                                                                         \
    ip += HL_W_IMM(i2);                                                                        \
    NEXT();                                                                                     \
  }
#define H_BRIF(n)                                                                               \
  L_BRIF_##n : {                                                                                \
    uint32_t a = (uint32_t)R(1), b = (uint32_t)R(2);                                            \
    ip = ev_##n(a, b) ? cb + ip[0] : ip + HL_W_BRIF;                                            \
    NEXT();                                                                                     \
  }
#define H_FN1(n, sub_, in, out, e) H_N1(n, sub_, in, out, e)
#define H_Z(...)
  HL_OPCODES(H_N1, H_N2, H_Z, H_Z, H_Z, H_Z, H_Z, H_FN1, H_Z, H_Z)
  HL_OPCODES(H_Z, H_IMM, H_Z, H_Z, H_Z, H_Z, H_Z, H_Z, H_Z, H_Z)
#define H_BRIF_IMM(n)                                                                           \
  L_BRIF_##n##_IMM : {                                                                          \
    uint32_t a = (uint32_t)R(1), b = ip[2];                                                     \
    ip = ev_##n(a, b) ? cb + ip[0] : ip + HL_W_BRIF;                                            \
    NEXT();                                                                                     \
  }
  HL_FUSED_CMP(H_BRIF)
  HL_FUSED_CMP(H_BRIF_IMM)

L_BRIF_I32_EQZ:
  ip = (uint32_t)R(1) == 0 ? cb + ip[0] : ip + OPW_BRIF_I32_EQZ;
  NEXT();

L_SIMD: { // simd.c; 0 = out-of-bounds access
  uint32_t n_ = eng_simd_exec(ip, fp, mem_base, mem_size, inst);
  if (!n_) TRAP(HL_TRAP_MEMORY_OUT_OF_BOUNDS);
  ip += n_;
  NEXT();
}

  // fused "inner; outer" pairs (opcodes.h HL_FUSED_BIN): dst, x, y, a
#define H_FB(o, i, ty, imm, comm)                                                               \
  HL_FB_ID(L_, o, i, imm) : {                                                                   \
    CT_##ty x = LD_##ty(R(1));                                                                  \
    CT_##ty y = (imm) ? LD_##ty(ip[2]) : LD_##ty(R(2));                                         \
    CT_##ty a = LD_##ty(R(3));                                                                  \
    CT_##ty t = ev_##i(x, y);                                                                   \
    R(0) = ST_##ty(ev_##o(a, t));                                                               \
    ip += HL_W_FUSED_BIN;                                                                       \
    NEXT();                                                                                     \
  }
  HL_FUSED_BIN(H_FB)
#undef H_FB
#define UT_4 uint32_t
#define UT_8 uint64_t
#define H_FL(o, l, ty, N, comm)                                                                 \
  L_##o##__##l : {                                                                              \
    uint64_t ea = (uint64_t)(uint32_t)R(1) + ip[2];                                             \
    BOUNDS_CHECK(ea + (N) > mem_size);                                                          \
    UT_##N v;                                                                                   \
    __builtin_memcpy(&v, mem_base + ea, N);                                                     \
    CT_##ty t = LD_##ty(v), a = LD_##ty(R(3));                                                  \
    R(0) = ST_##ty(ev_##o(a, t));                                                               \
    ip += HL_W_FUSED_LD;                                                                        \
    NEXT();                                                                                     \
  }                                                                                             \
  L_##o##__##l##_X : {                                                                          \
    uint64_t ea = (uint64_t)(uint32_t)((uint32_t)R(1) + ip[2]) + ip[3];                         \
    BOUNDS_CHECK(ea + (N) > mem_size);                                                          \
    UT_##N v;                                                                                   \
    __builtin_memcpy(&v, mem_base + ea, N);                                                     \
    CT_##ty t = LD_##ty(v), a = LD_##ty(R(4));                                                  \
    R(0) = ST_##ty(ev_##o(a, t));                                                               \
    ip += HL_W_FUSED_LDX;                                                                       \
    NEXT();                                                                                     \
  }
  HL_FUSED_LD(H_FL)
#undef H_FL
#undef H_N1
#undef H_N2
#undef H_FN1

  // ---------------------------------------------------------------- control
L_NOP:
L_BLOCK:
L_LOOP:
L_IF:
L_ELSE:
L_END:
L_BR:
L_BR_IF:
L_BR_TABLE:
L_RETURN:
L_SELECT_T:
L_DROP:
L_LOCAL_GET:
L_LOCAL_SET:
L_LOCAL_TEE:
L_TRY:
L_CATCH:
L_CATCH_ALL:
L_DELEGATE:
L_TRY_TABLE:
  // never emitted by the compiler
  TRAP(HL_TRAP_HOST);

L_UNREACHABLE:
  TRAP(HL_TRAP_UNREACHABLE);

L_FUEL: {
  uint32_t amt = ip[0];
  ip += OPW_FUEL;
  if (fuel_on) {
    if (fuel < amt) TRAP(HL_TRAP_HOST);
    fuel -= amt;
  }
  NEXT();
}

L_COPY:
  R(0) = R(1);
  ip += OPW_COPY;
  NEXT();

L_COPY2:
  R(0) = R(1);
  R(2) = R(3);
  ip += HL_W_COPY2;
  NEXT();

L_JMP:
  ip = cb + ip[0];
  NEXT();

L_BR_MOVE: {
  uint64_t *d = fp + ip[1], *src = fp + ip[2];
  uint32_t n = ip[3];
  for (uint32_t k = 0; k < n; k++) d[k] = src[k];
  ip = cb + ip[0];
  NEXT();
}

L_BR_IF_NZ:
  ip = (uint32_t)R(1) ? cb + ip[0] : ip + OPW_BR_IF_NZ;
  NEXT();

L_BR_IF_MOVE:
  if ((uint32_t)R(1)) {
    uint64_t *d = fp + ip[2], *src = fp + ip[3];
    uint32_t n = ip[4];
    for (uint32_t k = 0; k < n; k++) d[k] = src[k];
    ip = cb + ip[0];
  } else {
    ip += OPW_BR_IF_MOVE;
  }
  NEXT();

L_BR_UNLESS:
  ip = (uint32_t)R(1) ? ip + OPW_BR_UNLESS : cb + ip[0];
  NEXT();

L_BR_TABLE_X: {
  uint32_t i = (uint32_t)R(0), n = ip[1], ar = ip[2];
  uint64_t *src = fp + ip[3];
  if (i > n) i = n;
  const uint32_t *e = ip + 4 + 2 * (size_t)i;
  uint64_t *d = fp + e[1];
  if (d != src)
    for (uint32_t k = 0; k < ar; k++) d[k] = src[k];
  ip = cb + e[0];
  NEXT();
}

L_RETURN_X: {
  uint32_t n = ip[0];
  uint64_t *src = fp + ip[1];
  if (src != fp)
    for (uint32_t k = 0; k < n; k++) fp[k] = src[k];
  if (depth == 0) goto done;
  depth--;
  ip = frames[depth].ip;
  fp = frames[depth].fp;
  fn = frames[depth].fn;
  cb = fn->code;
  RELOAD();
  NEXT();
}

L_CALL:
  callee = inst->funcs[ip[0]];
  call_base = ip[1];
  ip += OPW_CALL;
  goto do_call;

L_CALL_INDIRECT: {
  eng_table *t = inst->tables[ip[0]];
  uint32_t tid = ip[1];
  uint64_t i = R(2); // i32 or i64 (table64): slots hold i32 zero-extended
  call_base = ip[3];
  ip += OPW_CALL_INDIRECT;
  trap_idx = i;
  if (i >= t->size) TRAP(HL_TRAP_UNDEFINED_ELEMENT);
  uint64_t r = t->elems[i];
  if (!r) TRAP(HL_TRAP_UNINITIALIZED_ELEMENT);
  callee = (eng_func *)(uintptr_t)r;
  if (callee->type_id != tid && !eng_type_sub(inst->store, callee->type_id, tid)) TRAP(HL_TRAP_INDIRECT_TYPE_MISMATCH);
  goto do_call;
}

L_CALL_REF: // typed function references: validation guarantees the callee's type
  callee = (eng_func *)(uintptr_t)R(0);
  call_base = ip[1];
  ip += OPW_CALL_REF;
  if (!callee) TRAP(HL_TRAP_NULL_FUNCTION_REFERENCE);
  goto do_call;

  // A host function called with its parameters at hfp (results go to the same slots).
#define HOST_CALL(hfp)                                                                          \
  do {                                                                                          \
    uint32_t need = callee->nparams > callee->nresults ? callee->nparams : callee->nresults;    \
    if ((size_t)(stack_end - (hfp)) < need) TRAP(HL_TRAP_CALL_STACK_EXHAUSTED);                 \
    uint32_t saved_base = s->nest_base, saved_frames = s->nest_frames;                          \
    s->nest_base = (uint32_t)((hfp) - s->stack) + need;                                         \
    s->nest_frames += depth + 1;                                                                \
    s->in_host++;                                                                               \
    uint32_t hst = plat_host_call(callee->host_id, (hfp), callee->nparams, callee->nresults,    \
                                  mem_base, mem_size);                                          \
    s->in_host--;                                                                               \
    s->nest_base = saved_base;                                                                  \
    s->nest_frames = saved_frames;                                                              \
    if (hst != 0) {                                                                             \
      host_failed = true;                                                                       \
      TRAP(HL_TRAP_HOST);                                                                       \
    }                                                                                           \
    if (!eng_host_results_ok(callee, (hfp))) TRAP(HL_TRAP_HOST);                                \
  } while (0)

do_call: {
  if (callee->is_host) {
    HOST_CALL(fp + call_base);
    RELOAD(); // a nested call may have grown the memory
    NEXT();
  }
  if (depth + 1 >= max_depth) TRAP(HL_TRAP_CALL_STACK_EXHAUSTED);
  uint64_t *nfp = fp + call_base;
  if (callee->jit_entry) { // compiled: runs on the native stack with the frames left (jit.h)
    uint32_t jst = eng_jit_enter(s, callee, nfp, max_depth - depth - 1, &fuel, err);
    if (jst == ENG_STATUS_THROWN) { // thrown below the call: search from the call instruction
      callee = (eng_func *)(void *)s->thrown;
      s->thrown = NULL;
      ip--;
      goto do_throw;
    }
    if (jst) return HL_STATUS_TRAP;
    RELOAD(); // the callee may have grown the memory
    NEXT();
  }
  if ((size_t)(stack_end - nfp) < callee->max_stack) TRAP(HL_TRAP_CALL_STACK_EXHAUSTED);
  frames[depth].ip = ip;
  frames[depth].fp = fp;
  frames[depth].fn = fn;
  depth++;
  fp = nfp;
  for (uint32_t k = callee->nparams; k < callee->nlocals; k++) fp[k] = 0;
  fn = callee;
  cb = ip = fn->code;
  if (fn->inst != inst) RELOAD();
  NEXT();
}

L_RETURN_CALL:
  callee = inst->funcs[ip[0]];
  call_base = ip[1];
  ip += OPW_RETURN_CALL;
  goto do_tail_call;

L_RETURN_CALL_INDIRECT: {
  eng_table *t = inst->tables[ip[0]];
  uint32_t tid = ip[1];
  uint64_t i = R(2); // i32 or i64 (table64): slots hold i32 zero-extended
  call_base = ip[3];
  ip += OPW_RETURN_CALL_INDIRECT;
  trap_idx = i;
  if (i >= t->size) TRAP(HL_TRAP_UNDEFINED_ELEMENT);
  uint64_t r = t->elems[i];
  if (!r) TRAP(HL_TRAP_UNINITIALIZED_ELEMENT);
  callee = (eng_func *)(uintptr_t)r;
  if (callee->type_id != tid && !eng_type_sub(inst->store, callee->type_id, tid)) TRAP(HL_TRAP_INDIRECT_TYPE_MISMATCH);
  goto do_tail_call;
}

L_RETURN_CALL_REF:
  callee = (eng_func *)(uintptr_t)R(0);
  call_base = ip[1];
  ip += OPW_RETURN_CALL_REF;
  if (!callee) TRAP(HL_TRAP_NULL_FUNCTION_REFERENCE);
  goto do_tail_call;

  // A tail call: the callee takes over the caller's frame (its arguments move down to fp[0]),
  // so the depth does not grow. A host callee runs as an ordinary call, then the caller returns
  // its results.
do_tail_call: {
  uint64_t *afp = fp + call_base;
  if (callee->is_host) {
    HOST_CALL(afp);
    for (uint32_t k = 0; k < callee->nresults; k++) fp[k] = afp[k];
    if (depth == 0) goto done;
    depth--;
    ip = frames[depth].ip;
    fp = frames[depth].fp;
    fn = frames[depth].fn;
    cb = fn->code;
    RELOAD();
    NEXT();
  }
  if ((size_t)(stack_end - fp) < callee->max_stack) TRAP(HL_TRAP_CALL_STACK_EXHAUSTED);
  for (uint32_t k = 0; k < callee->nparams; k++) fp[k] = afp[k]; // afp > fp: ascending is safe
  for (uint32_t k = callee->nparams; k < callee->nlocals; k++) fp[k] = 0;
  fn = callee;
  cb = ip = fn->code;
  if (fn->inst != inst) RELOAD();
  NEXT();
}

  // ---------------------------------------------------------------- exceptions
L_HANDLER: // a descriptor (opcodes.h), read only when an exception is thrown
  ip += HL_W_HANDLER(ip[4]);
  NEXT();

L_THROW: {
  const eng_tag *tg = inst->tags[ip[0]];
  eng_exn *x = eng_xalloc(sizeof *x + (size_t)tg->nslots * 8);
  if (!x) goto no_memory;
  x->tag = tg;
  x->nslots = tg->nslots;
  for (uint32_t k = 0; k < tg->nslots; k++) x->vals[k] = fp[ip[1] + k];
  callee = (eng_func *)(void *)x; // (the exception, for do_throw: no extra live variable)
  goto do_throw;
}
L_THROW_REF:
L_RETHROW:
  if (!R(0)) TRAP(HL_TRAP_NULL_REFERENCE);
  callee = (eng_func *)(uintptr_t)R(0);
  goto do_throw;

  // The handler search is out of line (unwind): the interpreter loop keeps its registers.
do_throw: {
  eng_frame top = {ip, fp, fn};
  uint32_t hd = unwind(s, frames, depth, &top, (eng_exn *)(void *)callee);
  if (hd == UINT32_MAX) { // to the caller of this invocation, which searches on (internal.h)
    s->thrown = (eng_exn *)(void *)callee;
    s->fuel_left = fuel;
    return ENG_STATUS_THROWN;
  }
  depth = hd;
  ip = top.ip;
  fp = top.fp;
  fn = top.fn;
  cb = fn->code;
  RELOAD();
  NEXT();
}

  // ---------------------------------------------------------------- parametric / variables
L_SELECT:
  R(0) = (uint32_t)R(3) ? R(1) : R(2);
  ip += OPW_SELECT;
  NEXT();

L_GLOBAL_GET:
  R(0) = inst->globals[ip[1]]->val;
  ip += OPW_GLOBAL_GET;
  NEXT();
L_GLOBAL_SET:
  inst->globals[ip[1]]->val = R(0);
  ip += OPW_GLOBAL_SET;
  NEXT();

L_TABLE_GET: { // table indices: the whole slot (an i32 is zero-extended, an i64 is table64's)
  eng_table *t = inst->tables[ip[2]];
  uint64_t i = R(1);
  if (i >= t->size) TRAP(HL_TRAP_TABLE_OUT_OF_BOUNDS);
  R(0) = t->elems[i];
  ip += OPW_TABLE_GET;
  NEXT();
}
L_TABLE_SET: {
  eng_table *t = inst->tables[ip[2]];
  uint64_t i = R(0);
  if (i >= t->size) TRAP(HL_TRAP_TABLE_OUT_OF_BOUNDS);
  t->elems[i] = R(1);
  ip += OPW_TABLE_SET;
  NEXT();
}

  // ---------------------------------------------------------------- memory
#define LOADOP(name, T, N, conv)                                                                \
  L_##name : {                                                                                  \
    uint64_t ea = (uint64_t)(uint32_t)R(1) + ip[2];                                             \
    BOUNDS_CHECK(ea + (N) > mem_size);                                \
    T v;                                                                                        \
    __builtin_memcpy(&v, mem_base + ea, N);                                                     \
    R(0) = (conv);                                                                              \
    ip += HL_W_MEM;                                                                             \
    NEXT();                                                                                     \
  }                                                                                             \
  L_##name##_X : {                                                                              \
    uint64_t ea = (uint64_t)(uint32_t)((uint32_t)R(1) + ip[2]) + ip[3];                         \
    BOUNDS_CHECK(ea + (N) > mem_size);                                \
    T v;                                                                                        \
    __builtin_memcpy(&v, mem_base + ea, N);                                                     \
    R(0) = (conv);                                                                              \
    ip += HL_W_LDX;                                                                             \
    NEXT();                                                                                     \
  }
  LOADOP(I32_LOAD, uint32_t, 4, v)
  LOADOP(I64_LOAD, uint64_t, 8, v)
  LOADOP(F32_LOAD, uint32_t, 4, v)
  LOADOP(F64_LOAD, uint64_t, 8, v)
  LOADOP(I32_LOAD8_S, int8_t, 1, (uint32_t)(int32_t)v)
  LOADOP(I32_LOAD8_U, uint8_t, 1, v)
  LOADOP(I32_LOAD16_S, int16_t, 2, (uint32_t)(int32_t)v)
  LOADOP(I32_LOAD16_U, uint16_t, 2, v)
  LOADOP(I64_LOAD8_S, int8_t, 1, (uint64_t)(int64_t)v)
  LOADOP(I64_LOAD8_U, uint8_t, 1, v)
  LOADOP(I64_LOAD16_S, int16_t, 2, (uint64_t)(int64_t)v)
  LOADOP(I64_LOAD16_U, uint16_t, 2, v)
  LOADOP(I64_LOAD32_S, int32_t, 4, (uint64_t)(int64_t)v)
  LOADOP(I64_LOAD32_U, uint32_t, 4, v)
#define STOREOP(name, T, N)                                                                     \
  L_##name : {                                                                                  \
    uint64_t ea = (uint64_t)(uint32_t)R(0) + ip[2];                                             \
    BOUNDS_CHECK(ea + (N) > mem_size);                                \
    T v = (T)R(1);                                                                              \
    __builtin_memcpy(mem_base + ea, &v, N);                                                     \
    ip += HL_W_MEM;                                                                             \
    NEXT();                                                                                     \
  }
  STOREOP(I32_STORE, uint32_t, 4)
  STOREOP(I64_STORE, uint64_t, 8)
  STOREOP(F32_STORE, uint32_t, 4)
  STOREOP(F64_STORE, uint64_t, 8)
  STOREOP(I32_STORE8, uint8_t, 1)
  STOREOP(I32_STORE16, uint16_t, 2)
  STOREOP(I64_STORE8, uint8_t, 1)
  STOREOP(I64_STORE16, uint16_t, 2)
  STOREOP(I64_STORE32, uint32_t, 4)

L_MEMORY_SIZE:
  R(0) = inst->mem->pages;
  ip += OPW_MEMORY_SIZE;
  NEXT();
L_MEMORY_GROW:
  R(0) = eng_mem_grow(inst->mem, (uint32_t)R(1));
  ip += OPW_MEMORY_GROW;
  RELOAD();
  NEXT();

L_MEMORY_INIT: {
  const eng_rdata *ds = &inst->datas[ip[0]];
  uint32_t d = (uint32_t)R(1), src = (uint32_t)R(2), n = (uint32_t)R(3);
  ip += OPW_MEMORY_INIT;
  if ((uint64_t)src + n > ds->len || (uint64_t)d + n > mem_size) TRAP(HL_TRAP_MEMORY_OUT_OF_BOUNDS);
  if (n) memcpy(mem_base + d, ds->bytes + src, n);
  NEXT();
}
L_DATA_DROP:
  inst->datas[ip[0]].len = 0;
  ip += OPW_DATA_DROP;
  NEXT();
L_MEMORY_COPY: {
  uint32_t d = (uint32_t)R(0), src = (uint32_t)R(1), n = (uint32_t)R(2);
  ip += OPW_MEMORY_COPY;
  if ((uint64_t)src + n > mem_size || (uint64_t)d + n > mem_size) TRAP(HL_TRAP_MEMORY_OUT_OF_BOUNDS);
  if (n) memmove(mem_base + d, mem_base + src, n);
  NEXT();
}
L_MEMORY_FILL: {
  uint32_t d = (uint32_t)R(0), v = (uint32_t)R(1), n = (uint32_t)R(2);
  ip += OPW_MEMORY_FILL;
  if ((uint64_t)d + n > mem_size) TRAP(HL_TRAP_MEMORY_OUT_OF_BOUNDS);
  if (n) memset(mem_base + d, (int)(v & 0xff), n);
  NEXT();
}

  // ---------------------------------------------------------------- other memories, 64-bit memories
  // Memory 0 (32-bit) is kept in mem_base/mem_size; these forms look their memory up
  // (inst->mems[MEM_IDX(word)]) and read addresses and lengths as its address type: the whole
  // slot for a 64-bit memory (memory64), its low 32 bits otherwise. Bounds checks never overflow:
  // a memory is at most 4 GiB.
#define MADDR(mm, v) ((mm)->decl.is64 ? (v) : (uint64_t)(uint32_t)(v))
#define MFITS(mm, a, n) ((a) <= (mm)->size && (uint64_t)(n) <= (mm)->size - (a))
L_LOAD_M: {
  const eng_mem *mm = inst->mems[MEM_IDX(ip[3])];
  uint64_t v, a = MADDR(mm, R(1));
  if ((ip[3] & MEM_FAR) || a > mm->size || !mem_load(ip[4], mm->base, mm->size, a + ip[2], &v))
    TRAP(HL_TRAP_MEMORY_OUT_OF_BOUNDS);
  R(0) = v;
  ip += OPW_LOAD_M;
  NEXT();
}
L_STORE_M: {
  const eng_mem *mm = inst->mems[MEM_IDX(ip[3])];
  uint64_t a = MADDR(mm, R(0));
  if ((ip[3] & MEM_FAR) || a > mm->size || !mem_store(ip[4], mm->base, mm->size, a + ip[2], R(1)))
    TRAP(HL_TRAP_MEMORY_OUT_OF_BOUNDS);
  ip += OPW_STORE_M;
  NEXT();
}
L_MEMORY_SIZE_M:
  R(0) = inst->mems[ip[1]]->pages;
  ip += OPW_MEMORY_SIZE_M;
  NEXT();
L_MEMORY_GROW_M: {
  eng_mem *mm = inst->mems[ip[2]];
  uint64_t delta = MADDR(mm, R(1));
  uint32_t old = delta > UINT32_MAX ? UINT32_MAX : eng_mem_grow(mm, (uint32_t)delta);
  R(0) = old == UINT32_MAX ? (mm->decl.is64 ? UINT64_MAX : UINT32_MAX) : old;
  ip += OPW_MEMORY_GROW_M;
  RELOAD(); // memory 0 may be 64-bit
  NEXT();
}
L_MEMORY_INIT_M: {
  const eng_rdata *ds = &inst->datas[ip[0]];
  const eng_mem *mm = inst->mems[ip[4]];
  uint64_t d = MADDR(mm, R(1));
  uint32_t src = (uint32_t)R(2), n = (uint32_t)R(3);
  ip += OPW_MEMORY_INIT_M;
  if ((uint64_t)src + n > ds->len || !MFITS(mm, d, n)) TRAP(HL_TRAP_MEMORY_OUT_OF_BOUNDS);
  if (n) memcpy(mm->base + d, ds->bytes + src, n);
  NEXT();
}
L_MEMORY_COPY_M: {
  const eng_mem *md = inst->mems[ip[3]], *ms = inst->mems[ip[4]];
  uint64_t d = MADDR(md, R(0)), src = MADDR(ms, R(1));
  uint64_t n = md->decl.is64 && ms->decl.is64 ? R(2) : (uint32_t)R(2);
  ip += OPW_MEMORY_COPY_M;
  if (!MFITS(ms, src, n) || !MFITS(md, d, n)) TRAP(HL_TRAP_MEMORY_OUT_OF_BOUNDS);
  if (n) memmove(md->base + d, ms->base + src, n);
  NEXT();
}
L_MEMORY_FILL_M: {
  const eng_mem *mm = inst->mems[ip[3]];
  uint64_t d = MADDR(mm, R(0)), n = MADDR(mm, R(2));
  uint32_t v = (uint32_t)R(1);
  ip += OPW_MEMORY_FILL_M;
  if (!MFITS(mm, d, n)) TRAP(HL_TRAP_MEMORY_OUT_OF_BOUNDS);
  if (n) memset(mm->base + d, (int)(v & 0xff), n);
  NEXT();
}
#undef MADDR
#undef MFITS

  // ---------------------------------------------------------------- constants, references
L_I32_CONST:
L_F32_CONST:
  R(0) = ip[1];
  ip += OPW_I32_CONST; // = OPW_F32_CONST
  NEXT();
L_I64_CONST:
L_F64_CONST:
  R(0) = (uint64_t)ip[1] | ((uint64_t)ip[2] << 32);
  ip += OPW_I64_CONST; // = OPW_F64_CONST
  NEXT();
L_REF_NULL:
  R(0) = 0;
  ip += OPW_REF_NULL;
  NEXT();
L_REF_IS_NULL:
  R(0) = R(1) == 0;
  ip += OPW_REF_IS_NULL;
  NEXT();
L_REF_AS_NON_NULL:
  if (!R(1)) TRAP(HL_TRAP_NULL_REFERENCE);
  R(0) = R(1);
  ip += OPW_REF_AS_NON_NULL;
  NEXT();
  // ---------------------------------------------------------------- GC (gc_ops.h)
  // eng_gc_op inlined with a constant opcode; an allocation's roots end at this frame's top.
#define GC_OP(o)                                                                                \
  L_##o : {                                                                                     \
    uint32_t t_ = eng_gc_op(s, inst, OP_##o, ip, fp, fp + fn->max_stack);                      \
    if (t_) TRAP(t_);                                                                           \
    ip += OPW_##o;                                                                              \
    NEXT();                                                                                     \
  }
  GC_OP(REF_EQ)
  GC_OP(REF_I31)
  GC_OP(I31_GET_S)
  GC_OP(I31_GET_U)
  GC_OP(REF_TEST)
  GC_OP(REF_TEST_NULL)
  GC_OP(REF_CAST)
  GC_OP(REF_CAST_NULL)
  GC_OP(STRUCT_NEW)
  GC_OP(STRUCT_NEW_DEFAULT)
  GC_OP(STRUCT_GET)
  GC_OP(STRUCT_GET_S)
  GC_OP(STRUCT_GET_U)
  GC_OP(STRUCT_SET)
  GC_OP(ARRAY_NEW)
  GC_OP(ARRAY_NEW_DEFAULT)
  GC_OP(ARRAY_NEW_FIXED)
  GC_OP(ARRAY_GET)
  GC_OP(ARRAY_GET_S)
  GC_OP(ARRAY_GET_U)
  GC_OP(ARRAY_SET)
  GC_OP(ARRAY_LEN)
  GC_OP(ARRAY_FILL)
  GC_OP(ARRAY_COPY)
  GC_OP(ARRAY_NEW_DATA)
  GC_OP(ARRAY_NEW_ELEM)
  GC_OP(ARRAY_INIT_DATA)
  GC_OP(ARRAY_INIT_ELEM)
  GC_OP(ANY_CONVERT_EXTERN)
  GC_OP(EXTERN_CONVERT_ANY)
#undef GC_OP
L_BR_ON_CAST:
L_BR_ON_CAST_FAIL:
  if (eng_ref_test(inst->store, R(1), ip[5]) == (ip[-1] == OP_BR_ON_CAST)) {
    uint64_t *d = fp + ip[2], *src = fp + ip[3];
    uint32_t n = ip[4];
    if (d != src)
      for (uint32_t k = 0; k < n; k++) d[k] = src[k];
    ip = cb + ip[0];
  } else {
    ip += OPW_BR_ON_CAST; // = OPW_BR_ON_CAST_FAIL
  }
  NEXT();
L_BR_ON_NULL:
L_BR_ON_NON_NULL:
  if ((R(1) == 0) == (ip[-1] == OP_BR_ON_NULL)) {
    uint64_t *d = fp + ip[2], *src = fp + ip[3];
    uint32_t n = ip[4];
    if (d != src)
      for (uint32_t k = 0; k < n; k++) d[k] = src[k];
    ip = cb + ip[0];
  } else {
    ip += OPW_BR_ON_NULL; // = OPW_BR_ON_NON_NULL
  }
  NEXT();
L_REF_FUNC:
  R(0) = (uint64_t)(uintptr_t)inst->funcs[ip[1]];
  ip += OPW_REF_FUNC;
  NEXT();

  // ---------------------------------------------------------------- tables
L_TABLE_INIT: {
  const eng_relem *e = &inst->elems[ip[0]];
  eng_table *t = inst->tables[ip[1]];
  uint64_t d = R(2);
  uint32_t src = (uint32_t)R(3), n = (uint32_t)R(4);
  ip += OPW_TABLE_INIT;
  if ((uint64_t)src + n > e->count || d > t->size || n > t->size - d) TRAP(HL_TRAP_TABLE_OUT_OF_BOUNDS);
  for (uint32_t k = 0; k < n; k++) t->elems[d + k] = eng_relem_value(inst, e, src + k);
  NEXT();
}
L_ELEM_DROP:
  inst->elems[ip[0]].count = 0;
  ip += OPW_ELEM_DROP;
  NEXT();
L_TABLE_COPY: {
  eng_table *td = inst->tables[ip[0]], *ts = inst->tables[ip[1]];
  uint64_t d = R(2), src = R(3), n = R(4);
  ip += OPW_TABLE_COPY;
  if (src > ts->size || n > ts->size - src || d > td->size || n > td->size - d) TRAP(HL_TRAP_TABLE_OUT_OF_BOUNDS);
  if (n) memmove(td->elems + d, ts->elems + src, (size_t)n * 8);
  NEXT();
}
L_TABLE_GROW: {
  eng_table *t = inst->tables[ip[1]];
  R(0) = eng_table_grow(t, R(3), R(2));
  ip += OPW_TABLE_GROW;
  NEXT();
}
L_TABLE_SIZE:
  R(0) = inst->tables[ip[1]]->size;
  ip += OPW_TABLE_SIZE;
  NEXT();
L_TABLE_FILL: {
  eng_table *t = inst->tables[ip[0]];
  uint64_t d = R(1), n = R(3), v = R(2);
  ip += OPW_TABLE_FILL;
  if (d > t->size || n > t->size - d) TRAP(HL_TRAP_TABLE_OUT_OF_BOUNDS);
  for (uint32_t k = 0; k < n; k++) t->elems[d + k] = v;
  NEXT();
}

  // ---------------------------------------------------------------- trapping arithmetic
#define DIVOP(name, T, UT, body)                                                                \
  L_##name : {                                                                                  \
    T a = (T)(UT)R(1), b = (T)(UT)R(2);                                                         \
    if (b == 0) TRAP(HL_TRAP_DIVIDE_BY_ZERO);                                                   \
    body;                                                                                       \
    ip += HL_W_N2;                                                                             \
    NEXT();                                                                                     \
  }
  DIVOP(I32_DIV_S, int32_t, uint32_t,
        if (a == INT32_MIN && b == -1) TRAP(HL_TRAP_INTEGER_OVERFLOW); R(0) = (uint32_t)(a / b))
  DIVOP(I32_DIV_U, uint32_t, uint32_t, R(0) = a / b)
  DIVOP(I32_REM_S, int32_t, uint32_t, R(0) = b == -1 ? 0 : (uint32_t)(a % b))
  DIVOP(I32_REM_U, uint32_t, uint32_t, R(0) = a % b)
  DIVOP(I64_DIV_S, int64_t, uint64_t,
        if (a == INT64_MIN && b == -1) TRAP(HL_TRAP_INTEGER_OVERFLOW); R(0) = (uint64_t)(a / b))
  DIVOP(I64_DIV_U, uint64_t, uint64_t, R(0) = a / b)
  DIVOP(I64_REM_S, int64_t, uint64_t, R(0) = b == -1 ? 0 : (uint64_t)(a % b))
  DIVOP(I64_REM_U, uint64_t, uint64_t, R(0) = a % b)
#define TRUNCOP(name, in, fits, conv)                                                           \
  L_##name : {                                                                                  \
    CT_##in a = LD_##in(R(1));                                                                  \
    if (a != a) TRAP(HL_TRAP_INVALID_CONVERSION);                                               \
    if (!fits(a)) TRAP(HL_TRAP_INTEGER_OVERFLOW);                                               \
    R(0) = (conv);                                                                              \
    ip += HL_W_N1;                                                                             \
    NEXT();                                                                                     \
  }
  TRUNCOP(I32_TRUNC_F32_S, F, f32_fits_i32_s, (uint32_t)(int32_t)a)
  TRUNCOP(I32_TRUNC_F32_U, F, f32_fits_i32_u, (uint32_t)a)
  TRUNCOP(I32_TRUNC_F64_S, D, f64_fits_i32_s, (uint32_t)(int32_t)a)
  TRUNCOP(I32_TRUNC_F64_U, D, f64_fits_i32_u, (uint32_t)a)
  TRUNCOP(I64_TRUNC_F32_S, F, f32_fits_i64_s, (uint64_t)(int64_t)a)
  TRUNCOP(I64_TRUNC_F32_U, F, f32_fits_i64_u, (uint64_t)a)
  TRUNCOP(I64_TRUNC_F64_S, D, f64_fits_i64_s, (uint64_t)(int64_t)a)
  TRUNCOP(I64_TRUNC_F64_U, D, f64_fits_i64_u, (uint64_t)a)

trap_out:
  if (trap == HL_TRAP_HOST && !host_failed) eng_trap_fuel(err);
  else eng_set_trap(err, trap);
  if (trap == HL_TRAP_UNDEFINED_ELEMENT || trap == HL_TRAP_UNINITIALIZED_ELEMENT) eng_trap_index(err, trap_idx);
  return HL_STATUS_TRAP;
no_memory:
  eng_set_error(err, HL_STATUS_NO_MEMORY, "out of memory (exception)");
  return HL_STATUS_NO_MEMORY;
done:
  s->fuel_left = fuel;
  return HL_STATUS_OK;
}
