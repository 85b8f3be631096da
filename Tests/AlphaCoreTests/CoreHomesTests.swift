import Testing
import Glibc
@testable import AlphaCore

/// The Core homes of issue 15: the system-call wrapper, rounding, the status-file parser.
@Suite struct SystemCallTests {
    @Test func retriesEINTRAndReturnsTheValue() {
        var calls = 0
        let r = SystemCall.valueOrErrno { () -> Int32 in
            calls += 1
            if calls < 3 { errno = EINTR; return -1 }
            return 7
        }
        #expect(calls == 3)
        #expect((try? r.get()) == 7)
    }

    @Test func givesTheErrnoOfAFailure() {
        let r = SystemCall.valueOrErrno { close(-1) }
        if case .failure(let e) = r { #expect(e.code == EBADF) } else { Issue.record("close(-1) succeeded") }
        Detail.clear()
        #expect(throws: Errno(EBADF)) { try SystemCall.check("close of fd -1") { close(-1) } }
        #expect(Detail.current.hasPrefix("close of fd -1: "))
    }

    @Test func writeAllWritesEverythingAndReportsABadFd() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]); close(fds[1]) }
        try SystemCall.writeAll(fds[1], "hello, pipe")
        var buf = [UInt8](repeating: 0, count: 64)
        let n = read(fds[0], &buf, 64)
        #expect(String(decoding: buf[0..<max(0, n)], as: UTF8.self) == "hello, pipe")
        #expect(throws: Errno(EBADF)) { try SystemCall.writeAll(-1, "x") }
    }
}

@Suite struct RoundUpTests {
    @Test func multiples() {
        #expect(RoundUp.multiple(0, of: 4096) == 0)
        #expect(RoundUp.multiple(1, of: 4096) == 4096)
        #expect(RoundUp.multiple(4096, of: 4096) == 4096)
        #expect(RoundUp.multiple(5000, of: 3000) == 6000)
        #expect(RoundUp.multiple(Int.max, of: 4096) == nil)
        #expect(RoundUp.multiple(5, of: 0) == nil)
        #expect(RoundUp.multiple(-1, of: 8) == nil)
    }

    @Test func powersOfTwo() {
        #expect(RoundUp.powerOfTwo(0) == 1)
        #expect(RoundUp.powerOfTwo(1) == 1)
        #expect(RoundUp.powerOfTwo(3) == 4)
        #expect(RoundUp.powerOfTwo(64) == 64)
        #expect(RoundUp.powerOfTwo(65) == 128)
        #expect(RoundUp.powerOfTwo(1 << 62) == 1 << 62)
        #expect(RoundUp.powerOfTwo((1 << 62) + 1) == nil)
    }
}

@Suite struct ProcStatusTests {
    @Test func parsesFields() {
        let status = "Name:\tx\nCapEff:\t0000000000804000\nVmLck:\t    12 kB\nCapEffX:\t1\n"
        #expect(ProcStatus.field("CapEff", in: status) == "0000000000804000")
        #expect(ProcStatus.field("VmLck", in: status) == "12 kB")
        #expect(ProcStatus.field("Missing", in: status) == nil)
        let bits = ProcStatus.field("CapEff", in: status).flatMap(ProcStatus.capabilities(hex:))
        #expect(bits == 0x804000)
        #expect((bits ?? 0) & (1 << ProcStatus.Capability.ipcLock.rawValue) != 0)
        #expect((bits ?? 0) & (1 << ProcStatus.Capability.sysNice.rawValue) != 0)
    }

    @Test func readsTheRealFile() {
        #expect(ProcStatus.effectiveCapabilities(thread: false) != nil)
        #expect(ProcStatus.effectiveCapabilities(thread: true) != nil)
    }
}
