import Foundation
import PackagePlugin

/// Stamps the version into the LetterboxVersion module before every build: scripts/version.sh writes
/// `generatedVersion` from the VERSION file and the git commit (docs/operations.md, "Upgrades").
///
/// A prebuild command, because the version changes without any source file changing (a commit); the
/// script rewrites its output only when the version differs, so an unchanged version rebuilds nothing.
@main
struct VersionStamp: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
        let output = context.pluginWorkDirectoryURL.appending(path: "generated")
        let script = context.package.directoryURL.appending(path: "scripts/version.sh")
        return [
            .prebuildCommand(
                displayName: "Stamping the version (scripts/version.sh)",
                executable: URL(fileURLWithPath: "/bin/sh"),
                arguments: [script.path, "--swift", output.appending(path: "GeneratedVersion.swift").path],
                outputFilesDirectory: output)
        ]
    }
}
