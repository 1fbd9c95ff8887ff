# bzip2's Makefile installs only static objects; Makefile-libbz2_so builds the
# shared library (soname libbz2.so.1.0, as every distribution ships it). Both
# makefiles hard-code CFLAGS, so ours are passed on the command line.
cc=${CC:-gcc}
cflags="$CFLAGS -fPIC -Wall -Winline -D_FILE_OFFSET_BITS=64"
make -f Makefile-libbz2_so CC="$cc" CFLAGS="$cflags"
ln -sf libbz2.so.1.0.8 libbz2.so
# The makefile's bzip2-shared is linked without $LDFLAGS (no run path): link the tools ourselves.
"$cc" $cflags $LDFLAGS -o bzip2 bzip2.c -L. -lbz2
"$cc" $cflags $LDFLAGS -o bzip2recover bzip2recover.c

p="$DESTDIR$KILN_PREFIX"
install -d "$p/bin" "$p/lib/pkgconfig" "$p/include" "$p/share/man/man1"
install -m 0755 bzip2 bzip2recover bzgrep bzmore bzdiff "$p/bin/"
ln -s bzip2 "$p/bin/bunzip2"
ln -s bzip2 "$p/bin/bzcat"
ln -s bzgrep "$p/bin/bzegrep"
ln -s bzgrep "$p/bin/bzfgrep"
ln -s bzmore "$p/bin/bzless"
ln -s bzdiff "$p/bin/bzcmp"
install -m 0755 libbz2.so.1.0.8 "$p/lib/"
ln -s libbz2.so.1.0.8 "$p/lib/libbz2.so.1.0"
ln -s libbz2.so.1.0.8 "$p/lib/libbz2.so"
install -m 0644 bzlib.h "$p/include/"
install -m 0644 bzip2.1 "$p/share/man/man1/"
# Upstream ships no pkg-config file; other builds find libbz2 through this one.
cat >"$p/lib/pkgconfig/bzip2.pc" <<PC
prefix=$KILN_PREFIX
exec_prefix=\${prefix}
libdir=\${exec_prefix}/lib
includedir=\${prefix}/include

Name: bzip2
Description: Block-sorting file compressor library
Version: $KILN_VERSION
Libs: -L\${libdir} -lbz2
Cflags: -I\${includedir}
PC
