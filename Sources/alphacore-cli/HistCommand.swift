import AlphaCore
import ArgumentParser
import Glibc

struct HistCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hist",
        abstract: "Print the percentile table of an encoded histogram or an interval log, or plot it as SVG.",
        discussion: """
            FILE holds one base64 V2 histogram ("HISTFAAA...") or an HdrHistogram interval log; \
            "-" reads standard input. A log's intervals are added together (per tag for --svg).
            """
    )

    @Argument(help: "An encoded histogram or interval log; - for standard input.")
    var file: String

    @Option(name: .long, help: "Divide values by this for output (1000: ns recorded, us shown).")
    var scale: Double = 1.0

    @Option(name: .long, help: "Percentile ticks per half distance, as HdrHistogram's table.")
    var ticks = 5

    @Option(name: .long, help: "Only intervals with this tag (interval logs).")
    var tag: String?

    @Option(name: .long, help: "Write a log-scale percentile plot (SVG) to this file instead of the table.")
    var svg: String?

    @Option(name: .long, help: "The unit written on the plot's value axis.")
    var unit = "ns"

    func run() throws {
        let input: [UInt8]
        do throws(Errno) { input = try InputFile.read(file) } catch {
            Output.error("alphacore hist: \(CommandFailure("cannot read \(file)", error))")
            throw ExitCode(1)
        }
        if let svg {
            let series: [PercentilePlot.Series]
            do throws(Errno) { series = try PercentilePlot.series(input, tag: tag, scale: scale) } catch {
                Output.error("alphacore hist: \(CommandFailure("cannot plot \(file)", error))")
                throw ExitCode(1)
            }
            let text = PercentilePlot.svg(series, unit: unit, title: file == "-" ? "stdin" : file)
            guard InputFile.write(svg, text) else {
                Output.error("alphacore hist: cannot write \(svg): \(Errno(errno).description)")
                throw ExitCode(1)
            }
            return
        }
        do throws(Errno) {
            let table = try HistogramReport.percentileTable(input, ticksPerHalfDistance: ticks, valueScale: scale, tag: tag)
            Output.write(String(decoding: table, as: UTF8.self))
        } catch {
            Output.error("alphacore hist: \(CommandFailure("cannot read a histogram from \(file)", error))")
            throw ExitCode(1)
        }
    }
}

/// Whole-file reading and writing for the command (paths or "-").
enum InputFile {
    /// Up to 256 MiB.
    static func read(_ path: String) throws(Errno) -> [UInt8] {
        if path == "-" {
            var bytes: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = chunk.withUnsafeMutableBytes { Glibc.read(0, $0.baseAddress, $0.count) }
                if n < 0 { if errno == EINTR { continue }; throw Errno.fromErrno("cannot read standard input") }
                if n == 0 { break }
                bytes.append(contentsOf: chunk[0..<n])
                if bytes.count > 256 << 20 { throw Errno.fail(EFBIG, "standard input is larger than 256 MiB") }
            }
            return bytes
        }
        return Array(try SysFile.read(path, limit: 256 << 20).utf8)
    }

    static func write(_ path: String, _ text: String) -> Bool {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if fd < 0 { return false }
        defer { close(fd) }
        return Output.writeAll(fd, text)
    }
}

/// The familiar HdrHistogram percentile plot: x is 1/(1-percentile) on a log scale
/// (0%, 90%, 99%, 99.9%, ...), y is the value.
enum PercentilePlot {
    struct Series {
        var name: String
        var points: [(x: Double, value: Double)]   // x = log10(1/(1-p))
        var count: Int64
        var max: Double
    }

    /// One series per tag (or one for an untagged input), values divided by `scale`.
    static func series(_ input: [UInt8], tag: String?, scale: Double) throws(Errno) -> [Series] {
        if !(scale > 0 && scale.isFinite) { throw Errno.fail(EINVAL, "--scale must be positive") }
        var tags: [String?] = [tag]
        if tag == nil, !input.starts(with: Array("HIST".utf8)) {
            var reader = try IntervalLog.Reader(input)
            var seen: [String?] = []
            while let e = try reader.next() {
                e.histogram.destroy()
                if !seen.contains(where: { $0 == e.tag }) { seen.append(e.tag) }
            }
            if seen.count > 1 { tags = seen }
        }
        var out: [Series] = []
        for t in tags {
            let h: Histogram
            if t == nil && tags.count > 1 {
                // Untagged intervals among tagged ones: merge only those.
                h = try untagged(input)
            } else {
                h = try HistogramReport.merged(input, tag: t)
            }
            defer { h.destroy() }
            out.append(points(h, name: t ?? (tags.count > 1 ? "(no tag)" : "all"), scale: scale))
        }
        return out
    }

    static func untagged(_ input: [UInt8]) throws(Errno) -> Histogram {
        var reader = try IntervalLog.Reader(input)
        var result: Histogram? = nil
        do {
            while let e = try reader.next() {
                defer { e.histogram.destroy() }
                guard e.tag == nil else { continue }
                if let r = result { _ = try r.add(e.histogram) } else { result = try e.histogram.copy() }
            }
        } catch {
            result?.destroy()
            throw error
        }
        guard let result else { throw Errno.fail(Errno.format, "no untagged interval") }
        return result
    }

