/// One problem that verification found.
public struct VerificationProblem: Sendable, Codable, Equatable {
  /// Stable code of the problem, as in ``CheckpointError/Code``.
  public var code: String
  /// What is wrong and what to do about it.
  public var message: String
  /// Checkpoint directory the problem is in.
  public var checkpoint: String
  /// Tensor the problem is in, when it concerns one.
  public var tensor: String?
  /// Chunk index within the tensor, when it concerns one.
  public var chunk: Int?
  /// Index of the pack in the manifest, when the problem is in a pack of small tensors.
  public var pack: Int?

  init(_ error: CheckpointError, checkpoint: String) {
    self.code = error.code.description
    self.message = error.message
    self.checkpoint = error.path ?? checkpoint
    self.tensor = error.tensor
    self.chunk = error.chunk
    self.pack = error.pack
  }
}

/// The result of verifying one checkpoint.
public struct CheckpointVerification: Sendable, Codable, Equatable {
  /// Path of the checkpoint directory.
  public var path: String
  /// Step from the manifest, when the manifest could be read.
  public var step: Int64?
  /// Number of tensors checked.
  public var tensorCount: Int
  /// Number of tensor chunks checked, packs not included.
  public var chunkCount: Int
  /// Number of packs of small tensors checked.
  public var packCount: Int = 0
  /// Raw bytes checked.
  public var rawByteCount: Int64
  /// Every problem found; empty when the checkpoint is intact.
  public var problems: [VerificationProblem]

  /// Whether the checkpoint is intact.
  public var isIntact: Bool { problems.isEmpty }
}

/// The result of verifying a checkpoint, a store or a run.
public struct VerificationReport: Sendable, Codable, Equatable {
  /// The path that was verified.
  public var path: String
  /// One entry per checkpoint found.
  public var checkpoints: [CheckpointVerification]
  /// Problems that concern no single checkpoint, such as an unreadable store directory.
  public var problems: [VerificationProblem]

  /// Whether every checkpoint is intact and nothing else is wrong.
  public var ok: Bool {
    problems.isEmpty && checkpoints.allSatisfy(\.isIntact)
  }

  enum CodingKeys: String, CodingKey {
    case ok, path, checkpoints, problems
  }

  public init(path: String, checkpoints: [CheckpointVerification], problems: [VerificationProblem])
  {
    self.path = path
    self.checkpoints = checkpoints
    self.problems = problems
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    path = try container.decode(String.self, forKey: .path)
    checkpoints = try container.decode([CheckpointVerification].self, forKey: .checkpoints)
    problems = try container.decode([VerificationProblem].self, forKey: .problems)
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(ok, forKey: .ok)
    try container.encode(path, forKey: .path)
    try container.encode(checkpoints, forKey: .checkpoints)
    try container.encode(problems, forKey: .problems)
  }
}
