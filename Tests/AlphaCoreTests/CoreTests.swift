import Testing
import Glibc
@testable import AlphaCore

@Suite struct ErrorTextTests {
    @Test func describesErrnoOfEitherSign() {
        #expect(String(cString: ErrorText.describe(-EINVAL)) == "Invalid argument")
        #expect(String(cString: ErrorText.describe(EINVAL)) == "Invalid argument")
        #expect(String(cString: ErrorText.describe(0)) == "success")
    }

    @Test func describesLibraryCodes() {
        #expect(String(cString: ErrorText.describe(Errno.format.negated)) == "malformed input data")
        #expect(String(cString: ErrorText.describe(Errno.internal.negated)) == "internal error in libalphacore")
    }

    @Test func describesUnknownAndExtremeInts() {
        #expect(String(cString: ErrorText.describe(Int32.min)) == "unknown error -2147483648")
        #expect(String(cString: ErrorText.describe(Int32.max)) == "unknown error 2147483647")
        #expect(String(cString: ErrorText.describe(-5000)) == "unknown error -5000")
    }
}

@Suite struct DetailTests {
    @Test func failRecordsDetail() {
        Detail.clear()
        let e = Errno.fail(ERANGE, "value 7 is above the highest trackable 5")
        #expect(e.negated == -ERANGE)
        #expect(Detail.current == "value 7 is above the highest trackable 5")
    }

    @Test func longDetailIsCutOnACharacterBoundary() {
        let long = String(repeating: "é", count: 600)  // 2 bytes each
        Detail.set(long)
        let got = Detail.current
        #expect(got.utf8.count <= 511)
        #expect(got.allSatisfy { $0 == "é" })
        #expect(got.count == 255)
    }

    @Test func detailIsPerThread() {
        Detail.set("main thread")
        var other = ""
        var thread = pthread_t()
        let box = UnsafeMutablePointer<String>.allocate(capacity: 1)
        box.initialize(to: "")
        pthread_create(&thread, nil, { arg in
            let p = arg!.assumingMemoryBound(to: String.self)
            p.pointee = Detail.current
            return nil
        }, box)
        pthread_join(thread, nil)
        other = box.move()
        box.deallocate()
        #expect(other == "")
        #expect(Detail.current == "main thread")
    }
}

@Suite struct ClockTests {
    @Test func monotonicAdvances() {
        let a = Clock.nowNanoseconds()
        let b = Clock.nowNanoseconds()
        #expect(b >= a)
    }

    @Test func cyclesToNanosecondsTracksTheMonotonicClock() {
        let c0 = Clock.cycles(), n0 = Clock.nowNanoseconds()
        var ts = timespec(tv_sec: 0, tv_nsec: 50_000_000)
        nanosleep(&ts, nil)
        let c1 = Clock.cycles(), n1 = Clock.nowNanoseconds()
        let measured = Double(Clock.nanoseconds(fromCycles: c1 &- c0))
        let actual = Double(n1 - n0)
        #expect(abs(measured - actual) / actual < 0.01)
    }

    @Test func conversionIsDefinedForEveryInput() {
        #expect(Clock.nanoseconds(fromCycles: 0) == 0)
        let hz = Clock.cyclesPerSecond
        #expect(hz > 0)
        // One second of cycles is one second, to 1 ns.
        let oneSecond = Clock.nanoseconds(fromCycles: hz)
        #expect(oneSecond >= 999_999_999 && oneSecond <= 1_000_000_000)
        // The largest input saturates or converts without wrapping.
        let big = Clock.nanoseconds(fromCycles: UInt64.max)
        #expect(big >= Clock.nanoseconds(fromCycles: UInt64.max / 2))
    }

    @Test func scaleIsExactOnKnownRatios() {
        // 1e9/3e9 = 1/3: fraction = floor(2^64 / 3).
        let third = UInt64.max / 3
        #expect(Clock.scale(3_000_000_000, whole: 0, fraction: third) == 999_999_999)
        #expect(Clock.scale(UInt64.max, whole: 2, fraction: 0) == UInt64.max)
        #expect(Clock.scale(10, whole: 1, fraction: 0) == 10)
    }
}

@Suite(.serialized) struct SystemRootTests {
    @Test func prefixJoinsAndClears() {
        // The prefix is process-wide and other suites read the real /sys in parallel: "/./"
        // still names the real tree, so they are not sent into a missing one meanwhile.
        SystemRoot.set("/.//")
        #expect(SystemRoot.path("/sys/x") == "/./sys/x")
        SystemRoot.set(nil)
        #expect(SystemRoot.path("/sys/x") == "/sys/x" || getenv("ALPHACORE_SYSROOT") != nil)
    }

    @Test func readsSmallFilesAndReportsMissingOnes() throws {
        let text = try SysFile.read("/proc/self/stat")
        #expect(!text.isEmpty)
        Detail.clear()
        #expect(throws: Errno(ENOENT)) { try SysFile.read("/nonexistent/alphacore") }
        #expect(Detail.current.contains("/nonexistent/alphacore"))
        #expect(SysFile.trim("  0-3\n") == "0-3")
        #expect(SysFile.list("/proc/self/fd") != nil)
    }
}

@Suite struct TextTests {
    @Test func findsSubstringsByteWise() {
        #expect("always [madvise] never".containsText("[madvise]"))
        #expect(!"always madvise never".containsText("[madvise]"))
        #expect("abc".containsText(""))
        #expect(!"ab".containsText("abc"))
        #expect("aaab".containsText("aab"))
        let s = "x/sys/fs/cgroup/y"
        if let r = s.rangeOfText("/sys") { #expect(s[r] == "/sys"); #expect(s[s.startIndex..<r.lowerBound] == "x") }
        else { Issue.record("no range") }
        #expect(Substring("héllo wörld").containsText("wö"))
    }
}
