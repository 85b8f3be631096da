import CAlphaCoreShims
import CLibURing
import Glibc

/// The completion harvest: CQEs into completions. No allocation and no runtime call: loads,
/// stores and the framing copy only (checked in the disassembly: see BENCHMARKS.md).
extension URingBackend {
    /// Turns the CQEs the kernel has posted into completions (at most `max` in `out`, from
    /// index n0), then runs the watch's checks and gives recycled buffers to the kernel.
    @inline(__always)
    mutating func harvest(_ r: inout ReaderState, _ out: UnsafeMutablePointer<ReaderCompletion>, _ n0: Int, _ max: Int) -> Int {
        var n = n0
        var head = ring.cqHead
        let tail = ring.cqTail
        let limit = r.room(max)
        while head != tail && n < limit {
            let cqe = ring.cqe(head)
            head &+= 1
            complete(cqe.pointee.user_data, cqe.pointee.res, cqe.pointee.flags, &r, out, &n)
        }
        ring.cqAdvance(to: head)
        if watch.eventsPending { collectHangups(&r) }
        if watch.count > 0 && head == tail {
            // Fds that hung up: at once, then every millisecond until their end is out.
            sweepHangups(&r, out, &n, limit, interval: waitSliceNs)
        }
        if watch.enabled {
            // Stall watch over all fds, paid by activity: one check per 4096 completions.
            watch.sinceCheck &+= n &- n0
            if watch.sinceCheck >= 4096 && head == tail {
                watch.sinceCheck = 0
                checkRoundRobin(1, &r, out, &n, limit)
            }
        }
        r.pool.publish()
        if r.table.parkedCount > 0 && r.pool.kernelBufs > 0 { r.resumeParked(&self) }
        return n
    }

    /// One CQE: data, an end, a re-arm, a park, or internal bookkeeping.
    @inline(__always)
    mutating func complete(_ ud: UInt64, _ res: Int32, _ fl: UInt32, _ r: inout ReaderState,
                           _ out: UnsafeMutablePointer<ReaderCompletion>, _ n: inout Int) {
        if ud & URingBackend.internalTag != 0 {
            if ud == URingBackend.hangupToken {
                watch.eventsPending = true
                if fl & UInt32(IORING_CQE_F_MORE) == 0 && watch.enabled { armHangupPoll(&r) }
            }
            return
        }
        guard let (idx, current) = r.table.slot(of: ud) else { return }
        let s = r.table.slots + idx
        let more = fl & UInt32(IORING_CQE_F_MORE) != 0
        let hasBuffer = fl & UInt32(IORING_CQE_F_BUFFER) != 0
        let bid = Int(truncatingIfNeeded: fl &>> 16)
        let off = hasBuffer ? kernelReturned(bid, res, fl, &r.pool) : 0
        if !current || s.pointee.state != .active {
            return completeStale(idx, current: current, more: more, hasBuffer ? bid : -1, &r)
        }
        if !more {
            s.pointee.armed = false
            armedCount &-= 1
            if s.pointee.endPending {
                // SQPOLL: the read the watch cancelled has ended; every byte it took is out.
                return finishPendingEnd(idx, res, bid, off, &r, out, &n)
            }
        }
        if res > 0 {
            s.pointee.dataSeenAtCheck = false
            if r.deliver(idx, bid, off, Int(res), out, &n) {
                stopReading(idx, &r)   // the framer ended the fd
            } else if !more {
                rearm(idx, &r)   // the kernel ended the multishot (CQ pressure, buffer limits)
            }
        } else if res == 0 && s.pointee.isDatagram {
            // A datagram of 0 bytes: no end, nothing to hand out.
            if hasBuffer { r.pool.drop(bid) }
            if !more { rearm(idx, &r) }
        } else if hasBuffer {
            r.pool.drop(bid)   // a buffer without data (not expected): back to the kernel
            if !more { r.deliverEnd(idx, res, out, &n) }
        } else if more {
            return
        } else if res == -ECANCELED && s.pointee.rearmAfterCancel {
            // The stuck read we cancelled: arm it again (the data is still in the socket).
            s.pointee.rearmAfterCancel = false
            rearm(idx, &r)
        } else if res == -ENOBUFS {
            // No free buffer: the data stays in the socket until buffers come back.
            r.counters.enobufs &+= 1
            r.table.park(idx)
        } else {
            r.deliverEnd(idx, res, out, &n)
        }
    }

    /// A CQE of a removed (or stopped) fd: drop the data (`bid` -1: none), free the slot
    /// after its last CQE.
    @inline(__always)
    mutating func completeStale(_ idx: Int, current: Bool, more: Bool, _ bid: Int, _ r: inout ReaderState) {
        if bid >= 0 { r.pool.drop(bid) }
        if more { return }
        let s = r.table.slots + idx
        s.pointee.armed = false
        armedCount &-= 1
        if s.pointee.state == .draining && !current { r.table.freeSlot(idx) }
    }

    /// A CQE named buffer `bid`: the kernel's count of buffers drops unless it keeps the
    /// buffer (incremental consumption: IORING_CQE_F_BUF_MORE). Returns where the piece starts.
    @inline(__always)
    func kernelReturned(_ bid: Int, _ res: Int32, _ fl: UInt32, _ pool: inout BufferPool) -> Int {
        guard let offsets = pool.pieceOffset else {
            pool.kernelBufs &-= 1
            return 0
        }
        // Incremental buffers: this piece starts where the buffer's last one ended; without
        // BUF_MORE the kernel is done with the buffer.
        var v = offsets[bid]
        let off = Int(v & ~BufferPool.inKernel)
        if res > 0 { v &+= UInt32(truncatingIfNeeded: res) }
        if fl & UInt32(IORING_CQE_F_BUF_MORE) == 0 {
            pool.kernelBufs &-= 1
            v &= ~BufferPool.inKernel
        }
        offsets[bid] = v
        return off
    }
}
