/*
 * The HTTP/1.1 field-line scanner: finds where each complete, valid field line of a header
 * section starts and ends, so the JS parser slices names and values instead of reading every
 * byte in JS (about 15 instructions a byte there, 1-2 here). It never rejects anything: it
 * stops at the first line that is incomplete, invalid or the blank line, and the JS parser
 * takes over from there with its own rules and error codes. The grammar accepted is exactly
 * the JS parser's for a valid line (field_parser.ts, fieldLine).
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "http1_bytes.h"
#include "http1_head.h"

/* Field lines reported per call; the JS side calls again for more. */
#define MAX_FIELDS 32
/* Per line: name end, value start, value end (trailing OWS trimmed), next line start, and
 * (common name index + 1) << 1 | name has upper case. */
#define SLOTS 5
/* The common (interned) names the JS side registers: how many, and how long, at most. */
#define MAX_NAMES 126
#define MAX_NAME_LEN 31

typedef struct {
  int32_t *out;
  napi_ref out_ref;
  /* Common names by length and first byte: index + 1 of the first candidate, then a chain. */
  uint8_t head[MAX_NAME_LEN + 1][128];
  uint8_t next[MAX_NAMES + 1];
  char names[MAX_NAMES + 1][MAX_NAME_LEN + 1];
  head_state head_writer;
  napi_ref lengths_ref;
} scan_state;

static inline uint64_t word(const void *p) {
  uint64_t x;
  memcpy(&x, p, 8);
  return x;
}

/* Index + 1 of the common name b[0, n) matches ignoring case, or 0. On tchars `| 0x20`
 * lowercases letters and maps nothing else onto a letter, digit or '-' (all a common name
 * holds). Names of 8 bytes or more are compared a word at a time, the last word overlapping. */
static int32_t common_name(const scan_state *st, const uint8_t *b, int32_t n) {
  if (n > MAX_NAME_LEN) return 0;
  for (int k = st->head[n][(b[0] | 0x20) & 0x7f]; k != 0; k = st->next[k]) {
    const char *name = st->names[k];
    int32_t i = 0;
    if (n >= 8) {
      while (i + 8 < n && (word(b + i) | 0x20 * HTTP1_ONES) == word(name + i)) i += 8;
      if (i + 8 >= n && (word(b + n - 8) | 0x20 * HTTP1_ONES) == word(name + n - 8)) return k;
      continue;
    }
    while (i < n && (b[i] | 0x20) == (uint8_t)name[i]) i++;
    if (i == n) return k;
  }
  return 0;
}

static int32_t scan_fields(const scan_state *st, const uint8_t *b, int32_t pos, int32_t end, int32_t *out) {
  int32_t n = 0;
  while (n < MAX_FIELDS) {
    int32_t i = pos;
    int kinds = 0, kind;
    while (i < end && (kind = http1_tchar[b[i]]) != 0) {
      kinds |= kind;
      i++;
    }
    if (i == pos || i == end || b[i] != ':') break;
    int32_t name_end = i++;
    while (i < end && (b[i] == ' ' || b[i] == '\t')) i++;
    int32_t vs = i;
    i = http1_value_end(b, i, end);
    if (i + 1 >= end || b[i] != '\r' || b[i + 1] != '\n') break;
    int32_t ve = i;
    while (ve > vs && (b[ve - 1] == ' ' || b[ve - 1] == '\t')) ve--;
    int32_t *o = out + n * SLOTS;
    o[0] = name_end;
    o[1] = vs;
    o[2] = ve;
    o[3] = i + 2;
    o[4] = common_name(st, b + pos, name_end - pos) << 1 | kinds >> 1;
    n++;
    pos = i + 2;
  }
  return n;
}

/* scanFields(buffer, pos, end): the number of field lines written to the output array. */
static napi_value js_scan_fields(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  scan_state *st;
  void *data;
  size_t len;
  int32_t pos, end, n = 0;
  napi_value result;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, (void **)&st) == napi_ok && argc == 3 &&
      napi_get_buffer_info(env, argv[0], &data, &len) == napi_ok &&
      napi_get_value_int32(env, argv[1], &pos) == napi_ok &&
      napi_get_value_int32(env, argv[2], &end) == napi_ok &&
      pos >= 0 && pos <= end && (size_t)end <= len) {
    n = scan_fields(st, (const uint8_t *)data, pos, end, st->out);
  }
  napi_create_int32(env, n, &result);
  return result;
}

