# ICU, readline (xmllint --shell history) and the Python bindings stay off:
# each would link a library the ports tree does not provide here.
flags=(--prefix="$KILN_PREFIX" --disable-static --without-python --without-icu --without-history --with-zlib)
if [ "$KILN_OPTION_LZMA" = 1 ]; then flags+=(--with-lzma); else flags+=(--without-lzma); fi
./configure "${flags[@]}"
make
make install DESTDIR="$DESTDIR"
find "$DESTDIR$KILN_PREFIX/lib" -name '*.la' -delete
rm -rf "$DESTDIR$KILN_PREFIX/share/doc" "$DESTDIR$KILN_PREFIX/share/gtk-doc"
