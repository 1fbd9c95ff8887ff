# --disable-multi-os-directory: install into lib/, not the compiler's lib64 or multiarch directory.
./configure --prefix="$KILN_PREFIX" --disable-static --disable-docs --disable-multi-os-directory
make
make install DESTDIR="$DESTDIR"
find "$DESTDIR$KILN_PREFIX/lib" -name '*.la' -delete
rm -rf "$DESTDIR$KILN_PREFIX/share/info"
