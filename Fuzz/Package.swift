// swift-tools-version: 6.2
import PackageDescription

// libFuzzer targets for hld, one executable each; scripts/fuzz builds and runs them.
// Each defines LLVMFuzzerTestOneInput and no main (libFuzzer brings it), hence
// -parse-as-library. Internal API is reached with @testable import, so the package is
// built with -enable-testing.
let fuzzTargets = ["yaml-roundtrip", "component-loader", "config-merge", "lock-file", "text-editor", "helm-output"]

let package = Package(
    name: "hld-fuzz",
    dependencies: [.package(name: "hld", path: "..")],
    targets: [
        // Property checks and input splitting shared by the targets.
        .target(
            name: "FuzzSupport",
            dependencies: [.product(name: "HLD", package: "hld"), .product(name: "YAML", package: "hld")]
        ),
    ] + fuzzTargets.map { name in
        .executableTarget(
            name: name,
            dependencies: ["FuzzSupport", .product(name: "HLD", package: "hld"), .product(name: "YAML", package: "hld")],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        )
    },
    swiftLanguageModes: [.v6]
)
