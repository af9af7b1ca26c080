// host.c — host functions: instances whose defined functions call out to the embedder.
#include "internal.h"

uint32_t eng_bind_host(eng_store *s, uint32_t inst, const uint32_t *ids, uint32_t n, eng_error *err) {
  if (err) { err->status = 0; err->trap = 0; err->msg[0] = 0; }
  if (inst >= s->ninsts || !s->insts[inst] || !s->insts[inst]->code_ok) {
    eng_set_error(err, HL_STATUS_BAD_REQUEST, "no such instance");
    return HL_STATUS_BAD_REQUEST;
  }
  eng_inst *in = s->insts[inst];
  if (n != in->nown_funcs) {
    eng_set_error(err, HL_STATUS_BAD_REQUEST, "host function count differs from the module's");
    return HL_STATUS_BAD_REQUEST;
  }
  for (uint32_t i = 0; i < n; i++) {
    in->own_funcs[i].is_host = true;
    in->own_funcs[i].host_id = ids[i];
  }
  return HL_STATUS_OK;
}

uint32_t eng_memory_grow(eng_store *s, uint32_t inst, const uint8_t *at, uint32_t delta, uint32_t *prev,
                         uint8_t **base, uint64_t *size, eng_error *err) {
  if (err) { err->status = 0; err->trap = 0; err->msg[0] = 0; }
  eng_mem *m = NULL;
  if (inst == UINT32_MAX) {
    for (uint32_t i = 0; i < s->ninsts && !m; i++) {
      eng_inst *in = s->insts[i];
      if (in && in->code_ok && in->mem && in->mem->base == at) m = in->mem;
    }
  } else if (inst < s->ninsts && s->insts[inst] && s->insts[inst]->code_ok) {
    m = s->insts[inst]->mem;
  } else {
    eng_set_error(err, HL_STATUS_BAD_REQUEST, "no such instance");
    return HL_STATUS_BAD_REQUEST;
  }
  if (!m) {
    eng_set_error(err, HL_STATUS_BAD_REQUEST, "no such memory");
    return HL_STATUS_BAD_REQUEST;
  }
  *prev = eng_mem_grow(m, delta);
  *base = m->base;
  *size = m->size;
  return HL_STATUS_OK;
}

// Hosted builds (tests, fuzzing) have no host: every host call fails.
__attribute__((weak)) uint32_t plat_host_call(uint32_t id, uint64_t *slots, uint32_t nparams,
                                              uint32_t nresults, uint8_t *mem, uint64_t mem_size) {
  (void)id, (void)slots, (void)nparams, (void)nresults, (void)mem, (void)mem_size;
  return 1;
}

uint32_t eng_memory_view(eng_store *s, uint32_t inst, uint8_t **base, uint64_t *size, eng_error *err) {
  if (err) { err->status = 0; err->trap = 0; err->msg[0] = 0; }
  if (inst >= s->ninsts || !s->insts[inst] || !s->insts[inst]->code_ok) {
    eng_set_error(err, HL_STATUS_BAD_REQUEST, "no such instance");
    return HL_STATUS_BAD_REQUEST;
  }
  eng_mem *m = s->insts[inst]->mem;
  *base = m ? m->base : NULL;
  *size = m ? m->size : 0;
  return HL_STATUS_OK;
}
