# Redis's own makefiles; they take CFLAGS and LDFLAGS from the environment and
# build the bundled jemalloc, Lua and hiredis statically into the programs.
flags=(USE_SYSTEMD=no)
if [ "$KILN_OPTION_SSL" = 1 ]; then
  flags+=(BUILD_TLS=yes OPENSSL_PREFIX="$KILN_PREFIX")
else
  flags+=(BUILD_TLS=no)
fi
make "${flags[@]}"
make "${flags[@]}" install PREFIX="$DESTDIR$KILN_PREFIX"
install -d "$DESTDIR$KILN_PREFIX/etc/redis"
install -m 0644 redis.conf sentinel.conf "$DESTDIR$KILN_PREFIX/etc/redis/"
