/*
 * The serializer's last check on a head it wrote: the field section must be exactly `count`
 * lines of `name: value` (tchar names, field-value bytes), then the blank line, with no char
 * above 0xff anywhere. A value carrying CR LF adds a line and fails the count. The head
 * arrives as the JS string the serializer joined; it is read as UTF-16 so a char above 0xff is
 * seen (a latin1 write would keep only its low byte, and U+010A would become LF), narrowed into
 * the caller's Buffer and checked there. In C this costs 1-2 instructions a byte against about
 * 11 for the regex that did it in JS (serializer.ts keeps that regex for when the addon is
 * missing, and the tests hold the two to the same answers).
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <stdlib.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include "http1_bytes.h"
#include "http1_head.h"

/* Narrows n UTF-16 units into out; false when one is above 0xff. SSE2 (every x86-64) packs
 * sixteen at a time: a pack saturates, so a unit above 0xff shows in the OR of the inputs. */
static int narrow(const uint16_t *wide, uint8_t *out, int32_t n) {
  int32_t i = 0;
  uint16_t high = 0;
#ifdef __SSE2__
  __m128i any = _mm_setzero_si128();
  for (; i + 16 <= n; i += 16) {
    __m128i a = _mm_loadu_si128((const __m128i *)(wide + i));
    __m128i b = _mm_loadu_si128((const __m128i *)(wide + i + 8));
    any = _mm_or_si128(any, _mm_or_si128(a, b));
    _mm_storeu_si128((__m128i *)(out + i), _mm_packus_epi16(a, b));
  }
  /* The high byte of every 16-bit lane: all zero when no unit was above 0xff. */
  if (_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_srli_epi16(any, 8), _mm_setzero_si128())) != 0xffff) return 0;
#endif
  for (; i < n; i++) {
    high |= wide[i];
    out[i] = (uint8_t)wide[i];
  }
  return (high >> 8) == 0;
}

#ifdef __SSE2__
/* Sixteen bytes from b[i]: a bit per byte that is not a lowercase letter, digit or '-' (all a
 * name the proxy writes usually holds). Signed compares suffice: bytes above 0x7f are negative. */
static inline int not_plain_name(const uint8_t *b, int32_t i) {
  __m128i v = _mm_loadu_si128((const __m128i *)(b + i));
  __m128i lower = _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('a' - 1)), _mm_cmpgt_epi8(_mm_set1_epi8('z' + 1), v));
  __m128i digit = _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('0' - 1)), _mm_cmpgt_epi8(_mm_set1_epi8('9' + 1), v));
  __m128i plain = _mm_or_si128(_mm_or_si128(lower, digit), _mm_cmpeq_epi8(v, _mm_set1_epi8('-')));
  return ~_mm_movemask_epi8(plain) & 0xffff;
}

/* Sixteen bytes from b[i]: a bit per byte a value may not hold (a control byte but HTAB, or DEL). */
static inline int not_value(const uint8_t *b, int32_t i) {
  __m128i v = _mm_loadu_si128((const __m128i *)(b + i));
  __m128i ctl = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v);
  __m128i bad = _mm_or_si128(_mm_andnot_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\t')), ctl), _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f)));
  return _mm_movemask_epi8(bad);
}
#endif

/* Where the name from b[i] ends: its first byte that is not a tchar. */
static inline int32_t name_end(const uint8_t *b, int32_t i, int32_t end) {
#ifdef __SSE2__
  while (i + 16 <= end) {
    int m = not_plain_name(b, i);
    if (m == 0) {
      i += 16;
      continue;
    }
    i += __builtin_ctz(m);
    break;
  }
#endif
  while (i < end && http1_tchar[b[i]] != 0) i++;
  return i;
}

/* Where the value from b[i] ends: its first byte a value may not hold. */
static inline int32_t value_end(const uint8_t *b, int32_t i, int32_t end) {
#ifdef __SSE2__
  while (i + 16 <= end) {
    int m = not_value(b, i);
    if (m != 0) return i + __builtin_ctz(m);
    i += 16;
  }
#endif
  return http1_value_end(b, i, end);
}

/* b[pos, end) is `count` lines of `tchar+: value-byte*\r\n`, then `\r\n`, and nothing more. */
static int field_section(const uint8_t *b, int32_t pos, int32_t end, int32_t count) {
  for (int32_t k = 0; k < count; k++) {
    int32_t i = name_end(b, pos, end);
    if (i == pos || i + 1 >= end || b[i] != ':' || b[i + 1] != ' ') return 0;
    i = value_end(b, i + 2, end);
    if (i + 1 >= end || b[i] != '\r' || b[i + 1] != '\n') return 0;
    pos = i + 2;
  }
  return pos + 2 == end && b[pos] == '\r' && b[pos + 1] == '\n';
}

/* The UTF-16 scratch of this thread's addon instance, grown to the longest head seen. */
static uint16_t *scratch(head_state *st, size_t units) {
  if (units > st->capacity) {
    size_t want = units < 4096 ? 4096 : units * 2;
    uint16_t *grown = realloc(st->wide, want * sizeof(uint16_t));
    if (grown == NULL) return NULL;
    st->wide = grown;
    st->capacity = want;
  }
  return st->wide;
}

napi_value http1_js_copy_head(napi_env env, napi_callback_info info) {
  size_t argc = 4, copied = 0, len = 0;
  napi_value argv[4], result;
  head_state *st;
  void *out;
  int32_t from, count, ok = 0;
  uint16_t *wide;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, (void **)&st) == napi_ok && argc == 4 &&
      napi_get_buffer_info(env, argv[1], &out, &len) == napi_ok && len <= INT32_MAX &&
      napi_get_value_int32(env, argv[2], &from) == napi_ok &&
      napi_get_value_int32(env, argv[3], &count) == napi_ok &&
      from >= 0 && (size_t)from <= len && count >= 0 &&
      (wide = scratch(st, len + 1)) != NULL &&
      napi_get_value_string_utf16(env, argv[0], (char16_t *)wide, len + 1, &copied) == napi_ok &&
      copied == len) {
    ok = narrow(wide, out, (int32_t)len) && field_section(out, from, (int32_t)len, count);
  }
  napi_get_boolean(env, ok, &result);
  return result;
}

void http1_free_head_state(head_state *st) { free(st->wide); }
