#include <pthread.h>
#include "http1_bytes.h"

uint8_t http1_tchar[256];

static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static void init_tables(void) {
  const char *punct = "!#$%&'*+-.^_`|~";
  for (int c = '0'; c <= '9'; c++) http1_tchar[c] = 1;
  for (int c = 'a'; c <= 'z'; c++) http1_tchar[c] = 1;
  for (int c = 'A'; c <= 'Z'; c++) http1_tchar[c] = 2;
  for (const char *p = punct; *p; p++) http1_tchar[(uint8_t)*p] = 1;
}

void http1_init_tables(void) { pthread_once(&tables_once, init_tables); }
