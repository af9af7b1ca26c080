// spectest_runner.c — runs the WebAssembly spec test suite, in wabt's wast2json form (a .json
// command script plus .wasm files per .wast), against the engine (engine.h).
//
//   spectest_runner [options] FILE.json|DIR ...
//
// Every JSON file runs in a fresh store that holds the `spectest` host module (tests/spectest/spectest.wat),
// registered as "spectest", its print functions bound as host functions (spectest_host.c). Each file runs in a forked child (unless -nofork) on a thread with
// a stack of -stack KiB. An engine crash, a sanitizer report or a hang (-timeout) fails the
// command it happened in, and the file runs again without that command. See usage().
//
// Exports are addressed by index (engine.h): wasm_info reads the index of a name from the
// module's export section. Text-format assertions (module_type "text") are counted as n/a.
#define _DEFAULT_SOURCE // fork, mmap MAP_ANONYMOUS, fnmatch, dirent
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../engine/engine.h"
#include "../engine/jit.h"
#include "json.h"
#include "spec_value.h"
#include "spectest_host.h"
#include "wasm_info.h"

// ---- options ----

typedef struct {
  char *pattern; // fnmatch pattern on a JSON file's base name or path, or "file.json:LINE"
  char *reason;
} skip_rule;

static struct {
  bool verbose;
  bool strict_text; // also compare messages of assert_invalid/_malformed/_unlinkable
  bool fork;
  bool host_funcs; // spectest's print functions as host functions (eng_bind_host)
  unsigned max_failures; // failures printed in full per file
  unsigned timeout;      // seconds per command, 0 = none (forked runs only)
  size_t stack_kib;
  eng_limits limits;
  skip_rule *skips;
  size_t nskips;
} opt = {
    .fork = true,
    .host_funcs = true,
    .max_failures = 5,
    .timeout = 30,
    // The guest's user stack is ~2 MiB (HL_U_STACK_BASE..HL_U_STACK_TOP); half of it under ASan
    // flags native recursion that would not fit there.
    .stack_kib = 1024,
    .limits = {.max_memory_pages = 65536, .max_call_depth = 10000, .fuel = 0},
};

// ---- results ----

enum { MAX_CRASHES = 16 }; // per file; after each, the file reruns without the crashing command

// Lives in shared memory so that the parent sees how far a crashed child got.
typedef struct {
  uint64_t passed, failed, skipped, na;
  long line; // line of the command being run
  bool done;
  long crashed[MAX_CRASHES]; // lines of commands that crashed or hung in earlier runs
  unsigned ncrashed;
  long quiet_until; // a rerun prints no failure details up to this line (printed already)
} counts;

// ---- per-file state ----

typedef struct {
  char *name; // "$M" or NULL
  uint32_t inst;
  bool ok; // instantiated
  wasm_info info;
} module;

typedef struct {
  const char *path;     // JSON file
  const char *base;     // its base name
  char *dir;            // directory of the .wasm files
  eng_store *store;
  module *mods;
  size_t nmods, cap;
  long current;         // index in mods of the current module, -1 none
  // A module was refused with HL_STATUS_UNSUPPORTED (a proposal the engine does not
  // implement): it is skipped, and so are later commands that find no module to use.
  bool unsupported;
  counts *c;
  unsigned printed;     // failure details printed so far
  const json *cmds;     // the file's commands, and the index of the one running
  size_t at;
  const char *last_def; // module_definition: the file of the last one (for an unnamed instance)
} file_ctx;

// ---- small helpers ----

static void *xcalloc(size_t n, size_t size) {
  void *p = calloc(n ? n : 1, size ? size : 1);
  if (p == NULL) {
    fprintf(stderr, "spectest_runner: out of memory\n");
    exit(2);
  }
  return p;
}

static char *xstrdup(const char *s) {
  char *d = strdup(s);
  if (d == NULL) {
    fprintf(stderr, "spectest_runner: out of memory\n");
    exit(2);
  }
  return d;
}

static bool read_file(const char *path, uint8_t **data, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) return false;
  size_t cap = 1 << 16, n = 0;
  uint8_t *b = malloc(cap);
  while (b != NULL) {
    n += fread(b + n, 1, cap - n, f);
    if (n < cap) break;
    cap *= 2;
    uint8_t *nb = realloc(b, cap);
    if (nb == NULL) free(b);
    b = nb;
  }
  bool ok = b != NULL && !ferror(f);
  fclose(f);
  if (!ok) {
    free(b);
    return false;
  }
  *data = b;
  *len = n;
  return true;
}

#define RUNNER_ERROR UINT32_MAX // a "status" for failures of the runner, not the engine

static const char *status_name(uint32_t st) {
  static const char *names[] = {"OK", "MALFORMED", "INVALID", "UNLINKABLE", "TRAP",
                                "LIMIT", "NO_MEMORY", "BAD_REQUEST", "UNSUPPORTED"};
  if (st == RUNNER_ERROR) return "runner error";
  return st < sizeof names / sizeof names[0] ? names[st] : "unknown status";
}

