# zlib's own configure script (not autoconf); it reads CFLAGS and LDFLAGS.
./configure --prefix="$KILN_PREFIX" $([ "$KILN_OPTION_STATIC" = 1 ] || echo --shared)
make
make install DESTDIR="$DESTDIR"
rm -rf "$DESTDIR$KILN_PREFIX/share/man"
