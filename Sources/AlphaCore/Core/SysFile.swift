import Glibc

/// Small-file reading for sysfs, procfs and cgroupfs, without Foundation.
public enum SysFile {
    /// Reads a whole small file (up to `limit` bytes). Throws the open/read errno with a detail
    /// naming the path.
    public static func read(_ path: String, limit: Int = 1 << 20) throws(Errno) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw Errno.fromErrno("cannot open \(path)") }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while bytes.count < limit {
            let n = try SystemCall.check("cannot read \(path)") {
                chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        if bytes.count > limit { bytes.removeLast(bytes.count - limit) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Reads a file below the system root (`SystemRoot.path(absolute)`).
    public static func readSystem(_ absolute: String, limit: Int = 1 << 20) throws(Errno) -> String {
        try read(SystemRoot.path(absolute), limit: limit)
    }

    /// The file's content with surrounding whitespace removed, or nil if it cannot be read.
    public static func trimmed(_ path: String) -> String? {
        guard let s = try? read(path) else { return nil }
        return trim(s)
    }

    /// `s` without leading and trailing spaces, tabs and newlines.
    public static func trim<S: StringProtocol>(_ s: S) -> String {
        var sub = Substring(s)
        while let c = sub.first, c == " " || c == "\n" || c == "\t" || c == "\r" { sub.removeFirst() }
        while let c = sub.last, c == " " || c == "\n" || c == "\t" || c == "\r" { sub.removeLast() }
        return String(sub)
    }

    /// Whether a path exists (any type).
    public static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// The names in a directory (without "." and ".."), or nil if it cannot be opened.
    public static func list(_ path: String) -> [String]? {
        guard let dir = opendir(path) else { return nil }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }
}
