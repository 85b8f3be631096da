import CAlphaCoreShims
import Glibc

/// Named regions for inter-process use: a file another process opens by name and maps.
///
/// Naming scheme: the name (1-200 bytes of [A-Za-z0-9._-], not starting with '.') becomes the
/// file `alphacore.<name>`:
///   - hugetlb tiers: in the first writable hugetlbfs mount whose page size is the tier's
///     (from /proc/self/mounts; statfs gives the page size), e.g. /dev/hugepages/alphacore.book;
///   - THP and base tiers: in /dev/shm (tmpfs), e.g. /dev/shm/alphacore.book. THP there needs a
///     tmpfs mounted with huge=always|within_size|advise (or shmem_enabled "force").
/// Files are created 0600 and appear under their name only when complete: the file is made
/// unnamed (O_TMPFILE), sized, committed, mapped and prepared by the caller, then linked to its
/// name (EEXIST if the name was taken meanwhile). A process that dies while creating leaves no
/// name behind, so it cannot block the next creator. Where a file system refuses O_TMPFILE the
/// file is created named with O_EXCL. `open` looks in every hugetlbfs mount, then /dev/shm.
/// Memory is committed at creation (hugetlb: the reservation taken by mmap; tmpfs:
/// posix_fallocate), so touching a shared region never raises SIGBUS.
public enum SharedRegion {
    static let shmDir = "/dev/shm"

    /// Creates a named region with the ladder; the region also holds the open file (`fd`).
    /// `prepare` runs on the mapped region before its name appears (a channel writes its
    /// header there). EEXIST if the name exists in any location.
    public static func create(name: String, size: Int, options: MemOptions = MemOptions(),
                              prepare: (Region) throws(Errno) -> Void = { _ in }) throws(Errno) -> Region {
        try validate(name)
        for path in candidates(name) where SysFile.exists(path) {
            throw Errno.fail(EEXIST, "shared region '\(name)' exists already (\(path))")
        }
        var path = ""
        let files = Region.FileSource(
            create: { (tier, rounded) throws(Errno) in
                let f = try createFile(name: name, tier: tier, size: rounded)
                path = f.path
                return f
            },
            discard: { fd, path in
                if linkCount(fd) != 0 { Glibc.unlink(path) }   // an unnamed file has no name to remove
                close(fd)
            })
        let region = try Region.walkLadder(size: size, options: options, files: files)
        do throws(Errno) {
            try prepare(region)
            try publish(region.fd, at: path, name: name)
        } catch {
            try? region.free()
            throw error
        }
        return region
    }

    static func linkCount(_ fd: Int32) -> Int {
        var st = stat()
        return fstat(fd, &st) == 0 ? Int(st.st_nlink) : -1
    }

    /// Gives an unnamed (O_TMPFILE) file its name; a no-op for a file created named.
    static func publish(_ fd: Int32, at path: String, name: String) throws(Errno) {
        if linkCount(fd) != 0 { return }
        // Through /proc (any user); without /proc, AT_EMPTY_PATH (needs CAP_DAC_READ_SEARCH).
        var linked = SystemCall.valueOrErrno { linkat(AT_FDCWD, "/proc/self/fd/\(fd)", AT_FDCWD, path, AT_SYMLINK_FOLLOW) }
        if case .failure(let e) = linked, e.code == ENOENT {
            linked = SystemCall.valueOrErrno { linkat(fd, "", AT_FDCWD, path, Int32(ACSHIM_AT_EMPTY_PATH)) }
        }
        if case .failure(let e) = linked {
            if e.code == EEXIST { throw Errno.fail(EEXIST, "shared region '\(name)' was created meanwhile (\(path))") }
            throw Errno.fail(e.code, "cannot name the region \(path): \(e)")
        }
    }

