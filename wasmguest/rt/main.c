// main.c — the guest's dispatch loop (CPL3). The guest waits for a request in the shared
// mailbox, serves it with the engine and writes the reply. Waiting spins on the mailbox for
// HL_MB_SPIN_CYCLES TSC cycles (a request that arrives meanwhile costs no VM exit), then parks
// with one `out` (the host resumes the vCPU once it has posted the next request).
#include "../engine/engine.h"
#include "../engine/jit.h"
#include "rt.h"

static eng_store *store;

static inline uint64_t rdtsc(void) {
  uint32_t lo, hi;
  __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
  return (uint64_t)hi << 32 | lo;
}

static inline void outb(uint16_t port) {
  __asm__ volatile("outb %%al, %%dx" : : "a"(0), "d"(port) : "memory");
}

static uint32_t *state_word(void) { return (uint32_t *)MB_ADDR(HL_MB_STATE); }

// The x87/SSE state every park exit resumes with (FXSAVE layout): x87 control word 0x037f,
// empty register stack, MXCSR 0x1f80 (what _start sets), all registers zero.
static const struct {
  uint16_t fcw, fsw;
  uint8_t ftw_abridged, reserved;
  uint8_t rest_of_x87[18];
  uint32_t mxcsr, mxcsr_mask;
  uint8_t regs[480];
} __attribute__((aligned(16))) clean_fpu = {.fcw = 0x037f, .mxcsr = 0x1f80};
_Static_assert(sizeof(clean_fpu) == 512, "FXSAVE area");

// park_exit exits on port; the host resumes the vCPU at hl_park_resume (the image header names
// it, and the host checks that every snapshot's RIP is it), possibly after resetting the
// machine to a snapshot. The host restores general and special registers then, not the
// x87/SSE state (KVM_SET_FPU is a vCPU ioctl: ~15 us on PVM, more than the rest of a reset):
// the resumed guest loads the clean state itself, first thing, before anything can read a
// register a previous call left. So no XMM or x87 value lives across a park (the clobbers),
// and a host call returns with clean vector registers. Not inlined: one resume address.
__attribute__((noinline)) static void park_exit(uint16_t port) {
  __asm__ volatile("outb %%al, %%dx\n"
                   "\t.globl hl_park_resume\n"
                   "hl_park_resume:\n"
                   "\tfxrstor64 %[fpu]"
                   :
                   : "a"(0), "d"(port), [fpu] "m"(clean_fpu)
                   : "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
                     "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "st", "st(1)",
                     "st(2)", "st(3)", "st(4)", "st(5)", "st(6)", "st(7)", "fpsr");
}

// wait_while waits until the state is no longer `waiting` and returns the new state. After the
// spin budget (the mailbox field at budget_off: SpinCycles between requests, HostCallSpin for a
// host call's answer), or at once when no host thread spins on the mailbox (HostWaiting), it
// moves the state to `parked` and exits on `port`; the host changes the state before it
// resumes the vCPU.
uint32_t wait_while(uint32_t waiting, uint32_t parked, uint16_t port, uint32_t budget_off) {
  uint64_t start = rdtsc(), budget = MB_U64(budget_off);
  for (;;) {
    uint32_t s = __atomic_load_n(state_word(), __ATOMIC_ACQUIRE);
    if (s != waiting) return s;
    if (__atomic_load_n((uint32_t *)MB_ADDR(HL_MB_HOST_WAITING), __ATOMIC_SEQ_CST) ||
        rdtsc() - start >= budget) {
      uint32_t expect = waiting;
      if (__atomic_compare_exchange_n(state_word(), &expect, parked, false, __ATOMIC_SEQ_CST,
                                      __ATOMIC_SEQ_CST)) {
        MB_U64(HL_MB_STAT_PARKS)++;
        park_exit(port);
        start = rdtsc();
      }
      continue;
    }
    __builtin_ia32_pause();
  }
}

static void serve(void);

// Nested calls (a host function calling back into the guest, which may call the host again,
// ...) recurse on the C stack: each level costs plat_host_call + serve + eng_call + eng_invoke,
// about 1 KiB, so about 2000 levels fit in the 2 MiB stack. The frame stack bounds Wasm depth
// (MaxCallDepth) but not this, so a call is refused with the trap "call stack exhausted" while
// less than NESTED_STACK_MARGIN bytes of stack are left: far more than the deepest path one
// served call takes before it returns or comes back here through plat_host_call (serve,
// eng_call, eng_invoke, eng_simd_exec, plat_host_call, wait_while: about 1.5 KiB with clang
// -O2, see -fstack-usage). The guard page below the stack stays the backstop.
#define NESTED_STACK_MARGIN (64u * 1024u)

