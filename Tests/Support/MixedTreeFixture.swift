#if os(Linux)
import Foundation

/// An HLD with one of each kind of component, for `hld tree` and `hld explain`: a local
/// external component (`infra`, whose file names it `infra-impl`) holding an inline local
/// Helm chart and a static directory; a component from a git repository (`app`, with a
/// static child inside the fetched tree); and an entry that `config/prod.yaml` disables.
package struct MixedTreeFixture {
    package let scratch: TemporaryDirectory
    /// The top-level component's directory.
    package let root: String
    /// The bare repository `app` comes from (a local path, read in place).
    package let served: String
    package let commit: String
    /// The git tree id of `apps/web` at `commit`.
    package let tree: String

    package init() throws {
        scratch = try TemporaryDirectory(prefix: "hld-mixed-tree")
        let repo = try FixtureRepository.create(at: scratch.appending("app-work"))
        try repo.write("apps/web/component.yaml", "name: web\nsubcomponents:\n- name: site\n  type: static\n  path: ./m\n")
        try repo.write("apps/web/m/a.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: site\n")
        try repo.write("apps/web/config/common.yaml", "subcomponents:\n  site:\n    namespace: web\n")
        commit = try repo.commit("web")
        tree = try repo.git(["rev-parse", "HEAD:apps/web"])
        served = try repo.publishBare(into: scratch.appending("served"), name: "apps").path
        root = scratch.appending("hld").path
        let files = [
            "component.yaml": """
                name: cluster
                subcomponents:
                - name: infra
                  source: ./infra
                - name: app
                  method: git
                  source: \(served)
                  path: apps/web
                  branch: main
                - name: legacy
                  type: static
                  path: ./legacy

                """,
            "config/common.yaml": "subcomponents:\n  infra:\n    subcomponents:\n      chart:\n        config:\n          replicas: 2\n",
            "config/prod.yaml": "subcomponents:\n  legacy:\n    disabled: true\n  infra:\n    subcomponents:\n      chart:\n        config:\n          hosts: [prod.example.com]\n",
            "legacy/old.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: old\n",
            "infra/component.yaml": """
                name: infra-impl
                subcomponents:
                - name: chart
                  type: helm
                  path: ./chart
                - name: manifests
                  type: static
                  path: ./manifests

                """,
            "infra/config/common.yaml": "subcomponents:\n  chart:\n    namespace: infra\n    injectNamespace: true\n    config:\n      replicas: 1\n      hosts: [common.example.com]\n",
            "infra/chart/Chart.yaml": "apiVersion: v2\nname: c\nversion: 0.1.0\n",
            "infra/chart/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  replicas: \"{{ .Values.replicas }}\"\n",
            "infra/manifests/a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n",
        ]
        for (path, contents) in files {
            let url = URL(fileURLWithPath: root).appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(contents.utf8).write(to: url)
        }
    }
}
#endif
