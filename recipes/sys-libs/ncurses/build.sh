# One wide-character library, libncursesw, which also holds the low-level
# terminfo functions (no separate libtinfo). The terminfo database goes to
# $KILN_PREFIX/share/terminfo, compiled into the library as its search path.
./configure \
  --prefix="$KILN_PREFIX" \
  --with-shared --without-normal --without-debug \
  --enable-widec --enable-overwrite \
  --without-cxx-binding --without-ada --without-manpages --without-tests \
  --with-default-terminfo-dir="$KILN_PREFIX/share/terminfo" \
  --with-terminfo-dirs="$KILN_PREFIX/share/terminfo" \
  --enable-pc-files --with-pkg-config-libdir="$KILN_PREFIX/lib/pkgconfig"
make
make install DESTDIR="$DESTDIR"

# Builds that ask for the narrow-character names (-lncurses, -lcurses,
# -lform …) get the wide library: linker scripts here, found before any
# host library because $LDFLAGS searches the prefix first.
lib="$DESTDIR$KILN_PREFIX/lib"
for name in ncurses form panel menu; do
  echo "INPUT(-l${name}w)" >"$lib/lib$name.so"
done
rm -f "$lib/libcurses.so"
echo "INPUT(-lncursesw)" >"$lib/libcurses.so"