static inline uintptr_t stack_pointer(void) {
  uintptr_t sp;
  __asm__ volatile("movq %%rsp, %0" : "=r"(sp));
  return sp;
}

static bool stack_low(void) {
  uintptr_t sp = stack_pointer();
  return sp < HL_U_STACK_BASE || sp - HL_U_STACK_BASE < NESTED_STACK_MARGIN;
}

static inline void set_u32(uint32_t off, uint32_t v) {
  if (MB_U32(off) != v) MB_U32(off) = v;
}

static inline void set_u64(uint32_t off, uint64_t v) {
  if (MB_U64(off) != v) MB_U64(off) = v;
}

// plat_host_call runs a host function: the request goes into the mailbox's host-call area and
// the guest waits for the answer the same way it waits for requests (spinning for HostCallSpin
// while a host thread polls the mailbox, then parked on one `out`). A host thread that claimed the call keeps the guest spinning until it answers.
uint32_t plat_host_call(uint32_t id, uint64_t *slots, uint32_t nparams, uint32_t nresults,
                        uint8_t *mem, uint64_t mem_size) {
  if (nparams > HL_MAX_VALUES || nresults > HL_MAX_VALUES) return 1;
  if (rt_io_local(id, slots, nparams, nresults, mem, mem_size)) return 0;
  // The state word's cache line holds these fields too, and a spinning host reads it while
  // they are written: a field that already holds its value (the same function called again)
  // is not written, so the line is not taken from the host for it.
  set_u32(HL_MB_HOST_FUNC, id);
  set_u32(HL_MB_HOST_N_PARAMS, nparams);
  set_u32(HL_MB_HOST_N_RESULTS, nresults);
  set_u64(HL_MB_HOST_MEM_BASE, (uint64_t)(uintptr_t)mem);
  set_u64(HL_MB_HOST_MEM_SIZE, mem ? mem_size : 0);
  for (uint32_t i = 0; i < nparams; i++) MB_U64(HL_MB_HOST_VALUES + 8 * i) = slots[i];
  __atomic_store_n(state_word(), HL_STATE_HOST_CALL, __ATOMIC_SEQ_CST);
  uint32_t s = wait_while(HL_STATE_HOST_CALL, HL_STATE_HOST_CALL_PARKED, HL_PORT_HOST_CALL,
                          HL_MB_HOST_CALL_SPIN);
  for (;;) {
    if (s == HL_STATE_HOST_CALL_CLAIMED || s == HL_STATE_NESTED_REPLY) {
      s = wait_while(s, HL_STATE_NESTED_PARKED, HL_PORT_HOST_CALL, HL_MB_HOST_CALL_SPIN);
    } else if (s == HL_STATE_REQUEST) { // the host calls back into the guest
      serve();
      __atomic_store_n(state_word(), HL_STATE_NESTED_REPLY, __ATOMIC_SEQ_CST);
      s = HL_STATE_NESTED_REPLY;
    } else if (s == HL_STATE_HOST_RETURN) {
      break;
    } else {
      rt_panic("unexpected mailbox state during a host call");
    }
  }
  uint32_t status = MB_U32(HL_MB_HOST_STATUS);
  for (uint32_t i = 0; i < nresults; i++) slots[i] = MB_U64(HL_MB_HOST_VALUES + 8 * i);
  __atomic_store_n(state_word(), HL_STATE_REQUEST, __ATOMIC_SEQ_CST); // serving the request again
  return status;
}

_Noreturn void rt_panic(const char *msg) {
  size_t n = 0;
  volatile char *dst = (volatile char *)MB_ADDR(HL_MB_MSG);
  while (msg[n] && n < HL_MSG_MAX - 1) {
    dst[n] = msg[n];
    n++;
  }
  MB_U32(HL_MB_REP_MSG_LEN) = (uint32_t)n;
  for (;;) outb(HL_PORT_PANIC);
}

static void reply_error(const eng_error *err, uint32_t status) {
  MB_U32(HL_MB_REP_STATUS) = status;
  MB_U32(HL_MB_REP_TRAP) = status == HL_STATUS_TRAP ? err->trap : 0;
  size_t n = 0;
  volatile char *dst = (volatile char *)MB_ADDR(HL_MB_MSG);
  while (n < sizeof err->msg && err->msg[n] && n < HL_MSG_MAX) {
    dst[n] = err->msg[n];
    n++;
  }
  MB_U32(HL_MB_REP_MSG_LEN) = (uint32_t)n;
}

