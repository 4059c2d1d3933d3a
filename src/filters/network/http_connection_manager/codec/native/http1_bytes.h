/*
 * The byte rules of HTTP/1.1 field lines (RFC 9110 §5.5, §5.6.2), shared by the scanner that
 * reads them (http1_scan.c) and the check that writes them (http1_head.c).
 */
#ifndef LEGATE_HTTP1_BYTES_H
#define LEGATE_HTTP1_BYTES_H
#include <stdint.h>
#include <string.h>

/* tchar: 1 lowercase or other tchar, 2 uppercase letter, 0 not a tchar. */
extern uint8_t http1_tchar[256] __attribute__((visibility("hidden")));

/* Fills http1_tchar; safe to call from every thread that loads the addon. */
void http1_init_tables(void) __attribute__((visibility("hidden")));

/* field-vchar, obs-text, SP or HTAB: what a field value may hold. */
static inline int http1_value_byte(uint8_t c) { return c >= 0x20 ? c != 0x7f : c == '\t'; }

/* Words are read little-endian: byte k of b[i, i+8) is bits 8k..8k+7. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the HTTP/1.1 addon reads words little-endian"
#endif
#define HTTP1_ONES 0x0101010101010101ULL
#define HTTP1_HIGHS 0x8080808080808080ULL

/* The first byte from b[i] that a value may not hold (or end), eight bytes at a time: the
 * lowest byte flagged as a control byte or DEL is always a true one (a borrow only runs
 * upward), and HTAB, the one control byte allowed, steps past it. */
static inline int32_t http1_value_end(const uint8_t *b, int32_t i, int32_t end) {
  while (i + 8 <= end) {
    uint64_t x, y, flagged;
    memcpy(&x, b + i, 8);
    y = x ^ (0x7f * HTTP1_ONES);
    flagged = (((x - 0x20 * HTTP1_ONES) & ~x) | ((y - HTTP1_ONES) & ~y)) & HTTP1_HIGHS;
    if (flagged == 0) {
      i += 8;
      continue;
    }
    i += __builtin_ctzll(flagged) >> 3;
    if (b[i] != '\t') return i;
    i++;
  }
  while (i < end && http1_value_byte(b[i])) i++;
  return i;
}

#endif
