import ChatModel
import Logging

/// Builds clients for runtime kinds other than the control plane.
enum RuntimeFactory {
    /// A configuration that cannot work, reported at start.
    struct ConfigurationError: Error, CustomStringConvertible {
        var description: String
    }

    static func make(
        _ runtime: WorkspaceConfig.Runtime, http: HTTPTransport, configuration: DaemonConfiguration, logger: Logger
    ) throws
        -> any ChatRuntime
    {
        throw ConfigurationError(description: "runtime kind '\(runtime.kind.rawValue)' is not available in this build")
    }
}
