import Glibc

/// The wire formats a scrape can ask for.
public enum MetricsFormat: Int32, Sendable {
    /// Prometheus text 0.0.4 (`text/plain; version=0.0.4`).
    case text = 0
    /// OpenMetrics 1.0 text (`application/openmetrics-text; version=1.0.0`): units, _created, # EOF.
    case openMetrics = 1
    /// Length-delimited io.prometheus.client.MetricFamily messages with native histograms.
    case protobuf = 2

    public var contentType: String {
        switch self {
        case .text: return "text/plain; version=0.0.4; charset=utf-8"
        case .openMetrics: return "application/openmetrics-text; version=1.0.0; charset=utf-8"
        case .protobuf: return "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"
        }
    }
}

/// Numbers as the text formats want them: integers without a fraction, "+Inf", "-Inf", "NaN",
/// otherwise the shortest round-tripping decimal (what Go's 'g' -1 gives for these values).
enum Number {
    static func text(_ v: Double) -> String {
        if v.isNaN { return "NaN" }
        if v.isInfinite { return v > 0 ? "+Inf" : "-Inf" }
        if v == v.rounded() && abs(v) < 1e15 { return String(Int64(v)) }
        return v.description
    }
}

extension MetricsRegistry {
    /// Writes every family in `format`. Runs on the scraping thread, under the registry lock.
    public func expose(_ format: MetricsFormat) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(1 << 16)
        let scratch = ScrapeScratch()
        withFamilies { families in
            for f in families {
                switch format {
                case .text, .openMetrics: TextExposition.family(f, openMetrics: format == .openMetrics, scratch: scratch, into: &out)
                case .protobuf: ProtobufExposition.family(f, scratch: scratch, into: &out)
                }
            }
        }
        if format == .openMetrics { out.append(contentsOf: "# EOF\n".utf8) }
        return out
    }
}

enum TextExposition {
    static func family(_ f: MetricFamily, openMetrics om: Bool, scratch: ScrapeScratch, into out: inout [UInt8]) {
        let typeName: String
        switch f.kind {
        case .counter: typeName = "counter"
        case .gauge: typeName = "gauge"
        case .histogram: typeName = "histogram"
        }
        // 0.0.4 names a counter family by its sample (foo_total); OpenMetrics by its base (foo).
        let familyName = f.kind == .counter && !om ? f.name + "_total" : f.name
        out += "# HELP \(familyName) \(escapeHelp(f.help, openMetrics: om))\n".utf8
        out += "# TYPE \(familyName) \(typeName)\n".utf8
        if om && !f.unit.isEmpty { out += "# UNIT \(familyName) \(f.unit)\n".utf8 }
        for m in f.members {
            switch f.kind {
            case .counter:
                guard let v = ScalarReading.value(m.source) else { continue }
                sample(f.name + "_total", m.labels, Number.text(v), into: &out)
                if om { sample(f.name + "_created", m.labels, Number.text(m.created), into: &out) }
            case .gauge:
                guard let v = ScalarReading.value(m.source) else { continue }
                sample(f.name, m.labels, Number.text(v), into: &out)
            case .histogram:
                histogram(f.name, m, openMetrics: om, scratch: scratch, into: &out)
            }
        }
    }

    static func histogram(_ name: String, _ m: MetricMember, openMetrics om: Bool, scratch: ScrapeScratch,
                          into out: inout [UInt8]) {
        guard let export = m.histogram, let r = HistogramReading.read(m.source, scratch: scratch) else { return }
        let (count, sum, cum) = r.summary(bounds: export.bounds, scale: export.scale)
        let bucket = name + "_bucket"
        let sep = m.labels.isEmpty ? "" : m.labels + ","
        for (k, b) in export.bounds.enumerated() {
            sample(bucket, sep + "le=\"" + Number.text(b) + "\"", String(cum[k]), into: &out)
        }
        sample(bucket, sep + "le=\"+Inf\"", String(count), into: &out)
        // OpenMetrics orders _count before _sum; 0.0.4 parsers accept either.
        sample(name + "_count", m.labels, String(count), into: &out)
        sample(name + "_sum", m.labels, Number.text(sum * export.scale), into: &out)
        if om { sample(name + "_created", m.labels, Number.text(m.created), into: &out) }
    }

    static func sample(_ name: String, _ labels: String, _ value: String, into out: inout [UInt8]) {
        out += name.utf8
        if !labels.isEmpty {
            out.append(123)   // {
            out += labels.utf8
            out.append(125)   // }
        }
        out.append(32)
        out += value.utf8
        out.append(10)
    }

    /// HELP escapes: \\ and \n (and \" in OpenMetrics).
    static func escapeHelp(_ s: String, openMetrics: Bool) -> String {
        MetricNames.escape(s, quotes: openMetrics)
    }
}
