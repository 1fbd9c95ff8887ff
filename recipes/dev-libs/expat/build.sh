# The tag archive holds the whole repository; the library is in expat/.
# CMake (a build tool of the host) takes CFLAGS and LDFLAGS from the environment.
command -v cmake >/dev/null || { echo "expat: needs cmake on the build host (Debian: apt-get install cmake)" >&2; exit 1; }
cd expat
# HAVE_ARC4RANDOM*=0: glibc has arc4random only since 2.36; entropy then comes
# from getrandom (2.25), so the package runs on older systems too.
cmake -S . -B build \
  -DCMAKE_INSTALL_PREFIX="$KILN_PREFIX" -DCMAKE_INSTALL_LIBDIR=lib -DCMAKE_BUILD_TYPE=None \
  -DHAVE_ARC4RANDOM_BUF=0 -DHAVE_ARC4RANDOM=0 \
  -DEXPAT_BUILD_TOOLS=ON -DEXPAT_BUILD_EXAMPLES=OFF -DEXPAT_BUILD_TESTS=OFF \
  -DEXPAT_BUILD_DOCS=OFF -DEXPAT_SHARED_LIBS=ON
cmake --build build
DESTDIR="$DESTDIR" cmake --install build
rm -rf "$DESTDIR$KILN_PREFIX/share/doc"
