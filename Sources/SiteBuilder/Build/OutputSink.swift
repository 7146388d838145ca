import ChatModel
import InboxStore

/// Where rendered files go: a staging folder (full builds) or the live site (incremental builds).
final class OutputSink {
    let root: String
    /// Path -> SHA-256 of everything this sink holds (the manifest's `outputs`).
    var hashes: [String: String]
    /// Whether files whose bytes did not change are skipped (incremental) or always written (staging).
    let skipUnchanged: Bool
    var written = 0
    var unchanged = 0
    private var folders: Set<String> = []

    init(root: String, hashes: [String: String], skipUnchanged: Bool) {
        self.root = root
        self.hashes = hashes
        self.skipUnchanged = skipUnchanged
    }

    func put(_ path: String, _ text: String) throws { try put(path, Array(text.utf8)) }

    /// Writes `bytes` at `path` unless they are what is there; `digest` is their SHA-256 when the
    /// caller has it already (the same bytes going to two paths).
    func put(_ path: String, _ bytes: [UInt8], digest known: String? = nil) throws {
        let digest = known ?? SHA256Hex.digest(bytes)
        let target = root + "/" + path
        if skipUnchanged && hashes[path] == digest && FileSystem.exists(target) {
            unchanged += 1
            return
        }
        let folder = Workspace.absolute("..", base: target)
        if !folders.contains(folder) {
            if !FileSystem.exists(folder) { try FileSystem.createDirectory(folder) }
            folders.insert(folder)
        }
        // Atomic (temp + exchange): a reader never sees half a page. No fsync: the site can be rebuilt,
        // and a manifest from an earlier boot is not trusted (`Manifest.load`).
        try DurableWriter.replaceQuickly(bytes, at: target)
        hashes[path] = digest
        written += 1
    }

    /// Records a file another process wrote into this sink's folder (a build worker).
    func adopt(_ path: String, digest: String) {
        hashes[path] = digest
        written += 1
    }
}
