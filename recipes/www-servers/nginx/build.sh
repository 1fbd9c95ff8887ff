# nginx's own configure: the compiled-in paths (configuration, logs, temporary
# files) hold the placeholder prefix and are relocated at install time.
p="$KILN_PREFIX"
flags=(
  --prefix="$p/share/nginx"
  --sbin-path="$p/bin/nginx"
  --conf-path="$p/etc/nginx/nginx.conf"
  --error-log-path="$p/var/log/nginx/error.log"
  --http-log-path="$p/var/log/nginx/access.log"
  --pid-path="$p/var/run/nginx.pid"
  --lock-path="$p/var/run/nginx.lock"
  --http-client-body-temp-path="$p/var/lib/nginx/body"
  --http-proxy-temp-path="$p/var/lib/nginx/proxy"
  --http-fastcgi-temp-path="$p/var/lib/nginx/fastcgi"
  --http-uwsgi-temp-path="$p/var/lib/nginx/uwsgi"
  --http-scgi-temp-path="$p/var/lib/nginx/scgi"
  --with-cc-opt="$CFLAGS $CPPFLAGS"
  --with-ld-opt="$LDFLAGS"
  --with-http_stub_status_module
  --with-threads
)
[ "$KILN_OPTION_PCRE" = 1 ] || flags+=(--without-pcre --without-http_rewrite_module)
[ "$KILN_OPTION_GZIP" = 1 ] || flags+=(--without-http_gzip_module)
[ "$KILN_OPTION_SSL" = 1 ] && flags+=(--with-http_ssl_module --with-http_v2_module)
[ "$KILN_OPTION_UWSGI" = 1 ] || flags+=(--without-http_uwsgi_module)
./configure "${flags[@]}"
make
make install DESTDIR="$DESTDIR"
# Only the files nginx reads; the *.default copies are for people comparing by hand.
rm -f "$DESTDIR$p"/etc/nginx/*.default
