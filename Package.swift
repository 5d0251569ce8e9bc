// swift-tools-version:6.0
import PackageDescription

let strictSettings: [SwiftSetting] = [
  .enableUpcomingFeature("ExistentialAny"),
  .enableUpcomingFeature("InternalImportsByDefault"),
]

/// Numeric hot paths (codecs, hashing, the demo's model) are optimized even in debug builds,
/// so `swift run waymark demo` and `swift test` run at a usable speed without `-c release`.
let optimizedSettings: [SwiftSetting] = strictSettings + [
  .unsafeFlags(["-O"], .when(configuration: .debug))
]

let package = Package(
  name: "Waymark",
  platforms: [.macOS(.v15)],
  products: [
    .library(name: "Waymark", targets: ["Waymark"]),
    .library(name: "WaymarkCheckpoint", targets: ["WaymarkCheckpoint"]),
    .library(name: "WaymarkSafetensors", targets: ["WaymarkSafetensors"]),
    .library(name: "WaymarkTracking", targets: ["WaymarkTracking"]),
    .executable(name: "waymark", targets: ["WaymarkCLI"]),
  ],
  targets: [
    .systemLibrary(
      name: "CZstd",
      pkgConfig: "libzstd",
      providers: [.apt(["libzstd-dev"]), .brew(["zstd"])]
    ),
    .systemLibrary(
      name: "CXXHash",
      pkgConfig: "libxxhash",
      providers: [.apt(["libxxhash-dev"]), .brew(["xxhash"])]
    ),
    .systemLibrary(name: "CSystemShims"),
    .target(
      name: "WaymarkCore",
      dependencies: ["CXXHash", "CSystemShims"],
      swiftSettings: optimizedSettings
    ),
    .target(
      name: "WaymarkCheckpoint",
      dependencies: ["WaymarkCore", "CZstd", "CXXHash"],
      swiftSettings: optimizedSettings
    ),
    .target(
      name: "WaymarkSafetensors",
      dependencies: ["WaymarkCore", "WaymarkCheckpoint"],
      swiftSettings: optimizedSettings
    ),
    .target(
      name: "WaymarkTracking",
      dependencies: ["WaymarkCore"],
      swiftSettings: optimizedSettings
    ),
    .target(
      name: "Waymark",
      dependencies: ["WaymarkCore", "WaymarkCheckpoint", "WaymarkSafetensors", "WaymarkTracking"],
      swiftSettings: strictSettings
    ),
    .target(
      name: "WaymarkDemo",
      dependencies: ["Waymark", "WaymarkCheckpoint", "WaymarkCore"],
      swiftSettings: optimizedSettings
    ),
    .executableTarget(
      name: "WaymarkCLI",
      dependencies: ["Waymark", "WaymarkDemo"],
      swiftSettings: strictSettings
    ),
    .target(
      name: "WaymarkTestSupport",
      dependencies: ["WaymarkCheckpoint"],
      swiftSettings: strictSettings
    ),
    .executableTarget(
      name: "WaymarkCrashHelper",
      dependencies: ["WaymarkCheckpoint", "WaymarkCore", "WaymarkTestSupport"],
      swiftSettings: optimizedSettings
    ),
    .executableTarget(
      name: "WaymarkBenchmarks",
      dependencies: ["Waymark", "WaymarkCheckpoint", "WaymarkCore"],
      path: "Benchmarks/Sources/WaymarkBenchmarks",
      swiftSettings: strictSettings
    ),
    .testTarget(
      name: "WaymarkCoreTests",
      dependencies: ["WaymarkCore"],
      swiftSettings: strictSettings
    ),
    .testTarget(
      name: "WaymarkCheckpointTests",
      dependencies: ["WaymarkCheckpoint", "WaymarkCore", "WaymarkTestSupport"],
      swiftSettings: strictSettings
    ),
    .testTarget(
      name: "WaymarkSafetensorsTests",
      dependencies: ["WaymarkSafetensors", "WaymarkCheckpoint", "WaymarkCore"],
      swiftSettings: strictSettings
    ),
    .testTarget(
      name: "WaymarkTrackingTests",
      dependencies: ["WaymarkTracking", "WaymarkCore"],
      swiftSettings: strictSettings
    ),
    .testTarget(
      name: "WaymarkTests",
      dependencies: ["Waymark", "WaymarkDemo", "WaymarkTestSupport"],
      swiftSettings: strictSettings
    ),
  ],
  swiftLanguageModes: [.v6]
)