    /// Opens and maps a named region another process created (same size and backing).
    public static func open(name: String, options o: MemOptions = MemOptions()) throws(Errno) -> Region {
        try validate(name)
        guard let (path, hugePage) = locations(name).first(where: { SysFile.exists($0.path) }) else {
            throw Errno.fail(ENOENT, "no shared region '\(name)' (looked in hugetlbfs mounts and \(shmDir))")
        }
        // /dev/shm is world-writable: never follow a link planted there (the region would be
        // mapped read-write over whatever file it names), and map regular files only.
        let opened = SystemCall.valueOrErrno { Glibc.open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK) }
        let fd: Int32
        switch opened {
        case .success(let f): fd = f
        case .failure(let e) where e.code == ELOOP:
            throw Errno.fail(EINVAL, "\(path) is a symbolic link, not a region this library created")
        case .failure(let e): throw Errno.fail(e.code, "cannot open \(path): \(e)")
        }
        do throws(Errno) {
            var st = stat()
            if fstat(fd, &st) != 0 { throw Errno.fromErrno("fstat of \(path) failed") }
            if st.st_mode & S_IFMT != S_IFREG {
                throw Errno.fail(EINVAL, "\(path) is not a regular file")
            }
            let size = Int(st.st_size)
            let tier: Backing
            if let hugePage {
                switch hugePage {
                case 1 << 30: tier = .huge1G
                case 1 << 21: tier = .huge2M
                default: throw Errno.fail(EOPNOTSUPP, "\(path) has \(hugePage)-byte huge pages (1 GiB or 2 MiB supported)")
                }
            } else {
                if o.flags.contains(.requireHuge) {
                    throw Errno.fail(ENOMEM, "REQUIRE_HUGE: shared region '\(name)' is not in hugetlb pages (\(path))")
                }
                tier = size >= Region.thpSize && size % Region.thpSize == 0 && shmTHPAllowed() && !o.flags.contains(.noTHP)
                    ? .thp : .base
            }
            let page = tier.hugetlbSize ?? (tier == .thp ? Region.thpSize : Region.basePageSize)
            if size <= 0 || size % page != 0 {
                throw Errno.fail(EINVAL, "\(path) is \(size) bytes, not a whole number of \(HugePages.sizeText(page)) pages")
            }
            var opts = o
            opts.pageSize = 0
            let r = try Region.resolve(size: size, options: opts)
            if o.flags.contains(.lock) { try Region.lockPrecheck(size) }
            var region = Region(size: size, requested: size)
            let m = try Region.mapTier(tier, rounded: size, options: o, r: r, fd: fd)
            var reasons = [String](repeating: "", count: 4)
            if m.backing != tier {
                region.refused[tier] = EAGAIN
                reasons[Int(tier.rawValue)] = m.thpReason
            }
            return try Region.finish(m, rounded: size, region: region, reasons: reasons, options: o, r: r,
                                     fd: fd, path: path)
        } catch {
            close(fd)
            throw error
        }
    }

    /// Removes the name (mapped regions stay valid until freed). ENOENT if it does not exist.
    public static func unlink(name: String) throws(Errno) {
        try validate(name)
        var found = false
        for path in candidates(name) where SysFile.exists(path) {
            if case .failure(let e) = SystemCall.valueOrErrno({ Glibc.unlink(path) }) {
                // The sticky directory lets only the file's owner remove it: the kernel says
                // EPERM; open says EACCES for the same region. One answer for both: EACCES.
                if e.code == EPERM { throw Errno.fail(EACCES, "cannot remove \(path): another user's region") }
                throw Errno.fail(e.code, "cannot remove \(path): \(e)")
            }
            found = true
        }
        if !found { throw Errno.fail(ENOENT, "no shared region '\(name)'") }
    }

    static func validate(_ name: String) throws(Errno) {
        let bytes = Array(name.utf8)
        if bytes.isEmpty || bytes.count > 200 {
            throw Errno.fail(EINVAL, "a shared region name has 1 to 200 bytes (got \(bytes.count))")
        }
        if bytes[0] == UInt8(ascii: ".") { throw Errno.fail(EINVAL, "a shared region name may not start with '.'") }
        for b in bytes {
            let ok = (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
                || b == UInt8(ascii: ".") || b == UInt8(ascii: "_") || b == UInt8(ascii: "-")
            if !ok { throw Errno.fail(EINVAL, "shared region name '\(name)' has a byte outside [A-Za-z0-9._-]") }
        }
    }

    /// Every path the name could live at, in lookup order, with the huge page size of its
    /// hugetlbfs mount (nil: /dev/shm).
    static func locations(_ name: String) -> [(path: String, hugePage: Int?)] {
        hugetlbfsMounts().map { ("\($0.path)/alphacore.\(name)", $0.pageSize) } + [("\(shmDir)/alphacore.\(name)", nil)]
    }

    static func candidates(_ name: String) -> [String] { locations(name).map(\.path) }

    /// Writable hugetlbfs mounts and their page sizes.
    static func hugetlbfsMounts() -> [(path: String, pageSize: Int)] {
        var out: [(String, Int)] = []
        for m in mounts() where m.type == "hugetlbfs" {
            var fs = statvfs()   // hugetlbfs reports its page size as the block size
            guard statvfs(m.path, &fs) == 0, access(m.path, W_OK) == 0 else { continue }
            out.append((m.path, Int(fs.f_bsize)))
        }
        return out
    }

    /// Whether /dev/shm can give THP: its tmpfs mount has huge=always|within_size|advise, or
    /// shmem_enabled is "force".
    static func shmTHPAllowed() -> Bool {
        if let s = SysFile.trimmed(SystemRoot.path("/sys/kernel/mm/transparent_hugepage/shmem_enabled")),
           s.containsText("[force]") { return true }
        guard let m = mounts().last(where: { $0.path == shmDir }) else { return false }
        return m.options.containsText("huge=always") || m.options.containsText("huge=within_size")
            || m.options.containsText("huge=advise")
    }

    static func mounts() -> [(path: String, type: String, options: String)] {
        guard let text = try? SysFile.read("/proc/self/mounts") else { return [] }
        var out: [(String, String, String)] = []
        for line in text.split(separator: "\n") {
            let f = line.split(separator: " ")
            if f.count >= 4 { out.append((unescape(f[1]), String(f[2]), String(f[3]))) }
        }
        return out
    }

    /// /proc/self/mounts writes space, tab, newline and backslash as \ooo (three octal digits).
    static func unescape(_ s: Substring) -> String {
        let u = Array(s.utf8)
        var bytes: [UInt8] = []
        var i = 0
        while i < u.count {
            if u[i] == UInt8(ascii: "\\"), i + 3 < u.count,
               let v = UInt8(String(decoding: u[(i + 1)...(i + 3)], as: UTF8.self), radix: 8) {
                bytes.append(v)
                i += 4
            } else {
                bytes.append(u[i])
                i += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Creates the file for one tier, sized and (for tmpfs) committed; or throws the refusal.
    static func createFile(name: String, tier: Backing, size: Int) throws(Errno) -> (fd: Int32, path: String) {
        let dir: String
        if let p = tier.hugetlbSize {
            guard let m = hugetlbfsMounts().first(where: { $0.pageSize == p }) else {
                throw Errno.fail(ENOENT, "no writable hugetlbfs mount with \(HugePages.sizeText(p)) pages (mount -t hugetlbfs -o pagesize=\(p >> 20)M none /dev/hugepages)")
            }
            dir = m.path
        } else {
            if tier == .thp && !shmTHPAllowed() {
                throw Errno.fail(EOPNOTSUPP, "\(shmDir) is a tmpfs without huge= pages (mount option huge=never)")
            }
            dir = shmDir
        }
        let path = "\(dir)/alphacore.\(name)"
        // Unnamed first (see the type's comment); named with O_EXCL where O_TMPFILE is refused.
        var fd = Glibc.open(dir, O_RDWR | Int32(ACSHIM_O_TMPFILE) | O_CLOEXEC, 0o600)
        if fd < 0 { fd = Glibc.open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600) }
        if fd < 0 { throw Errno.fromErrno("cannot create \(path)") }
        let undo = { if linkCount(fd) != 0 { Glibc.unlink(path) }; close(fd) }
        _ = fchmod(fd, 0o600)   // whatever the umask
        if ftruncate(fd, off_t(size)) != 0 {
            let e = Errno.fromErrno("ftruncate of \(path) to \(size) bytes failed")
            undo()
            throw e
        }
        if tier.hugetlbSize == nil {
            // tmpfs: commit the pages now, so that a full tmpfs is ENOSPC here, not SIGBUS later.
            let rc = posix_fallocate(fd, 0, off_t(size))
            if rc != 0 {
                let e = Errno.fail(rc, "posix_fallocate of \(size) bytes in \(path) failed: \(Errno(rc).description)")
                undo()
                throw e
            }
        }
        return (fd, path)
    }
}
