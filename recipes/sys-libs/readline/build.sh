# Readline looks for the termcap functions in -ltermcap, -ltinfo, -lcurses …
# in that order, and would find a host library first: name ours. Linking the
# shared libraries against it records libncursesw.so.6 as NEEDED, so programs
# linking only -lreadline work.
./configure --prefix="$KILN_PREFIX" --disable-static --disable-install-examples \
  bash_cv_termcap_lib=libncursesw --with-shared-termcap-library=-lncursesw
make TERMCAP_LIB=-lncursesw
make install DESTDIR="$DESTDIR"
# configure names the pkg-config module after -lncurses; ours is ncursesw.
sed -i 's/^Requires.private:.*/Requires.private: ncursesw/' "$DESTDIR$KILN_PREFIX/lib/pkgconfig/readline.pc"
rm -rf "$DESTDIR$KILN_PREFIX/share/doc" "$DESTDIR$KILN_PREFIX/share/info"
