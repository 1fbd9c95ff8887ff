command -v tclsh >/dev/null || { echo "sqlite: building from the source tree needs tclsh on the build host (Debian: apt-get install tcl)" >&2; exit 1; }
flags=(--prefix="$KILN_PREFIX" --disable-static --disable-tcl --enable-fts4 --enable-fts5 --enable-rtree)
if [ "$KILN_OPTION_READLINE" = 1 ]; then
  # Without these, configure looks for readline.h in /usr/include as well.
  flags+=(--enable-readline --with-readline-inc="-I$KILN_PREFIX/include" --with-readline-lib="-lreadline -lncursesw")
else
  flags+=(--disable-readline)
fi
# Only the shell uses zlib; the cache variable keeps configure from finding the host's.
[ "$KILN_OPTION_ZLIB" = 1 ] || flags+=(ac_cv_search_deflate=no ac_cv_header_zlib_h=no)
# What Debian and most distributions also turn on, for bindings that need column metadata.
export CPPFLAGS="$CPPFLAGS -DSQLITE_ENABLE_COLUMN_METADATA=1 -DSQLITE_ENABLE_DBSTAT_VTAB=1 -DSQLITE_ENABLE_UNLOCK_NOTIFY=1"
./configure "${flags[@]}"
make
make install DESTDIR="$DESTDIR"
find "$DESTDIR$KILN_PREFIX/lib" -name '*.la' -delete
