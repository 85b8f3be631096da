import CAlphaCoreShims
import Glibc

/// What a check of an fd without reading it found.
enum SlotCheck { case ended, dataWaiting, idle }

extension URingBackend {
    /// Peeks at one fd: a socket by a 1-byte MSG_PEEK recv, anything else by poll(2) with
    /// timeout 0 (FIONREAD fails on eventfd, timerfd and signalfd). Returns the state and, for
    /// `.ended`, the result to hand out (0 or -errno).
    func peek(_ s: UnsafeMutablePointer<ReaderSlot>) -> (SlotCheck, Int32) {
        if s.pointee.isSocket {
            var byte: UInt8 = 0
            switch SystemCall.valueOrErrno({ recv(s.pointee.fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT)) }) {
            case .success(let got):
                if got > 0 || s.pointee.isDatagram { return (.dataWaiting, 0) }  // a datagram of 0 bytes is no end
                return (.ended, 0)
            case .failure(let e):
                if e.code == EAGAIN || e.code == EWOULDBLOCK { return (.idle, 0) }
                return (.ended, 0 - e.code)
            }
        }
        let ev = acshim_poll_now(s.pointee.fd)
        if ev < 0 { return (.idle, 0) }
        if ev & Int32(POLLIN) != 0 { return (.dataWaiting, 0) }
        if ev & Int32(POLLHUP) != 0 { return (.ended, 0) }       // a pipe whose writers are gone, empty
        if ev & Int32(POLLERR) != 0 { return (.ended, -EIO) }
        return (.idle, 0)
    }

    /// Checks one armed fd without reading it: only its end (or an error) left, the end is
    /// handed out and the read cancelled; data seen waiting at two checks with no completion in
    /// between means the read is stuck: it is cancelled and armed again at its final completion.
    mutating func checkSlot(_ idx: Int, _ r: inout ReaderState, _ out: UnsafeMutablePointer<ReaderCompletion>,
                            _ n: inout Int) -> SlotCheck {
        let s = r.table.slots + idx
        let (found, res) = peek(s)
        r.counters.syscalls &+= 1
        if found == .dataWaiting && !s.pointee.rearmAfterCancel {
            if s.pointee.dataSeenAtCheck {
                s.pointee.dataSeenAtCheck = false
                s.pointee.rearmAfterCancel = true
                cancel(idx, gen: s.pointee.gen, &r)
            } else {
                s.pointee.dataSeenAtCheck = true
            }
        }
        if found != .ended { return found }
        if sqpoll {
            // The kernel thread runs the recv concurrently: it may have taken the last
            // bytes without posting them yet. Cancel the read and hand the end out after
            // its final completion (finishPendingEnd, then the sweep).
            if !s.pointee.endPending {
                s.pointee.endPending = true
                s.pointee.pendingResult = res
                cancel(idx, gen: s.pointee.gen, &r)
            }
            watchSlot(idx, &r)
            return .dataWaiting
        }
        r.deliverEnd(idx, res, out, &n)
        cancel(idx, gen: s.pointee.gen, &r)
        return .ended
    }

    /// SQPOLL: the final completion of a read cancelled because only its end was waiting.
    /// Its data (if any) goes out; the end follows from the sweep (which has room for it).
    @inline(never)
    mutating func finishPendingEnd(_ idx: Int, _ res: Int32, _ bid: Int, _ off: Int, _ r: inout ReaderState,
                                   _ out: UnsafeMutablePointer<ReaderCompletion>, _ n: inout Int) {
        let s = r.table.slots + idx
        if res > 0 {
            s.pointee.dataSeenAtCheck = false
            _ = r.deliver(idx, bid, off, Int(res), out, &n)   // the read has ended: nothing to stop
        }
        if res < 0 && res != -ECANCELED && res != -ENOBUFS { s.pointee.pendingResult = res }
        watchSlot(idx, &r)
        watch.lastSweep = 0
    }
}
