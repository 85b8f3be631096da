import Glibc

/// Hand-written protobuf encoding of the small io.prometheus.client message set
/// (client_model metrics.proto): varints, zig-zag, fixed64 doubles, length-delimited fields.
struct ProtoWriter {
    var bytes: [UInt8] = []

    mutating func varint(_ v: UInt64) {
        var x = v
        while x >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: x) | 0x80)
            x &>>= 7
        }
        bytes.append(UInt8(truncatingIfNeeded: x))
    }
    mutating func tag(_ field: Int, _ wire: Int) { varint(UInt64(field << 3 | wire)) }
    mutating func uint(_ field: Int, _ v: UInt64) { tag(field, 0); varint(v) }
    mutating func sint(_ field: Int, _ v: Int64) { tag(field, 0); varint(ProtoWriter.zigzag(v)) }
    mutating func double(_ field: Int, _ v: Double) {
        tag(field, 1)
        let b = v.bitPattern
        for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: b &>> UInt64(8 * i))) }
    }
    mutating func string(_ field: Int, _ s: String) {
        tag(field, 2)
        varint(UInt64(s.utf8.count))
        bytes += s.utf8
    }
    mutating func message(_ field: Int, _ body: ProtoWriter) {
        tag(field, 2)
        varint(UInt64(body.bytes.count))
        bytes += body.bytes
    }
    /// A packed repeated sint64 field.
    mutating func packedSint(_ field: Int, _ values: [Int64]) {
        if values.isEmpty { return }
        var inner = ProtoWriter()
        for v in values { inner.varint(ProtoWriter.zigzag(v)) }
        message(field, inner)
    }
    static func zigzag(_ v: Int64) -> UInt64 { UInt64(bitPattern: (v &<< 1) ^ (v &>> 63)) }
}

/// HDR counts mapped onto a native (exponential) schema: bucket k covers (2^((k-1)/2^s), 2^(k/2^s)]
/// in exposed units. Each non-empty HDR slot goes, whole, to the native bucket holding its lowest
/// value (a slot is never wider than a native bucket: the schema is capped at registration).
struct NativeBuckets {
    var zeroCount: Int64 = 0
    var zeroThreshold = 0.0
    var spans: [(offset: Int32, length: UInt32)] = []
    var deltas: [Int64] = []

    static func upper(_ k: Int, schema: Int32) -> Double { exp2(Double(k) * exp2(-Double(schema))) }

    /// The native bucket holding exposed value v > 0.
    static func key(_ v: Double, schema: Int32) -> Int {
        var k = Int((log2(v) * exp2(Double(schema))).rounded(.up))
        while NativeBuckets.upper(k - 1, schema: schema) >= v { k -= 1 }
        while NativeBuckets.upper(k, schema: schema) < v { k += 1 }
        return k
    }

    init(_ r: HistogramReading, schema: Int32, scale: Double) {
        zeroThreshold = Double(r.layout.highestEquivalent(atIndex: 0)) * scale
        // Slot 0 (lowest value 0) is the zero bucket; the others go by their lowest value.
        zeroCount = r.limit > 0 ? r.counts[0] : 0
        var first = 1
        while first < r.limit && r.counts[first] == 0 { first += 1 }
        guard first < r.limit else { return }
        let k0 = NativeBuckets.key(Double(r.layout.value(atIndex: first)) * scale, schema: schema)
        let k1 = NativeBuckets.key(Double(r.layout.value(atIndex: r.limit - 1)) * scale, schema: schema)
        // Counts per native bucket from the cumulative counts at the buckets' upper bounds.
        let bounds = (k0...k1).map { NativeBuckets.upper($0, schema: schema) }
        let cum = r.cumulative(bounds: bounds, scale: scale)
        var keys: [(Int, Int64)] = []
        var below = zeroCount
        for (n, c) in cum.enumerated() {
            if c != below { keys.append((k0 + n, c &- below)) }
            below = c
        }
        var prevKey = 0, prevCount: Int64 = 0
        for (n, (key, count)) in keys.enumerated() {
            let gap = n == 0 ? 0 : key - prevKey - 1
            if n == 0 || gap > 2 {
                spans.append((Int32(truncatingIfNeeded: n == 0 ? key : gap), 0))
            } else {
                for _ in 0..<gap { deltas.append(0 &- prevCount); prevCount = 0; spans[spans.count - 1].length += 1 }
            }
            spans[spans.count - 1].length += 1
            deltas.append(count &- prevCount)
            prevCount = count
            prevKey = key
        }
    }
}

enum ProtobufExposition {
    static func family(_ f: MetricFamily, scratch: ScrapeScratch, into out: inout [UInt8]) {
        var fam = ProtoWriter()
        fam.string(1, f.kind == .counter ? f.name + "_total" : f.name)
        if !f.help.isEmpty { fam.string(2, f.help) }
        fam.uint(3, f.kind == .counter ? 0 : f.kind == .gauge ? 1 : 4)
        for m in f.members {
            var metric = ProtoWriter()
            for p in (try? MetricNames.parseLabels(m.labels)) ?? [] {
                var lp = ProtoWriter()
                lp.string(1, p.name)
                lp.string(2, p.value)
                metric.message(1, lp)
            }
            switch f.kind {
            case .counter, .gauge:
                guard let v = ScalarReading.value(m.source) else { continue }
                var value = ProtoWriter()
                value.double(1, v)
                if f.kind == .counter { value.message(3, timestamp(m.created)) }
                metric.message(f.kind == .counter ? 3 : 2, value)
            case .histogram:
                guard let h = histogram(m, scratch: scratch) else { continue }
                metric.message(7, h)
            }
            fam.message(4, metric)
        }
        if !f.unit.isEmpty { fam.string(5, f.unit) }
        var len = ProtoWriter()
        len.varint(UInt64(fam.bytes.count))
        out += len.bytes
        out += fam.bytes
    }

    static func timestamp(_ seconds: Double) -> ProtoWriter {
        var t = ProtoWriter()
        let s = seconds.rounded(.down)
        t.uint(1, UInt64(s))
        t.uint(2, UInt64(((seconds - s) * 1e9).rounded(.down)))
        return t
    }

    static func histogram(_ m: MetricMember, scratch: ScrapeScratch) -> ProtoWriter? {
        guard let export = m.histogram, let r = HistogramReading.read(m.source, scratch: scratch) else { return nil }
        let (count, sum, cum) = r.summary(bounds: export.bounds, scale: export.scale)
        var h = ProtoWriter()
        h.uint(1, UInt64(count))
        h.double(2, sum * export.scale)
        for (k, b) in export.bounds.enumerated() {
            var bucket = ProtoWriter()
            bucket.uint(1, UInt64(cum[k]))
            bucket.double(2, b)
            h.message(3, bucket)
        }
        let native = NativeBuckets(r, schema: export.schema, scale: export.scale)
        h.sint(5, Int64(export.schema))
        h.double(6, native.zeroThreshold)
        h.uint(7, UInt64(native.zeroCount))
        if native.spans.isEmpty {
            // A native histogram without observations: a no-op span tells it from a classic one.
            var span = ProtoWriter()
            span.sint(1, 0)
            span.uint(2, 0)
            h.message(12, span)
        }
        for s in native.spans {
            var span = ProtoWriter()
            span.sint(1, Int64(s.offset))
            span.uint(2, UInt64(s.length))
            h.message(12, span)
        }
        h.packedSint(13, native.deltas)
        h.message(15, timestamp(m.created))
        return h
    }
}
