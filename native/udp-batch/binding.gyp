{
  "targets": [
    {
      "target_name": "udp_batch",
      "sources": ["udp_batch.c", "http_front.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    }
  ]
}
