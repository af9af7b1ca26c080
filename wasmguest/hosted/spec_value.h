// spec_value.h — the spec suite's JSON values (wast2json): parsing into engine.h slots, and
// matching results against expected values, including NaN patterns and v128 lanes.
#ifndef HL_HOSTED_SPEC_VALUE_H
#define HL_HOSTED_SPEC_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "json.h"

typedef enum { NAN_NONE, NAN_CANONICAL, NAN_ARITHMETIC } nan_kind;

typedef struct {
  uint8_t type;       // ENG_*
  uint64_t slot[2];   // v128: low, high
  nan_kind nan;       // f32/f64 expected NaN pattern
  uint8_t lane_bytes; // v128: lane width in bytes
  bool lane_float;    // v128: f32/f64 lanes
  nan_kind lane_nan[16];
  bool any_nonnull;   // a reference result without a value: any non-null reference
} spec_val;

// uint64_t slots a value of engine type t takes (v128: 2).
int spec_type_slots(uint8_t t);
const char *spec_type_name(uint8_t t);

// Parses a {"type": ..., "value": ...} value. Returns NULL, or why it cannot be used:
// *unsupported then tells a value the runner cannot represent from a malformed one.
// Host reference k (externref "k") is the handle k+1; 0 is null.
const char *spec_parse_value(const json *j, spec_val *v, bool *unsupported);

// Whether result slots got (spec_type_slots(e->type) of them) match expected value e: exact
// bits, or the NaN pattern ("nan:canonical", "nan:arithmetic"), lane by lane for v128.
bool spec_match_value(const spec_val *e, const uint64_t *got);

// Append a printable form of slots of type t / of an expected value to the string out.
void spec_format_slots(char *out, size_t size, uint8_t t, const uint64_t *s);
void spec_format_expected(char *out, size_t size, const spec_val *e);

#endif