/* setCommonNames(names): the lowercase names scanFields reports by index (in order, from 1). */
static napi_value js_set_common_names(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value list, item;
  scan_state *st;
  uint32_t count;
  if (napi_get_cb_info(env, info, &argc, &list, NULL, (void **)&st) != napi_ok || argc != 1 ||
      napi_get_array_length(env, list, &count) != napi_ok || count > MAX_NAMES) {
    napi_throw_range_error(env, "ERR_HTTP1_SCAN_NAMES", "setCommonNames: an array of at most 126 names");
    return NULL;
  }
  memset(st->head, 0, sizeof(st->head));
  memset(st->next, 0, sizeof(st->next));
  for (uint32_t i = 0; i < count; i++) {
    size_t n;
    uint8_t k = (uint8_t)(i + 1);
    char *name = st->names[k];
    if (napi_get_element(env, list, i, &item) != napi_ok ||
        napi_get_value_string_latin1(env, item, name, MAX_NAME_LEN + 1, &n) != napi_ok || n == 0 || n >= MAX_NAME_LEN) {
      napi_throw_range_error(env, "ERR_HTTP1_SCAN_NAMES", "setCommonNames: names of 1 to 30 chars");
      return NULL;
    }
    uint8_t first = (uint8_t)name[0] & 0x7f;
    /* Appended to its chain, so a lookup meets names in the order given. */
    st->next[k] = 0;
    if (st->head[n][first] == 0) {
      st->head[n][first] = k;
    } else {
      uint8_t j = st->head[n][first];
      while (st->next[j] != 0) j = st->next[j];
      st->next[j] = k;
    }
  }
  return NULL;
}

static void free_state(napi_env env, void *data, void *hint) {
  (void)hint;
  scan_state *st = data;
  napi_delete_reference(env, st->out_ref);
  napi_delete_reference(env, st->lengths_ref);
  http1_free_head_state(&st->head_writer);
  free(st);
}

NAPI_MODULE_INIT() {
  http1_init_tables(); /* each worker thread loads the module */
  scan_state *st = calloc(1, sizeof(*st));
  napi_value out, lengths, fn;
  void *out_data, *lengths_data;
  if (st == NULL) return NULL;
  /* One output array per thread: the worker's JS reads it right after each call. Likewise one
   * array of field lengths that the JS side fills right before each writeHead. */
  if (napi_create_arraybuffer(env, MAX_FIELDS * SLOTS * sizeof(int32_t), &out_data, &out) != napi_ok ||
      napi_create_reference(env, out, 1, &st->out_ref) != napi_ok ||
      napi_create_arraybuffer(env, HEAD_MAX_FIELDS * 2 * sizeof(int32_t), &lengths_data, &lengths) != napi_ok ||
      napi_create_reference(env, lengths, 1, &st->lengths_ref) != napi_ok) {
    free(st);
    return NULL;
  }
  st->out = out_data;
  st->head_writer.lengths = lengths_data;
  napi_set_instance_data(env, st, free_state, NULL);
  napi_create_function(env, "scanFields", NAPI_AUTO_LENGTH, js_scan_fields, st, &fn);
  napi_set_named_property(env, exports, "scanFields", fn);
  napi_create_function(env, "setCommonNames", NAPI_AUTO_LENGTH, js_set_common_names, st, &fn);
  napi_set_named_property(env, exports, "setCommonNames", fn);
  napi_create_function(env, "writeHead", NAPI_AUTO_LENGTH, http1_js_write_head, &st->head_writer, &fn);
  napi_set_named_property(env, exports, "writeHead", fn);
  napi_set_named_property(env, exports, "scanOutput", out);
  napi_set_named_property(env, exports, "headFieldLengths", lengths);
  return exports;
}
