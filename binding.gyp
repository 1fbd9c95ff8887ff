{
  "targets": [
    {
      "target_name": "kiln_peercred",
      "sources": ["native/peercred.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"]
    }
  ]
}
