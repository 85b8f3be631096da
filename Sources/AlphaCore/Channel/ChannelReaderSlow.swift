import CAlphaCoreShims
import Glibc
import Synchronization

/// The reader's cold paths: nothing new, laps, gaps, a new epoch, corrupt records, waiting
/// and the info report. None of these run while messages flow.
extension ChannelReader {
    /// The header at `position` is not the expected message. Returns 0 (nothing yet), 1 (look
    /// again), or a negative errno.
    @inline(never)
    mutating func pollSlow(_ pos: UInt64, _ seq: UInt64) -> Int32 {
        if pos == position && seq != 0 && expected == ChannelReader.joining {
            // Joining: the first message seen, unless it is a new producer's.
            let ep = ring.view.load(ChannelLayout.oEpoch)
            if ep != epoch { return epochReset(ep) }
            expected = seq
            return 1
        }
        // Nothing yet: the record here is being written (seq 0), or the spot still holds an
        // older lap's bytes (not this position) and the producer has not lapped us (the intent
        // line, written once per capacity/16). The producer's lines are consulted every 1024
        // such polls only, so an idle spinning reader touches the record line, the intent line
        // and the owner line, which the producer does not write per message.
        if pos == position ? seq == 0 : intact(since: position) {
            idle &+= 1
            if idle & 1023 != 0 {
                // The owner line is written only at takeover and heartbeats: a new epoch is
                // seen at once.
                let ep = ring.view.load(ChannelLayout.oEpoch)
                return ep == epoch ? 0 : epochReset(ep)
            }
        }
        return fullCheck()
    }

    @inline(never)
    mutating func fullCheck() -> Int32 {
        let ep = ring.view.load(ChannelLayout.oEpoch)
        if ep != epoch { return epochReset(ep) }
        if !intact(since: position) { return lapped() }
        let tail = ring.view.load(ChannelLayout.oTail)
        let h = SharedView(ring.records + Int(truncatingIfNeeded: position & ring.mask))
        let pos = h.load(ChannelLayout.rPos), seq = h.load(ChannelLayout.rSeq)
        if pos == position && seq == expected { return 1 }
        if pos == position && seq > expected && expected != ChannelReader.joining {
            // A gap after a resync that ran into the tail: the count is exact now.
            return overflow(lost: seq &- expected, resumeAt: seq)
        }
        if position >= tail || (pos == position && seq == 0) { return 0 }
        if !intact(since: position) { return lapped() }
        return corrupt("the record at position \(position) (below the tail \(tail)) has position \(pos), seq \(seq); expected seq \(expected)")
    }

    mutating func overflow(lost: UInt64, resumeAt seq: UInt64) -> Int32 {
        expected = seq
        stats.lost &+= lost
        stats.lastLost = lost
        stats.overflows &+= 1
        return Errno.fail(EOVERFLOW, "lapped by the producer: \(lost) messages lost; resuming at seq \(seq)").negated
    }

    /// The producer has overwritten our position: resume at the oldest intact message.
    @inline(never)
    mutating func lapped() -> Int32 {
        let before = expected
        let found = resync(from: position)
        // A lap may be a new producer's start: its records (found by the scan) follow its
        // epoch, so the epoch read after the scan tells, and the reader starts that epoch over.
        let ep = ring.view.load(ChannelLayout.oEpoch)
        if ep != epoch { return epochReset(ep) }
        guard let seq = found else {
            // Everything up to the tail was overwritten or in flight: wait at the tail; the
            // next message's seq gives the exact loss (fullCheck's gap case).
            return 0
        }
        if before == ChannelReader.joining { expected = seq; return 1 }
        let lost = seq > before ? seq &- before : 0
        return overflow(lost: lost, resumeAt: seq)
    }

    /// Scans forward from `start` (at least `intent - capacity`) for the first record whose
    /// header names its own position, skipping padding. Sets `position`; returns the seq found,
    /// or nil after placing the reader at the tail. Bounded: at most one lap of 32-byte steps.
    mutating func resync(from start: UInt64) -> UInt64? {
        var x = start & ~31
        var steps = 0
        while steps < Int(ring.capacity >> 5) &+ 64 {
            steps &+= 1
            let intent = ring.view.load(ChannelLayout.oIntent)
            if intent > ring.capacity && x < intent &- ring.capacity { x = (intent &- ring.capacity &+ 31) & ~31 }
            let tail = ring.view.load(ChannelLayout.oTail)
            if x >= tail {
                position = tail & ~31
                return nil
            }
            let off = Int(truncatingIfNeeded: x & ring.mask)
            let h = SharedView(ring.records + off)
            let pos = h.load(ChannelLayout.rPos), seq = h.load(ChannelLayout.rSeq)
            if pos == x && seq != 0 {
                let len = Int(h.base.load(fromByteOffset: ChannelLayout.rLen, as: UInt32.self))
                let kind = h.base.load(fromByteOffset: ChannelLayout.rKind, as: UInt32.self)
                if !intact(since: x) { continue }
                if kind == ChannelLayout.kindPadding && off &+ 32 &+ len == Int(ring.capacity) {
                    x &+= ring.capacity &- UInt64(off)
                    continue
                }
                if kind == ChannelLayout.kindMessage && len <= ring.maxMessage && off &+ 32 &+ len <= Int(ring.capacity) {
                    position = x
                    return seq
                }
            }
            x &+= 32
        }
        position = ring.view.load(ChannelLayout.oTail) & ~31
        return nil
    }

