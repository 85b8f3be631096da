#include "alphacore_shims.h"
#include <sched.h>
#include <string.h>

static _Thread_local char detail_buffer[ACSHIM_DETAIL_CAP];
static _Thread_local char errtext_buffer[ACSHIM_ERRTEXT_CAP];

char *acshim_detail_buffer(void) { return detail_buffer; }
char *acshim_errtext_buffer(void) { return errtext_buffer; }
const char *acshim_strerrordesc(int err) { return strerrordesc_np(err); }
int acshim_sched_getcpu(void) { return sched_getcpu(); }
