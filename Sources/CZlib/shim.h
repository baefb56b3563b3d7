#ifndef NIGHTSHIFT_CZLIB_SHIM_H
#define NIGHTSHIFT_CZLIB_SHIM_H
#include <zlib.h>

// deflateInit2 and inflateInit2 are macros that pass the library version and
// stream size, so Swift cannot call them directly.
static inline int nightshift_deflate_init_gzip(z_streamp stream, int level) {
    return deflateInit2(stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
}

static inline int nightshift_inflate_init_gzip(z_streamp stream) {
    return inflateInit2(stream, 15 + 32);
}

// Raw deflate (no zlib or gzip wrapper) with a 32 KiB window, for archives that write their own gzip header and
// trailer around independently compressed blocks.
static inline int nightshift_deflate_init_raw(z_streamp stream, int level) {
    return deflateInit2(stream, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
}
#endif