    /// Samples the percentile curve: 40 points per decade of 1/(1-p), up to the last count.
    static func points(_ h: Histogram, name: String, scale: Double) -> Series {
        let total = h.totalCount
        var pts: [(Double, Double)] = []
        let maxX = total > 1 ? Swift.min(7.0, log10(Double(total))) : 0
        var x = 0.0
        while x <= maxX + 1e-9 {
            let p = 100.0 * (1.0 - pow(10.0, -x))
            pts.append((x, Double(h.value(atPercentile: Swift.min(p, 100.0))) / scale))
            x += 1.0 / 40.0
        }
        pts.append((maxX + 0.25, Double(h.maxValue) / scale))  // the max, a step past the last tick
        return Series(name: name, points: pts, count: total, max: Double(h.maxValue) / scale)
    }

    static func svg(_ series: [Series], unit: String, title: String) -> String {
        let w = 900.0, hgt = 540.0, left = 80.0, right = 170.0, top = 40.0, bottom = 60.0
        let plotW = w - left - right, plotH = hgt - top - bottom
        let maxX = Swift.max(1.0, (series.flatMap { $0.points.map(\.x) }.max() ?? 1).rounded(.up))
        let maxY = niceCeiling(series.flatMap { $0.points.map(\.value) }.max() ?? 1)
        func px(_ x: Double) -> Double { left + x / maxX * plotW }
        func py(_ v: Double) -> Double { top + plotH - v / maxY * plotH }
        func f(_ v: Double) -> String { String(Double(Int((v * 10).rounded())) / 10) }
        func esc(_ s: String) -> String {
            var o = ""
            for c in s { switch c { case "<": o += "&lt;"; case ">": o += "&gt;"; case "&": o += "&amp;"; case "\"": o += "&quot;"; default: o.append(c) } }
            return o
        }
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(w))\" height=\"\(Int(hgt))\" viewBox=\"0 0 \(Int(w)) \(Int(hgt))\" font-family=\"sans-serif\" font-size=\"12\">\n"
        s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        s += "<text x=\"\(f(left))\" y=\"24\" font-size=\"15\">Latency by percentile: \(esc(title))</text>\n"
        // Grid and x labels: one per decade of 1/(1-p).
        for d in 0...Int(maxX) {
            let label = d == 0 ? "0%" : d == 1 ? "90%" : "99." + String(repeating: "9", count: d - 2) + "%"
            s += "<line x1=\"\(f(px(Double(d))))\" y1=\"\(f(top))\" x2=\"\(f(px(Double(d))))\" y2=\"\(f(top + plotH))\" stroke=\"#ddd\"/>\n"
            s += "<text x=\"\(f(px(Double(d))))\" y=\"\(f(top + plotH + 18))\" text-anchor=\"middle\">\(label)</text>\n"
        }
        for k in 0...5 {
            let v = maxY * Double(k) / 5
            s += "<line x1=\"\(f(left))\" y1=\"\(f(py(v)))\" x2=\"\(f(left + plotW))\" y2=\"\(f(py(v)))\" stroke=\"#eee\"/>\n"
            s += "<text x=\"\(f(left - 6))\" y=\"\(f(py(v) + 4))\" text-anchor=\"end\">\(valueLabel(v))</text>\n"
        }
        s += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(plotW))\" height=\"\(f(plotH))\" fill=\"none\" stroke=\"#333\"/>\n"
        s += "<text x=\"\(f(left + plotW / 2))\" y=\"\(f(hgt - 16))\" text-anchor=\"middle\">Percentile</text>\n"
        s += "<text transform=\"translate(18 \(f(top + plotH / 2))) rotate(-90)\" text-anchor=\"middle\">Latency (\(esc(unit)))</text>\n"
        let colours = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]
        for (i, series) in series.enumerated() {
            let colour = colours[i % colours.count]
            // A step curve: each value holds until the next percentile sample.
            var d = ""
            for (j, p) in series.points.enumerated() {
                if j == 0 { d += "M\(f(px(p.x))),\(f(py(p.value)))" } else {
                    d += " H\(f(px(p.x))) V\(f(py(p.value)))"
                }
            }
            s += "<path d=\"\(d)\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\"><title>\(esc(series.name))</title></path>\n"
            let ly = top + 16 + Double(i) * 34
            s += "<line x1=\"\(f(left + plotW + 12))\" y1=\"\(f(ly))\" x2=\"\(f(left + plotW + 32))\" y2=\"\(f(ly))\" stroke=\"\(colour)\" stroke-width=\"2\"/>\n"
            s += "<text x=\"\(f(left + plotW + 38))\" y=\"\(f(ly + 4))\">\(esc(series.name))</text>\n"
            s += "<text x=\"\(f(left + plotW + 38))\" y=\"\(f(ly + 18))\" font-size=\"10\" fill=\"#555\">n=\(series.count) max=\(valueLabel(series.max))</text>\n"
        }
        s += "</svg>\n"
        return s
    }

    /// 1, 2, 5 times a power of ten at or above v.
    static func niceCeiling(_ v: Double) -> Double {
        if !(v > 0) { return 1 }
        let p = pow(10.0, floor(log10(v)))
        for m in [1.0, 2.0, 5.0, 10.0] where m * p >= v { return m * p }
        return 10 * p
    }

    static func valueLabel(_ v: Double) -> String {
        if v == v.rounded() && abs(v) < 1e15 { return String(Int64(v)) }
        return String(Double(Int64((v * 100).rounded())) / 100)
    }
}
