/*
 * The serializer's writer for a head's field section. The JS side joins the start line and
 * every name and value with nothing between them (two string pieces a field, not four: V8
 * pays for each piece when it flattens the join) and puts each name's and value's length in a
 * shared Int32Array; this writes `name: value\r\n` per field and the blank line into the head's
 * Buffer, checking every name (tchar+) and value (field-value bytes) on the way. The join is
 * read as UTF-16 so a char above 0xff is seen and refused: a latin1 read would keep only its
 * low byte, and U+010A would become LF. SSE2 (every x86-64) takes sixteen bytes a step.
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <stdlib.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include "http1_bytes.h"
#include "http1_head.h"

/* Narrows n UTF-16 units into out; returns the OR of them all (above 0xff: not latin1). */
static uint16_t narrow(const uint16_t *wide, uint8_t *out, int32_t n) {
  int32_t i = 0;
  uint16_t high = 0;
#ifdef __SSE2__
  if (n >= 16) {
    __m128i any = _mm_setzero_si128();
    for (; i + 16 <= n; i += 16) {
      __m128i a = _mm_loadu_si128((const __m128i *)(wide + i));
      __m128i b = _mm_loadu_si128((const __m128i *)(wide + i + 8));
      any = _mm_or_si128(any, _mm_or_si128(a, b));
      /* A pack saturates: a unit above 0xff shows in `any`, not in the bytes. */
      _mm_storeu_si128((__m128i *)(out + i), _mm_packus_epi16(a, b));
    }
    any = _mm_or_si128(any, _mm_srli_si128(any, 8));
    any = _mm_or_si128(any, _mm_srli_si128(any, 4));
    any = _mm_or_si128(any, _mm_srli_si128(any, 2));
    high = (uint16_t)_mm_extract_epi16(any, 0);
  }
#endif
  for (; i < n; i++) {
    high |= wide[i];
    out[i] = (uint8_t)wide[i];
  }
  return high;
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

/* b[0, n) is a field name: one or more tchars. b has 16 readable bytes past any n. */
static int is_name(const uint8_t *b, int32_t n) {
  int32_t i = 0;
  if (n == 0) return 0;
#ifdef __SSE2__
  for (;; i += 16) {
    int m = not_plain_name(b, i);
    int32_t left = n - i;
    if (left < 16) m &= (1 << left) - 1;
    if (m != 0) {
      i += __builtin_ctz(m);
      break;
    }
    if (left <= 16) return 1;
  }
#endif
  for (; i < n; i++) {
    if (http1_tchar[b[i]] == 0) return 0;
  }
  return 1;
}

/* b[0, n) is a field value: field-vchar, obs-text, SP or HTAB bytes only. b has 16 readable
 * bytes past any n. */
static int is_value(const uint8_t *b, int32_t n) {
#ifdef __SSE2__
  for (int32_t i = 0; i < n; i += 16) {
    int m = not_value(b, i);
    int32_t left = n - i;
    if (left < 16) m &= (1 << left) - 1;
    if (m != 0) return 0;
  }
  return 1;
#else
  return http1_value_end(b, 0, n) == n;
#endif
}

/* Copies n bytes to dst, which has `room` bytes; src has 16 readable bytes past any n, so a
 * short run is one store when dst has 16 bytes of room. */
static inline void copy_run(uint8_t *dst, const uint8_t *src, int32_t n, int32_t room) {
#ifdef __SSE2__
  if (n <= 16 && room >= 16) {
    _mm_storeu_si128((__m128i *)dst, _mm_loadu_si128((const __m128i *)src));
    return;
  }
#endif
  memcpy(dst, src, (size_t)n);
}

/*
 * Writes the head from the narrowed join `text` (text_len bytes, 16 readable past its end):
 * the start line (text[0, start), checked by the caller), then per field `name: value\r\n`
 * from the lengths, then `\r\n`; false when a name or value is invalid or the lengths do not
 * add up to the text and head_len.
 */
static int write_head(const uint8_t *text, int32_t text_len, const int32_t *lengths, int32_t count,
                      int32_t start, uint8_t *out, int32_t head_len) {
  int32_t src = start, dst = start;
  memcpy(out, text, (size_t)start);
  for (int32_t k = 0; k < count; k++) {
    int32_t nl = lengths[2 * k], vl = lengths[2 * k + 1];
    if (nl <= 0 || vl < 0 || nl > text_len - src || vl > text_len - src - nl) return 0;
    if (!is_name(text + src, nl) || !is_value(text + src + nl, vl)) return 0;
    if (head_len - dst < nl + vl + 4) return 0;
    copy_run(out + dst, text + src, nl, head_len - dst);
    dst += nl;
    out[dst++] = ':';
    out[dst++] = ' ';
    copy_run(out + dst, text + src + nl, vl, head_len - dst);
    dst += vl;
    src += nl + vl;
    out[dst++] = '\r';
    out[dst++] = '\n';
  }
  if (src != text_len || dst + 2 != head_len) return 0;
  out[dst] = '\r';
  out[dst + 1] = '\n';
  return 1;
}

/* This thread's scratch: the join as UTF-16, then narrowed, each grown to the longest head
 * seen (plus 16 bytes, so the checks may read a whole block past any run). */
static int scratch(head_state *st, size_t units) {
  size_t need = units + 16;
  if (need > st->capacity) {
    size_t want = need <= 4096 ? 4096 : need * 2;
    uint16_t *wide = realloc(st->wide, want * sizeof(uint16_t));
    if (wide == NULL) return 0;
    st->wide = wide;
    uint8_t *bytes = realloc(st->bytes, want);
    if (bytes == NULL) return 0;
    st->bytes = bytes;
    st->capacity = want;
  }
  return 1;
}

napi_value http1_js_write_head(napi_env env, napi_callback_info info) {
  size_t argc = 5, copied = 0, out_len = 0;
  napi_value argv[5], result;
  head_state *st;
  void *out;
  int32_t start, count, head_len, text_len, ok = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, (void **)&st) == napi_ok && argc == 5 &&
      napi_get_buffer_info(env, argv[1], &out, &out_len) == napi_ok && out_len <= INT32_MAX &&
      napi_get_value_int32(env, argv[2], &head_len) == napi_ok &&
      napi_get_value_int32(env, argv[3], &start) == napi_ok &&
      napi_get_value_int32(env, argv[4], &count) == napi_ok &&
      head_len >= 0 && (size_t)head_len <= out_len &&
      count >= 0 && count <= HEAD_MAX_FIELDS && start >= 0 &&
      (text_len = head_len - 4 * count - 2) >= start &&
      scratch(st, (size_t)text_len + 1) &&
      napi_get_value_string_utf16(env, argv[0], (char16_t *)st->wide, (size_t)text_len + 1, &copied) == napi_ok &&
      copied == (size_t)text_len) {
    /* Narrowed in one pass; a char above 0xff shows in the OR of them all. */
    ok = (narrow(st->wide, st->bytes, text_len) >> 8) == 0 &&
         write_head(st->bytes, text_len, st->lengths, count, start, out, head_len);
  }
  napi_get_boolean(env, ok, &result);
  return result;
}

void http1_free_head_state(head_state *st) {
  free(st->wide);
  free(st->bytes);
}
