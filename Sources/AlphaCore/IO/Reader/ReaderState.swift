import Glibc

/// What both backends share: the fd table, the buffer pool, the framer and the counters, and
/// the delivery of completions into the caller's array. A backend reads into this state and
/// calls `deliver`/`deliverEnd`; it never reaches into the other backend.
struct ReaderState {
    var table: FdTable
    var pool: BufferPool
    var framer: Framer
    var counters = ReaderCounters()
    var profile: ReaderProfile = .throughput
    /// Spin budget per poll in ns: 0 = no spinning, -1 = the poll's timeout (BUSY_POLL).
    var spinNs: Int64 = 0

    /// Completions a poll of `max` may fill: with framing one read can yield three.
    @inline(__always)
    func room(_ max: Int) -> Int { framer.framing == .none ? max : max &- 2 }

    /// Hands out `len` bytes that arrived in buffer `bid` (from `off`) for slot `idx`: one
    /// completion pointing into the buffer, or with framing whole messages only. `out` has
    /// room for 3. Returns true when the framer ended the fd (a message too large): the
    /// backend then stops reading it.
    @inline(__always)
    mutating func deliver(_ idx: Int, _ bid: Int, _ off: Int, _ len: Int,
                          _ out: UnsafeMutablePointer<ReaderCompletion>, _ n: inout Int) -> Bool {
        if framer.framing != .none {
            return deliverFramed(idx, bid, len, out, &n)   // framing never uses incremental buffers: off == 0
        }
        let s = table.slots + idx
        (out + n).initialize(to: ReaderCompletion(userData: s.pointee.userData, data: UnsafeRawPointer(pool.address(bid) + off),
                                                  result: Int32(truncatingIfNeeded: len), bufferID: UInt32(truncatingIfNeeded: bid),
                                                  fd: s.pointee.fd, flags: 0))
        n &+= 1
        pool.hold(bid)
        counters.completions &+= 1
        counters.bytes &+= UInt64(truncatingIfNeeded: len)
        return false
    }

    /// Hands out the end of a stream (0) or an error (-errno) for slot `idx`.
    mutating func deliverEnd(_ idx: Int, _ result: Int32, _ out: UnsafeMutablePointer<ReaderCompletion>, _ n: inout Int) {
        let s = table.slots + idx
        var res = result
        if res == 0 && s.pointee.partialBytes > 0 {
            res = -EPROTO
            ReaderState.noteEndInsideMessage(s.pointee.fd, s.pointee.partialBytes)
        }
        s.pointee.partialBytes = 0
        s.pointee.partialSize = 0
        (out + n).initialize(to: ReaderCompletion(userData: s.pointee.userData, data: nil, result: res,
                                                  bufferID: ReaderCompletion.noBuffer, fd: s.pointee.fd, flags: ReaderCompletion.last))
        n &+= 1
        s.pointee.state = .done
        counters.completions &+= 1
        if res == 0 { counters.eofs &+= 1 } else { counters.errors &+= 1 }
    }

    @inline(never)
    static func noteEndInsideMessage(_ fd: Int32, _ have: UInt32) {
        Detail.set("fd \(fd) ended inside a message (\(have) bytes of it arrived)")
    }

    /// The error of a poll that finds every buffer held (kept out of line: no string work in
    /// the poll's body).
    @inline(never)
    static func noBuffers(_ waiting: Int) -> Errno {
        Errno.fail(ENOBUFS, "every buffer is held by the caller and \(waiting) fds wait for one: release completions")
    }

    /// Slots parked for lack of buffers read again (buffers came back).
    mutating func resumeParked<B: ReaderIOBackend>(_ io: inout B) {
        while table.parkedCount > 0 {
            table.parkedCount -= 1
            let idx = Int(table.parked[table.parkedCount])
            table.slots[idx].state = .active
            counters.rearms &+= 1
            io.resume(idx, &self)
        }
    }

    mutating func snapshot() -> ReaderCounters {
        var c = counters
        c.fds = UInt32(truncatingIfNeeded: table.activeFds)
        c.buffersHeld = UInt64(pool.held)
        return c
    }
}

/// The clock for deadlines.
@inline(__always)
func readerNow() -> Int64 { Int64(bitPattern: Clock.nowNanoseconds()) }
