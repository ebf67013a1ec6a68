// Test support: loopback git servers (git daemon, smart HTTP) and fixture repositories made
// with the git CLI. Everything binds 127.0.0.1 only, and every wait is bounded in time.
//
// Children are started with posix_spawn, not Foundation `Process`: a child that `Process`
// starts from a Swift Testing test inherits a blocked SIGTERM, so it can never be stopped
// (see ../shared/ENVIRONMENT.md, "Swift", Trap).

#if os(Linux)
import Foundation
import Glibc
import Synchronization

// MARK: - Errors

package struct LoopbackServerError: Error, CustomStringConvertible {
    package var description: String
    package init(_ description: String) { self.description = description }
}

// MARK: - TemporaryDirectory

/// A fresh directory under the system temporary directory, removed in `deinit` (or `remove()`).
/// Swift may end an object's lifetime right after its last use, so write
/// `defer { directory.remove() }` when only paths derived from `url` are used later.
package final class TemporaryDirectory: Sendable {
    package let url: URL

    package init(prefix: String = "hld-test") throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("\(prefix)-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    package var path: String { url.path }

    package func appending(_ component: String) -> URL { url.appendingPathComponent(component) }

    /// Removes the directory; safe to call more than once.
    package func remove() { try? FileManager.default.removeItem(at: url) }

    deinit { remove() }
}

// MARK: - ChildProcess

/// A child process started with `posix_spawn`:
/// - signal mask empty and SIGTERM, SIGINT, SIGPIPE, … reset to their default actions
///   (the Swift Testing runner's threads block SIGTERM, and a blocked mask is inherited);
/// - stdin is /dev/null, stdout is a pipe the parent reads with `readLine(timeout:)`,
///   stderr is appended to `stderrPath`;
/// - every other descriptor is closed (`posix_spawn_file_actions_addclosefrom_np`, looked up
///   at run time; our own descriptors are close-on-exec anyway);
/// - the environment is exactly `environment`, plus this process's sanitizer options
///   (`ASAN_OPTIONS`, `TSAN_OPTIONS`, …) where `environment` does not set them, so a
///   sanitized hld a test starts runs as scripts/sanitize configured the run.
package final class ChildProcess: Sendable {
    package enum Termination: Sendable, Equatable, CustomStringConvertible {
        case exited(Int32)
        case signaled(Int32)

        package var description: String {
            switch self {
            case .exited(let code): "exit status \(code)"
            case .signaled(let signal): "signal \(signal)"
            }
        }
    }

    package let pid: pid_t
    package let executable: String
    package let arguments: [String]
    package let stderrPath: String

    private struct State {
        var termination: Termination?
        var stdoutFD: Int32
        var buffer: [UInt8] = []
        var sawEOF = false
    }

    // All mutable state lives in this Mutex; every other stored property is an immutable `let`
    // of a Sendable type, so the class is Sendable without `@unchecked`.
    private let state: Mutex<State>

    package init(
        executable: String,
        arguments: [String],
        environment: [String: String],
        stderrPath: String
    ) throws {
        let path = try Self.resolve(executable, environment: environment)

        let (readFD, writeFD) = try Self.closeOnExecPipe()

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, writeFD, 1)
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        if let addCloseFrom = Self.addCloseFrom {
            _ = addCloseFrom(&actions, 3)
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGPIPE, SIGHUP, SIGQUIT, SIGCHLD, SIGALRM, SIGUSR1, SIGUSR2] {
            sigaddset(&defaults, signal)
        }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        var environment = environment
        for name in ["ASAN_OPTIONS", "TSAN_OPTIONS", "LSAN_OPTIONS", "UBSAN_OPTIONS"] where environment[name] == nil {
            environment[name] = ProcessInfo.processInfo.environment[name]
        }
        let envp = environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }

        var pid: pid_t = 0
        let result = posix_spawn(&pid, path, &actions, &attributes, argv, envp)
        close(writeFD)
        guard result == 0 else {
            close(readFD)
            throw LoopbackServerError("posix_spawn \(path) failed: \(String(cString: strerror(result)))")
        }
        _ = fcntl(readFD, F_SETFL, fcntl(readFD, F_GETFL) | O_NONBLOCK)

        self.pid = pid
        self.executable = path
        self.arguments = arguments
        self.stderrPath = stderrPath
        self.state = Mutex(State(stdoutFD: readFD))
    }

    deinit {
        terminate()
    }

    /// `posix_spawn_file_actions_addclosefrom_np` (glibc ≥ 2.34), if this libc has it.
    private typealias AddCloseFrom = @convention(c) (
        UnsafeMutablePointer<posix_spawn_file_actions_t>?, Int32
    ) -> Int32
    private static let addCloseFrom: AddCloseFrom? = {
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: AddCloseFrom.self)
    }()

    /// `pipe2(O_CLOEXEC)` (not exported by the Glibc module, which lacks _GNU_SOURCE), so that
    /// children spawned concurrently by other tests never inherit either end.
    private typealias Pipe2 = @convention(c) (UnsafeMutablePointer<Int32>?, Int32) -> Int32
    private static let pipe2: Pipe2? = {
        guard let symbol = dlsym(nil, "pipe2") else { return nil }
        return unsafeBitCast(symbol, to: Pipe2.self)
    }()

    private static func closeOnExecPipe() throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        if let pipe2 {
            guard pipe2(&fds, O_CLOEXEC) == 0 else {
                throw LoopbackServerError("pipe2 failed: \(String(cString: strerror(errno)))")
            }
        } else {
            guard pipe(&fds) == 0 else {
                throw LoopbackServerError("pipe failed: \(String(cString: strerror(errno)))")
            }
            for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        }
        return (fds[0], fds[1])
    }

    /// Finds `name` on the PATH of `environment` (else of this process) unless it has a slash.
    package static func resolve(_ name: String, environment: [String: String]) throws -> String {
        if name.contains("/") { return name }
        let searchPath = environment["PATH"] ?? ProcessInfo.processInfo.environment["PATH"]
            ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in searchPath.split(separator: ":") where !directory.isEmpty {
            let candidate = "\(directory)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        throw LoopbackServerError("\(name) not found on PATH \(searchPath)")
    }

    // MARK: Exit status

    /// Reaps the child if it has exited (never blocks). Must be called with the lock held.
    private static func reap(_ pid: pid_t, _ state: inout State) {
        guard state.termination == nil else { return }
        var status: Int32 = 0
        while true {
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid {
                let signal = status & 0x7f
                state.termination = signal == 0 ? .exited((status >> 8) & 0xff) : .signaled(signal)
                return
            }
            if result == -1 && errno == EINTR { continue }
            if result == -1 {  // ECHILD: already reaped elsewhere (or SIGCHLD ignored)
                state.termination = .exited(-1)
            }
            return
        }
    }

    /// How the child ended, or nil while it runs.
    package var termination: Termination? {
        state.withLock { state in
            Self.reap(pid, &state)
            return state.termination
        }
    }

    package var isRunning: Bool { termination == nil }

    /// Waits at most `timeout` for the child to exit; nil if it is still running.
    @discardableResult
    package func waitForExit(timeout: Duration) -> Termination? {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let termination { return termination }
            if ContinuousClock.now >= deadline { return nil }
            usleep(10_000)
        }
    }

    /// SIGTERM, up to `grace` for the child to exit, then SIGKILL; reaps it and closes the pipe.
    /// Safe to call more than once and from any thread.
    package func terminate(grace: Duration = .seconds(2)) {
        if isRunning {
            kill(pid, SIGTERM)
            if waitForExit(timeout: grace) == nil {
                kill(pid, SIGKILL)
                waitForExit(timeout: .seconds(5))
            }
        }
        state.withLock { state in
            if state.stdoutFD >= 0 {
                close(state.stdoutFD)
                state.stdoutFD = -1
            }
        }
    }

    // MARK: Reading stdout

    private enum FillResult {
        case progress
        case eof
        case wouldBlock(Int32)
    }

    /// One non-blocking read from the stdout pipe into the buffer. Lock held by the caller.
    private static func fill(_ state: inout State) -> FillResult {
        if state.sawEOF || state.stdoutFD < 0 { return .eof }
        var chunk = [UInt8](repeating: 0, count: 16_384)
        let count = chunk.withUnsafeMutableBytes { read(state.stdoutFD, $0.baseAddress, $0.count) }
        if count > 0 {
            state.buffer.append(contentsOf: chunk[0..<count])
            return .progress
        }
        if count == 0 {
            state.sawEOF = true
            return .eof
        }
        if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { return .wouldBlock(state.stdoutFD) }
        state.sawEOF = true
        return .eof
    }

    private static func waitReadable(_ fd: Int32, until deadline: ContinuousClock.Instant) {
        let remaining = deadline - ContinuousClock.now
        let milliseconds = max(0, min(50, remaining.components.seconds * 1000
            + remaining.components.attoseconds / 1_000_000_000_000_000))
        var pollFD = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        _ = poll(&pollFD, 1, Int32(milliseconds))
    }

    /// The next line of the child's stdout (without the newline); nil at end of file.
    /// Throws if no full line arrives within `timeout`.
    package func readLine(timeout: Duration) throws -> String? {
        let deadline = ContinuousClock.now + timeout
        while true {
            enum Step { case line(String?), again, wait(Int32) }
            let step: Step = state.withLock { state in
                if let newline = state.buffer.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = String(decoding: state.buffer[..<newline], as: UTF8.self)
                    state.buffer.removeSubrange(...newline)
                    return .line(line)
                }
                switch Self.fill(&state) {
                case .progress:
                    return .again
                case .wouldBlock(let fd):
                    return .wait(fd)
                case .eof:
                    if state.buffer.isEmpty { return .line(nil) }
                    let line = String(decoding: state.buffer, as: UTF8.self)
                    state.buffer.removeAll()
                    return .line(line)
                }
            }
            switch step {
            case .line(let line):
                return line
            case .again:
                continue
            case .wait(let fd):
                if ContinuousClock.now >= deadline {
                    throw LoopbackServerError(
                        "no line from \(executable) on stdout within \(timeout)\n\(stderrLog())")
                }
                Self.waitReadable(fd, until: deadline)
            }
        }
    }

    /// Everything the child writes to stdout until it exits (or closes stdout).
    /// Returns nil (and leaves the child running) if that takes longer than `timeout`.
    package func readToEnd(timeout: Duration) -> [UInt8]? {
        let deadline = ContinuousClock.now + timeout
        while true {
            enum Step { case done, again, wait(Int32) }
            let step: Step = state.withLock { state in
                // Checked before reading: if the child had already exited and the pipe is empty
                // now, nothing more will come from it (a grandchild may still hold stdout open).
                Self.reap(pid, &state)
                let exitedBeforeRead = state.termination != nil
                switch Self.fill(&state) {
                case .progress:
                    return .again
                case .eof:
                    return .done
                case .wouldBlock(let fd):
                    return exitedBeforeRead ? .done : .wait(fd)
                }
            }
            switch step {
            case .done:
                return state.withLock { state in
                    defer { state.buffer.removeAll() }
                    return state.buffer
                }
            case .again:
                continue
            case .wait(let fd):
                if ContinuousClock.now >= deadline { return nil }
                Self.waitReadable(fd, until: deadline)
            }
        }
    }

    /// The contents of the stderr log (for error messages).
    package func stderrLog() -> String {
        let text = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
        return text.isEmpty ? "(\(stderrPath) is empty)" : "stderr (\(stderrPath)):\n\(text)"
    }

    // MARK: Short-lived commands

    /// Runs a command to completion; kills it and throws if it takes longer than `timeout`.
    /// A non-zero exit is not an error here: look at `CommandResult.termination`.
    package static func run(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String],
        timeout: Duration = .seconds(60)
    ) throws -> CommandResult {
        let scratch = try TemporaryDirectory(prefix: "hld-cmd")
        defer { scratch.remove() }  // also keeps it alive until the command is done
        let stderrPath = scratch.appending("stderr").path
        let child = try ChildProcess(
            executable: executable, arguments: arguments, environment: environment, stderrPath: stderrPath)
        let start = ContinuousClock.now
        let output = child.readToEnd(timeout: timeout)
        let termination = output == nil ? nil : child.waitForExit(timeout: timeout - (ContinuousClock.now - start))
        guard let output, let termination else {
            child.terminate(grace: .milliseconds(200))
            throw LoopbackServerError(
                "`\(([executable] + arguments).joined(separator: " "))` timed out after \(timeout)\n\(child.stderrLog())")
        }
        child.terminate()  // closes the pipe
        let stderr = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
        return CommandResult(
            arguments: [executable] + arguments,
            termination: termination,
            stdout: String(decoding: output, as: UTF8.self),
            stderr: stderr)
    }
}