// Records a failure; prints the details of the first few (all with -v).
static void failure(file_ctx *f, const json *cmd, const char *fmt, ...) {
  f->c->failed++;
  if (json_get_long(cmd, "line", 0) <= f->c->quiet_until) return;
  if (!opt.verbose && f->printed >= opt.max_failures) return;
  f->printed++;
  const char *type = json_get_str(cmd, "type");
  printf("  FAIL %s:%ld %s: ", f->base, json_get_long(cmd, "line", 0), type ? type : "?");
  va_list ap;
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  printf("\n");
}

static void pass(file_ctx *f, const json *cmd) {
  f->c->passed++;
  if (opt.verbose)
    printf("  ok   %s:%ld %s\n", f->base, json_get_long(cmd, "line", 0),
           json_get_str(cmd, "type") ? json_get_str(cmd, "type") : "?");
}

static void skip(file_ctx *f, const json *cmd, const char *why) {
  f->c->skipped++;
  printf("  skip %s:%ld %s: %s\n", f->base, json_get_long(cmd, "line", 0),
         json_get_str(cmd, "type") ? json_get_str(cmd, "type") : "?", why);
}

// Printable form of a JSON string that may hold any bytes (export names in names.wast).
static const char *printable(const char *s, size_t n, char *out, size_t out_size) {
  size_t o = 0;
  for (size_t i = 0; i < n && o + 5 < out_size; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') out[o++] = (char)c;
    else o += (size_t)snprintf(out + o, out_size - o, "\\%02x", c);
  }
  out[o] = 0;
  return out;
}

// ---- modules ----

static module *find_module(file_ctx *f, const char *name) {
  if (name == NULL) return f->current >= 0 ? &f->mods[f->current] : NULL;
  for (size_t i = f->nmods; i-- > 0;)
    if (f->mods[i].name != NULL && strcmp(f->mods[i].name, name) == 0) return &f->mods[i];
  return NULL;
}

// Loads dir/filename and instantiates it. On success adds a module and returns OK.
static uint32_t instantiate_file(file_ctx *f, const char *filename, const char *name,
                                 eng_error *err, module **out) {
  memset(err, 0, sizeof *err);
  *out = NULL;
  size_t plen = strlen(f->dir) + strlen(filename) + 2;
  char *path = xcalloc(plen, 1);
  snprintf(path, plen, "%s/%s", f->dir, filename);
  uint8_t *bytes;
  size_t len;
  if (!read_file(path, &bytes, &len)) {
    snprintf(err->msg, sizeof err->msg, "runner: cannot read %s: %s", path, strerror(errno));
    free(path);
    return RUNNER_ERROR;
  }
  free(path);
  uint32_t inst = 0;
  uint32_t st = eng_instantiate(f->store, bytes, len, &inst, err);
  err->msg[sizeof err->msg - 1] = 0; // whatever the engine wrote, keep it a C string
  if (st == HL_STATUS_OK) {
    if (f->nmods == f->cap) {
      f->cap = f->cap ? f->cap * 2 : 16;
      module *nm = realloc(f->mods, f->cap * sizeof *nm);
      if (nm == NULL) {
        fprintf(stderr, "spectest_runner: out of memory\n");
        exit(2);
      }
      f->mods = nm;
    }
    module *m = &f->mods[f->nmods++];
    memset(m, 0, sizeof *m);
    m->name = name ? xstrdup(name) : NULL;
    m->inst = inst;
    m->ok = true;
    if (!wasm_info_read(bytes, len, &m->info)) {
      snprintf(err->msg, sizeof err->msg, "runner: cannot read the export section of %s",
               filename);
      m->ok = false;
      st = RUNNER_ERROR;
    }
    *out = m;
  }
  free(bytes);
  return st;
}

static void free_modules(file_ctx *f) {
  for (size_t i = 0; i < f->nmods; i++) {
    free(f->mods[i].name);
    wasm_info_free(&f->mods[i].info);
  }
  free(f->mods);
  f->mods = NULL;
  f->nmods = f->cap = 0;
}

// ---- actions ----

typedef enum { ACT_DONE, ACT_ERROR, ACT_SKIP } act_result;

typedef struct {
  uint32_t status;     // engine status
  eng_error err;
  uint64_t results[HL_MAX_VALUES];
  uint32_t nresults;
  uint8_t global_type; // "get"
  char why[256];       // ACT_ERROR / ACT_SKIP
} act_out;

