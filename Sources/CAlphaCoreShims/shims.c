#include "alphacore_shims.h"
#include <string.h>
#include <sched.h>
#include <sys/prctl.h>

static _Thread_local char detail_buffer[ACSHIM_DETAIL_CAP];
static _Thread_local char errtext_buffer[ACSHIM_ERRTEXT_CAP];

char *acshim_detail_buffer(void) { return detail_buffer; }
char *acshim_errtext_buffer(void) { return errtext_buffer; }
const char *acshim_strerrordesc(int err) { return strerrordesc_np(err); }

int acshim_getcpu(unsigned *cpu, unsigned *node) { return getcpu(cpu, node); }
int acshim_prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5) {
    return prctl(option, a2, a3, a4, a5);
}
