import CacheStore
import Foundation
import YAML

/// An external renderer found on this machine, with the version that goes into render keys.
struct Tool: Sendable, Equatable {
    var path: String
    var version: String
    /// Arguments that come before the target: `["build"]` for kustomize, `["kustomize"]`
    /// for kubectl.
    var prefix: [String]
}

/// Finds helm and kustomize once per run: an explicit path (`--helm`, `--kustomize`), else
/// `HLD_HELM`/`HLD_KUSTOMIZE`, else PATH (`kustomize`, then `kubectl kustomize`). A missing
/// tool is an error only for a component that needs it.
actor Toolchain {
    private let helmPath: String?
    private let kustomizePath: String?
    private let environment: [String: String]
    private let runner: any ProcessRunner
    private let versions: ToolVersionCache
    private var helm: Task<Result<Tool, HLDError>, Never>?
    private var kustomize: Task<Result<Tool, HLDError>, Never>?

    init(helm: String?, kustomize: String?, environment: [String: String], runner: any ProcessRunner, cacheRoot: URL) {
        self.versions = ToolVersionCache(store: CacheStore(root: cacheRoot))
        self.helmPath = helm ?? environment["HLD_HELM"].flatMap { $0.isEmpty ? nil : $0 }
        self.kustomizePath = kustomize ?? environment["HLD_KUSTOMIZE"].flatMap { $0.isEmpty ? nil : $0 }
        self.environment = environment
        self.runner = runner
    }

    func helm(for component: String) async throws(HLDError) -> Tool {
        if helm == nil {
            let path = helmPath, search = searchPath, runner = self.runner, versions = self.versions
            helm = Task { await Self.detectHelm(path: path, search: search, runner: runner, versions: versions) }
        }
        guard let task = helm else { throw HLDError("helm detection did not start") }
        switch await task.value {
        case .success(let tool): return tool
        case .failure(let error): throw HLDError("\(component) needs helm: \(error.description)")
        }
    }

    func kustomize(for component: String) async throws(HLDError) -> Tool {
        if kustomize == nil {
            let path = kustomizePath, search = searchPath, runner = self.runner, versions = self.versions
            kustomize = Task { await Self.detectKustomize(path: path, search: search, runner: runner, versions: versions) }
        }
        guard let task = kustomize else { throw HLDError("kustomize detection did not start") }
        switch await task.value {
        case .success(let tool): return tool
        case .failure(let error): throw HLDError("\(component) needs kustomize: \(error.description)")
        }
    }

    /// The tools this run found, by name, with their versions (for provenance).
    func found() async -> [String: String] {
        var tools: [String: String] = [:]
        if let helm, case .success(let tool) = await helm.value { tools["helm"] = tool.version }
        if let kustomize, case .success(let tool) = await kustomize.value { tools["kustomize"] = tool.version }
        return tools
    }

    private var searchPath: [String] {
        (environment["PATH"] ?? ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin")
            .split(separator: ":").map(String.init)
    }

    private static func find(_ name: String, in search: [String]) -> String? {
        search.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    private static func detectHelm(path: String?, search: [String], runner: any ProcessRunner, versions: ToolVersionCache) async -> Result<Tool, HLDError> {
        guard let executable = path ?? find("helm", in: search) else {
            return .failure(HLDError("no helm found (install Helm 3.8+ or 4, put it on PATH, or set --helm / HLD_HELM)"))
        }
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            return .failure(HLDError("\(executable) is not an executable file"))
        }
        let version: String
        if let known = versions.lookup(executable) {
            version = known
        } else {
            let output: ProcessOutput
            do {
                output = try await runner.checked(ProcessInvocation(executable: executable, arguments: ["version", "--short"]))
            } catch {
                return .failure(HLDError("cannot read its version: \(error)").caused(by: error))
            }
            version = String(decoding: output.standardOutput, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            versions.store(executable, version)
        }
        guard let parsed = SemanticVersion(String(version.split(separator: "+").first ?? "")) else {
            let printed = version.isEmpty ? "printed nothing" : "printed \"\(version.prefix(80))\""
            return .failure(HLDError("\(executable) did not print a Helm version for `version --short` (it \(printed)); is it helm?"))
        }
        guard parsed.major == 4 || (parsed.major == 3 && parsed.minor >= 8) else {
            return .failure(HLDError("\(executable) is Helm \(version); hld needs Helm 3.8 or later"))
        }
        return .success(Tool(path: executable, version: "helm " + version, prefix: []))
    }

    private static func detectKustomize(path: String?, search: [String], runner: any ProcessRunner, versions: ToolVersionCache) async -> Result<Tool, HLDError> {
        let candidates: [String] = path.map { [$0] } ?? [find("kustomize", in: search), find("kubectl", in: search)].compactMap { $0 }
        guard let executable = candidates.first else {
            return .failure(HLDError("neither kustomize nor kubectl found (put one on PATH, or set --kustomize / HLD_KUSTOMIZE)"))
        }
        let isKubectl = URL(fileURLWithPath: executable).lastPathComponent.hasPrefix("kubectl")
        var version: String
        if let known = versions.lookup(executable) {
            version = known
        } else {
            let invocation = isKubectl
                ? ProcessInvocation(executable: executable, arguments: ["version", "--client", "-o", "json"])
                : ProcessInvocation(executable: executable, arguments: ["version"])
            let output: ProcessOutput
            do {
                output = try await runner.checked(invocation)
            } catch {
                return .failure(HLDError("cannot read the version of \(executable): \(error)").caused(by: error))
            }
            version = String(decoding: output.standardOutput, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            if isKubectl, let node = try? Node.document(in: version, format: .json) {
                version = "kubectl \(node["clientVersion"]?["gitVersion"]?.textValue ?? "?") kustomize \(node["kustomizeVersion"]?.textValue ?? "?")"
            } else {
                version = "kustomize " + version
            }
            versions.store(executable, version)
        }
        return .success(Tool(path: executable, version: version, prefix: isKubectl ? ["kustomize"] : ["build"]))
    }
}

/// Rendered output stored under a hash of everything that determines it; a hit runs no
/// process. Entries are verified blobs of the cache store (atomic, locked, checksummed):
/// a damaged entry is discarded and rendered again.
struct RenderCache: Sendable {
    let store: CacheStore

    func lookup(_ key: String) -> [UInt8]? {
        store.verifiedBlob(.renders, key: key)
    }

    func store(_ key: String, _ bytes: [UInt8]) {
        // A render that cannot be cached is still a render: the next run makes it again.
        try? store.setVerifiedBlob(.renders, key: key, bytes)
    }

    /// The key for a render: a hash over its inputs, each length-prefixed.
    static func key(_ parts: [String]) -> String {
        var data = Data()
        for part in parts {
            data += Data("\(part.utf8.count):".utf8) + Data(part.utf8)
        }
        return sha256Hex(data)
    }
}

/// A content hash of a directory's files (paths, modes, bytes), for inputs that have no
/// git tree id: local charts and kustomizations.
enum DirectoryHash {
    static func of(_ directories: [String]) -> String {
        var data = Data()
        let fm = FileManager.default
        for directory in directories.sorted() {
            data += Data("dir:\(directory)\n".utf8)
            for path in ((try? fm.subpathsOfDirectory(atPath: directory)) ?? []).sorted() {
                let full = directory + "/" + path
                var info = stat()
                guard lstat(full, &info) == 0 else { continue }
                switch info.st_mode & S_IFMT {
                case S_IFREG:
                    data += Data("file:\(path):\(info.st_mode & 0o111 != 0)\n".utf8)
                    data += Data(sha256Hex(fm.contents(atPath: full) ?? Data()).utf8)
                case S_IFLNK:
                    data += Data("link:\(path):\((try? fm.destinationOfSymbolicLink(atPath: full)) ?? "")\n".utf8)
                default:
                    continue
                }
            }
        }
        return sha256Hex(data)
    }
}

/// Tool versions remembered by the executable's identity (path, size, modification time,
/// inode), so a warm run starts no process just to ask a tool its version.
struct ToolVersionCache: Sendable {
    let store: CacheStore

    private func key(_ executable: String) -> String? {
        let resolved = URL(fileURLWithPath: executable).resolvingSymlinksInPath().path
        var info = stat()
        guard stat(resolved, &info) == 0 else { return nil }
        return RenderCache.key([resolved, "\(info.st_size)", "\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)", "\(info.st_ino)"])
    }

    func lookup(_ executable: String) -> String? {
        guard let key = key(executable), let data = store.record(.tools, key: key) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    func store(_ executable: String, _ version: String) {
        guard let key = key(executable) else { return }
        try? store.setRecord(.tools, key: key, Array(version.utf8))
    }
}
