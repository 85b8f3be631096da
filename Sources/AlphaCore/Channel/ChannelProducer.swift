import CAlphaCoreShims
import Glibc
import Synchronization

/// The producer side of a channel: one per channel name at a time. MT-Unsafe: one thread
/// claims, commits and publishes. A plain struct the C ABI keeps on the heap (no ARC on the
/// hot path).
public struct ChannelProducer {
    public private(set) var region: Region
    @usableFromInline let ring: ChannelRing
    /// Where publish times come from: 0 = now_ns, 1 = cycles, 2 = none (NO_TIME).
    @usableFromInline let timeSource: UInt8
    @usableFromInline var position: UInt64 = 0
    @usableFromInline var seq: UInt64 = 1
    /// The open claim's payload and length (nil: none). Where its record starts and ends
    /// follows from these and `position`, so that a message costs few stores: a clock read
    /// or a cache line held by a reader drains the store buffer, and each store the hot path
    /// adds then waits too.
    @usableFromInline var claimed: UnsafeMutableRawPointer? = nil
    @usableFromInline var claimedLen: Int = 0
    /// The producer may write below this position without looking at the consumers.
    @usableFromInline var limit: UInt64 = .max
    /// The intent last published (see ChannelLayout): the producer writes below it freely.
    @usableFromInline var intent: UInt64 = 0
    let flags: ChannelFlags
    public private(set) var epoch: UInt64 = 1
    let waitTimeoutNs: UInt64

    init(region: Region, base: UnsafeMutableRawPointer, geometry g: ChannelGeometry, flags: ChannelFlags, waitTimeoutNs: UInt64) {
        self.region = region
        ring = ChannelRing(base: base, geometry: g)
        timeSource = g.flags.contains(.cycles) ? 1 : g.flags.contains(.noTime) ? 2 : 0
        self.flags = flags
        self.waitTimeoutNs = waitTimeoutNs
    }

    /// Creates the named channel, or takes over one whose producer has gone (same geometry):
    /// a new epoch starting a full lap beyond everything the old producer wrote.
    public static func create(name: String, geometry g: ChannelGeometry, memory: MemOptions,
                              waitTimeoutNs: UInt64 = 0) throws(Errno) -> ChannelProducer {
        try ChannelName.validate(name)
        try g.validate()
        var made: ChannelProducer? = nil
        do {
            // The header is written before the name appears: a producer that dies while
            // creating leaves no half-made channel that would refuse the next one.
            _ = try SharedRegion.create(name: name, size: g.regionSize, options: memory) { region throws(Errno) in
                var p = try ChannelProducer(region, g, waitTimeoutNs)
                p.initialize(g)
                made = p
            }
        } catch where error.code == EEXIST {
            let region = try SharedRegion.open(name: name, options: memory)
            do throws(Errno) {
                var p = try ChannelProducer(region, g, waitTimeoutNs)
                try p.takeOver(name, g)
                made = p
            } catch {
                try? region.free()
                throw error
            }
        }
        guard var p = made else { throw Errno.fail(Errno.internal, "the channel was not made") }
        if p.flags.contains(.backpressure) { p.limit = p.position &+ p.ring.capacity }
        return p
    }

    init(_ region: Region, _ g: ChannelGeometry, _ waitTimeoutNs: UInt64) throws(Errno) {
        guard let base = region.address else { throw Errno.fail(Errno.internal, "the channel region has no address") }
        self.init(region: region, base: base, geometry: g, flags: g.flags, waitTimeoutNs: waitTimeoutNs)
    }

    mutating func initialize(_ g: ChannelGeometry) {
        g.write(ring.view.base, regionSize: region.size)
        claimOwnership()
        ring.view.store(ChannelLayout.oEpoch, 1)
        ring.view.store32(ChannelLayout.oReady, 1)
    }

