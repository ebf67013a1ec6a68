// swift-tools-version: 6.2
import PackageDescription

/// Upcoming language features the modules are held to: `any` spelled out for
/// existentials, imports internal unless declared public, and members visible only
/// through modules a file imports itself.
let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "hld",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "hld", targets: ["HLDCLI"]),
        .library(name: "HLD", targets: ["HLD"]),
        .library(name: "YAML", targets: ["YAML"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CYAML",
            pkgConfig: "yaml-0.1",
            providers: [.apt(["libyaml-dev"])]
        ),
        .systemLibrary(
            name: "CGit2",
            pkgConfig: "libgit2",
            providers: [.apt(["libgit2-dev"])]
        ),
        // libcurl for HTTP(S): FoundationNetworking on Linux cannot trust a CA file.
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        .target(name: "YAML", dependencies: ["CYAML"], swiftSettings: strictSettings),
        // The on-disk cache: layout, per-entry locks, atomic and verified entries.
        .target(name: "CacheStore", dependencies: [.product(name: "Crypto", package: "swift-crypto")], swiftSettings: strictSettings),
        .target(name: "Git", dependencies: ["CGit2", "CacheStore", .product(name: "Crypto", package: "swift-crypto")], swiftSettings: strictSettings),
        .target(
            name: "HLD",
            dependencies: [
                "YAML",
                "Git",
                "CacheStore",
                "CCurl",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Subprocess", package: "swift-subprocess"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "HLDCLI",
            dependencies: [
                "HLD",
                "CacheStore",
                "Git",
                "YAML",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strictSettings
        ),
        // Loopback servers (git daemon, smart HTTP, plain HTTP) and git fixtures for tests.
        .target(name: "TestSupport", path: "Tests/Support", exclude: ["git_http_server.py"]),
        // A second process on one cache, for CacheStoreTests only.
        .executableTarget(name: "cache-store-probe", dependencies: ["CacheStore"], path: "Tests/CacheStoreProbe"),
        .testTarget(name: "YAMLTests", dependencies: ["YAML", "TestSupport"]),
        .testTarget(name: "CacheStoreTests", dependencies: ["CacheStore", "TestSupport", "cache-store-probe"]),
        .testTarget(name: "GitTests", dependencies: ["Git", "TestSupport"]),
        .testTarget(name: "HLDTests", dependencies: ["HLD", "TestSupport"]),
        .testTarget(name: "HLDCLITests", dependencies: ["HLDCLI", "YAML", "TestSupport", .product(name: "Crypto", package: "swift-crypto")]),
        // The builder image (templates/Dockerfile) built with podman and run on the example.
        .testTarget(name: "BuilderImageTests", dependencies: ["TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
