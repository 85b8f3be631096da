/* Compiles the public header as part of every build (the C side of the ABI target). */
#include "../../include/alphacore.h"

_Static_assert(ALPHACORE_VERSION_NUMBER == ALPHACORE_VERSION_MAJOR * 10000 +
               ALPHACORE_VERSION_MINOR * 100 + ALPHACORE_VERSION_PATCH, "version macros");