// Runs an "invoke" or "get" action.
static act_result run_action(file_ctx *f, const json *action, act_out *o) {
  memset(o, 0, sizeof *o);
  const char *type = json_get_str(action, "type");
  const json *field = json_get(action, "field");
  const char *modname = json_get_str(action, "module");
  char pbuf[128];
  if (type == NULL || field == NULL || field->type != JSON_STRING) {
    snprintf(o->why, sizeof o->why, "malformed action");
    return ACT_ERROR;
  }
  module *m = find_module(f, modname);
  if ((m == NULL || !m->ok) && f->unsupported) {
    snprintf(o->why, sizeof o->why, "no module: one of this file was refused as an unsupported feature");
    return ACT_SKIP;
  }
  if (m == NULL || !m->ok) {
    if (modname == NULL)
      snprintf(o->why, sizeof o->why, "no current module (the last one did not instantiate)");
    else
      snprintf(o->why, sizeof o->why, "module %s %s", modname,
               m ? "did not instantiate" : "is not defined");
    return ACT_ERROR;
  }
  bool invoke = strcmp(type, "invoke") == 0;
  if (!invoke && strcmp(type, "get") != 0) {
    snprintf(o->why, sizeof o->why, "unknown action type %s", type);
    return ACT_SKIP;
  }
  int64_t idx = wasm_info_find(&m->info, field->str, field->len,
                               invoke ? WASM_EXTERN_FUNC : WASM_EXTERN_GLOBAL);
  if (idx < 0) {
    snprintf(o->why, sizeof o->why, "no %s export \"%s\"", invoke ? "function" : "global",
             printable(field->str, field->len, pbuf, sizeof pbuf));
    return ACT_ERROR;
  }
  if (!invoke) {
    uint64_t out[2] = {0, 0};
    o->status = eng_global_get(f->store, m->inst, (uint32_t)idx, out, &o->global_type, &o->err);
    o->err.msg[sizeof o->err.msg - 1] = 0;
    o->results[0] = out[0];
    o->results[1] = out[1];
    o->nresults = (uint32_t)spec_type_slots(o->global_type);
    return ACT_DONE;
  }
  const json *args = json_get(action, "args");
  uint64_t params[HL_MAX_VALUES];
  uint32_t np = 0;
  for (size_t i = 0; args != NULL && args->type == JSON_ARRAY && i < args->n; i++) {
    spec_val v;
    bool unsupported;
    const char *bad = spec_parse_value(args->items[i], &v, &unsupported);
    if (bad != NULL) {
      snprintf(o->why, sizeof o->why, "argument %zu: %s", i, bad);
      return unsupported ? ACT_SKIP : ACT_ERROR;
    }
    if (v.any_nonnull) { // a result pattern (e.g. hostref: a host value inside anyref) as an argument
      snprintf(o->why, sizeof o->why, "argument %zu: a reference the runner cannot make", i);
      return ACT_SKIP;
    }
    int n = spec_type_slots(v.type);
    if (np + (uint32_t)n > HL_MAX_VALUES) {
      snprintf(o->why, sizeof o->why, "more than %d argument slots", (int)HL_MAX_VALUES);
      return ACT_SKIP;
    }
    for (int k = 0; k < n; k++) params[np++] = v.slot[k];
  }
  o->status = eng_call(f->store, m->inst, (uint32_t)idx, params, np, o->results, &o->nresults,
                       &o->err);
  o->err.msg[sizeof o->err.msg - 1] = 0;
  if (o->status == HL_STATUS_OK && o->nresults > HL_MAX_VALUES) {
    snprintf(o->why, sizeof o->why, "engine reported %u results (max %d)", o->nresults,
             (int)HL_MAX_VALUES);
    return ACT_ERROR;
  }
  return ACT_DONE;
}

static const char *action_field(const json *cmd, char *buf, size_t size) {
  const json *field = json_get(json_get(cmd, "action"), "field");
  if (field == NULL || field->type != JSON_STRING) return "?";
  return printable(field->str, field->len, buf, size);
}

// ---- commands ----

static bool is_text_module(const json *cmd) {
  const char *mt = json_get_str(cmd, "module_type");
  return mt != NULL && strcmp(mt, "text") == 0;
}

// True when the engine's message starts with the expected one (as the reference interpreter
// checks assert_trap).
static bool msg_matches(const char *expected, const char *got) {
  return expected == NULL || strncmp(got, expected, strlen(expected)) == 0;
}

static void cmd_module_file(file_ctx *f, const json *cmd, const char *filename) {
  const char *name = json_get_str(cmd, "name");
  f->current = -1;
  if (filename == NULL) {
    failure(f, cmd, "module without a filename");
    return;
  }
  eng_error err;
  module *m;
  uint32_t st = instantiate_file(f, filename, name, &err, &m);
  if (m != NULL) f->current = m - f->mods;
  if (st == HL_STATUS_UNSUPPORTED) {
    char why[300];
    snprintf(why, sizeof why, "%s: unsupported feature: %s", filename, err.msg);
    f->unsupported = true;
    skip(f, cmd, why);
    return;
  }
  if (st != HL_STATUS_OK) {
    failure(f, cmd, "%s: instantiation failed: %s: %s", filename, status_name(st), err.msg);
    return;
  }
  pass(f, cmd);
}

static void cmd_module(file_ctx *f, const json *cmd) { cmd_module_file(f, cmd, json_get_str(cmd, "filename")); }

