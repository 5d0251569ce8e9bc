// `import Waymark` brings in the checkpoint engine, the tracker and the shared core types.
@_exported public import WaymarkCheckpoint
@_exported public import WaymarkCore
@_exported public import WaymarkSafetensors
@_exported public import WaymarkTracking
