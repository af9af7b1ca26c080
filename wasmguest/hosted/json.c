// json.c — see json.h.
#include "json.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_DEPTH = 64 };

typedef struct {
  const char *p, *end, *start;
  char *err;
  size_t err_size;
  bool failed;
} parser;

static void fail(parser *ps, const char *what) {
  if (ps->failed) return;
  ps->failed = true;
  size_t line = 1;
  for (const char *q = ps->start; q < ps->p && q < ps->end; q++) line += *q == '\n';
  snprintf(ps->err, ps->err_size, "json: %s at line %zu", what, line);
}

static void skip_ws(parser *ps) {
  while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
    ps->p++;
}

static json *new_value(parser *ps, json_type t) {
  json *v = calloc(1, sizeof *v);
  if (v == NULL) fail(ps, "out of memory");
  else v->type = t;
  return v;
}

// Growable byte buffer for decoded strings.
typedef struct {
  char *b;
  size_t len, cap;
} buf;

static bool buf_put(buf *b, char c) {
  if (b->len + 1 >= b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 32;
    char *nb = realloc(b->b, cap);
    if (nb == NULL) return false;
    b->b = nb;
    b->cap = cap;
  }
  b->b[b->len++] = c;
  b->b[b->len] = 0;
  return true;
}

static bool buf_put_utf8(buf *b, uint32_t cp) {
  if (cp < 0x80) return buf_put(b, (char)cp);
  if (cp < 0x800)
    return buf_put(b, (char)(0xc0 | cp >> 6)) && buf_put(b, (char)(0x80 | (cp & 0x3f)));
  if (cp < 0x10000)
    return buf_put(b, (char)(0xe0 | cp >> 12)) && buf_put(b, (char)(0x80 | ((cp >> 6) & 0x3f))) &&
           buf_put(b, (char)(0x80 | (cp & 0x3f)));
  return buf_put(b, (char)(0xf0 | cp >> 18)) && buf_put(b, (char)(0x80 | ((cp >> 12) & 0x3f))) &&
         buf_put(b, (char)(0x80 | ((cp >> 6) & 0x3f))) && buf_put(b, (char)(0x80 | (cp & 0x3f)));
}

static bool hex4(parser *ps, uint32_t *out) {
  if (ps->end - ps->p < 4) return false;
  uint32_t v = 0;
  for (int i = 0; i < 4; i++) {
    char c = *ps->p++;
    v <<= 4;
    if (c >= '0' && c <= '9') v |= (uint32_t)(c - '0');
    else if (c >= 'a' && c <= 'f') v |= (uint32_t)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') v |= (uint32_t)(c - 'A' + 10);
    else return false;
  }
  *out = v;
  return true;
}

// Parses a string at ps->p (which is at the opening quote) into *out/*out_len.
static bool parse_string(parser *ps, char **out, size_t *out_len) {
  buf b = {0};
  if (!buf_put(&b, 0)) goto oom; // always allocate, so empty strings are "" not NULL
  b.len = 0;
  ps->p++; // opening quote
  for (;;) {
    if (ps->p >= ps->end) {
      fail(ps, "unterminated string");
      goto bad;
    }
    char c = *ps->p++;
    if (c == '"') break;
    if (c != '\\') {
      if (!buf_put(&b, c)) goto oom;
      continue;
    }
    if (ps->p >= ps->end) {
      fail(ps, "unterminated string");
      goto bad;
    }
    char e = *ps->p++;
    char lit = 0;
    switch (e) {
    case '"': lit = '"'; break;
    case '\\': lit = '\\'; break;
    case '/': lit = '/'; break;
    case 'b': lit = '\b'; break;
    case 'f': lit = '\f'; break;
    case 'n': lit = '\n'; break;
    case 'r': lit = '\r'; break;
    case 't': lit = '\t'; break;
    case 'u': {
      uint32_t cp;
      if (!hex4(ps, &cp)) {
        fail(ps, "bad \\u escape");
        goto bad;
      }
      if (cp >= 0xd800 && cp < 0xdc00 && ps->end - ps->p >= 6 && ps->p[0] == '\\' &&
          ps->p[1] == 'u') {
        const char *save = ps->p;
        ps->p += 2;
        uint32_t lo;
        if (hex4(ps, &lo) && lo >= 0xdc00 && lo < 0xe000)
          cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        else
          ps->p = save; // lone high surrogate: encode it as is
      }
      if (!buf_put_utf8(&b, cp)) goto oom;
      continue;
    }
    default: fail(ps, "bad escape"); goto bad;
    }
    if (!buf_put(&b, lit)) goto oom;
  }
  *out = b.b;
  *out_len = b.len;
  return true;
oom:
  fail(ps, "out of memory");
bad:
  free(b.b);
  return false;
}

static json *parse_value(parser *ps, int depth);

static json *parse_array(parser *ps, int depth) {
  json *v = new_value(ps, JSON_ARRAY);
  if (v == NULL) return NULL;
  ps->p++; // [
  skip_ws(ps);
  if (ps->p < ps->end && *ps->p == ']') {
    ps->p++;
    return v;
  }
  size_t cap = 0;
  for (;;) {
    json *item = parse_value(ps, depth + 1);
    if (item == NULL) break;
    if (v->n == cap) {
      cap = cap ? cap * 2 : 8;
      json **ni = realloc(v->items, cap * sizeof *ni);
      if (ni == NULL) {
        json_free(item);
        fail(ps, "out of memory");
        break;
      }
      v->items = ni;
    }
    v->items[v->n++] = item;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == ',') {
      ps->p++;
      continue;
    }
    if (ps->p < ps->end && *ps->p == ']') {
      ps->p++;
      return v;
    }
    fail(ps, "expected ',' or ']'");
    break;
  }
  json_free(v);
  return NULL;
}

