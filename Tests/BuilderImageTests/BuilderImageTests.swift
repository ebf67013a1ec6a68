import Foundation
import Testing
import TestSupport

/// The caching builder image as `templates/Dockerfile` describes it, built by podman from
/// the file unchanged and offline — its base images are local stand-ins made by
/// `scripts/container-standins` under the names the Dockerfile uses — and run on the
/// example: cold, then warm (no helm or kubectl process, nothing fetched), then twice at
/// once on one fresh cache volume.
@Suite(.timeLimit(.minutes(30))) struct BuilderImageTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let image = "localhost/hld-builder:test"

    /// Podman runs containers here only as root (rootless podman would need subordinate
    /// ids, and debootstrap needs root anyway) with runc (crun fails on these machines);
    /// `scripts/bootstrap --with-containers` installs the tools.
    static var podmanCanRun: Bool {
        getuid() == 0 && ["podman", "runc", "debootstrap"].allSatisfy {
            (try? ChildProcess.resolve($0, environment: ProcessInfo.processInfo.environment)) != nil
        }
    }

    /// What the image prints for `materialize --all` on the example.
    static let written = "wrote 5 file(s) to generated/dev\nwrote 6 file(s) to generated/stage\nwrote 6 file(s) to generated/prod\n"

    @Test(.enabled(if: podmanCanRun, "podman cannot run containers here: this needs root and podman, runc and debootstrap on PATH (scripts/bootstrap --with-containers)"))
    func theImageBuildsOfflineRunsAsItsOwnUserAndAWarmRunStartsNoToolAndFetchesNothing() async throws {
        let podman = Podman(state: Self.repository.appendingPathComponent(".tools/containers"))
        let clock = ContinuousClock()

        // Stand-ins for the base images, then the image from templates/Dockerfile as it is.
        var started = clock.now
        let standins = try await onOwnThread {
            try ChildProcess.run(Self.repository.appendingPathComponent("scripts/container-standins").path, [],
                                 environment: podman.environment, timeout: .seconds(900))
        }
        try #require(standins.succeeded, "scripts/container-standins failed:\n\(standins.stderr)\(standins.stdout)")
        let standinTime = clock.now - started
        let buildFlags = try String(contentsOf: podman.state.appendingPathComponent("build-flags"), encoding: .utf8)
            .split(separator: "\n").map(String.init)
        started = clock.now
        // Niced: the release build takes both cores for minutes, and the rest of the suite
        // runs beside it with time limits of its own.
        let build = try await onOwnThread {
            try ChildProcess.run("nice", ["-n", "10", "podman", "build", "--pull=never", "--network", "host"] + buildFlags
                + ["-f", Self.repository.appendingPathComponent("templates/Dockerfile").path, "-t", Self.image, Self.repository.path],
                environment: podman.environment, timeout: .seconds(1500))
        }
        try #require(build.succeeded, "podman build failed:\n\(build.stdout.suffix(6000))\n\(build.stderr.suffix(4000))")
        let buildTime = clock.now - started

        // The pinned checksums are enforced: another helm than the pinned one stops the build.
        let tampered = try await podman.run(["build", "--pull=never", "--network", "host", "--target", "tools",
                                       "--build-arg", "HELM_SHA256=" + String(repeating: "0", count: 64),
                                       "-f", Self.repository.appendingPathComponent("templates/Dockerfile").path, Self.repository.path])
        #expect(!tampered.succeeded)
        #expect(tampered.stderr.contains("error: .tools/image/helm or kubectl is not the pinned binary"), "\(tampered.stderr)")

        // The image: hld as entry point, an unprivileged user, the cache on a volume, a
        // binary without Swift runtime libraries, the pinned helm and kubectl.
        let config = try #require(try JSONSerialization.jsonObject(
            with: Data(try await podman.check(["image", "inspect", "--format", "{{json .Config}}", Self.image]).utf8)) as? [String: Any])
        #expect(config["Entrypoint"] as? [String] == ["hld"])
        #expect(config["User"] as? String == "hld")
        #expect((config["Volumes"] as? [String: Any])?.keys.sorted() == ["/cache"])
        #expect((config["Env"] as? [String] ?? []).contains("HLD_CACHE_DIR=/cache"))
        #expect(config["WorkingDir"] as? String == "/work")
        let inside = try await podman.check(["run", "--rm", "--network", "none", "--entrypoint", "/bin/sh", Self.image, "-c",
                                       "id -u; id -g; helm version --short; kubectl version --client=true | head -n 1; hld version | tail -n 1; ldd /usr/local/bin/hld"])
            .split(separator: "\n").map(String.init)
        try #require(inside.count > 5, "\(inside)")
        let (uid, gid) = (inside[0], inside[1])
        #expect(uid != "0", "the image runs as root")
        #expect(inside[2].hasPrefix("v3.19.0+"))
        #expect(inside[3] == "Client Version: v1.34.5")
        // libgit2 from bookworm-backports (1.8): the image fetches shallow.
        #expect(inside[4].hasPrefix("git fetches: shallow, only the refs needed"), "\(inside)")
        let libraries = inside.dropFirst(5).joined(separator: "\n")
        #expect(!libraries.contains("libswift") && !libraries.contains("libFoundation") && !libraries.contains("not found"), "\(libraries)")
        #expect(libraries.contains("libgit2") && libraries.contains("libyaml"), "\(libraries)")

        // Cold, then warm, on one cache volume. helm and kubectl are wrapped by scripts that
        // log every start, so "no process" is counted, not inferred. The app repositories
        // are served by git daemon on loopback (the container shares the host's network),
        // so the image's libgit2 fetches them; local repositories would be read in place.
        started = clock.now
        let (scratch, cluster) = try await onOwnThread { try ExampleCopy.make() }
        defer { withExtendedLifetime(scratch) {} }
        let daemon = try await onOwnThread { try ExampleCopy.serve(cluster: cluster) }
        defer { daemon.stop() }
        let example = URL(fileURLWithPath: cluster).deletingLastPathComponent().path
        let probe = scratch.appending("probe")
        try FileManager.default.createDirectory(at: probe, withIntermediateDirectories: true)
        for tool in ["helm", "kubectl"] {
            let wrapper = probe.appendingPathComponent(tool).path
            try "#!/bin/sh\necho \"\(tool) $*\" >>/probe/started.log\nexec /usr/local/bin/\(tool) \"$@\"\n".write(toFile: wrapper, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: wrapper)
        }
        try await own([example, probe.path], uid: uid, gid: gid)
        // git daemon serves only repositories its own user owns.
        try await own([example + "/.repos"], uid: "\(getuid())", gid: "\(getgid())")
        func toolStarts() -> [String] {
            ((try? String(contentsOf: probe.appendingPathComponent("started.log"), encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        }
        let volume = try await podman.volume("warm")
        defer { podman.remove(volume: volume) }
        let run = ["run", "--rm", "--network", "host", "-v", "\(volume):/cache", "-v", "\(example):/work", "-v", "\(probe.path):/probe",
                   "-e", "PATH=/probe:/usr/local/bin:/usr/bin:/bin", Self.image, "-v", "-C", "/work/cluster", "materialize", "--all"]

        let cold = try await podman.run(run)
        try #require(cold.succeeded, "the cold run failed:\n\(cold.stderr)")
        #expect(cold.stdout == Self.written)
        let coldStarts = toolStarts()
        #expect(coldStarts.contains { $0.hasPrefix("helm template ") }, "\(coldStarts)")
        #expect(coldStarts.contains { $0.hasPrefix("kubectl kustomize ") }, "\(coldStarts)")
        let coldSummary = try #require(RunSummary(cold.stderr), "no summary line in\n\(cold.stderr)")
        // Shallow fetches take only the refs needed: each of the two repositories once per
        // branch the three environments follow, fewer when asks for one URL were batched.
        #expect((2...6).contains(coldSummary.fetched) && coldSummary.fromRenderCache < coldSummary.rendered, "\(coldSummary)")
        #expect(ProgressLines(cold.stderr).helmTemplates > 0 && ProgressLines(cold.stderr).fetches > 0, "\(cold.stderr)")
        let coldTree = try fileContents(under: cluster + "/generated")
        #expect(coldTree.count == 17)

        // The warm run writes the tree again from an empty output directory: every file
        // comes from the cache volume.
        try FileManager.default.removeItem(atPath: cluster + "/generated")
        let warm = try await podman.run(run)
        try #require(warm.succeeded, "the warm run failed:\n\(warm.stderr)")
        #expect(warm.stdout == Self.written)
        #expect(toolStarts() == coldStarts, "the warm run started helm or kubectl: \(toolStarts().dropFirst(coldStarts.count))")
        let warmSummary = try #require(RunSummary(warm.stderr), "no summary line in\n\(warm.stderr)")
        #expect(warmSummary.fetched == 0 && warmSummary.rendered == coldSummary.rendered && warmSummary.fromRenderCache == warmSummary.rendered,
                "\(warmSummary)")
        #expect(ProgressLines(warm.stderr) == ProgressLines(helmTemplates: 0, kustomizeBuilds: 0, fetches: 0), "\(warm.stderr)")
        #expect(try fileContents(under: cluster + "/generated") == coldTree)

        // Two containers at once on one fresh volume, each on its own copy of the example:
        // both wait at a barrier until both are up, then race for the same cache entries.
        let copies = try await onOwnThread { [try ExampleCopy.make(), try ExampleCopy.make()] }
        defer { withExtendedLifetime(copies) {} }
        let barrier = scratch.appending("barrier")
        try FileManager.default.createDirectory(at: barrier, withIntermediateDirectories: true)
        try await own(copies.map { URL(fileURLWithPath: $0.1).deletingLastPathComponent().path } + [barrier.path], uid: uid, gid: gid)
        let shared = try await podman.volume("shared")
        defer { podman.remove(volume: shared) }
        let racers = try copies.enumerated().map { index, copy in
            try ChildProcess(
                executable: "podman",
                arguments: ["run", "--rm", "--network", "none", "-v", "\(shared):/cache",
                            "-v", "\(URL(fileURLWithPath: copy.1).deletingLastPathComponent().path):/work", "-v", "\(barrier.path):/barrier",
                            "--entrypoint", "/bin/sh", Self.image, "-c",
                            "touch /barrier/up-$0; while [ ! -e /barrier/go ]; do sleep 0.05; done; exec hld \"$@\"",
                            "\(index)", "-C", "/work/cluster", "materialize", "--all"],
                environment: podman.environment, stderrPath: scratch.appending("racer-\(index).log").path)
        }
        let deadline = clock.now + .seconds(120)
        while !(0..<2).allSatisfy({ FileManager.default.fileExists(atPath: barrier.appendingPathComponent("up-\($0)").path) }), clock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        try Data().write(to: barrier.appendingPathComponent("go"))
        let outputs = try await onOwnThread { racers.map { racer in racer.readToEnd(timeout: .seconds(300)).map { String(decoding: $0, as: UTF8.self) } } }
        for (index, racer) in racers.enumerated() {
            #expect(racer.waitForExit(timeout: .seconds(30)) == .exited(0), "container \(index): \(racer.stderrLog())")
            #expect(outputs[index] == Self.written, "container \(index): \(racer.stderrLog())")
            #expect(try fileContents(under: copies[index].1 + "/generated") == coldTree, "container \(index)")
        }
        print("BuilderImageTests: stand-ins \(seconds(standinTime)), podman build \(seconds(buildTime)), runs \(seconds(clock.now - started))")
    }

    /// Gives the container's user the directories it writes in (its files' owner is also
    /// what libgit2 checks before it reads a repository).
    func own(_ paths: [String], uid: String, gid: String) async throws {
        let result = try await onOwnThread { try ChildProcess.run("chown", ["-R", "\(uid):\(gid)"] + paths, environment: ProcessInfo.processInfo.environment) }
        guard result.succeeded else { throw CommandFailed(result: result) }
    }
}

