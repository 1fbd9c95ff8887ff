# Lua's hand-written makefiles: no configure, flags go through MYCFLAGS/MYLDFLAGS.
# Modules are searched under LUA_ROOT, which luaconf.h fixes at /usr/local/;
# point it at the prefix (relocated at install time like any compiled-in path).
sed -i "s|^#define LUA_ROOT\t\"/usr/local/\"|#define LUA_ROOT\t\"$KILN_PREFIX/\"|" src/luaconf.h
grep -qF "\"$KILN_PREFIX/\"" src/luaconf.h

target=linux  # upstream: without readline
[ "$KILN_OPTION_READLINE" = 1 ] && target=linux-readline
make "$target" MYCFLAGS="$CFLAGS $CPPFLAGS" MYLDFLAGS="$LDFLAGS"
# Upstream installs only the static liblua.a (what embedders link), and man pages under man/.
make install DESTDIR="$DESTDIR" INSTALL_TOP="$DESTDIR$KILN_PREFIX" INSTALL_MAN="$DESTDIR$KILN_PREFIX/share/man/man1"