static bool same_name(const char *a, const char *b) {
  return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

// The file of module definition `name` (NULL: the last one), searching back from the current
// command.
static const char *definition_file(const file_ctx *f, const char *name) {
  if (name == NULL) return f->last_def;
  for (size_t i = f->at; i-- > 0;) {
    const json *c = f->cmds->items[i];
    const char *t = json_get_str(c, "type");
    if (t != NULL && strcmp(t, "module_definition") == 0 && same_name(json_get_str(c, "name"), name))
      return json_get_str(c, "filename");
  }
  return NULL;
}

// module_definition: a module only defined. One that no later module_instance instantiates is
// instantiated once to check that it validates (MALFORMED/INVALID fail; a trap or an unlinkable
// import pass: those are instantiation's; an engine limit is a skip); an instantiated one is
// checked there.
static void cmd_module_definition(file_ctx *f, const json *cmd) {
  const char *filename = json_get_str(cmd, "filename");
  const char *name = json_get_str(cmd, "name");
  if (filename == NULL) {
    failure(f, cmd, "module definition without a filename");
    return;
  }
  f->last_def = filename;
  for (size_t i = f->at + 1; i < f->cmds->n; i++) {
    const json *c = f->cmds->items[i];
    const char *t = json_get_str(c, "type");
    if (t == NULL) continue;
    if (strcmp(t, "module_instance") == 0) {
      const char *def = json_get_str(c, "module");
      if (def == NULL || same_name(def, name)) {
        pass(f, cmd);
        return;
      }
    }
  }
  eng_error err;
  module *m;
  uint32_t st = instantiate_file(f, filename, NULL, &err, &m);
  if (st == HL_STATUS_UNSUPPORTED || st == HL_STATUS_LIMIT) { // as the Go runner: not known to validate
    char why[300];
    snprintf(why, sizeof why, "%s: %s: %s", filename, st == HL_STATUS_LIMIT ? "engine limit" : "unsupported feature", err.msg);
    skip(f, cmd, why);
  } else if (st == HL_STATUS_OK || st == HL_STATUS_TRAP || st == HL_STATUS_UNLINKABLE)
    pass(f, cmd);
  else failure(f, cmd, "%s: a definition that must validate: %s %s", filename, status_name(st), err.msg);
}

// module_instance: instantiates a definition ("module", absent: the last one) as "name".
static void cmd_module_instance(file_ctx *f, const json *cmd) {
  const char *filename = definition_file(f, json_get_str(cmd, "module"));
  if (filename == NULL) {
    f->current = -1;
    failure(f, cmd, "no such module definition");
    return;
  }
  cmd_module_file(f, cmd, filename);
}

static void cmd_register(file_ctx *f, const json *cmd) {
  const char *as = json_get_str(cmd, "as");
  const char *name = json_get_str(cmd, "name");
  module *m = find_module(f, name);
  if (as != NULL && (m == NULL || !m->ok) && f->unsupported) {
    skip(f, cmd, "no module: one of this file was refused as an unsupported feature");
    return;
  }
  if (as == NULL || m == NULL || !m->ok) {
    failure(f, cmd, "cannot register %s as %s: no such instantiated module",
            name ? name : "(current)", as ? as : "?");
    return;
  }
  eng_error err;
  memset(&err, 0, sizeof err);
  uint32_t st = eng_register(f->store, m->inst, as, strlen(as), &err);
  err.msg[sizeof err.msg - 1] = 0;
  if (st != HL_STATUS_OK) {
    failure(f, cmd, "eng_register(%s): %s: %s", as, status_name(st), err.msg);
    return;
  }
  pass(f, cmd);
}

// "action" and "assert_return".
static void cmd_return(file_ctx *f, const json *cmd, bool check) {
  char fbuf[128];
  const char *field = action_field(cmd, fbuf, sizeof fbuf);
  act_out *o = xcalloc(1, sizeof *o);
  act_result r = run_action(f, json_get(cmd, "action"), o);
  if (r == ACT_SKIP) {
    skip(f, cmd, o->why);
  } else if (r == ACT_ERROR) {
    failure(f, cmd, "%s: %s", field, o->why);
  } else if (o->status != HL_STATUS_OK) {
    failure(f, cmd, "%s: %s: %s", field, status_name(o->status), o->err.msg);
  } else if (!check) {
    pass(f, cmd);
  } else {
    const json *exp = json_get(cmd, "expected");
    const json *either = json_get(cmd, "either"); // relaxed SIMD: one result, one of these
    spec_val ev[HL_MAX_VALUES];
    uint32_t ne = 0, slots = 0;
    if (exp == NULL && either != NULL && either->type == JSON_ARRAY) {
      bool any = false;
      for (size_t i = 0; i < either->n && !any; i++) {
        bool unsupported;
        const char *bad = spec_parse_value(either->items[i], &ev[0], &unsupported);
        if (bad != NULL) {
          failure(f, cmd, "%s: either value %zu: %s", field, i, bad);
          goto out;
        }
        any = o->nresults == (uint32_t)spec_type_slots(ev[0].type) && spec_match_value(&ev[0], o->results);
      }
      if (any) pass(f, cmd);
      else failure(f, cmd, "%s: the result is none of the %zu allowed", field, either->n);
      goto out;
    }
    for (size_t i = 0; exp != NULL && exp->type == JSON_ARRAY && i < exp->n; i++) {
      bool unsupported;
      const char *bad = ne < HL_MAX_VALUES ? spec_parse_value(exp->items[i], &ev[ne], &unsupported)
                                           : "too many results";
      if (bad != NULL) {
        failure(f, cmd, "%s: expected value %zu: %s", field, i, bad);
        goto out;
      }
      slots += (uint32_t)spec_type_slots(ev[ne].type);
      ne++;
    }
    bool get = strcmp(json_get_str(json_get(cmd, "action"), "type"), "get") == 0;
    bool ok = o->nresults == slots && (!get || (ne == 1 && o->global_type == ev[0].type));
    for (uint32_t i = 0, s = 0; ok && i < ne; s += (uint32_t)spec_type_slots(ev[i].type), i++)
      ok = spec_match_value(&ev[i], &o->results[s]);
    if (ok) {
      pass(f, cmd);
    } else {
      char want[1024] = "", got[1024] = "";
      for (uint32_t i = 0; i < ne; i++) {
        if (i) strncat(want, " ", sizeof want - strlen(want) - 1);
        spec_format_expected(want, sizeof want, &ev[i]);
      }
      // Print what came back with the expected types, as far as they go.
      for (uint32_t i = 0, s = 0; i < ne && s + (uint32_t)spec_type_slots(ev[i].type) <= o->nresults;
           s += (uint32_t)spec_type_slots(ev[i].type), i++) {
        if (i) strncat(got, " ", sizeof got - strlen(got) - 1);
        spec_format_slots(got, sizeof got, get ? o->global_type : ev[i].type, &o->results[s]);
      }
      failure(f, cmd, "%s: expected [%s], got %u slot%s [%s]", field, want, o->nresults,
              o->nresults == 1 ? "" : "s", got);
    }
  }
out:
  free(o);
}

// "assert_trap" and "assert_exhaustion" on an action.
// assert_trap, assert_exhaustion (want: HL_TRAP_CALL_STACK_EXHAUSTED), assert_exception (want:
// HL_TRAP_UNCAUGHT_EXCEPTION, no text); want 0: any trap code.
static void cmd_trap(file_ctx *f, const json *cmd, uint32_t want) {
  char fbuf[128];
  const char *field = action_field(cmd, fbuf, sizeof fbuf);
  const char *text = json_get_str(cmd, "text");
  act_out *o = xcalloc(1, sizeof *o);
  act_result r = run_action(f, json_get(cmd, "action"), o);
  if (r == ACT_SKIP) skip(f, cmd, o->why);
  else if (r == ACT_ERROR) failure(f, cmd, "%s: %s", field, o->why);
  else if (o->status != HL_STATUS_TRAP)
    failure(f, cmd, "%s: expected trap \"%s\", got %s %s", field, text ? text : "",
            status_name(o->status), o->err.msg);
  else if (text && !msg_matches(text, o->err.msg))
    failure(f, cmd, "%s: expected trap \"%s\", got trap %u \"%s\"", field, text ? text : "",
            o->err.trap, o->err.msg);
  else if (want && o->err.trap != want)
    failure(f, cmd, "%s: expected trap code %d, got %u \"%s\"", field, (int)want, o->err.trap,
            o->err.msg);
  else pass(f, cmd);
  free(o);
}

// assert_invalid, assert_malformed, assert_unlinkable, assert_uninstantiable, and assert_trap
// on a module: instantiation must fail with `want`.
static void cmd_bad_module(file_ctx *f, const json *cmd, uint32_t want) {
  const char *filename = json_get_str(cmd, "filename");
  const char *text = json_get_str(cmd, "text");
  if (filename == NULL) {
    failure(f, cmd, "no filename");
    return;
  }
  eng_error err;
  module *m;
  uint32_t st = instantiate_file(f, filename, NULL, &err, &m);
  if (st == HL_STATUS_UNSUPPORTED) {
    char why[300];
    snprintf(why, sizeof why, "%s: unsupported feature: %s", filename, err.msg);
    skip(f, cmd, why);
  } else if (st != want)
    failure(f, cmd, "%s: expected %s \"%s\", got %s %s", filename, status_name(want),
            text ? text : "", status_name(st), err.msg);
  else if ((want == HL_STATUS_TRAP || opt.strict_text) && !msg_matches(text, err.msg))
    failure(f, cmd, "%s: expected %s \"%s\", got \"%s\"", filename, status_name(want),
            text ? text : "", err.msg);
  else pass(f, cmd);
}

static const char *command_skip_reason(const file_ctx *f, long line) {
  char key[512];
  snprintf(key, sizeof key, "%s:%ld", f->base, line);
  for (size_t i = 0; i < opt.nskips; i++)
    if (strchr(opt.skips[i].pattern, ':') != NULL && fnmatch(opt.skips[i].pattern, key, 0) == 0)
      return opt.skips[i].reason;
  return NULL;
}

static void run_command(file_ctx *f, const json *cmd) {
  const char *type = json_get_str(cmd, "type");
  long line = json_get_long(cmd, "line", 0);
  f->c->line = line;
  if (opt.fork && opt.timeout) alarm(opt.timeout); // SIGALRM ends the child: a hang
  if (type == NULL) {
    failure(f, cmd, "command without a type");
    return;
  }
  if (is_text_module(cmd)) { // assert_malformed/assert_invalid in text form: not our business
    f->c->na++;
    return;
  }
  for (unsigned i = 0; i < f->c->ncrashed; i++) {
    if (f->c->crashed[i] == line) {
      f->c->failed++; // reported when it crashed
      return;
    }
  }
  const char *reason = command_skip_reason(f, line);
  if (reason != NULL) {
    skip(f, cmd, reason);
    return;
  }
  if (strcmp(type, "module") == 0) cmd_module(f, cmd);
  else if (strcmp(type, "module_definition") == 0) cmd_module_definition(f, cmd);
  else if (strcmp(type, "module_instance") == 0) cmd_module_instance(f, cmd);
  else if (strcmp(type, "register") == 0) cmd_register(f, cmd);
  else if (strcmp(type, "action") == 0) cmd_return(f, cmd, false);
  else if (strcmp(type, "assert_return") == 0) cmd_return(f, cmd, true);
  else if (strcmp(type, "assert_exhaustion") == 0) cmd_trap(f, cmd, HL_TRAP_CALL_STACK_EXHAUSTED);
  else if (strcmp(type, "assert_exception") == 0) cmd_trap(f, cmd, HL_TRAP_UNCAUGHT_EXCEPTION);
  else if (strcmp(type, "assert_trap") == 0) {
    if (json_get(cmd, "action") != NULL) cmd_trap(f, cmd, 0);
    else cmd_bad_module(f, cmd, HL_STATUS_TRAP);
  } else if (strcmp(type, "assert_invalid") == 0) cmd_bad_module(f, cmd, HL_STATUS_INVALID);
  else if (strcmp(type, "assert_malformed") == 0) cmd_bad_module(f, cmd, HL_STATUS_MALFORMED);
  else if (strcmp(type, "assert_unlinkable") == 0) cmd_bad_module(f, cmd, HL_STATUS_UNLINKABLE);
  else if (strcmp(type, "assert_uninstantiable") == 0) cmd_bad_module(f, cmd, HL_STATUS_TRAP);
  else skip(f, cmd, "unknown command type");
}

// ---- files ----

static const char *base_name(const char *path) {
  const char *s = strrchr(path, '/');
  return s ? s + 1 : path;
}

static const char *file_skip_reason(const char *path) {
  for (size_t i = 0; i < opt.nskips; i++) {
    const char *p = opt.skips[i].pattern;
    if (strchr(p, ':') != NULL) continue; // a command rule
    if (fnmatch(p, base_name(path), 0) == 0 || fnmatch(p, path, 0) == 0) return opt.skips[i].reason;
  }
  return NULL;
}

static json *load_json(const char *path) {
  uint8_t *text;
  size_t len;
  if (!read_file(path, &text, &len)) {
    printf("%s: cannot read: %s\n", path, strerror(errno));
    return NULL;
  }
  char err[256];
  json *doc = json_parse((const char *)text, len, err, sizeof err);
  free(text);
  if (doc == NULL) printf("%s: %s\n", path, err);
  return doc;
}

static const json *commands_of(const json *doc) {
  const json *cmds = json_get(doc, "commands");
  return cmds != NULL && cmds->type == JSON_ARRAY ? cmds : NULL;
}

// Runs one JSON file, adding to *c.
static void run_file(const char *path, counts *c) {
  json *doc = load_json(path);
  const json *cmds = commands_of(doc);
  if (cmds == NULL) {
    if (doc != NULL) printf("%s: no command list\n", path);
    c->failed++;
    json_free(doc);
    return;
  }
  file_ctx f = {.path = path, .base = base_name(path), .current = -1, .c = c};
  f.dir = xstrdup(path);
  char *slash = strrchr(f.dir, '/');
  if (slash != NULL) *slash = 0;
  else strcpy(f.dir, ".");

  f.store = eng_store_new(&opt.limits);
  if (f.store == NULL) {
    printf("%s: eng_store_new failed\n", path);
    c->failed++;
    goto out;
  }
  eng_error err;
  uint32_t st = spectest_setup(f.store, opt.host_funcs, &err);
  if (st != HL_STATUS_OK) { // keep going: modules that do not import spectest can still pass
    c->failed++;
    printf("  FAIL %s: %s: %s\n", f.base, status_name(st), err.msg);
  }

  f.cmds = cmds;
  for (f.at = 0; f.at < cmds->n; f.at++) run_command(&f, cmds->items[f.at]);
  c->line = 0; // a crash from here on is in teardown
  eng_store_free(f.store);
out:
  free_modules(&f);
  free(f.dir);
  json_free(doc);
}

// Counts a skipped file's commands (text-form modules as n/a, as when it runs).
static void count_skipped_file(const char *path, counts *c) {
  json *doc = load_json(path);
  const json *cmds = commands_of(doc);
  for (size_t i = 0; cmds != NULL && i < cmds->n; i++) {
    if (is_text_module(cmds->items[i])) c->na++;
    else c->skipped++;
  }
  json_free(doc);
}

typedef struct {
  const char *path;
  counts *c;
} thread_arg;

static void *file_thread(void *p) {
  thread_arg *a = p;
  run_file(a->path, a->c);
  return NULL;
}

// Runs run_file on a thread with opt.stack_kib of stack: a fixed size, near the guest's, so that
// native stack use the guest could not afford shows up here, reproducibly.
static void run_file_on_thread(const char *path, counts *c) {
  pthread_attr_t attr;
  pthread_t t;
  thread_arg a = {path, c};
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, opt.stack_kib * 1024);
  if (pthread_create(&t, &attr, file_thread, &a) != 0) {
    printf("%s: pthread_create failed\n", path);
    c->failed++;
  } else {
    pthread_join(t, NULL);
  }
  pthread_attr_destroy(&attr);
  c->done = true;
}

