#include <numaif.h>
