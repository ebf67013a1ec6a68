internal import CYAML

/// Facts about the libyaml this process runs with.
public enum LibYAML {
    /// libyaml's own version string (`yaml_get_version_string`), e.g. `0.2.5`.
    public static var version: String { String(cString: yaml_get_version_string()) }
}
