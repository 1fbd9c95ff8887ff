# The tag archive holds the whole repository; the library is in expat/.
# CMake (a build tool of the host) takes CFLAGS and LDFLAGS from the environment.
command -v cmake >/dev/null || { echo "expat: needs cmake on the build host (Debian: apt-get install cmake)" >&2; exit 1; }
cd expat
cmake -S . -B build \
  -DCMAKE_INSTALL_PREFIX="$KILN_PREFIX" -DCMAKE_INSTALL_LIBDIR=lib -DCMAKE_BUILD_TYPE=None \
  -DEXPAT_BUILD_TOOLS=ON -DEXPAT_BUILD_EXAMPLES=OFF -DEXPAT_BUILD_TESTS=OFF \
  -DEXPAT_BUILD_DOCS=OFF -DEXPAT_SHARED_LIBS=ON
cmake --build build
DESTDIR="$DESTDIR" cmake --install build
rm -rf "$DESTDIR$KILN_PREFIX/share/doc"