    mutating func takeOver(_ name: String, _ g: ChannelGeometry) throws(Errno) {
        let old: ChannelGeometry
        do throws(Errno) { old = try ChannelGeometry.read(ring.view.base, mappedSize: region.size) } catch {
            throw Errno.fail(EEXIST, "'\(name)' exists and is not a channel this producer can take over: \(Detail.current)")
        }
        if old.capacity != g.capacity || old.maxMessage != g.maxMessage
            || old.flags.intersection(.stored).rawValue != g.flags.intersection(.stored).rawValue {
            throw Errno.fail(EEXIST, "channel '\(name)' exists with capacity \(old.capacity), max_msg \(old.maxMessage), flags 0x\(String(old.flags.rawValue, radix: 16)); unlink it to change them")
        }
        let owner = ring.view.word(ChannelLayout.oOwnerPid)
        let oldPid = owner.pointee.load(ordering: .acquiring)
        let closed = ring.view.load32(ChannelLayout.oClosed) != 0
        if !closed && oldPid != 0
            && ProcessIdentity.alive(pid: Int32(truncatingIfNeeded: oldPid), start: ring.view.load(ChannelLayout.oOwnerStart)) {
            throw Errno.fail(EEXIST, "channel '\(name)' has a live producer (pid \(oldPid))")
        }
        guard owner.pointee.compareExchange(expected: oldPid, desired: UInt64(getpid()), ordering: .acquiringAndReleasing).exchanged else {
            throw Errno.fail(EEXIST, "another producer took channel '\(name)' over at the same time")
        }
        // Start more than a full lap beyond anything written: no old header can match a new
        // position, and every old position (at most `written`) fails the lap check at once.
        let written = max(ring.view.load(ChannelLayout.oIntent), ring.view.load(ChannelLayout.oTail))
        let start = (written & ~ring.mask) &+ 2 &* ring.capacity
        position = start
        intent = start
        ring.view.store(ChannelLayout.oIntent, start)
        ring.view.store(ChannelLayout.oTail, start)
        ring.view.store(ChannelLayout.oSeq, 0)
        ring.view.store(ChannelLayout.oSeqAfter, 0)
        ring.view.store(ChannelLayout.oStartPos, start)
        claimOwnership()
        epoch = ring.view.load(ChannelLayout.oEpoch) &+ 1
        ring.view.store(ChannelLayout.oEpoch, epoch)
    }

    mutating func claimOwnership() {
        ring.view.store(ChannelLayout.oOwnerPid, UInt64(getpid()))
        ring.view.store(ChannelLayout.oOwnerStart, ProcessIdentity.selfStart)
        ring.view.store(ChannelLayout.oHeartbeat, Clock.nowNanoseconds())
        ring.view.store32(ChannelLayout.oClosed, 0)
    }

    /// Marks the channel closed (readers see the producer gone; a new producer may take over)
    /// and unmaps it. The name stays.
    public func destroy() {
        ring.view.store32(ChannelLayout.oClosed, 1)
        ring.view.store(ChannelLayout.oOwnerPid, 0)
        if ring.view.load32(ChannelLayout.oSleepers) != 0 { ChannelFutex.wake(ring.view) }
        try? region.free()
    }

    /// Records that the producer is alive while it has nothing to publish.
    public func heartbeat() { ring.view.store(ChannelLayout.oHeartbeat, Clock.nowNanoseconds()) }

    // MARK: the hot path

    /// Reserves room for a message of `len` bytes and returns where to write it. 0, or
    /// -EINVAL (length), -EBUSY (a claim is open), -EAGAIN/-ETIMEDOUT (backpressure).
    /// Every call it makes is a tail call, so the common path saves no registers: each store
    /// counts when a reader holds the line the store buffer is waiting for.
    @inlinable @inline(__always)
    public mutating func claim(_ len: Int, _ out: UnsafeMutablePointer<UnsafeMutableRawPointer?>) -> Int32 {
        if _slowPath(len < 0 || len > ring.maxMessage || claimed != nil) {
            return ChannelProducer.claimRefused(len, ring.maxMessage, open: claimed != nil)
        }
        let (pad, end) = span(len)
        if _slowPath(pad != 0 || end &+ 32 > limit || end &+ 32 > intent) { return claimSlow(len, out) }
        return finishClaim(len, pad, out)
    }

    /// Where a record of `len` bytes goes: padding to the end of the ring first (if it does
    /// not fit there), and the position after it.
    @inlinable @inline(__always)
    func span(_ len: Int) -> (pad: UInt64, end: UInt64) {
        let rec = UInt64(truncatingIfNeeded: ChannelLayout.recordSize(len))
        let off = position & ring.mask
        let pad = off &+ rec > ring.capacity ? ring.capacity &- off : 0
        return (pad, position &+ pad &+ rec)
    }

    @inlinable @inline(__always)
    mutating func finishClaim(_ len: Int, _ pad: UInt64, _ out: UnsafeMutablePointer<UnsafeMutableRawPointer?>) -> Int32 {
        let payload = ring.header(position &+ pad).base + ChannelLayout.recordHeader
        claimed = payload
        claimedLen = len
        out.pointee = payload
        return 0
    }

