#ifndef WAYMARK_CXXHASH_SHIM_H
#define WAYMARK_CXXHASH_SHIM_H
#include <xxhash.h>
#endif
