// swift-tools-version:5.4
// Tools version 5.4 on purpose: from 5.5 on, SwiftPM renames an executable's entry point to
// `<Module>_main` on Linux and links `main` to it, which clashes with the `main` that
// libFuzzer supplies. With 5.4 the fuzz targets link against libFuzzer's `main` unchanged.
import PackageDescription

let package = Package(
  name: "WaymarkFuzz",
  dependencies: [
    .package(name: "Waymark", path: "..")
  ],
  targets: [
    .executableTarget(
      name: "FuzzManifest",
      dependencies: [.product(name: "WaymarkCheckpoint", package: "Waymark")]
    ),
    .executableTarget(
      name: "FuzzSafetensors",
      dependencies: [
        .product(name: "WaymarkCheckpoint", package: "Waymark"),
        .product(name: "WaymarkSafetensors", package: "Waymark"),
      ]
    ),
  ]
)