    /// The detail text is built here, out of line: poll's body holds no string code.
    @inline(never)
    mutating func corruptRecord(kind: UInt32, length: Int) -> Int32 {
        corrupt("a record at position \(position) has kind \(kind) and length \(length)")
    }

    /// A record failed its checks (scribbled memory): report it, then skip to the next record
    /// that checks out.
    @inline(never)
    mutating func corrupt(_ what: String) -> Int32 {
        let before = expected
        let found = resync(from: position &+ 32)
        let ep = ring.view.load(ChannelLayout.oEpoch)
        if ep != epoch { return epochReset(ep) }   // not scribbled: a new producer took over
        stats.protocolErrors &+= 1
        if let seq = found {
            if before != ChannelReader.joining && seq > before {
                stats.lost &+= seq &- before
                stats.lastLost = seq &- before
            }
            expected = seq
        }
        return Errno.fail(EPROTO, "channel record rejected: \(what)").negated
    }

    /// A new producer took the channel over: start at its first message.
    @inline(never)
    mutating func epochReset(_ ep: UInt64) -> Int32 {
        epoch = ep
        position = ring.view.load(ChannelLayout.oStartPos) & ~31
        expected = 1
        batchStart = position
        stats.epochChanges &+= 1
        if slot >= 0 {
            let s = ring.view.slot(slot)
            s.store(ChannelLayout.sPosition, position)
            s.store(ChannelLayout.sEpoch, ep)
            released = position
        }
        return Errno.fail(ECONNRESET, "the channel has a new producer (epoch \(ep)); reading from its first message").negated
    }

    // MARK: waiting

    /// Whether poll has something to say (a message, a lap, a new epoch) without consuming it.
    func ready(deep: Bool) -> Bool {
        let h = SharedView(ring.records + Int(truncatingIfNeeded: position & ring.mask))
        if h.load(ChannelLayout.rPos) == position && h.load(ChannelLayout.rSeq) != 0 { return true }
        if !deep { return false }
        return ring.view.load(ChannelLayout.oTail) > position || ring.view.load(ChannelLayout.oEpoch) != epoch
            || ring.view.load32(ChannelLayout.oClosed) != 0
    }

    /// Waits until poll has something (1) or `timeoutNs` passes (0; -1 = no limit). Spins
    /// for the reader's spin time, then (with the sleep flag) sleeps on the futex word.
    public func wait(timeoutNs: Int64) throws(Errno) -> Int32 {
        if timeoutNs < -1 { throw Errno.fail(EINVAL, "timeout_ns \(timeoutNs) (use -1 for no limit)") }
        if ready(deep: true) { return 1 }
        if timeoutNs == 0 { return 0 }
        let start = Clock.nowNanoseconds()
        let limit = timeoutNs < 0 ? UInt64.max : UInt64(timeoutNs)
        var spins: UInt32 = 0
        while true {
            spins &+= 1
            if ready(deep: spins & 63 == 0) { return 1 }
            let elapsed = Clock.nowNanoseconds() &- start
            if elapsed >= limit { return 0 }
            if options.flags.contains(.sleep) && elapsed >= options.spinNs {
                ChannelFutex.sleep(ring.view, ns: limit &- elapsed) { ready(deep: true) }
            } else {
                acshim_cpu_relax()
            }
        }
    }

    // MARK: info

    /// The producer as this reader sees it.
    public var producer: (pid: Int32, alive: Bool, heartbeatNs: UInt64, seq: UInt64, tail: UInt64) {
        let pid = Int32(truncatingIfNeeded: ring.view.load(ChannelLayout.oOwnerPid))
        let closed = ring.view.load32(ChannelLayout.oClosed) != 0
        let alive = !closed && ProcessIdentity.alive(pid: pid, start: ring.view.load(ChannelLayout.oOwnerStart))
        var last = ring.view.load(ChannelLayout.oLastTime)
        if geometry.flags.contains(.cycles) && last != 0 { last = Clock.nanoseconds(fromCycles: last) }
        let beat = Swift.max(ring.view.load(ChannelLayout.oHeartbeat), last)
        return (pid, alive, beat, ring.view.load(ChannelLayout.oSeq), ring.view.load(ChannelLayout.oTail))
    }

    public var currentPosition: UInt64 { position }
    public var nextSeq: UInt64 { expected == ChannelReader.joining ? 0 : expected }
    public var registered: Bool { slot >= 0 }
}

extension ChannelReader {
    /// poll, then copy the payloads one after another into `buf` (at most `cap` bytes) and
    /// check after copying that none was overwritten meanwhile (then the batch is dropped and
    /// the lap reported).
    public mutating func pollCopy(_ out: UnsafeMutablePointer<ChannelMessage>, _ max: Int,
                                  _ buf: UnsafeMutableRawPointer?, _ cap: Int) -> Int32 {
        let first = position, firstExpected = expected
        let n = poll(out, max, budget: buf == nil ? 0 : cap)
        if n <= 0 { return n }
        var at = 0
        for i in 0..<Int(n) {
            let len = Int(out[i].length)
            if len > 0, let buf, let src = out[i].data { (buf + at).copyMemory(from: src, byteCount: len) }
            out[i].data = buf.map { UnsafeRawPointer($0 + at) }
            at &+= len
        }
        if !intact(since: first) {
            position = first
            expected = firstExpected
            stats.messages &-= UInt64(n)
            return lapped()
        }
        return n
    }
}