extension ChildProcess {
    /// A command that exited unsuccessfully; carries its stderr.
    package struct CommandError: Error, CustomStringConvertible {
        package var arguments: [String]
        package var termination: Termination
        package var stdout: String
        package var stderr: String

        package var description: String {
            "`\(arguments.joined(separator: " "))` failed (\(termination)):\n\(stderr)"
                + (stdout.isEmpty ? "" : "\nstdout:\n\(stdout)")
        }
    }

    package struct CommandResult: Sendable {
        package var arguments: [String]
        package var termination: Termination
        package var stdout: String
        package var stderr: String
        package var succeeded: Bool { termination == .exited(0) }
    }
}

// MARK: - Ports

private func loopbackAddress(port: Int) -> sockaddr_in {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port)).bigEndian
    address.sin_addr.s_addr = in_addr_t(0x7f00_0001).bigEndian  // 127.0.0.1
    return address
}

/// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, read back, closed).
package func freeLoopbackPort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    precondition(fd >= 0, "socket failed: \(String(cString: strerror(errno)))")
    defer { close(fd) }
    var address = loopbackAddress(port: 0)
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
    precondition(bound == 0, "bind 127.0.0.1:0 failed: \(String(cString: strerror(errno)))")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let named = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    precondition(named == 0, "getsockname failed: \(String(cString: strerror(errno)))")
    return Int(UInt16(bigEndian: address.sin_port))
}

