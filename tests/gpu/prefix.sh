# Sourced by tests/gpu/run.sh: unpacks gpu-debs/*.deb into a private prefix
# (never into /) and points PATH, LD_LIBRARY_PATH, OPAL_PREFIX and CMake at it.
# Sets PREFIX and CMAKE_DEPS_ARGS.
PREFIX="${GPU_PREFIX:-/tmp/distill-gpu-prefix}"
DEBS="${GPU_DEBS:-$SRC/gpu-debs}"
ls "$DEBS"/*.deb >/dev/null 2>&1 || { echo "no .deb files in $DEBS: run tests/gpu/fetch_debs.sh on the Debian machine and carry gpu-debs" >&2; exit 2; }
if [ ! -f "$PREFIX/.unpacked" ]; then
  mkdir -p "$PREFIX"
  for deb in "$DEBS"/*.deb; do dpkg -x "$deb" "$PREFIX"; done
  # Debian names these through the alternatives system, which dpkg -x does not set up.
  for tool in mpirun mpiexec mpicxx mpicc orterun; do
    [ -e "$PREFIX/usr/bin/$tool.openmpi" ] && ln -sf "$tool.openmpi" "$PREFIX/usr/bin/$tool"
  done
  [ -e "$PREFIX/usr/bin/mpirun" ] || ln -sf orterun "$PREFIX/usr/bin/mpirun"
  # A -dev package's libX.so points at a runtime library that was not carried
  # because the machine has its own (zlib): point it at the machine's.
  for link in "$PREFIX"/usr/lib/x86_64-linux-gnu/lib*.so; do
    [ -L "$link" ] && [ ! -e "$link" ] || continue
    base="$(basename "$link")"
    own="$(ls /usr/lib/x86_64-linux-gnu/"$base".* /lib/x86_64-linux-gnu/"$base".* 2>/dev/null | head -1)"
    [ -n "$own" ] && ln -sf "$own" "$link"
  done
  touch "$PREFIX/.unpacked"
fi
LIBDIR="$PREFIX/usr/lib/x86_64-linux-gnu"
export PATH="$PREFIX/usr/bin:$PATH"
export LD_LIBRARY_PATH="$LIBDIR:$LIBDIR/openmpi/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export PKG_CONFIG_LIBDIR="$LIBDIR/pkgconfig:$PREFIX/usr/share/pkgconfig"  # only the prefix's .pc files,
export PKG_CONFIG_SYSROOT_DIR="$PREFIX"                                   # whose /usr paths lie under it
export OPAL_PREFIX="$PREFIX/usr"          # Open MPI finds its components, help files and orted here
export OMPI_MCA_plm_rsh_agent=/bin/false  # one node: never needs ssh (a machine without it still launches)
CMAKE_DEPS_ARGS=(
  "-DCMAKE_POLICY_VERSION_MINIMUM=3.5"    # CMake 4 reads Debian's older package files too
  "-DCMAKE_PREFIX_PATH=$PREFIX/usr;$LIBDIR/cmake"
  "-DMPI_CXX_COMPILER=$PREFIX/usr/bin/mpicxx"
  "-DProtobuf_PROTOC_EXECUTABLE=$PREFIX/usr/bin/protoc"
  "-DProtobuf_INCLUDE_DIR=$PREFIX/usr/include"
  "-DProtobuf_LIBRARY=$LIBDIR/libprotobuf.so"
  "-DCURL_INCLUDE_DIR=$PREFIX/usr/include/x86_64-linux-gnu"
  "-DCURL_LIBRARY=$LIBDIR/libcurl.so"
  "-DZLIB_INCLUDE_DIR=$PREFIX/usr/include"
)
