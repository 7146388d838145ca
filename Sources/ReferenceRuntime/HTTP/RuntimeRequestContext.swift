import Hummingbird
import NIOCore

/// The request context: Hummingbird's core storage plus the connection's channel, which the fault middleware needs
/// to reset a connection.
struct RuntimeRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    /// The TCP connection the request arrived on.
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
    }
}
