#ifndef WAYMARK_CZSTD_SHIM_H
#define WAYMARK_CZSTD_SHIM_H
#include <zstd.h>
#endif
