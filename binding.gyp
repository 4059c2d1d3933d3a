{
  "targets": [
    {
      "target_name": "legate_native",
      "sources": ["src/listener/native/legate_native.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"]
    }
  ]
}