static json *parse_object(parser *ps, int depth) {
  json *v = new_value(ps, JSON_OBJECT);
  if (v == NULL) return NULL;
  ps->p++; // {
  skip_ws(ps);
  if (ps->p < ps->end && *ps->p == '}') {
    ps->p++;
    return v;
  }
  size_t cap = 0;
  for (;;) {
    skip_ws(ps);
    if (ps->p >= ps->end || *ps->p != '"') {
      fail(ps, "expected a member name");
      break;
    }
    char *key;
    size_t key_len;
    if (!parse_string(ps, &key, &key_len)) break;
    skip_ws(ps);
    if (ps->p >= ps->end || *ps->p != ':') {
      free(key);
      fail(ps, "expected ':'");
      break;
    }
    ps->p++;
    json *val = parse_value(ps, depth + 1);
    if (val == NULL) {
      free(key);
      break;
    }
    if (v->n == cap) {
      cap = cap ? cap * 2 : 8;
      json_member *nm = realloc(v->members, cap * sizeof *nm);
      if (nm == NULL) {
        free(key);
        json_free(val);
        fail(ps, "out of memory");
        break;
      }
      v->members = nm;
    }
    v->members[v->n++] = (json_member){key, key_len, val};
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == ',') {
      ps->p++;
      continue;
    }
    if (ps->p < ps->end && *ps->p == '}') {
      ps->p++;
      return v;
    }
    fail(ps, "expected ',' or '}'");
    break;
  }
  json_free(v);
  return NULL;
}

static bool match_word(parser *ps, const char *w) {
  size_t n = strlen(w);
  if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, w, n) != 0) return false;
  ps->p += n;
  return true;
}

static json *parse_value(parser *ps, int depth) {
  if (depth > MAX_DEPTH) {
    fail(ps, "nesting too deep");
    return NULL;
  }
  skip_ws(ps);
  if (ps->p >= ps->end) {
    fail(ps, "unexpected end of input");
    return NULL;
  }
  char c = *ps->p;
  if (c == '{') return parse_object(ps, depth);
  if (c == '[') return parse_array(ps, depth);
  if (c == '"') {
    json *v = new_value(ps, JSON_STRING);
    if (v != NULL && !parse_string(ps, &v->str, &v->len)) {
      free(v);
      return NULL;
    }
    return v;
  }
  if (c == '-' || (c >= '0' && c <= '9')) {
    const char *s = ps->p;
    while (ps->p < ps->end && strchr("+-0123456789.eE", *ps->p) != NULL) ps->p++;
    json *v = new_value(ps, JSON_NUMBER);
    if (v == NULL) return NULL;
    v->len = (size_t)(ps->p - s);
    v->str = malloc(v->len + 1);
    if (v->str == NULL) {
      free(v);
      fail(ps, "out of memory");
      return NULL;
    }
    memcpy(v->str, s, v->len);
    v->str[v->len] = 0;
    return v;
  }
  bool is_true = match_word(ps, "true");
  if (is_true || match_word(ps, "false")) {
    json *v = new_value(ps, JSON_BOOL);
    if (v != NULL) v->boolean = is_true;
    return v;
  }
  if (match_word(ps, "null")) return new_value(ps, JSON_NULL);
  fail(ps, "unexpected character");
  return NULL;
}

json *json_parse(const char *text, size_t len, char *err, size_t err_size) {
  parser ps = {text, text + len, text, err, err_size, false};
  if (err_size > 0) err[0] = 0;
  json *v = parse_value(&ps, 0);
  if (v == NULL) return NULL;
  skip_ws(&ps);
  if (ps.p != ps.end) {
    fail(&ps, "trailing characters");
    json_free(v);
    return NULL;
  }
  return v;
}

void json_free(json *v) {
  if (v == NULL) return;
  for (size_t i = 0; v->type == JSON_ARRAY && i < v->n; i++) json_free(v->items[i]);
  for (size_t i = 0; v->type == JSON_OBJECT && i < v->n; i++) {
    free(v->members[i].key);
    json_free(v->members[i].value);
  }
  free(v->items);
  free(v->members);
  free(v->str);
  free(v);
}

const json *json_get(const json *v, const char *key) {
  if (v == NULL || v->type != JSON_OBJECT) return NULL;
  size_t n = strlen(key);
  for (size_t i = 0; i < v->n; i++)
    if (v->members[i].key_len == n && memcmp(v->members[i].key, key, n) == 0)
      return v->members[i].value;
  return NULL;
}

const char *json_get_str(const json *v, const char *key) {
  const json *m = json_get(v, key);
  return m != NULL && m->type == JSON_STRING ? m->str : NULL;
}

long json_get_long(const json *v, const char *key, long def) {
  const json *m = json_get(v, key);
  if (m == NULL || (m->type != JSON_NUMBER && m->type != JSON_STRING) || m->len == 0) return def;
  long r = 0;
  for (size_t i = 0; i < m->len; i++) {
    char c = m->str[i];
    if (c < '0' || c > '9' || r > (1L << 40)) return def;
    r = r * 10 + (c - '0');
  }
  return r;
}