static void bad_request(const char *why) {
  eng_error e = {.status = HL_STATUS_BAD_REQUEST};
  size_t i = 0;
  for (; why[i] && i < sizeof e.msg - 1; i++) e.msg[i] = why[i];
  reply_error(&e, HL_STATUS_BAD_REQUEST);
}

// recurse takes a page of stack per frame; with depth beyond the stack it hits the guard page.
static __attribute__((noinline)) uint64_t recurse(volatile uint8_t *prev, uint64_t depth) {
  volatile uint8_t frame[4096];
  frame[0] = prev ? prev[0] + 1 : 1;
  if (depth == 0) return frame[0];
  return recurse(frame, depth - 1) + frame[4095];
}

static void fault(uint32_t kind) {
  switch (kind) {
  case HL_FAULT_UD:
    __asm__ volatile("ud2");
    break;
  case HL_FAULT_PF:
    __asm__ volatile("movq $1, 0" ::: "memory");
    break;
  case HL_FAULT_DE: {
    uint32_t zero = 0;
    __asm__ volatile("xorl %%edx, %%edx\n\tmovl $1, %%eax\n\tdivl %0" : : "r"(zero) : "eax", "edx");
    break;
  }
  case HL_FAULT_STACK:
    recurse(0, UINT64_MAX);
    break;
  }
}

static void serve(void) {
  uint32_t op = MB_U32(HL_MB_REQ_OP), inst = MB_U32(HL_MB_REQ_INST);
  uint32_t index = MB_U32(HL_MB_REQ_INDEX), nparams = MB_U32(HL_MB_REQ_N_PARAMS);
  uint64_t xlen = MB_U64(HL_MB_REQ_XFER_LEN);
  const uint8_t *xfer = (const uint8_t *)(uintptr_t)MB_U64(HL_MB_XFER_ADDR);
  eng_error err = {0};
  uint32_t st;
  MB_U32(HL_MB_REP_N_RESULTS) = 0;
  MB_U32(HL_MB_REP_MSG_LEN) = 0;
  MB_U32(HL_MB_REP_TRAP) = 0;
  if (xlen > MB_U64(HL_MB_XFER_SIZE)) return bad_request("transfer length exceeds the window");
  switch (op) {
  case HL_OP_NOP:
    st = HL_STATUS_OK;
    break;
  case HL_OP_LOAD: {
    // The host function table (ReqNParams entries, ReqIndex bytes) may come first in the
    // transfer window, saving a round trip: define those, then instantiate the module.
    uint32_t id = 0;
    if (index > xlen) return bad_request("host function table exceeds the transfer length");
    st = HL_STATUS_OK;
    if (nparams) st = rt_define_host(store, xfer, index, nparams, &err);
    if (st == HL_STATUS_OK) st = eng_instantiate(store, xfer + index, (size_t)(xlen - index), &id, &err);
    MB_U32(HL_MB_REP_VALUE) = id;
    break;
  }
  case HL_OP_REGISTER:
    st = eng_register(store, inst, (const char *)xfer, (size_t)xlen, &err);
    break;
  case HL_OP_CALL: {
    if (nparams > HL_MAX_VALUES) return bad_request("too many parameters");
    if (stack_low()) { // only nested calls get here, see NESTED_STACK_MARGIN
      err.trap = HL_TRAP_CALL_STACK_EXHAUSTED;
      static const char msg[] = "call stack exhausted";
      for (size_t i = 0; i < sizeof msg; i++) err.msg[i] = msg[i];
      st = HL_STATUS_TRAP;
      break;
    }
    // Static, not on the stack: 1 KiB less per nesting level. Safe across nested calls: eng_call
    // copies params to the value stack before it runs anything, and writes results only after
    // the call (and any nested call within it) has returned; they are copied out at once.
    static uint64_t params[HL_MAX_VALUES], results[HL_MAX_VALUES];
    for (uint32_t i = 0; i < nparams; i++) params[i] = MB_U64(HL_MB_REQ_PARAMS + 8 * i);
    uint32_t nres = 0;
    st = eng_call(store, inst, index, params, nparams, results, &nres, &err);
    if (st == HL_STATUS_OK) {
      if (nres > HL_MAX_VALUES) rt_panic("engine returned too many results");
      for (uint32_t i = 0; i < nres; i++) MB_U64(HL_MB_REP_RESULTS + 8 * i) = results[i];
      MB_U32(HL_MB_REP_N_RESULTS) = nres;
    }
    break;
  }
  case HL_OP_GLOBAL_GET: {
    uint64_t v[2] = {0, 0};
    uint8_t type = 0;
    st = eng_global_get(store, inst, index, v, &type, &err);
    if (st == HL_STATUS_OK) {
      MB_U64(HL_MB_REP_RESULTS) = v[0];
      MB_U64(HL_MB_REP_RESULTS + 8) = v[1];
      MB_U32(HL_MB_REP_N_RESULTS) = type == ENG_V128 ? 2 : 1;
      MB_U32(HL_MB_REP_VALUE) = type;
    }
    break;
  }
  case HL_OP_FAULT:
    fault(index);
    return bad_request("unknown fault kind");
  case HL_OP_MEMORY: {
    uint8_t *base = NULL;
    uint64_t size = 0;
    st = eng_memory_view(store, inst, &base, &size, &err);
    if (st == HL_STATUS_OK) {
      MB_U64(HL_MB_REP_RESULTS) = (uint64_t)(uintptr_t)base;
      MB_U64(HL_MB_REP_RESULTS + 8) = size;
      MB_U32(HL_MB_REP_N_RESULTS) = 2;
    }
    break;
  }
  case HL_OP_MEMORY_GROW: {
    uint32_t prev = 0;
    uint8_t *base = NULL;
    uint64_t size = 0;
    const uint8_t *at = (const uint8_t *)(uintptr_t)MB_U64(HL_MB_REQ_PARAMS);
    st = eng_memory_grow(store, inst, at, index, &prev, &base, &size, &err);
    if (st == HL_STATUS_OK) {
      MB_U64(HL_MB_REP_RESULTS) = prev;
      MB_U64(HL_MB_REP_RESULTS + 8) = (uint64_t)(uintptr_t)base;
      MB_U64(HL_MB_REP_RESULTS + 16) = size;
      MB_U32(HL_MB_REP_N_RESULTS) = 3;
    }
    break;
  }
  default:
    return bad_request("unknown operation");
  }
  if (st != HL_STATUS_OK) return reply_error(&err, st);
  MB_U32(HL_MB_REP_STATUS) = HL_STATUS_OK;
}

