#ifndef LEGATE_HTTP1_HEAD_H
#define LEGATE_HTTP1_HEAD_H
#define NAPI_VERSION 8
#include <node_api.h>
#include <stdint.h>

typedef struct {
  uint16_t *wide;
  size_t capacity;
} head_state;

/*
 * copyHead(text, out, from, count): true when `text` (as long as `out`) has no char above 0xff
 * and, from `from`, a field section of exactly `count` valid lines; its bytes are then in `out`.
 */
napi_value http1_js_copy_head(napi_env env, napi_callback_info info);
void http1_free_head_state(head_state *st);

#endif