/// Whether something accepts TCP connections on 127.0.0.1:`port`.
package func loopbackPortAcceptsConnections(_ port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var address = loopbackAddress(port: port)
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
    return connected == 0
}

// MARK: - Isolated git

/// Runs the git CLI isolated from the machine's and the user's configuration.
package enum GitCLI {
    /// Fixed identity and dates: commits made through this environment are reproducible.
    package static let fixedDate = "1700000000 +0000"

    package static func environment(home: URL, extra: [String: String] = [:]) -> [String: String] {
        var environment: [String: String] = [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin",
            "HOME": home.path,
            "LANG": "C",
            "LC_ALL": "C",
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": "/dev/null",
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_AUTHOR_NAME": "Fixture Author",
            "GIT_AUTHOR_EMAIL": "author@example.invalid",
            "GIT_COMMITTER_NAME": "Fixture Committer",
            "GIT_COMMITTER_EMAIL": "committer@example.invalid",
            "GIT_AUTHOR_DATE": fixedDate,
            "GIT_COMMITTER_DATE": fixedDate,
        ]
        environment.merge(extra) { _, new in new }
        return environment
    }

    /// Runs `git args`; a non-zero exit is returned, not thrown.
    package static func run(
        _ arguments: [String],
        home: URL,
        environment extra: [String: String] = [:],
        timeout: Duration = .seconds(60)
    ) throws -> ChildProcess.CommandResult {
        try ChildProcess.run(
            "git", arguments, environment: environment(home: home, extra: extra), timeout: timeout)
    }

    /// Runs `git args` and returns its stdout, trimmed; throws `CommandError` (with git's
    /// stderr) on a non-zero exit.
    @discardableResult
    package static func check(
        _ arguments: [String],
        home: URL,
        environment extra: [String: String] = [:],
        timeout: Duration = .seconds(60)
    ) throws -> String {
        let result = try run(arguments, home: home, environment: extra, timeout: timeout)
        guard result.succeeded else {
            throw ChildProcess.CommandError(
                arguments: result.arguments, termination: result.termination,
                stdout: result.stdout, stderr: result.stderr)
        }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

// MARK: - FixtureRepository

/// A non-bare git work tree built with the git CLI, with reproducible commits: identity is
/// fixed and the n-th commit or tag made through this object is dated 1700000000 + 60·n.
package final class FixtureRepository: Sendable {
    package let url: URL
    package let defaultBranch: String
    /// HOME for git (holds nothing; config comes from nowhere).
    private let home: TemporaryDirectory
    private let clock = Mutex(0)

    private init(url: URL, defaultBranch: String, home: TemporaryDirectory) {
        self.url = url
        self.defaultBranch = defaultBranch
        self.home = home
    }

    package var path: String { url.path }

    /// `git init -b <defaultBranch>` at `url` (created if missing).
    package static func create(at url: URL, defaultBranch: String = "main") throws -> FixtureRepository {
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        let repository = FixtureRepository(
            url: url, defaultBranch: defaultBranch, home: try TemporaryDirectory(prefix: "hld-git-home"))
        try repository.git(["init", "--quiet", "-b", defaultBranch])
        return repository
    }

    /// `git clone <source> <url>`: a work tree of an existing repository (a path or a URL).
    package static func clone(from source: String, to url: URL, timeout: Duration = .seconds(60)) throws -> FixtureRepository {
        let home = try TemporaryDirectory(prefix: "hld-git-home")
        try GitCLI.check(["clone", "--quiet", source, url.path], home: home.url, timeout: timeout)
        let branch = try GitCLI.check(["-C", url.path, "symbolic-ref", "--short", "HEAD"], home: home.url)
        return FixtureRepository(url: url, defaultBranch: branch, home: home)
    }

    /// Runs `git -C <url> args`; returns stdout trimmed, throws with git's stderr on failure.
    @discardableResult
    package func git(_ arguments: [String]) throws -> String {
        try git(arguments, timeout: .seconds(60))
    }

    @discardableResult
    package func git(_ arguments: [String], environment extra: [String: String] = [:], timeout: Duration) throws -> String {
        let date = "\(1_700_000_000 + 60 * clock.withLock { $0 }) +0000"
        var environment = ["GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date]
        environment.merge(extra) { _, new in new }
        return try GitCLI.check(["-C", url.path] + arguments, home: home.url, environment: environment, timeout: timeout)
    }

    private func tick() { clock.withLock { $0 += 1 } }

    /// Writes `contents` to `relativePath`, creating parent directories.
    package func write(_ relativePath: String, _ contents: String) throws {
        let file = url.appendingPathComponent(relativePath)
        try FileManager.default.createDirectory(
            at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(contents.utf8).write(to: file)
    }

    /// Creates a symbolic link at `relativePath` pointing to `target` (as written).
    package func symlink(_ relativePath: String, to target: String) throws {
        let link = url.appendingPathComponent(relativePath)
        try FileManager.default.createDirectory(
            at: link.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: target)
    }

    /// `git add -A` and `git commit`; returns the new commit's full SHA.
    @discardableResult
    package func commit(_ message: String) throws -> String {
        tick()
        try git(["add", "-A"])
        try git(["commit", "--quiet", "--allow-empty", "--no-verify", "-m", message])
        return try head()
    }

    /// Creates branch `name` at HEAD (without switching to it).
    package func branch(_ name: String) throws {
        try git(["branch", name])
    }

    package func checkout(_ name: String) throws {
        try git(["checkout", "--quiet", name])
    }

    package func tag(_ name: String, annotated: Bool = false) throws {
        if annotated {
            tick()
            try git(["tag", "-a", "-m", "Tag \(name)", name])
        } else {
            try git(["tag", name])
        }
    }

    /// The full SHA of HEAD.
    package func head() throws -> String {
        try git(["rev-parse", "HEAD"])
    }

    /// Makes or refreshes the bare repository `root/<name>.git` (`git clone --bare` the first
    /// time, `git push --mirror` afterwards, so it mirrors every branch and tag, deletions
    /// included) and points its HEAD at `defaultBranch`. Returns its URL.
    @discardableResult
    package func publishBare(into root: URL, name: String) throws -> URL {
        let bareName = name.hasSuffix(".git") ? name : "\(name).git"
        let bare = root.appendingPathComponent(bareName, isDirectory: true)
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        if FileManager.default.fileExists(atPath: bare.appendingPathComponent("HEAD").path) {
            try git(["push", "--quiet", "--mirror", bare.path])
        } else {
            try GitCLI.check(["clone", "--quiet", "--bare", "--no-local", url.path, bare.path], home: home.url)
        }
        try GitCLI.check(
            ["--git-dir", bare.path, "symbolic-ref", "HEAD", "refs/heads/\(defaultBranch)"], home: home.url)
        return bare
    }
}

// MARK: - GitDaemon

/// `git daemon` serving every repository under `root` on git://127.0.0.1:<port>/.
package final class GitDaemon: Sendable {
    package let root: URL
    package let port: Int
    package let process: ChildProcess
    private let scratch: TemporaryDirectory

    package var logURL: URL { scratch.appending("git-daemon.log") }

    /// `git daemon` runs `$(git --exec-path)/git-daemon` as a *child* of the `git` process, so
    /// signalling `git` only reaches the daemon through git's forwarding, and SIGKILL would
    /// orphan it. Start `git-daemon` itself when it can be found.
    private static let command: (executable: String, leadingArguments: [String]) = {
        let environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"]
        if let result = try? ChildProcess.run("git", ["--exec-path"], environment: environment, timeout: .seconds(10)),
            result.succeeded
        {
            let daemon = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines) + "/git-daemon"
            if access(daemon, X_OK) == 0 { return (daemon, []) }
        }
        return ("git", ["daemon"])
    }()

    package init(root: URL, enableReceivePack: Bool = false, startupTimeout: Duration = .seconds(5)) throws {
        let scratch = try TemporaryDirectory(prefix: "hld-git-daemon")
        let home = scratch.appending("home")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        let logPath = scratch.appending("git-daemon.log").path
        let deadline = ContinuousClock.now + startupTimeout

        // The port is free when picked but could be taken before the daemon binds it: if the
        // daemon exits during start-up, try again with another port.
        var failures: [String] = []
        for _ in 1...3 {
            let port = freeLoopbackPort()
            var arguments = Self.command.leadingArguments + [
                "--reuseaddr", "--listen=127.0.0.1", "--port=\(port)",
                "--base-path=\(root.path)", "--export-all", "--informative-errors",
            ]
            if enableReceivePack { arguments.append("--enable=receive-pack") }
            arguments.append(root.path)
            let child = try ChildProcess(
                executable: Self.command.executable, arguments: arguments,
                environment: GitCLI.environment(home: home), stderrPath: logPath)
            while child.isRunning && !loopbackPortAcceptsConnections(port) && ContinuousClock.now < deadline {
                usleep(20_000)
            }
            if let termination = child.termination {
                failures.append("git daemon on port \(port) exited during start-up (\(termination))")
                if ContinuousClock.now < deadline { continue }
            } else if loopbackPortAcceptsConnections(port) {
                self.root = root
                self.port = port
                self.process = child
                self.scratch = scratch
                return
            } else {
                child.terminate()
                failures.append("git daemon did not accept connections on 127.0.0.1:\(port) within \(startupTimeout)")
            }
            throw LoopbackServerError(failures.joined(separator: "\n") + "\n" + child.stderrLog())
        }
        let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        throw LoopbackServerError(failures.joined(separator: "\n") + "\nstderr (\(logPath)):\n" + log)
    }

    /// `git://127.0.0.1:<port>/<repoName>`.
    package func url(for repoName: String) -> String { "git://127.0.0.1:\(port)/\(repoName)" }

    /// The daemon's stderr so far.
    package func log() -> String { process.stderrLog() }

    package var isRunning: Bool { process.isRunning }

    package func stop() { process.terminate() }

    deinit { process.terminate() }
}

// MARK: - SmartHTTPServer

/// `git_http_server.py`: git smart HTTP (git http-backend) on http://127.0.0.1:<port>/,
/// optionally requiring HTTP Basic auth with `token` as the password.
package final class SmartHTTPServer: Sendable {
    package let root: URL
    package let port: Int
    package let token: String?
    package let process: ChildProcess
    private let scratch: TemporaryDirectory

    package var logURL: URL { scratch.appending("git-http-server.log") }
    package var requestLogURL: URL { scratch.appending("requests.log") }

    /// The server script: next to this file (Tests/GitTests/Support/git_http_server.py).
    package static func scriptURL(filePath: String = #filePath) throws -> URL {
        let here = URL(fileURLWithPath: filePath).deletingLastPathComponent()
        let candidates = [
            here.appendingPathComponent("git_http_server.py"),
            here.appendingPathComponent("Support/git_http_server.py"),
            here.deletingLastPathComponent().appendingPathComponent("Support/git_http_server.py"),
        ]
        guard let script = candidates.first(where: { FileManager.default.fileExists(atPath: $0.path) }) else {
            throw LoopbackServerError("git_http_server.py not found; looked at \(candidates.map(\.path))")
        }
        return script
    }

    /// `tls`: serve HTTPS with that certificate (`url(for:)` then says https).
    package init(root: URL, token: String? = nil, tls: TLSIdentity? = nil, startupTimeout: Duration = .seconds(10)) throws {
        let scratch = try TemporaryDirectory(prefix: "hld-git-http")
        let home = scratch.appending("home")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        let logPath = scratch.appending("git-http-server.log").path
        let requestLog = scratch.appending("requests.log")
        _ = FileManager.default.createFile(atPath: requestLog.path, contents: nil)

        var arguments = [try Self.scriptURL().path, "--root", root.path, "--request-log", requestLog.path]
        if let token { arguments += ["--token", token] }
        if let tls { arguments += ["--tls-certificate", tls.certificate, "--tls-key", tls.key] }
        var environment = GitCLI.environment(home: home)
        environment["PYTHONUNBUFFERED"] = "1"
        environment["PYTHONDONTWRITEBYTECODE"] = "1"
        let child = try ChildProcess(
            executable: "python3", arguments: arguments, environment: environment, stderrPath: logPath)

        let line: String?
        do {
            line = try child.readLine(timeout: startupTimeout)
        } catch {
            child.terminate()
            throw error
        }
        guard let line, line.hasPrefix("PORT "), let port = Int(line.dropFirst(5)), port > 0 else {
            child.terminate()
            throw LoopbackServerError(
                "git_http_server.py did not report its port (first line: \(line.map { "\"\($0)\"" } ?? "EOF"))\n"
                    + child.stderrLog())
        }
        self.root = root
        self.port = port
        self.token = token
        self.process = child
        self.scratch = scratch
        self.scheme = tls == nil ? "http" : "https"
    }

    private let scheme: String

    /// `http://127.0.0.1:<port>/<repoName>` (https with TLS).
    package func url(for repoName: String) -> String { "\(scheme)://127.0.0.1:\(port)/\(repoName)" }

    /// How many HTTP requests the server has received (401s included).
    package var requestCount: Int {
        guard let text = try? String(contentsOf: requestLogURL, encoding: .utf8) else { return 0 }
        return text.split(separator: "\n", omittingEmptySubsequences: true).count
    }

    /// The request lines received so far (`METHOD /path?query`).
    package var requests: [String] {
        guard let text = try? String(contentsOf: requestLogURL, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").map(String.init)
    }

    /// The server's stderr so far (access log, http-backend errors).
    package func log() -> String { process.stderrLog() }

    package var isRunning: Bool { process.isRunning }

    package func stop() { process.terminate() }

    deinit { process.terminate() }
}

// MARK: - Plain HTTP file server

/// `python3 -m http.server` on 127.0.0.1 serving `root` (for http manifests, chart
/// repositories). Reports its port on its first output line.
package final class StaticFileServer: Sendable {
    package let root: URL
    package let port: Int
    package let process: ChildProcess
    private let scratch: TemporaryDirectory

    /// `gate`: every request waits until that file exists (at most 30 s; a request that
    /// waited that long leaves `<gate>.timed-out` behind), so a test can order events.
    /// `tls`: serve HTTPS with that certificate (`url(for:)` then says https).
    /// `basicAuth` (`user:password`): every request without exactly those credentials gets 401.
    package init(root: URL, gate: URL? = nil, tls: TLSIdentity? = nil, basicAuth: String? = nil, startupTimeout: Duration = .seconds(10)) throws {
        let scratch = try TemporaryDirectory(prefix: "hld-http")
        // The server exits by itself when the test process dies without stopping it.
        let script = """
            import functools, http.server, os, sys, threading, time
            parent = os.getppid()
            def watch():
                while os.getppid() == parent:
                    time.sleep(0.25)
                os._exit(0)
            threading.Thread(target=watch, daemon=True).start()
            gate = sys.argv[2] if len(sys.argv) > 2 else None
            expected = os.environ.get("HLD_BASIC_AUTH")
            class Handler(http.server.SimpleHTTPRequestHandler):
                def do_GET(self):
                    if expected:
                        import base64
                        if self.headers.get("Authorization") != "Basic " + base64.b64encode(expected.encode()).decode():
                            self.send_response(401)
                            self.send_header("WWW-Authenticate", 'Basic realm="hld-test"')
                            self.send_header("Content-Length", "0")
                            self.end_headers()
                            return
                    if gate:
                        deadline = time.time() + 30
                        while not os.path.exists(gate) and time.time() < deadline:
                            time.sleep(0.02)
                        if not os.path.exists(gate):
                            open(gate + ".timed-out", "w").close()
                    super().do_GET()
            handler = functools.partial(Handler, directory=sys.argv[1])
            server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
            if os.environ.get("HLD_TLS_CERT"):
                import ssl
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                context.load_cert_chain(os.environ["HLD_TLS_CERT"], os.environ["HLD_TLS_KEY"])
                server.socket = context.wrap_socket(server.socket, server_side=True)
            print("PORT", server.server_address[1], flush=True)
            server.serve_forever()
            """
        var environment = GitCLI.environment(home: scratch.url)
        environment["PYTHONUNBUFFERED"] = "1"
        if let tls { (environment["HLD_TLS_CERT"], environment["HLD_TLS_KEY"]) = (tls.certificate, tls.key) }
        if let basicAuth { environment["HLD_BASIC_AUTH"] = basicAuth }
        let child = try ChildProcess(executable: "python3", arguments: ["-c", script, root.path] + (gate.map { [$0.path] } ?? []), environment: environment,
                                     stderrPath: scratch.appending("http.log").path)
        let line = try child.readLine(timeout: startupTimeout)
        guard let line, line.hasPrefix("PORT "), let port = Int(line.dropFirst(5)) else {
            child.terminate()
            throw LoopbackServerError("the HTTP server did not report its port\n" + child.stderrLog())
        }
        self.root = root
        self.port = port
        self.process = child
        self.scratch = scratch
        self.scheme = tls == nil ? "http" : "https"
    }

    private let scheme: String

    /// `http://127.0.0.1:<port>/<path>` (https with TLS).
    package func url(for path: String) -> String { "\(scheme)://127.0.0.1:\(port)/\(path)" }

    /// The request paths the server answered so far (`GET /a.tgz` lines of its log).
    package func requests() -> [String] {
        process.stderrLog().split(separator: "\n").compactMap { line in
            guard let start = line.range(of: "\"GET ") else { return nil }
            return line[start.upperBound...].split(separator: " ").first.map(String.init)
        }
    }

    package func stop() { process.terminate() }

    deinit { process.terminate() }
}

// MARK: - The bundled example

/// A copy of hld-examples/ in a scratch directory, with its application repositories
/// made by its setup script.
package enum ExampleCopy {
    package static var source: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("hld-examples")
    }

    /// (scratch, the copy's `cluster` directory).
    package static func make() throws -> (TemporaryDirectory, String) {
        let scratch = try TemporaryDirectory(prefix: "hld-example")
        let copy = scratch.appending("hld-examples")
        try FileManager.default.copyItem(at: source, to: copy)
        for leftover in [".repos", "cluster/generated"] { try? FileManager.default.removeItem(at: copy.appendingPathComponent(leftover)) }
        let setup = try ChildProcess.run(
            "/bin/bash", [copy.appendingPathComponent("setup").path],
            environment: ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": scratch.path])
        guard setup.succeeded else { throw LoopbackServerError("hld-examples/setup failed: \(setup.stderr)") }
        return (scratch, copy.appendingPathComponent("cluster").path)
    }

    /// Serves the copy's app repositories (`.repos`) with git daemon and points the mirror
    /// rule of its hld.yaml there: fetched over the network instead of read in place, so a
    /// test can stop the server and see what the cache alone does.
    package static func serve(cluster: String) throws -> GitDaemon {
        let repos = URL(fileURLWithPath: cluster).deletingLastPathComponent().appendingPathComponent(".repos")
        let daemon = try GitDaemon(root: repos)
        let file = cluster + "/hld.yaml"
        let text = try String(contentsOfFile: file, encoding: .utf8)
        let rule = "https://git.example.com/pets/: ../.repos/"
        guard text.contains(rule) else { throw LoopbackServerError("\(file) has no line \(rule)") }
        try text.replacingOccurrences(of: rule, with: "https://git.example.com/pets/: \(daemon.url(for: ""))")
            .write(toFile: file, atomically: true, encoding: .utf8)
        return daemon
    }
}

/// Every regular file under `root` (relative path → bytes), for comparing output trees.
package func fileContents(under root: String) throws -> [String: Data] {
    var result: [String: Data] = [:]
    for path in try FileManager.default.subpathsOfDirectory(atPath: root) {
        var isDirectory: ObjCBool = false
        _ = FileManager.default.fileExists(atPath: root + "/" + path, isDirectory: &isDirectory)
        if !isDirectory.boolValue { result[path] = FileManager.default.contents(atPath: root + "/" + path) }
    }
    return result
}

/// Runs blocking work (child processes, servers starting) on a thread of its own, so a
/// test never holds one of the few threads Swift Testing runs every other test on.
package func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}

/// The `hld` built next to the test bundle (or `$HLD_BINARY`).
package var hldBinary: URL {
    if let path = ProcessInfo.processInfo.environment["HLD_BINARY"] { return URL(fileURLWithPath: path) }
    return URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("hld")
}
#endif

/// The helm the tests render with: `$HLD_HELM`, else helm on PATH, else the one
/// `scripts/bootstrap` put in `.tools/bin`.
package func findHelm() throws -> String {
    let environment = ProcessInfo.processInfo.environment
    if let explicit = environment["HLD_HELM"], !explicit.isEmpty { return explicit }
    let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let candidates = (environment["PATH"] ?? "").split(separator: ":").map { "\($0)/helm" } + [repository.appendingPathComponent(".tools/bin/helm").path]
    guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
        throw LoopbackServerError("no helm on PATH or in .tools/bin: run scripts/bootstrap")
    }
    return found
}
