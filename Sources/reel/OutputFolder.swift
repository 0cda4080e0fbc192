import Foundation

/// The output folder, checked before the first paid request: a read-only or missing-parent
/// `--out` is found now, not after the gateway has billed the video it cannot hold.
enum OutputFolder {
    /// What is wrong with `path` as the output folder, or nil when a file can be written there.
    static func problem(_ path: String) -> String? {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            return "cannot create the output folder '\(path)' (--out): \(reason(error))"
        }
        let probe = (path as NSString).appendingPathComponent(".reel-write-check-\(getpid())")
        let fd = open(probe, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else {
            return "cannot write in the output folder '\(path)' (--out): \(String(cString: strerror(errno))); choose another with --out"
        }
        close(fd)
        unlink(probe)
        return nil
    }

    private static func reason(_ error: any Error) -> String {
        if let underlying = (error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        return error.localizedDescription
    }
}