// Runs one file in a forked child. Returns false when it should run again: the child crashed or
// hung at a command, which is now in c->crashed; c then holds the counts of the next run.
static bool run_forked(const char *path, counts *c) {
  const char *base = base_name(path);
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) {
    perror("fork");
    exit(2);
  }
  if (pid == 0) {
    if (opt.timeout) alarm(opt.timeout); // store setup; run_command re-arms it per command
    run_file_on_thread(path, c);
    alarm(0);
    fflush(stdout);
    exit(0); // leak checks (LSan) run here; the parent sees their exit code
  }
  int ws;
  while (waitpid(pid, &ws, 0) < 0 && errno == EINTR) {
  }
  if (c->done) {
    if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0) {
      c->failed++;
      printf("  FAIL %s: exit code %d at exit (leak or sanitizer report on stderr)\n", base,
             WIFEXITED(ws) ? WEXITSTATUS(ws) : -1);
    }
    return true;
  }
  if (WIFSIGNALED(ws) && WTERMSIG(ws) == SIGALRM)
    printf("  FAIL %s:%ld: timed out after %u s\n", base, c->line, opt.timeout);
  else if (WIFSIGNALED(ws))
    printf("  FAIL %s:%ld: crashed: signal %d (%s)\n", base, c->line, WTERMSIG(ws),
           strsignal(WTERMSIG(ws)));
  else
    printf("  FAIL %s:%ld: crashed: exit code %d (a sanitizer report is on stderr)\n", base,
           c->line, WIFEXITED(ws) ? WEXITSTATUS(ws) : -1);
  if (c->line <= 0) printf("  (line 0: while setting up the store or freeing it)\n");
  bool known = false;
  for (unsigned i = 0; i < c->ncrashed; i++) known |= c->crashed[i] == c->line;
  if (known || c->line <= 0 || c->ncrashed == MAX_CRASHES) {
    if (c->ncrashed == MAX_CRASHES) printf("  FAIL %s: too many crashes, giving up\n", base);
    c->failed++;
    return true;
  }
  // Run again without the crashing command; failures up to it were printed already.
  c->crashed[c->ncrashed++] = c->line;
  c->quiet_until = c->line;
  c->passed = c->failed = c->skipped = c->na = 0;
  c->line = 0;
  return false;
}

