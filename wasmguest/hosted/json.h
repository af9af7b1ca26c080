// json.h — a small JSON reader for the spec test runner (wast2json output). The input is trusted
// but the parser never reads out of bounds, bounds its nesting depth and reports the line of
// the first syntax error.
#ifndef HL_HOSTED_JSON_H
#define HL_HOSTED_JSON_H

#include <stdbool.h>
#include <stddef.h>

typedef enum { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT } json_type;

typedef struct json json;
typedef struct {
  char *key; // decoded, NUL-terminated (may contain NULs: use key_len)
  size_t key_len;
  json *value;
} json_member;

struct json {
  json_type type;
  bool boolean;        // JSON_BOOL
  char *str;           // JSON_STRING: decoded UTF-8, NUL-terminated; JSON_NUMBER: source text
  size_t len;          // length of str
  json **items;        // JSON_ARRAY
  json_member *members; // JSON_OBJECT, in source order
  size_t n;            // item or member count
};

// Parses text[0..len). Returns NULL on error with a message in err.
json *json_parse(const char *text, size_t len, char *err, size_t err_size);
void json_free(json *v);

// The member `key` of an object, or NULL (also when v is not an object).
const json *json_get(const json *v, const char *key);
// The string member `key` of an object, or NULL when absent or not a string.
const char *json_get_str(const json *v, const char *key);
// The member `key` as a non-negative integer (a number or a decimal string); def otherwise.
long json_get_long(const json *v, const char *key, long def);

#endif
