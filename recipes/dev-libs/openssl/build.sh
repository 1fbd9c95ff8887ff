# OpenSSL's own Configure (perl); it takes CFLAGS and LDFLAGS from the environment.
flags=(--prefix="$KILN_PREFIX" --openssldir="$KILN_PREFIX/ssl" --libdir=lib shared no-tests)
[ "$KILN_OPTION_ZLIB" = 1 ] && flags+=(zlib) || flags+=(no-zlib)
./Configure "${flags[@]}"
make
# install_sw: libraries, headers, tools; install_ssldirs: ssl/openssl.cnf and the certs directory.
make install_sw install_ssldirs DESTDIR="$DESTDIR"
rm -f "$DESTDIR$KILN_PREFIX"/lib/*.a "$DESTDIR$KILN_PREFIX"/ssl/*.dist
