import ArgumentParser

@main
struct HLDCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hld",
        abstract: "Materialize Fabrikate-style high-level definitions into Kubernetes manifests.",
        discussion: """
            Run in the directory of the top-level component (or pass -C): `hld materialize \
            prod` resolves the component tree, fetches every git repository, chart and \
            manifest it names into a shared cache, merges config/common with the \
            environment's config, renders Helm charts, Kustomize directories and static \
            manifests, and writes generated/prod/ atomically. `hld install` only fetches; \
            `hld fmt` re-emits manifests in hld's canonical style; `hld cache fetch` fetches \
            git repositories. Exit status: 0 success, 1 failure (or differences for \
            --check), 64 usage errors.
            """,
        subcommands: [Materialize.self, Install.self, Cache.self, Fmt.self, Version.self]
    )
}
