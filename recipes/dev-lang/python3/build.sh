# Every library Python links comes from the build dependencies, found through
# pkg-config and $LDFLAGS. Modules whose library the ports tree does not
# provide are declared unavailable, so that configure cannot pick up a host
# copy (Tk, GDBM, libuuid, NIS; and dbm below).
flags=(
  --prefix="$KILN_PREFIX"
  --enable-shared
  --without-static-libpython
  --with-ensurepip=no
  --with-system-expat
  --with-system-ffi
  --enable-loadable-sqlite-extensions
  # $LDFLAGS already holds the run path to $KILN_PREFIX/lib; a second one
  # from --with-openssl-rpath=auto would only repeat it.
  --with-openssl="$KILN_PREFIX" --with-openssl-rpath=no
  py_cv_module__tkinter=n/a
  py_cv_module__gdbm=n/a
  py_cv_module__uuid=n/a
  py_cv_module_nis=n/a
  # An empty backend list: setup.py would otherwise build _dbm against a host ndbm or Berkeley DB.
  --with-dbmliborder=
)
[ "$KILN_OPTION_TESTS" = 1 ] || flags+=(--disable-test-modules)
./configure "${flags[@]}"
make
make install DESTDIR="$DESTDIR"

# Fail the build, not the user, when a module the dependencies are there for was skipped.
dynload="$DESTDIR$KILN_PREFIX/lib/python3.11/lib-dynload"
for module in _ssl _hashlib _sqlite3 zlib _bz2 _lzma _ctypes readline _curses _curses_panel pyexpat _decimal; do
  if ! ls "$dynload/$module".cpython-*.so >/dev/null 2>&1; then
    echo "python3: extension module $module was not built; see \"optional modules\" in the log above" >&2
    exit 1
  fi
done

# `python` and `python-config` as most distributions offer them.
ln -s python3 "$DESTDIR$KILN_PREFIX/bin/python"
ln -s python3-config "$DESTDIR$KILN_PREFIX/bin/python-config"
