import Foundation
import Testing
import WaymarkCheckpoint

@testable import WaymarkSafetensors

/// What a script expects of one tensor: its safetensors dtype, shape and raw bytes, and for
/// some tensors its values as doubles.
private struct ExpectedTensor: Codable {
  var dtype: String
  var shape: [Int]
  var hex: String
  var values: [Double]?
}

/// What a script expects of a whole file.
private struct ExpectedFile: Codable {
  var tensors: [String: ExpectedTensor]
  var metadata: [String: String]
}

private func hexString(_ bytes: [UInt8]) -> String {
  bytes.map { byte in
    let digits = String(byte, radix: 16)
    return digits.count == 1 ? "0" + digits : digits
  }.joined()
}

/// Python that builds one numpy array of every dtype numpy has, with edge values, a scalar,
/// an empty array and non-ASCII names, in a dictionary named `tensors`.
private let pythonTensors = #"""
  import json
  import numpy as np
  import safetensors
  from safetensors.numpy import save, save_file

  tensors = {
      "f64": np.array([[0.5, -np.inf], [np.finfo(np.float64).max, -0.0]], dtype="<f8"),
      "f32": (np.arange(6, dtype="<f4") / np.float32(3)).reshape(2, 3),
      "f16": np.array([1.0, -2.0, np.inf, 65504, 6e-8], dtype="<f2"),
      "i64": np.array([np.iinfo(np.int64).min, -1, 0, np.iinfo(np.int64).max], dtype="<i8"),
      "i32": np.array([np.iinfo(np.int32).min, 7, np.iinfo(np.int32).max], dtype="<i4"),
      "i16": np.array([[np.iinfo(np.int16).min], [0], [np.iinfo(np.int16).max]], dtype="<i2"),
      "i8": np.array([-128, -1, 127], dtype="i1"),
      "u64": np.array([np.iinfo(np.uint64).max, 0, 1], dtype="<u8"),
      "u32": np.array([np.iinfo(np.uint32).max, 5], dtype="<u4"),
      "u16": np.array([np.iinfo(np.uint16).max, 9], dtype="<u2"),
      "u8": np.arange(256, dtype="u1").reshape(16, 16),
      "bool": np.array([True, False, True]),
      "empty": np.zeros((0, 3), dtype="<f4"),
      "scalar": np.array(3.25, dtype="<f4"),
      "couche.poids_\u00e9": np.array([1.0, 2.0], dtype="<f4"),
      "\u5c64/\u91cd\u307f": np.array([3], dtype="<i4"),
  }
  with_values = {"f32", "i32", "i16", "u8", "bool", "scalar"}
  names = {
      "float64": "F64", "float32": "F32", "float16": "F16", "int64": "I64", "int32": "I32",
      "int16": "I16", "int8": "I8", "uint64": "U64", "uint32": "U32", "uint16": "U16",
      "uint8": "U8", "bool": "BOOL",
  }
  """#

@Suite("Python interop", .enabled(if: Python.shouldRunInteropTests, Python.skipMessage))
struct PythonInteropTests {
  @Test("Python file loads in Swift")
  func pythonToSwift() throws {
    try Python.requireAvailable()
    try withTemporaryDirectory { directory in
      let script =
        pythonTensors + #"""

          metadata = {"format": "np", "note": "caf\u00e9 \"quoted\"\nline"}
          save_file(tensors, "python.safetensors", metadata=metadata)
          expected = {
              "metadata": metadata,
              "tensors": {
                  name: {
                      "dtype": names[str(array.dtype)],
                      "shape": list(array.shape),
                      "hex": array.tobytes().hex(),
                      "values": [float(x) for x in array.flatten()] if name in with_values else None,
                  }
                  for name, array in tensors.items()
              },
          }
          with open("expected.json", "w") as f:
              json.dump(expected, f)
          """#
      _ = try Python.runScript(script, in: directory)

      let expected = try JSONDecoder().decode(
        ExpectedFile.self, from: Data(try readFile(at: directory + "/expected.json")))
      let file = try SafetensorsFile(contentsOfFile: directory + "/python.safetensors")

      #expect(file.metadata == expected.metadata)
      #expect(Set(file.tensors.keys) == Set(expected.tensors.keys))
      for (name, want) in expected.tensors {
        let tensor = try #require(file.tensors[name], "missing \(name)")
        #expect(tensor.dtype.safetensorsName == want.dtype, "dtype of \(name)")
        #expect(tensor.shape == want.shape, "shape of \(name)")
        #expect(hexString(tensor.bytes) == want.hex, "bytes of \(name)")
        if let values = want.values {
          #expect(try doubles(of: tensor) == values, "values of \(name)")
        }
      }
    }
  }

  @Test("Swift file loads in Python")
  func swiftToPython() throws {
    try Python.requireAvailable()
    try withTemporaryDirectory { directory in
      let file = SafetensorsFile(
        tensors: try sampleTensors(), metadata: ["format": "pt", "note": "caf\u{E9} \"q\"\n\u{1}"])
      try file.write(to: directory + "/swift.safetensors")
      let expected = ExpectedFile(
        tensors: file.tensors.mapValues { tensor in
          ExpectedTensor(
            dtype: tensor.dtype.safetensorsName, shape: tensor.shape, hex: hexString(tensor.bytes))
        }, metadata: file.metadata)
      try writeFile(Array(try JSONEncoder().encode(expected)), to: directory + "/expected.json")

      let script = #"""
        import json
        import math
        import numpy as np
        import safetensors

        with open("expected.json") as f:
            expected = json.load(f)
        with open("swift.safetensors", "rb") as f:
            content = f.read()

        # The raw API returns every tensor's bytes, whatever its dtype, bf16 included.
        raw = dict(safetensors.deserialize(content))
        assert set(raw) == set(expected["tensors"]), (sorted(raw), sorted(expected["tensors"]))
        for name, info in raw.items():
            want = expected["tensors"][name]
            assert info["dtype"] == want["dtype"], (name, info["dtype"], want["dtype"])
            assert list(info["shape"]) == want["shape"], (name, info["shape"], want["shape"])
            assert bytes(info["data"]).hex() == want["hex"], name

        # numpy has no bfloat16, so bf16 values are widened to float32 by hand.
        bits = np.frombuffer(bytes(raw["bf16"]["data"]), dtype="<u2").astype("<u4") << 16
        values = bits.view("<f4").tolist()
        assert values[:3] == [1.5, -2.0, math.inf], values
        assert math.isnan(values[3]), values

        numpy_dtypes = {
            "F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4", "I16": "<i2",
            "I8": "i1", "U64": "<u8", "U32": "<u4", "U16": "<u2", "U8": "u1", "BOOL": "bool",
        }
        with safetensors.safe_open("swift.safetensors", framework="numpy") as f:
            assert f.metadata() == expected["metadata"], f.metadata()
            for name, want in expected["tensors"].items():
                if want["dtype"] == "BF16":
                    continue
                array = f.get_tensor(name)
                assert array.dtype == np.dtype(numpy_dtypes[want["dtype"]]), (name, array.dtype)
                assert list(array.shape) == want["shape"], (name, array.shape)
                assert array.tobytes().hex() == want["hex"], name
            assert f.get_tensor("f32").tolist() == [[1, 2, 3], [4, 5, 6]]
            assert f.get_tensor("i64").tolist() == [-(2**63), -1, 0, 2**63 - 1]
            assert f.get_tensor("scalar").shape == ()
            assert f.get_tensor("empty").shape == (0, 3)
            assert f.get_tensor("bool").tolist() == [True, False, True]
        print("ok")
        """#
      let output = try Python.runScript(script, in: directory)
      #expect(output.trimmingCharacters(in: .whitespacesAndNewlines) == "ok")
    }
  }

  @Test("Python file re-encodes byte for byte")
  func byteIdenticalToPython() throws {
    try Python.requireAvailable()
    try withTemporaryDirectory { directory in
      // One metadata key only: the reference writer keeps metadata in a hash map, so the
      // order of several keys varies between runs.
      let script =
        pythonTensors + #"""

          with open("python.safetensors", "wb") as f:
              f.write(save(tensors, metadata={"format": "np"}))
          with open("no-metadata.safetensors", "wb") as f:
              f.write(save({"b": tensors["f32"], "a": tensors["f32"], "scalar": tensors["scalar"]}))
          """#
      _ = try Python.runScript(script, in: directory)

      for name in ["python.safetensors", "no-metadata.safetensors"] {
        let pythonBytes = try readFile(at: directory + "/" + name)
        let reencoded = try SafetensorsFile(decoding: pythonBytes).encoded()
        #expect(reencoded == pythonBytes, "\(name) differs")
      }
    }
  }

  @Test("duplicate keys rejected unlike Python")
  func duplicateKeysPythonKeeps() throws {
    try Python.requireAvailable()
    try withTemporaryDirectory { directory in
      let header =
        #"{"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}"#
      try writeFile(
        SafetensorsBytes.file(header: header, data: [7]), to: directory + "/duplicate.safetensors")

      // The reference reader keeps one of the two entries; Waymark refuses the file so that
      // the two readers can never disagree about which tensor "w" is.
      let script = #"""
        import safetensors
        with open("duplicate.safetensors", "rb") as f:
            print(len(safetensors.deserialize(f.read())))
        """#
      let output = try Python.runScript(script, in: directory)
      #expect(output.trimmingCharacters(in: .whitespacesAndNewlines) == "1")

      let error = try #require(throws: CheckpointError.self) {
        try SafetensorsFile(contentsOfFile: directory + "/duplicate.safetensors")
      }
      #expect(error.code == .invalidSafetensors)
      #expect(error.message.contains(#"tensors["w"] appears more than once"#))
    }
  }
}

/// Returns the elements of `tensor` widened to `Double`.
private func doubles(of tensor: Tensor) throws -> [Double] {
  switch tensor.dtype {
  case .float32: try tensor.scalars(as: Float.self).map(Double.init)
  case .int32: try tensor.scalars(as: Int32.self).map(Double.init)
  case .int16: try tensor.scalars(as: Int16.self).map(Double.init)
  case .uint8: try tensor.scalars(as: UInt8.self).map(Double.init)
  case .bool: try tensor.scalars(as: Bool.self).map { $0 ? 1 : 0 }
  default:
    throw CheckpointError(
      .invalidArgument, "no conversion to Double for \(tensor.dtype.rawValue) in this test")
  }
}