    /// claim's slow part: backpressure (wait for the slowest reader), the next intent step,
    /// and the padding record at the end of the ring (once a lap).
    @usableFromInline @inline(never)
    mutating func claimSlow(_ len: Int, _ out: UnsafeMutablePointer<UnsafeMutableRawPointer?>) -> Int32 {
        let (pad, end) = span(len)
        if end &+ 32 > limit {
            let rc = waitForRoom(end)
            if rc != 0 { return rc }
        }
        if end &+ 32 > intent { publishIntent(end &+ 32) }
        if pad != 0 { writePadding(position & ring.mask, pad) }
        return finishClaim(len, pad, out)
    }

    mutating func writePadding(_ off: UInt64, _ pad: UInt64) {
        let h = SharedView(ring.records + Int(truncatingIfNeeded: off))
        h.word(ChannelLayout.rSeq).pointee.store(0, ordering: .relaxed)
        h.word(ChannelLayout.rPos).pointee.store(position, ordering: .releasing)
        h.base.storeBytes(of: UInt32(truncatingIfNeeded: pad &- 32), toByteOffset: ChannelLayout.rLen, as: UInt32.self)
        h.base.storeBytes(of: ChannelLayout.kindPadding, toByteOffset: ChannelLayout.rKind, as: UInt32.self)
        h.word(ChannelLayout.rSeq).pointee.store(seq, ordering: .releasing)
    }

    /// Publishes the claimed message: its header (length and kind in one store, time,
    /// position), then the commit word (seq, release), then the tail line. Nothing is written
    /// where the next record goes: a reader waiting there reads that spot's older bytes (not
    /// its position). The publish time is read after the payload is written (a clock read
    /// waits for the stores before it, so the header and seq stores then follow at once while
    /// the producer still holds the line). 0, or -EINVAL for a pointer that is not the open
    /// claim. As in claim, every call is a tail call.
    @inlinable @inline(__always)
    public mutating func commit(_ ptr: UnsafeRawPointer?) -> Int32 {
        guard let c = claimed, UnsafeRawPointer(c) == ptr else {
            return ChannelProducer.commitRefused(ptr, open: claimed != nil)
        }
        if timeSource == 0 { return commitNow(c) }
        return finishCommit(c, time: timeSource == 1 ? acshim_cycles() : 0)
    }

    /// commit with a CLOCK_MONOTONIC time (a vDSO call, out of line).
    @usableFromInline @inline(never)
    mutating func commitNow(_ c: UnsafeMutableRawPointer) -> Int32 {
        finishCommit(c, time: Clock.nowNanoseconds())
    }

    @inlinable @inline(__always)
    mutating func finishCommit(_ c: UnsafeMutableRawPointer, time: UInt64) -> Int32 {
        let h = SharedView(c - ChannelLayout.recordHeader)
        // The record's position: `position`, or the start of the next lap after padding.
        let off = UInt64(UInt(bitPattern: h.base - ring.records))
        let at = position &+ ((off &- (position & ring.mask)) & ring.mask)
        let end = at &+ UInt64(truncatingIfNeeded: ChannelLayout.recordSize(claimedLen))
        // seq 0 before the position (release): a reader (or a resync after a lap) that sees this
        // record's position sees seq 0 or the commit, never the seq an older lap left here,
        // also when this producer dies in between. rLen and rKind (kindMessage = 0) as one word.
        h.word(ChannelLayout.rSeq).pointee.store(0, ordering: .relaxed)
        h.word(ChannelLayout.rLen).pointee.store(UInt64(truncatingIfNeeded: claimedLen), ordering: .relaxed)
        // NO_TIME: no store (readers report ts 0 from the channel's flags).
        if timeSource != 2 { h.word(ChannelLayout.rTime).pointee.store(time, ordering: .relaxed) }
        h.word(ChannelLayout.rPos).pointee.store(at, ordering: .releasing)
        h.word(ChannelLayout.rSeq).pointee.store(seq, ordering: .releasing)
        let v = ring.view
        v.word(ChannelLayout.oSeq).pointee.store(seq, ordering: .releasing)
        v.word(ChannelLayout.oTail).pointee.store(end, ordering: .releasing)
        v.word(ChannelLayout.oSeqAfter).pointee.store(seq, ordering: .releasing)
        if timeSource != 2 { v.word(ChannelLayout.oLastTime).pointee.store(time, ordering: .relaxed) }
        seq &+= 1
        position = end
        claimed = nil
        if _slowPath(v.word32(ChannelLayout.oSleepers).pointee.load(ordering: .relaxed) != 0) {
            return ChannelFutex.wakeAll(v)
        }
        return 0
    }