_Noreturn void rt_main(void) {
  if (MB_U32(HL_MB_MAGIC) != HL_MAGIC || MB_U32(HL_MB_VERSION) != HL_VERSION)
    rt_panic("mailbox magic or ABI version mismatch");
  heap_init(MB_U64(HL_MB_HEAP_ADDR), MB_U64(HL_MB_HEAP_SIZE));
  code_init(MB_U64(HL_MB_CODE_ADDR), MB_U64(HL_MB_CODE_SIZE));
  eng_limits lim = {.max_memory_pages = MB_U32(HL_MB_MAX_PAGES),
                    .max_call_depth = MB_U32(HL_MB_MAX_DEPTH),
                    .tier = MB_U32(HL_MB_TIER)};
  store = eng_store_new(&lim);
  if (!store) rt_panic("out of memory creating the store");
  MB_U32(HL_MB_STAT_CPU_FEATURES) = eng_jit_cpu_probe();
  MB_U32(HL_MB_GUEST_READY) = HL_VERSION;
  // The host may post the first request before the guest has booted (it saves an exit on a
  // cold start): then the state is already Request and stays so.
  uint32_t booting = HL_STATE_BOOTING;
  __atomic_compare_exchange_n(state_word(), &booting, HL_STATE_IDLE, false, __ATOMIC_SEQ_CST,
                              __ATOMIC_SEQ_CST);
  for (;;) {
    uint32_t s = wait_while(HL_STATE_IDLE, HL_STATE_PARKED, HL_PORT_PARK, HL_MB_SPIN_CYCLES);
    if (s != HL_STATE_REQUEST) rt_panic("unexpected mailbox state while idle");
    serve();
    MB_U64(HL_MB_STAT_CALLS)++;
    uint64_t data_used, code_used;
    heap_usage(&data_used, &code_used);
    MB_U64(HL_MB_STAT_HEAP_USED) = data_used;
    MB_U64(HL_MB_STAT_CODE_USED) = code_used;
    __atomic_store_n(state_word(), HL_STATE_IDLE, __ATOMIC_SEQ_CST);
  }
}
