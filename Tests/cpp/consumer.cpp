// A C++17 program built with CMake's find_package(alphacore): it must compile against the
// installed header, link the imported target, and run against the installed .so.
#include <alphacore.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <type_traits>

static int failures = 0, passes = 0;
#define EXPECT(c) do { if (c) ++passes; else { ++failures; std::fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #c); } } while (0)

int main() {
    static_assert(noexcept(alphacore_now_ns()), "C functions are noexcept under C++");
    EXPECT(alphacore_version_number() == ALPHACORE_VERSION_NUMBER);
    EXPECT(std::string(alphacore_version_string()) == "0.1.0");
    EXPECT(std::strcmp(alphacore_strerror(-EINVAL), "Invalid argument") == 0);
    std::uint64_t a = alphacore_now_ns(), b = alphacore_now_ns();
    EXPECT(b >= a);
    EXPECT(alphacore_rdtsc() > 0);
    EXPECT(alphacore_cycles_to_ns(alphacore_cycles_per_second()) >= 999999999ull);
    std::printf("cpp consumer: %d passed, %d failed\n", passes, failures);
    return failures == 0 ? 0 : 1;
}
