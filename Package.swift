// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "letterbox",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "letterbox", targets: ["letterbox"]),
        .executable(name: "letterbox-bench", targets: ["LetterboxBench"]),
        .executable(name: "letterbox-fuzz", targets: ["LetterboxFuzz"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CCmarkGFM",
            pkgConfig: "libcmark-gfm",
            providers: [.apt(["libcmark-gfm-dev", "libcmark-gfm-extensions-dev"])]
        ),
        .systemLibrary(
            name: "CInotifyTools",
            providers: [.apt(["libinotifytools0-dev"])]
        ),
        .target(name: "CLetterboxShims"),
        // The version from one source (VERSION and the git commit), stamped before every build.
        .plugin(name: "VersionStamp", capability: .buildTool()),
        .target(name: "LetterboxVersion", plugins: ["VersionStamp"]),
        .target(
            name: "ChatModel",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .target(
            name: "InboxStore",
            dependencies: ["ChatModel", "CLetterboxShims"]
        ),
        .target(
            name: "InboxCore",
            dependencies: ["ChatModel"]
        ),
        .target(
            name: "SiteBuilder",
            dependencies: [
                "ChatModel",
                "InboxStore",
                "CCmarkGFM",
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "ReferenceRuntime",
            dependencies: [
                "ChatModel",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "SiteServer",
            dependencies: [
                "ChatModel",
                "InboxStore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "InboxDaemon",
            dependencies: [
                "ChatModel",
                "InboxCore",
                "LetterboxVersion",
                "InboxStore",
                "CInotifyTools",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Subprocess", package: "swift-subprocess"),
            ]
        ),
        .executableTarget(
            name: "letterbox",
            dependencies: [
                "ChatModel",
                "InboxStore",
                "SiteBuilder",
                "InboxDaemon",
                "ReferenceRuntime",
                "SiteServer",
                "LetterboxVersion",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "LetterboxBench",
            dependencies: [
                "ChatModel", "InboxStore", "SiteBuilder", "ReferenceRuntime",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Fuzz targets (docs/reliability.md): a seeded mutation loop by default; libFuzzer's entry
        // points when built with `swift build --sanitize=fuzzer -Xswiftc -DLIBFUZZER` (`make fuzz`).
        .executableTarget(name: "LetterboxFuzz", dependencies: ["ChatModel", "InboxCore"]),
        .target(name: "LetterboxTestSupport", dependencies: ["ChatModel"], path: "Tests/LetterboxTestSupport"),
        .testTarget(
            name: "ChatModelTests",
            dependencies: [
                "LetterboxTestSupport", "ChatModel", .product(name: "PropertyBased", package: "swift-property-based"),
            ]
        ),
        .testTarget(name: "InboxStoreTests", dependencies: ["InboxStore", "ChatModel"]),
        .testTarget(name: "InboxCoreTests", dependencies: ["InboxCore", "ChatModel"]),
        .testTarget(
            name: "SiteBuilderTests",
            dependencies: [
                "LetterboxTestSupport", "SiteBuilder", "InboxStore", "ChatModel",
                .product(name: "Logging", package: "swift-log"),
                // Reads docs/openapi.yaml to validate the site's JSON read API against its schemas.
                .product(name: "Yams", package: "Yams"),
            ],
            exclude: ["Snapshots"]
        ),
        .testTarget(
            name: "LetterboxCLITests",
            dependencies: [
                "LetterboxTestSupport", "letterbox", "ChatModel", "InboxStore", "SiteServer",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]),
        .testTarget(
            name: "InboxDaemonTests",
            dependencies: [
                "LetterboxTestSupport",
                "InboxDaemon", "InboxStore", "ChatModel", "ReferenceRuntime", "letterbox",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "ReferenceRuntimeTests",
            dependencies: [
                "ReferenceRuntime",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
    ]
)

// One list of settings for every target we write (as swift-log does).
for target in package.targets
where target.type != .system && target.type != .plugin && target.name != "CLetterboxShims" {
    target.swiftSettings =
        (target.swiftSettings ?? []) + [
            .enableUpcomingFeature("ExistentialAny"),
            .enableUpcomingFeature("MemberImportVisibility"),
        ]
}
