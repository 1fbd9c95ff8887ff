flags=(--prefix="$KILN_PREFIX" --disable-static)
[ "$KILN_OPTION_JIT" = 1 ] && flags+=(--enable-jit)
[ "$KILN_OPTION_ZLIB" = 1 ] && flags+=(--enable-pcre2grep-libz)
./configure "${flags[@]}"
make
make install DESTDIR="$DESTDIR"
# libtool archives name the build prefix and are not needed with shared libraries.
find "$DESTDIR$KILN_PREFIX/lib" -name '*.la' -delete
rm -rf "$DESTDIR$KILN_PREFIX/share/doc" "$DESTDIR$KILN_PREFIX/share/man"
