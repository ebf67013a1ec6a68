import Foundation
import Subprocess
#if canImport(System)
import System
#else
import SystemPackage
#endif

/// One external program to run: an argument array, never a shell string.
public struct ProcessInvocation: Sendable, Equatable {
    public var executable: String
    public var arguments: [String]
    public var workingDirectory: String?
    /// Variables set on top of the inherited environment.
    public var environment: [String: String]

    public init(executable: String, arguments: [String], workingDirectory: String? = nil, environment: [String: String] = [:]) {
        self.executable = executable
        self.arguments = arguments
        self.workingDirectory = workingDirectory
        self.environment = environment
    }

    /// The command as a user would type it, for messages.
    public var commandLine: String { ([executable] + arguments).joined(separator: " ") }
}

/// What a finished program left behind; its exit status is data, not an error.
public struct ProcessOutput: Sendable, Equatable {
    public var status: Int32
    public var standardOutput: [UInt8]
    public var standardError: String
}

/// A program that could not run or failed: its arguments, exit code and standard error.
public struct ProcessFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public var commandLine: String
    public var exitCode: Int32?
    public var standardError: String

    public var description: String {
        let status = exitCode.map { "exited with status \($0)" } ?? "could not be started"
        let stderr = standardError.trimmingCharacters(in: .whitespacesAndNewlines)
        return "`\(commandLine)` \(status)" + (stderr.isEmpty ? "" : ": \(stderr)")
    }
}

/// The one seam through which hld runs external programs (hooks, helm, kustomize), so tests
/// can put a fake in its place.
public protocol ProcessRunner: Sendable {
    func run(_ invocation: ProcessInvocation) async -> Result<ProcessOutput, ProcessFailure>
}

extension ProcessRunner {
    /// Runs `invocation` and treats a non-zero exit as a failure.
    public func checked(_ invocation: ProcessInvocation) async throws(ProcessFailure) -> ProcessOutput {
        let output = try await run(invocation).get()
        guard output.status == 0 else {
            throw ProcessFailure(commandLine: invocation.commandLine, exitCode: output.status, standardError: output.standardError)
        }
        return output
    }
}

/// Runs programs with swift-subprocess, capturing bounded output.
public struct SubprocessRunner: ProcessRunner {
    /// The most bytes kept of standard output (rendered manifests can be large).
    public var outputLimit: Int
    public var errorLimit: Int

    public init(outputLimit: Int = 512 << 20, errorLimit: Int = 1 << 20) {
        self.outputLimit = outputLimit
        self.errorLimit = errorLimit
    }

    public func run(_ invocation: ProcessInvocation) async -> Result<ProcessOutput, ProcessFailure> {
        let executable: Executable = invocation.executable.contains("/")
            ? .path(FilePath(invocation.executable)) : .name(invocation.executable)
        var overrides: [Environment.Key: String?] = [:]
        for (key, value) in invocation.environment { overrides[Environment.Key(stringLiteral: key)] = value }
        do {
            let result = try await Subprocess.run(
                executable,
                arguments: Arguments(invocation.arguments),
                environment: .inherit.updating(overrides),
                workingDirectory: invocation.workingDirectory.map { FilePath($0) },
                output: .bytes(limit: outputLimit),
                error: .string(limit: errorLimit))
            let status: Int32
            switch result.terminationStatus {
            case .exited(let code): status = Int32(code)
            case .signaled(let signal): status = 128 + Int32(signal)
            }
            return .success(ProcessOutput(status: status, standardOutput: result.standardOutput, standardError: result.standardError))
        } catch {
            return .failure(ProcessFailure(commandLine: invocation.commandLine, exitCode: nil, standardError: "\(error)"))
        }
    }
}
