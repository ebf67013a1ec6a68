import Foundation
import Git
import YAML

/// The versions of hld and of the C libraries it runs with.
public struct BuildInfo: Sendable, Equatable {
    /// hld's own version.
    public static let hldVersion = "0.1.0"

    public var hld: String
    public var libyaml: String
    public var libgit2: String
    /// How git repositories are fetched in this process (shallow where libgit2 can).
    public var gitFetches: String

    /// What this process runs with: the libraries' versions are read from them at run time,
    /// so they name what is loaded, not what hld was compiled against.
    public static var current: BuildInfo {
        BuildInfo(hld: hldVersion, libyaml: LibYAML.version, libgit2: LibGit2.version,
                  gitFetches: LibGit2.fetchMode(environment: ProcessInfo.processInfo.environment).description)
    }

    /// `hld 0.1.0 (libyaml 0.2.5, libgit2 1.5.1)`.
    public var summary: String { "hld \(hld) (libyaml \(libyaml), libgit2 \(libgit2))" }
}
