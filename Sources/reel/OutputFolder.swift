import Foundation
import SafeFiles

/// The output folder, checked before the first paid request: a read-only or missing-parent
/// `--out` is found now, not after the gateway has billed the video it cannot hold.
enum OutputFolder {
    /// What is wrong with `path` as the output folder, or nil when a file can be written there.
    static func problem(_ path: String) -> String? {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            // Says what is wrong with the place (read-only, /proc, a file in the way), not only errno's words.
            return "cannot create the output folder '\(path)' (--out): \(OutputFolderProblem.describe(path) ?? reason(error)); choose another with --out"
        }
        let probe = (path as NSString).appendingPathComponent(".reel-write-check-\(getpid())")
        let fd = open(probe, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else {
            let code = errno
            return "cannot write in the output folder '\(path)' (--out): \(OutputFolderProblem.describe(path) ?? String(cString: strerror(code))); choose another with --out"
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
