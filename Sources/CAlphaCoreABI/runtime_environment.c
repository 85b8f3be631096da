/* The Swift runtime linked statically into libalphacore reads its settings (SWIFT_BACKTRACE,
 * SWIFT_DEBUG_*, ...) by walking `environ` when the library loads. A host process's
 * environment must not configure a library's private runtime: SWIFT_BACKTRACE=enable=yes made it
 * install handlers for 7 signals in the host, and SWIFT_DEBUG_* names made it print. This
 * hidden definition (a local symbol of libalphacore.so, not exported) is the `environ` that the
 * runtime's objects bind to inside the library: empty. libc's getenv, which the library uses for
 * its own variables (ALPHACORE_SYSROOT, ALPHACORE_CPUS), reads the real environment. This target
 * is linked into the shared library only (not the command-line tool, whose CommandLine.arguments
 * the runtime finds through environ). Tests/abi/signals.c checks both. */
static char *alphacore_no_environment[1] = {0};
__attribute__((visibility("hidden"))) char **environ = alphacore_no_environment;
