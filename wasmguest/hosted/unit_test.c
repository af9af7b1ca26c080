// unit_test.c — tests of the spec runner's own parts: the JSON reader, the export reader and
// value matching. Run with `make unit`.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../engine/engine.h"
#include "json.h"
#include "spec_value.h"
#include "spectest_host.h"
#include "wasm_info.h"


static int failures;

#define CHECK(cond)                                                                                \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      printf("%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);                             \
      failures++;                                                                                  \
    }                                                                                              \
  } while (0)

static json *parse(const char *s) {
  char err[128];
  return json_parse(s, strlen(s), err, sizeof err);
}

static void test_json(void) {
  json *v = parse(" {\"a\": [1, -2.5e3, true, false, null, \"x\"], \"b\": {}, \"line\": 42} ");
  CHECK(v != NULL && v->type == JSON_OBJECT && v->n == 3);
  const json *a = json_get(v, "a");
  CHECK(a != NULL && a->type == JSON_ARRAY && a->n == 6);
  if (a != NULL && a->n == 6) {
    CHECK(a->items[1]->type == JSON_NUMBER && strcmp(a->items[1]->str, "-2.5e3") == 0);
    CHECK(a->items[2]->type == JSON_BOOL && a->items[2]->boolean);
    CHECK(a->items[3]->type == JSON_BOOL && !a->items[3]->boolean);
    CHECK(a->items[4]->type == JSON_NULL);
    CHECK(a->items[5]->type == JSON_STRING && strcmp(a->items[5]->str, "x") == 0);
  }
  CHECK(json_get_long(v, "line", -1) == 42);
  CHECK(json_get_long(v, "nope", -1) == -1);
  CHECK(json_get(v, "b") != NULL && json_get(v, "b")->n == 0);
  json_free(v);

  // Escapes: \u0000 keeps its length, surrogate pairs become one UTF-8 sequence.
  v = parse("\"a\\u0000b\\n\\\"\\\\\\/\\ud83d\\ude00\\u00e9\"");
  CHECK(v != NULL && v->type == JSON_STRING);
  if (v != NULL) {
    const char want[] = "a\0b\n\"\\/\xf0\x9f\x98\x80\xc3\xa9";
    CHECK(v->len == sizeof want - 1 && memcmp(v->str, want, v->len) == 0);
  }
  json_free(v);

  const char *bad[] = {"", "{", "[1,", "[1 2]", "{\"a\" 1}", "\"abc", "\"\\x\"", "\"\\u12\"",
                       "tru", "{} x", "{\"a\":}", "[,]"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char err[128] = "";
    json *b = json_parse(bad[i], strlen(bad[i]), err, sizeof err);
    CHECK(b == NULL && err[0] != 0);
    json_free(b);
  }
  // Deep nesting is refused, not a stack overflow.
  char deep[4001];
  memset(deep, '[', 4000);
  deep[4000] = 0;
  CHECK(parse(deep) == NULL);
}

static void test_wasm_info(void) {
  wasm_info info;
  CHECK(wasm_info_read(spectest_wasm, spectest_wasm_len, &info));
  CHECK(info.n == 14);
  CHECK(wasm_info_find(&info, "global_i32", 10, WASM_EXTERN_GLOBAL) == 0);
  CHECK(wasm_info_find(&info, "global_i32", 10, WASM_EXTERN_FUNC) == -1);
  CHECK(wasm_info_find(&info, "table", 5, WASM_EXTERN_TABLE) == 4);
  CHECK(wasm_info_find(&info, "table64", 7, WASM_EXTERN_TABLE) == 5);
  CHECK(wasm_info_find(&info, "memory", 6, WASM_EXTERN_MEMORY) == 6);
  int64_t i = wasm_info_find(&info, "print_f64_f64", 13, WASM_EXTERN_FUNC);
  CHECK(i == 13);
  if (i >= 0) CHECK(info.exports[i].param_slots == 2 && info.exports[i].result_slots == 0);
  wasm_info_free(&info);
  // Every truncation of a valid module is refused or read without overrunning (ASan checks).
  for (size_t n = 0; n < spectest_wasm_len; n++) {
    if (wasm_info_read(spectest_wasm, n, &info)) wasm_info_free(&info);
  }
  CHECK(!wasm_info_read((const uint8_t *)"\0asm\2\0\0\0", 8, &info));
}