// Runs one file in a forked child (or in-process with -nofork) and adds its counts to *total.
static void run_one(const char *path, counts *total) {
  const char *base = base_name(path);
  counts *c = mmap(NULL, sizeof *c, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (c == MAP_FAILED) {
    perror("mmap");
    exit(2);
  }
  memset(c, 0, sizeof *c);
  const char *reason = file_skip_reason(path);
  if (reason != NULL) {
    count_skipped_file(path, c);
    printf("%s: skipped (%s): %" PRIu64 " commands\n", base, reason, c->skipped);
  } else if (!opt.fork) {
    run_file_on_thread(path, c);
  } else {
    while (!run_forked(path, c)) {
    }
  }
  if (reason == NULL) {
    printf("%s: %" PRIu64 " passed, %" PRIu64 " failed, %" PRIu64 " skipped", base, c->passed,
           c->failed, c->skipped);
    if (c->na) printf(", %" PRIu64 " n/a (text format)", c->na);
    printf("\n");
  }
  total->passed += c->passed;
  total->failed += c->failed;
  total->skipped += c->skipped;
  total->na += c->na;
  munmap(c, sizeof *c);
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

// Adds the JSON files of a directory (sorted), or the path itself, to *list.
static void collect(const char *path, char ***list, size_t *n, size_t *cap) {
  DIR *d = opendir(path);
  size_t first = *n;
  if (d == NULL) {
    if (*n == *cap) {
      *cap = *cap ? *cap * 2 : 64;
      *list = realloc(*list, *cap * sizeof **list);
      if (*list == NULL) exit(2);
    }
    (*list)[(*n)++] = xstrdup(path);
    return;
  }
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    size_t l = strlen(e->d_name);
    if (l < 5 || strcmp(e->d_name + l - 5, ".json") != 0) continue;
    if (*n == *cap) {
      *cap = *cap ? *cap * 2 : 64;
      *list = realloc(*list, *cap * sizeof **list);
      if (*list == NULL) exit(2);
    }
    size_t pl = strlen(path) + l + 2;
    char *p = xcalloc(pl, 1);
    snprintf(p, pl, "%s/%s", path, e->d_name);
    (*list)[(*n)++] = p;
  }
  closedir(d);
  qsort(*list + first, *n - first, sizeof **list, cmp_str);
}

// ---- options ----

// Adds a rule "PATTERN reason words...".
static void add_skip(const char *line) {
  while (*line == ' ' || *line == '\t') line++;
  if (*line == 0 || *line == '#') return;
  const char *sp = line + strcspn(line, " \t");
  const char *r = sp + strspn(sp, " \t");
  opt.skips = realloc(opt.skips, (opt.nskips + 1) * sizeof *opt.skips);
  if (opt.skips == NULL) exit(2);
  skip_rule *s = &opt.skips[opt.nskips++];
  s->pattern = xcalloc((size_t)(sp - line) + 1, 1);
  memcpy(s->pattern, line, (size_t)(sp - line));
  s->reason = xstrdup(*r ? r : "no reason given");
  size_t rl = strlen(s->reason);
  while (rl > 0 && (s->reason[rl - 1] == '\n' || s->reason[rl - 1] == ' ')) s->reason[--rl] = 0;
}

static void load_skiplist(const char *path) {
  FILE *fp = fopen(path, "r");
  if (fp == NULL) {
    fprintf(stderr, "spectest_runner: %s: %s\n", path, strerror(errno));
    exit(2);
  }
  char line[1024];
  while (fgets(line, sizeof line, fp) != NULL) add_skip(line);
  fclose(fp);
}

static void usage(void) {
  fprintf(stderr,
          "usage: spectest_runner [options] FILE.json|DIR ...\n"
          "  -v              print every command and every failure\n"
          "  -failures N     failures printed in full per file (default 5)\n"
          "  -skip 'P R'     skip JSON files matching glob P (e.g. 'simd_*.json'), or the command\n"
          "                  at FILE.json:LINE, for reason R\n"
          "  -skiplist FILE  read -skip rules from FILE, one per line, # comments\n"
          "  -text           also require the expected message (as a prefix) for\n"
          "                  assert_invalid, assert_malformed and assert_unlinkable\n"
          "  -no-host        spectest's print functions stay Wasm functions (default: host\n"
          "                  functions through eng_bind_host and plat_host_call)\n"
          "  -nofork         run files in this process (for debuggers)\n"
          "  -timeout S      seconds a command may run before it fails as hung (default 30,\n"
          "                  0 none; not with -nofork)\n"
          "  -stack KIB      native stack for the engine (default 1024)\n"
          "  -pages N        eng_limits.max_memory_pages (default 65536)\n"
          "  -depth N        eng_limits.max_call_depth (default 10000)\n"
          "  -fuel N         eng_limits.fuel (default 0, unlimited)\n"
          "  -interp         interpreter only (default: the compile tier)\n"
          "  -mixed          every other function compiled (calls cross tiers both ways)\n"
          "  -cpu-mask N     CPU features the compile tier must not use (eng_jit_cpu_mask: 1\n"
          "                  SSSE3, 2 SSE4.1, 4 SSE4.2; 7 = SSE2 only)\n");
  exit(2);
}

static unsigned long long num_arg(int argc, char **argv, int *i) {
  if (*i + 1 >= argc) usage();
  char *end;
  errno = 0;
  unsigned long long v = strtoull(argv[++*i], &end, 0);
  if (errno != 0 || *end != 0) usage();
  return v;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  char **files = NULL;
  size_t nfiles = 0, cap = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "-v") == 0) opt.verbose = true;
    else if (strcmp(a, "-nofork") == 0) opt.fork = false;
    else if (strcmp(a, "-text") == 0) opt.strict_text = true;
    else if (strcmp(a, "-no-host") == 0) opt.host_funcs = false;
    else if (strcmp(a, "-failures") == 0) opt.max_failures = (unsigned)num_arg(argc, argv, &i);
    else if (strcmp(a, "-timeout") == 0) opt.timeout = (unsigned)num_arg(argc, argv, &i);
    else if (strcmp(a, "-stack") == 0) opt.stack_kib = (size_t)num_arg(argc, argv, &i);
    else if (strcmp(a, "-pages") == 0) opt.limits.max_memory_pages = (uint32_t)num_arg(argc, argv, &i);
    else if (strcmp(a, "-depth") == 0) opt.limits.max_call_depth = (uint32_t)num_arg(argc, argv, &i);
    else if (strcmp(a, "-fuel") == 0) opt.limits.fuel = num_arg(argc, argv, &i);
    else if (strcmp(a, "-interp") == 0) opt.limits.tier = ENG_TIER_INTERP;
    else if (strcmp(a, "-mixed") == 0) opt.limits.tier = ENG_TIER_MIXED;
    else if (strcmp(a, "-cpu-mask") == 0) eng_jit_cpu_mask = (uint32_t)num_arg(argc, argv, &i);
    else if (strcmp(a, "-skip") == 0 && i + 1 < argc) add_skip(argv[++i]);
    else if (strcmp(a, "-skiplist") == 0 && i + 1 < argc) load_skiplist(argv[++i]);
    else if (a[0] == '-') usage();
    else collect(a, &files, &nfiles, &cap);
  }
  if (nfiles == 0) usage();
  if (opt.stack_kib < 64) opt.stack_kib = 64;

  counts total = {0};
  for (size_t i = 0; i < nfiles; i++) {
    run_one(files[i], &total);
    free(files[i]);
  }
  free(files);
  printf("spectest: %" PRIu64 " passed, %" PRIu64 " failed, %" PRIu64 " skipped", total.passed,
         total.failed, total.skipped);
  if (total.na) printf(", %" PRIu64 " n/a (text format)", total.na);
  printf("\n");
  for (size_t i = 0; i < opt.nskips; i++) {
    free(opt.skips[i].pattern);
    free(opt.skips[i].reason);
  }
  free(opt.skips);
  return total.failed ? 1 : 0;
}
