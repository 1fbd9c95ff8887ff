./configure --prefix="$KILN_PREFIX" --disable-static --disable-doc
make
make install DESTDIR="$DESTDIR"
# libtool archives name the build prefix and are not needed with shared libraries.
find "$DESTDIR$KILN_PREFIX/lib" -name '*.la' -delete