static bool value_of(const char *text, spec_val *v) {
  json *j = parse(text);
  bool unsupported;
  const char *bad = j ? spec_parse_value(j, v, &unsupported) : "json";
  json_free(j);
  return bad == NULL;
}

static void test_values(void) {
  spec_val v;
  CHECK(value_of("{\"type\": \"i32\", \"value\": \"4294967295\"}", &v) && v.slot[0] == 0xffffffffu);
  CHECK(value_of("{\"type\": \"i32\", \"value\": \"-1\"}", &v) && v.slot[0] == 0xffffffffu);
  CHECK(value_of("{\"type\": \"i64\", \"value\": \"18446744073709551615\"}", &v) &&
        v.slot[0] == UINT64_MAX);
  CHECK(!value_of("{\"type\": \"i64\", \"value\": \"18446744073709551616\"}", &v));
  CHECK(!value_of("{\"type\": \"i32\"}", &v));
  CHECK(value_of("{\"type\": \"externref\", \"value\": \"null\"}", &v) && v.slot[0] == 0);
  CHECK(value_of("{\"type\": \"externref\", \"value\": \"0\"}", &v) && v.slot[0] == 1);

  uint64_t got[2];
  CHECK(value_of("{\"type\": \"f32\", \"value\": \"nan:canonical\"}", &v));
  got[0] = 0x7fc00000u;
  CHECK(spec_match_value(&v, got));
  got[0] = 0xffc00000u;
  CHECK(spec_match_value(&v, got));
  got[0] = 0x7fc00001u;
  CHECK(!spec_match_value(&v, got));
  got[0] = 0x17fc00000u; // f32 bits must be zero-extended
  CHECK(!spec_match_value(&v, got));
  CHECK(value_of("{\"type\": \"f32\", \"value\": \"nan:arithmetic\"}", &v));
  got[0] = 0x7fc00001u;
  CHECK(spec_match_value(&v, got));
  got[0] = 0x7f800001u; // signalling
  CHECK(!spec_match_value(&v, got));
  CHECK(value_of("{\"type\": \"f64\", \"value\": \"nan:canonical\"}", &v));
  got[0] = 0xfff8000000000000u;
  CHECK(spec_match_value(&v, got));
  got[0] = 0x7ff8000000000001u;
  CHECK(!spec_match_value(&v, got));

  CHECK(value_of("{\"type\": \"v128\", \"lane_type\": \"i8\", \"value\": [\"255\", \"1\", \"0\", "
                 "\"0\", \"0\", \"0\", \"0\", \"0\", \"0\", \"0\", \"0\", \"0\", \"0\", \"0\", "
                 "\"0\", \"-128\"]}",
                 &v));
  CHECK(v.slot[0] == 0x01ff && v.slot[1] == 0x8000000000000000u);
  CHECK(!value_of("{\"type\": \"v128\", \"lane_type\": \"i32\", \"value\": [\"1\"]}", &v));
  CHECK(value_of("{\"type\": \"v128\", \"lane_type\": \"f32\", \"value\": [\"nan:canonical\", "
                 "\"1065353216\", \"nan:arithmetic\", \"0\"]}",
                 &v));
  got[0] = 0x3f8000007fc00000u;
  got[1] = 0x000000007fc00001u;
  CHECK(spec_match_value(&v, got));
  got[1] = 0x000000017fc00001u;
  CHECK(!spec_match_value(&v, got));
  CHECK(value_of("{\"type\": \"v128\", \"lane_type\": \"f64\", \"value\": [\"0\", "
                 "\"nan:canonical\"]}",
                 &v));
  got[0] = 0;
  got[1] = 0x7ff8000000000000u;
  CHECK(spec_match_value(&v, got));
}

int main(void) {
  test_json();
  test_wasm_info();
  test_values();
  printf("unit: %s\n", failures ? "FAILED" : "ok");
  return failures != 0;
}
