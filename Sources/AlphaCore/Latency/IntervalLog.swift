import Glibc

/// HdrHistogram's interval log (format version 1.3), as Java's HistogramLogWriter writes it
/// and hdrh's HistogramLogReader reads it:
///
///     #[Histogram log format version 1.3]
///     #[StartTime: 1700000000.000 (seconds since epoch), Tue Nov 14 22:13:20 UTC 2023]
///     #[BaseTime: 1700000000.000 (seconds since epoch)]        (optional)
///     "StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"
///     Tag=name,0.000,1.000,12.345,HISTFAAA...
public enum IntervalLog {
    public static let formatVersion = "1.3"
    public static let legend = "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"\n"

    public static func header(startNs: Int64, baseNs: Int64) -> [UInt8] {
        var out = TextBuffer()
        out.append("#[Histogram log format version \(formatVersion)]\n")
        if startNs != 0 {
            out.format("#[StartTime: %.3f (seconds since epoch), ", Double(startNs) / 1e9)
            out.append(dateText(startNs) + "]\n")
        }
        if baseNs != 0 {
            out.format("#[BaseTime: %.3f (seconds since epoch)]\n", Double(baseNs) / 1e9)
        }
        out.append(legend)
        return out.bytes
    }

    /// Java's Date.toString() shape, in UTC: "Tue Nov 14 22:13:20 UTC 2023".
    static func dateText(_ ns: Int64) -> String {
        var t = time_t(ns / 1_000_000_000)
        var tm = Glibc.tm()
        gmtime_r(&t, &tm)
        var buf = [CChar](repeating: 0, count: 64)
        let n = strftime(&buf, buf.count, "%a %b %d %H:%M:%S UTC %Y", &tm)
        return String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public static func validTag(_ tag: String) -> Bool {
        !tag.isEmpty && tag.utf8.count < 64 && !tag.utf8.contains { $0 == 44 || $0 == 32 || $0 == 10 || $0 == 13 || $0 == 9 || $0 == 0 }
    }

    /// One interval line for `h` (its start/end times; 0 = unset gives 0.000).
    public static func line(_ h: Histogram, tag: String?, baseNs: Int64, maxValueDivisor: Double) throws(Errno) -> [UInt8] {
        if let tag, !validTag(tag) {
            throw Errno.fail(EINVAL, "tag must be 1-63 bytes without commas, spaces or line breaks")
        }
        guard maxValueDivisor > 0, maxValueDivisor.isFinite else {
            throw Errno.fail(EINVAL, "max value divisor must be a positive finite number")
        }
        let encoded = try HistogramCodec.encode(h)
        var out = TextBuffer()
        if let tag { out.append("Tag=\(tag),") }
        let start = h.startTime == 0 ? 0.0 : Double(h.startTime &- baseNs) / 1e9
        let length = h.endTime > h.startTime && h.startTime != 0 ? Double(h.endTime &- h.startTime) / 1e9 : 0.0
        out.format("%.3f,%.3f,%.3f,", start, length, Double(h.maxValue) / maxValueDivisor)
        out.append(bytes: encoded)
        out.append("\n")
        return out.bytes
    }

    /// One decoded interval.
    public struct Entry {
        public var histogram: Histogram
        public var startSeconds: Double
        public var lengthSeconds: Double
        public var max: Double
        public var tag: String?
    }

    /// Log text owned by readers: one malloc'd copy (a failed allocation is ENOMEM, not a
    /// trap; logs may be gigabytes), shared by copies of a Reader and freed by the last one.
    final class Text: @unchecked Sendable {
        let bytes: UnsafeBufferPointer<UInt8>

        init(copying src: UnsafeRawBufferPointer) throws(Errno) {
            let raw = try allocateBytes(src.count, for: "the log text")
            if let s = src.baseAddress, src.count > 0 { raw.copyMemory(from: s, byteCount: src.count) }
            bytes = UnsafeBufferPointer(start: raw.bindMemory(to: UInt8.self, capacity: src.count), count: src.count)
        }

        deinit { free(UnsafeMutableRawPointer(mutating: bytes.baseAddress)) }
    }

    /// Reads a log one interval at a time, honouring StartTime and BaseTime as hdrh does.
    /// Lines are parsed in place (a line may be as long as the log: no copy of it is made).
    public struct Reader {
        let storage: Text
        var pos = 0
        var lineNumber = 0
        var startTime = 0.0, observedStart = false
        var baseTime = 0.0, observedBase = false

        /// Copies `text` (ENOMEM when the copy cannot be allocated).
        public init(copying text: UnsafeRawBufferPointer) throws(Errno) { storage = try Text(copying: text) }

        public init(_ text: [UInt8]) throws(Errno) {
            var made: Text? = nil
            var failure = Errno(ENOMEM)
            text.withUnsafeBytes { b in
                do throws(Errno) { made = try Text(copying: b) } catch { failure = error }
            }
            guard let made else { throw failure }
            storage = made
        }

        /// The next interval, nil at the end; EFORMAT names the bad line.
        public mutating func next() throws(Errno) -> Entry? {
            let text = storage.bytes
            while pos < text.count {
                var end = pos
                while end < text.count && text[end] != 10 { end &+= 1 }
                var lineEnd = end
                if lineEnd > pos && text[lineEnd - 1] == 13 { lineEnd -= 1 }
                let line = UnsafeBufferPointer(rebasing: text[pos..<lineEnd])
                pos = end + 1
                lineNumber += 1
                if let entry = try parse(line) { return entry }
            }
            return nil
        }

        mutating func parse(_ line: UnsafeBufferPointer<UInt8>) throws(Errno) -> Entry? {
            if line.allSatisfy({ $0 == 32 || $0 == 9 }) { return nil }
            if line.first == 35 {  // '#'
                if let v = Reader.number(after: "#[StartTime: ", in: line) { startTime = v; observedStart = true }
                else if let v = Reader.number(after: "#[BaseTime: ", in: line) { baseTime = v; observedBase = true }
                return nil
            }
            if line.first == 34 { return nil }  // the legend
            var fields = line.split(separator: 44, maxSplits: 4, omittingEmptySubsequences: false)
            var tag: String? = nil
            if let first = fields.first, first.starts(with: "Tag=".utf8) {
                let raw = first.dropFirst(4)
                if raw.count >= 64 { throw bad("tag longer than 63 bytes") }
                let t = String(decoding: raw, as: UTF8.self)
                if t.utf8.count >= 64 { throw bad("tag longer than 63 bytes") }
                tag = t
                fields.removeFirst()
            }
            if fields.count != 4 { throw bad("expected start,length,max,histogram") }
            guard let stamp = Reader.double(fields[0]), let length = Reader.double(fields[1]),
                  let max = Reader.double(fields[2]) else { throw bad("a number field does not parse") }
            if !observedStart { startTime = stamp; observedStart = true }
            if !observedBase {
                baseTime = stamp < startTime - 365 * 24 * 3600.0 ? startTime : 0
                observedBase = true
            }
            let h: Histogram
            do {
                h = try HistogramCodec.decode(UnsafeBufferPointer(rebasing: fields[3]))
            } catch {
                throw Errno.fail(error, "log line \(lineNumber): " + Detail.current)
            }
            let absolute = stamp + baseTime
            h.startTime = Int64(truncatingDouble: (absolute * 1e9).rounded())
            h.endTime = Int64(truncatingDouble: ((absolute + length) * 1e9).rounded())
            return Entry(histogram: h, startSeconds: absolute, lengthSeconds: length, max: max, tag: tag)
        }

        func bad(_ what: String) -> Errno { Errno.fail(Errno.format, "log line \(lineNumber): \(what)") }

        static func number(after prefix: String, in line: UnsafeBufferPointer<UInt8>) -> Double? {
            let p = prefix.utf8
            guard line.starts(with: p) else { return nil }
            var rest = line[p.count...].drop { $0 == 32 }
            rest = rest.prefix { ($0 >= 48 && $0 <= 57) || $0 == 46 }
            return double(rest)
        }

        /// A finite decimal number, the whole field.
        static func double<C: Collection>(_ field: C) -> Double? where C.Element == UInt8 {
            if field.isEmpty || field.count > 64 { return nil }
            var buf = field.map { CChar(bitPattern: $0) }
            buf.append(0)
            return buf.withUnsafeBufferPointer { b -> Double? in
                guard let start = b.baseAddress else { return nil }
                var end: UnsafeMutablePointer<CChar>? = nil
                let v = strtod(start, &end)
                guard let end, end - UnsafeMutablePointer(mutating: start) == field.count, v.isFinite else { return nil }
                return v
            }
        }
    }
}

/// The reporting path of the `alphacore hist` command: from an encoded histogram or an
/// interval log, the percentile distribution table.
public enum HistogramReport {
    /// `input` is either one base64 V2 histogram ("HISTFAAA...") or interval-log text. A log's
    /// intervals (those with `tag`, or all when tag is nil) are added together first.
    /// Returns HdrHistogram's percentile distribution text (values divided by `valueScale`).
    public static func percentileTable(_ input: [UInt8], ticksPerHalfDistance: Int = 5, valueScale: Double = 1.0,
                                       tag: String? = nil) throws(Errno) -> [UInt8] {
        guard ticksPerHalfDistance >= 1, ticksPerHalfDistance <= Histogram.maxPercentileTicks else {
            throw Errno.fail(EINVAL, "ticks per half distance must be 1...\(Histogram.maxPercentileTicks)")
        }
        guard valueScale > 0, valueScale.isFinite else { throw Errno.fail(EINVAL, "value scale must be positive") }
        let h = try merged(input, tag: tag)
        defer { h.destroy() }
        return h.percentileDistribution(ticksPerHalfDistance: ticksPerHalfDistance, valueScale: valueScale)
    }