/// podman with the private store and configuration `scripts/container-standins` writes
/// under `.tools/containers/`.
struct Podman: Sendable {
    let state: URL

    var environment: [String: String] {
        let current = ProcessInfo.processInfo.environment
        return [
            "PATH": current["PATH"] ?? "/usr/sbin:/usr/bin:/sbin:/bin",
            "HOME": current["HOME"] ?? "/root",
            "CONTAINERS_CONF": state.appendingPathComponent("containers.conf").path,
            "CONTAINERS_STORAGE_CONF": state.appendingPathComponent("storage.conf").path,
        ]
    }

    /// Runs podman to completion on a thread of its own (see `onOwnThread`).
    func run(_ arguments: [String], timeout: Duration = .seconds(180)) async throws -> ChildProcess.CommandResult {
        let environment = environment
        return try await onOwnThread { try ChildProcess.run("podman", arguments, environment: environment, timeout: timeout) }
    }

    /// Standard output of a command that must succeed.
    func check(_ arguments: [String]) async throws -> String {
        let result = try await run(arguments)
        guard result.succeeded else { throw CommandFailed(result: result) }
        return result.stdout
    }

    /// A new, empty named volume.
    func volume(_ purpose: String) async throws -> String {
        let name = "hld-builder-test-\(purpose)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        _ = try await check(["volume", "create", name])
        return name
    }

