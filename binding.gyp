{
  "targets": [
    {
      "target_name": "legate_native",
      "sources": ["src/listener/native/legate_native.c", "src/listener/native/busy_poll.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"]
    },
    {
      "target_name": "legate_http1",
      "sources": [
        "src/filters/network/http_connection_manager/codec/native/http1_scan.c",
        "src/filters/network/http_connection_manager/codec/native/http1_head.c",
        "src/filters/network/http_connection_manager/codec/native/http1_bytes.c"
      ],
      "cflags": ["-O2", "-Wall", "-Wextra"]
    }
  ]
}
