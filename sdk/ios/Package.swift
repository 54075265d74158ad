// swift-tools-version:5.7
// The plex iOS/macOS SDK: the gomobile-built Plexmobile.xcframework (Go,
// sdk/mobile) plus a small Swift API (Sources/Plex). Build the framework
// first on a Mac with Xcode: sdk/ios/build-xcframework.sh. See docs/ios.md.
import PackageDescription

let package = Package(
    name: "Plex",
    platforms: [.iOS(.v13), .macOS(.v11)],
    products: [
        .library(name: "Plex", targets: ["Plex"]),
        .executable(name: "plex-sample", targets: ["PlexSample"]),
    ],
    targets: [
        // For distribution, publish the zipped framework and use
        // .binaryTarget(name: "Plexmobile", url: "https://…/Plexmobile.xcframework.zip", checksum: "…")
        // (checksum: `swift package compute-checksum Plexmobile.xcframework.zip`).
        .binaryTarget(name: "Plexmobile", path: "build/Plexmobile.xcframework"),
        .target(name: "Plex", dependencies: ["Plexmobile"], path: "Sources/Plex"),
        .executableTarget(name: "PlexSample", dependencies: ["Plex"], path: "Sources/PlexSample"),
    ]
)