    /// The histogram an input describes (caller destroys it).
    public static func merged(_ input: [UInt8], tag: String? = nil) throws(Errno) -> Histogram {
        func space(_ c: UInt8) -> Bool { c == 32 || c == 9 || c == 10 || c == 13 }
        var lo = 0, hi = input.count
        while lo < hi && space(input[lo]) { lo += 1 }
        while hi > lo && space(input[hi - 1]) { hi -= 1 }
        let trimmed = input[lo..<hi]
        if trimmed.starts(with: Array("HIST".utf8)) && !trimmed.contains(10) {
            return try Array(trimmed).withUnsafeBufferPointer { (b: UnsafeBufferPointer<UInt8>) throws(Errno) -> Histogram in
                try HistogramCodec.decode(b)
            }
        }
        var reader = try IntervalLog.Reader(input)
        var result: Histogram? = nil
        do {
            while let e = try reader.next() {
                defer { e.histogram.destroy() }
                if let tag, e.tag != tag { continue }
                if let r = result {
                    _ = try r.add(e.histogram)
                } else {
                    result = try e.histogram.copy()
                }
            }
        } catch {
            result?.destroy()
            throw error
        }
        guard let result else {
            throw Errno.fail(Errno.format, tag == nil ? "no histogram in the input" : "no interval tagged \(tag ?? "") in the log")
        }
        return result
    }
}
