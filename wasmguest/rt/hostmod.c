// hostmod.c — host functions in the guest. The host sends its allow-listed functions with
// OpLoad; for each host module name the runtime synthesizes a Wasm module whose exports
// have exactly the declared signatures, instantiates it, binds its functions to the host ids
// (eng_bind_host) and registers it under that name. Module imports then link to host functions
// through the engine's ordinary import matching. Calls go out through plat_host_call.
#include "../engine/engine.h"
#include "rt.h"

typedef struct {
  uint32_t id;
  const uint8_t *module, *name;
  uint16_t module_len, name_len;
  const uint8_t *params, *results;
  uint8_t nparams, nresults;
} host_def;

typedef struct {
  uint8_t *p;
  size_t len, cap;
  bool oom;
} buf;

static void put(buf *b, uint8_t v) {
  if (b->len == b->cap) {
    size_t nc = b->cap ? b->cap * 2 : 256;
    uint8_t *np = plat_alloc(nc);
    if (!np) {
      b->oom = true;
      return;
    }
    if (b->p) {
      memcpy(np, b->p, b->len);
      plat_free(b->p, b->cap);
    }
    b->p = np;
    b->cap = nc;
  }
  b->p[b->len++] = v;
}

static void put_u32(buf *b, uint32_t v) {
  do {
    uint8_t c = v & 0x7f;
    v >>= 7;
    put(b, (uint8_t)(c | (v ? 0x80 : 0)));
  } while (v);
}

static void put_bytes(buf *b, const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++) put(b, p[i]);
}

// section appends section `id` with the contents of body.
static void section(buf *out, uint8_t id, buf *body) {
  put(out, id);
  put_u32(out, (uint32_t)body->len);
  put_bytes(out, body->p, body->len);
  out->oom |= body->oom;
  if (body->p) plat_free(body->p, body->cap);
  *body = (buf){0};
}

// synthesize builds the module for defs[0..n) (all of one host module name).
static void synthesize(buf *out, const host_def *defs, uint32_t n) {
  static const uint8_t header[] = {0, 'a', 's', 'm', 1, 0, 0, 0};
  put_bytes(out, header, sizeof header);
  buf b = {0};
  put_u32(&b, n);
  for (uint32_t i = 0; i < n; i++) {
    put(&b, 0x60);
    put_u32(&b, defs[i].nparams);
    put_bytes(&b, defs[i].params, defs[i].nparams);
    put_u32(&b, defs[i].nresults);
    put_bytes(&b, defs[i].results, defs[i].nresults);
  }
  section(out, 1, &b);
  put_u32(&b, n);
  for (uint32_t i = 0; i < n; i++) put_u32(&b, i);
  section(out, 3, &b);
  put_u32(&b, n);
  for (uint32_t i = 0; i < n; i++) {
    put_u32(&b, defs[i].name_len);
    put_bytes(&b, defs[i].name, defs[i].name_len);
    put(&b, 0x00);
    put_u32(&b, i);
  }
  section(out, 7, &b);
  put_u32(&b, n);
  for (uint32_t i = 0; i < n; i++) { // body: no locals, unreachable, end (never runs)
    put(&b, 3);
    put(&b, 0x00);
    put(&b, 0x00);
    put(&b, 0x0b);
  }
  section(out, 10, &b);
}

static void eng_set_error_msg(eng_error *err, uint32_t status, const char *msg) {
  err->status = status;
  err->trap = 0;
  size_t i = 0;
  for (; msg[i] && i < sizeof err->msg - 1; i++) err->msg[i] = msg[i];
  err->msg[i] = 0;
}

static bool same(const uint8_t *a, size_t an, const uint8_t *b, size_t bn) {
  return an == bn && memcmp(a, b, an) == 0;
}

uint32_t rt_define_host(eng_store *store, const uint8_t *p, size_t len, uint32_t count, eng_error *err) {
  if (count == 0) return HL_STATUS_OK;
  if (count > len / 8) {
    eng_set_error_msg(err, HL_STATUS_BAD_REQUEST, "host function table: count exceeds the payload");
    return HL_STATUS_BAD_REQUEST;
  }
  host_def *defs = plat_alloc(sizeof(host_def) * count);
  uint32_t *ids = plat_alloc(sizeof(uint32_t) * count);
  uint32_t st = HL_STATUS_OK;
  if (!defs || !ids) {
    eng_set_error_msg(err, HL_STATUS_NO_MEMORY, "out of memory for the host function table");
    st = HL_STATUS_NO_MEMORY;
    goto out;
  }
  size_t off = 0;
#define NEED(n)                                                                                    \
  do {                                                                                             \
    if ((n) > len - off) {                                                                         \
      eng_set_error_msg(err, HL_STATUS_BAD_REQUEST, "host function table truncated");             \
      st = HL_STATUS_BAD_REQUEST;                                                                  \
      goto out;                                                                                    \
    }                                                                                              \
  } while (0)
  for (uint32_t i = 0; i < count; i++) {
    host_def *d = &defs[i];
    NEED(6);
    d->id = (uint32_t)p[off] | (uint32_t)p[off + 1] << 8 | (uint32_t)p[off + 2] << 16 | (uint32_t)p[off + 3] << 24;
    d->module_len = (uint16_t)(p[off + 4] | p[off + 5] << 8);
    off += 6;
    NEED(d->module_len);
    d->module = p + off;
    off += d->module_len;
    NEED(2);
    d->name_len = (uint16_t)(p[off] | p[off + 1] << 8);
    off += 2;
    NEED(d->name_len);
    d->name = p + off;
    off += d->name_len;
    NEED(1);
    d->nparams = p[off++];
    NEED(d->nparams);
    d->params = p + off;
    off += d->nparams;
    NEED(1);
    d->nresults = p[off++];
    NEED(d->nresults);
    d->results = p + off;
    off += d->nresults;
  }
#undef NEED
  // One synthesized module per distinct module name, its functions in table order.
  bool *done = plat_alloc(count);
  host_def *group = plat_alloc(sizeof(host_def) * count);
  if (!done || !group) {
    eng_set_error_msg(err, HL_STATUS_NO_MEMORY, "out of memory for the host function table");
    st = HL_STATUS_NO_MEMORY;
  }
  for (uint32_t i = 0; i < count && st == HL_STATUS_OK; i++) {
    if (done[i]) continue;
    uint32_t n = 0;
    for (uint32_t j = i; j < count; j++) {
      if (!done[j] && same(defs[j].module, defs[j].module_len, defs[i].module, defs[i].module_len)) {
        done[j] = true;
        group[n] = defs[j];
        ids[n] = defs[j].id;
        n++;
      }
    }
    buf mod = {0};
    synthesize(&mod, group, n);
    uint32_t inst = 0;
    if (mod.oom) {
      eng_set_error_msg(err, HL_STATUS_NO_MEMORY, "out of memory building a host module");
      st = HL_STATUS_NO_MEMORY;
    } else {
      st = eng_instantiate(store, mod.p, mod.len, &inst, err);
      if (st == HL_STATUS_OK) st = eng_bind_host(store, inst, ids, n, err);
      if (st == HL_STATUS_OK)
        st = eng_register(store, inst, (const char *)defs[i].module, defs[i].module_len, err);
    }
    if (mod.p) plat_free(mod.p, mod.cap);
  }
  if (done) plat_free(done, count);
  if (group) plat_free(group, sizeof(host_def) * count);
out:
  if (defs) plat_free(defs, sizeof(host_def) * count);
  if (ids) plat_free(ids, sizeof(uint32_t) * count);
  return st;
}
