// The C ABI for HdrHistogram interval logs: writing the header and interval lines, and the
// reader over a log's text. Thin, as Latency.swift.
import AlphaCore
import CAlphaCoreABI
import Glibc

extension alphacore_hist_log_entry: VersionedStruct {
    static let cName: StaticString = "alphacore_hist_log_entry"
}

@c @implementation
public func alphacore_hist_log_header(_ start: Int64, _ base: Int64, _ buf: UnsafeMutablePointer<CChar>?, _ cap: Int) -> Int64 {
    cCount { () throws(Errno) in
        try writeCString(IntervalLog.header(startNs: start, baseNs: base), to: buf, capacity: cap)
    }
}

@c @implementation
public func alphacore_hist_log_interval(_ h: OpaquePointer?, _ tag: UnsafePointer<CChar>?, _ base: Int64,
                                       _ divisor: Double, _ buf: UnsafeMutablePointer<CChar>?, _ cap: Int) -> Int64 {
    cCount { () throws(Errno) in
        guard let h = hist(h) else { throw Errno.fail(EINVAL, "histogram is NULL") }
        let t: String? = tag == nil ? nil : try readCString(tag, limit: 63, what: "tag")
        return try writeCString(try IntervalLog.line(h, tag: t, baseNs: base, maxValueDivisor: divisor), to: buf, capacity: cap)
    }
}

@c @implementation
public func alphacore_hist_log_reader_create(_ text: UnsafePointer<CChar>?, _ len: Int,
                                             _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    cCreate(out) { () throws(Errno) in
        if len != 0 && text == nil { throw Errno.fail(EINVAL, "text is NULL") }
        if len < 0 || len > HistogramCodec.maxEncodedLength * 4 {
            throw Errno.fail(E2BIG, "log text of \(UInt(bitPattern: len)) bytes is above the 512 MiB limit")
        }
        return makeHandle(try IntervalLog.Reader(copying: UnsafeRawBufferPointer(start: text, count: len)))
    }
}

@c @implementation
public func alphacore_hist_log_reader_destroy(_ r: OpaquePointer?) {
    destroyHandle(r, as: IntervalLog.Reader.self)
}

@c @implementation
public func alphacore_hist_log_reader_next(_ r: OpaquePointer?, _ out: UnsafeMutablePointer<OpaquePointer?>?,
                                           _ entry: UnsafeMutablePointer<alphacore_hist_log_entry>?) -> Int32 {
    cStatus { () throws(Errno) in
        guard let r else { throw Errno.fail(EINVAL, "reader is NULL") }
        guard let out else { throw Errno.fail(EINVAL, "out is NULL") }
        out.pointee = nil
        if let entry { try checkVersioned(entry) }   // refused before an entry is consumed
        let p = UnsafeMutablePointer<IntervalLog.Reader>(r)
        guard let e = try p.pointee.next() else { return 0 }
        if let entry {
            var v = alphacore_hist_log_entry()
            v.start_s = e.startSeconds
            v.length_s = e.lengthSeconds
            v.max = e.max
            withUnsafeMutableBytes(of: &v.tag) { t in
                var k = 0
                for b in (e.tag ?? "").utf8 where k < t.count - 1 { t[k] = b; k += 1 }
            }
            try writeVersioned(v, to: entry)
        }
        out.pointee = OpaquePointer(e.histogram.base)
        return 1
    }
}
