/// Letterbox's version, for `letterbox --version`, the daemon's start line and `.letterbox/daemon.json`.
///
/// One source: the VERSION file at the repository's root, with the git commit appended when built from a
/// checkout (`0.2.0-dev+g7621182`, `.dirty` with uncommitted changes; just `0.2.0` on a release tag
/// `v0.2.0`). The VersionStamp build plugin writes `generatedVersion` with scripts/version.sh.
public enum LetterboxVersion {
    /// The version this binary was built as.
    public static var current: String { generatedVersion }
}
