import ArgumentParser

@main
struct HLDCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hld",
        abstract: "Materialize Fabrikate-style high-level definitions into Kubernetes manifests.",
        discussion: """
            Materialization (`hld materialize`) is not implemented yet. Available today: \
            `hld fmt`, which re-emits manifests through hld's YAML layer in the canonical \
            Kubernetes style materialized output will use; `hld cache fetch`, which fetches \
            git repositories into hld's cache; and `hld version`.
            """,
        subcommands: [Materialize.self, Install.self, Cache.self, Fmt.self, Version.self]
    )
}