    /// claim + copy + commit.
    public mutating func publish(_ msg: UnsafeRawPointer?, _ len: Int) -> Int32 {
        if _slowPath(msg == nil && len != 0) { return ChannelProducer.nullMessage() }
        var p: UnsafeMutableRawPointer? = nil
        let rc = claim(len, &p)
        if _slowPath(rc != 0) { return rc }
        if let p, let msg { p.copyMemory(from: msg, byteCount: len) }
        return commit(p)
    }

    // MARK: cold paths

    @usableFromInline @inline(never)
    static func claimRefused(_ len: Int, _ maxMessage: Int, open: Bool) -> Int32 {
        if open { return Errno.fail(EBUSY, "a claim is open: commit it first").negated }
        return Errno.fail(EINVAL, "message of \(len) bytes: the channel takes 0 to \(maxMessage)").negated
    }

    @usableFromInline @inline(never)
    static func commitRefused(_ ptr: UnsafeRawPointer?, open: Bool) -> Int32 {
        if !open { return Errno.fail(EINVAL, "commit without a claim").negated }
        return Errno.fail(EINVAL, "commit of \(String(describing: ptr)): not the pointer alphacore_channel_claim returned").negated
    }

    @usableFromInline @inline(never)
    static func nullMessage() -> Int32 { Errno.fail(EINVAL, "msg is NULL").negated }

    /// Publishes an intent covering `needed`, a step of capacity/16 ahead (in backpressure
    /// mode never beyond what the slowest reader has released), then a release fence: every
    /// store after it is ordered after the intent.
    @usableFromInline @inline(never)
    mutating func publishIntent(_ needed: UInt64) {
        intent = Swift.max(needed, Swift.min(needed &+ (ring.capacity >> 4), limit))
        ring.view.word(ChannelLayout.oIntent).pointee.store(intent, ordering: .relaxed)
        atomicMemoryFence(ordering: .releasing)
    }

    /// Backpressure: waits until every registered live consumer has released `end - capacity`.
    /// Dead consumers are found by pid and start time and their slots freed.
    @usableFromInline @inline(never)
    mutating func waitForRoom(_ end: UInt64) -> Int32 {
        let saved = errno   // the liveness checks make system calls that fail; the caller's errno stays
        defer { errno = saved }
        let started = Clock.nowNanoseconds()
        var spins: UInt64 = 0
        while true {
            let reap = spins & 1023 == 1023 || flags.contains(.nonblock)
            // Our tail before the slots: a reader that registers and then reads the tail sees
            // either this scan honour its slot or a tail at least this position (ChannelReader.start).
            atomicMemoryFence(ordering: .sequentiallyConsistent)
            let low = min(ChannelSlots.minPosition(ring.view, epoch: epoch, reap: reap) ?? position, position)
            limit = low &+ ring.capacity
            if end &+ 32 <= limit { return 0 }
            if flags.contains(.nonblock) {
                return Errno.fail(EAGAIN, "backpressure: the slowest consumer is at \(low), the message needs \(end &- ring.capacity)").negated
            }
            spins &+= 1
            if spins & 1023 == 0 {
                if waitTimeoutNs != 0 && Clock.nowNanoseconds() &- started > waitTimeoutNs {
                    return Errno.fail(ETIMEDOUT, "backpressure: the slowest consumer did not move for \(waitTimeoutNs) ns").negated
                }
                sched_yield()
            } else {
                acshim_cpu_relax()
            }
        }
    }
}

/// Channel names: the shared-region rules (1-200 bytes of [A-Za-z0-9._-], no leading '.'),
/// and no "..".
enum ChannelName {
    static func validate(_ name: String) throws(Errno) {
        if name.utf8.count > 200 { throw Errno.fail(ENAMETOOLONG, "a channel name has at most 200 bytes (got \(name.utf8.count))") }
        let b = Array(name.utf8)
        if b.count >= 2 {
            for i in 1..<b.count where b[i] == UInt8(ascii: ".") && b[i - 1] == UInt8(ascii: ".") {
                throw Errno.fail(EINVAL, "channel name '\(name)' contains '..'")
            }
        }
        try SharedRegion.validate(name)
    }
}

extension ChannelProducer {
    /// Removes the channel's name (mapped copies stay valid).
    public static func unlink(name: String) throws(Errno) {
        try ChannelName.validate(name)
        try SharedRegion.unlink(name: name)
    }
}
