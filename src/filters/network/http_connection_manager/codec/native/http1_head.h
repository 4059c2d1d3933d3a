#ifndef LEGATE_HTTP1_HEAD_H
#define LEGATE_HTTP1_HEAD_H
#define NAPI_VERSION 8
#include <node_api.h>
#include <stdint.h>

/* Fields per head the native writer takes; the JS side writes longer heads itself. */
#define HEAD_MAX_FIELDS 512

typedef struct {
  uint16_t *wide;
  uint8_t *bytes;
  size_t capacity;
  /* Name and value length per field, written by the JS side (exported as headFieldLengths). */
  int32_t *lengths;
} head_state;

/*
 * writeHead(text, out, headLength, start, count): text is the start line (`start` chars) and
 * then every name and value of `count` fields joined with nothing between; their lengths are in
 * headFieldLengths. Writes the head into the first headLength (text.length + 4 * count + 2)
 * bytes of `out` and returns true, or false when a name or value is invalid or a char is above
 * 0xff.
 */
napi_value http1_js_write_head(napi_env env, napi_callback_info info);
void http1_free_head_state(head_state *st);

#endif