    /// Removes a volume (at the end of a test, from a `defer`: so not async).
    func remove(volume: String) { _ = try? ChildProcess.run("podman", ["volume", "rm", "--force", volume], environment: environment) }
}

/// A command that should have succeeded, with its arguments and stderr.
struct CommandFailed: Error, CustomStringConvertible {
    var result: ChildProcess.CommandResult

    var description: String {
        "`\(result.arguments.joined(separator: " "))` failed (\(result.termination)):\n\(result.stderr)\(result.stdout)"
    }
}

/// The numbers of hld's summary line: `hld: 23 component(s), 2 fetched, 9 rendered (1 from
/// the render cache), …`.
struct RunSummary: Equatable, CustomStringConvertible {
    var fetched: Int
    var rendered: Int
    var fromRenderCache: Int

    init?(_ stderr: String) {
        guard let line = stderr.split(separator: "\n").last(where: { $0.hasPrefix("hld: ") }),
              let match = line.firstMatch(of: /, (\d+) fetched, (\d+) rendered \((\d+) from the render cache\)/),
              let fetched = Int(match.1), let rendered = Int(match.2), let cached = Int(match.3) else { return nil }
        (self.fetched, self.rendered, self.fromRenderCache) = (fetched, rendered, cached)
    }

    var description: String { "\(fetched) fetched, \(rendered) rendered, \(fromRenderCache) from the render cache" }
}

/// What `hld -v` says it started: helm and kustomize renders, and git fetches (`<component>:
/// <url>@<commit>/<path> fetched`, against `… from the cache`).
struct ProgressLines: Equatable {
    var helmTemplates: Int
    var kustomizeBuilds: Int
    var fetches: Int

    init(helmTemplates: Int, kustomizeBuilds: Int, fetches: Int) {
        (self.helmTemplates, self.kustomizeBuilds, self.fetches) = (helmTemplates, kustomizeBuilds, fetches)
    }

    init(_ stderr: String) {
        let lines = stderr.split(separator: "\n")
        helmTemplates = lines.filter { $0.contains(": helm template (") }.count
        kustomizeBuilds = lines.filter { $0.contains(": kustomize build (") }.count
        fetches = lines.filter { $0.hasSuffix(" fetched") }.count
    }
}

/// `12.3 s`.
func seconds(_ duration: Duration) -> String {
    String(format: "%.1f s", Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18)
}
