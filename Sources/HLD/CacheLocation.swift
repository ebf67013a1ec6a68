public import Foundation

/// Where hld keeps its cache: `--cache-dir`, else `$HLD_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/hld`, else `~/.cache/hld`.
public enum CacheLocation {
    public static func resolve(explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        if let explicit, !explicit.isEmpty { return URL(fileURLWithPath: explicit) }
        if let dir = environment["HLD_CACHE_DIR"], !dir.isEmpty { return URL(fileURLWithPath: dir) }
        if let xdg = environment["XDG_CACHE_HOME"], !xdg.isEmpty { return URL(fileURLWithPath: xdg).appendingPathComponent("hld") }
        let home = environment["HOME"] ?? NSHomeDirectory()
        return URL(fileURLWithPath: home).appendingPathComponent(".cache/hld")
    }
}
