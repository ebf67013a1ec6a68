public import YAML

/// `injectNamespace`: stamp `metadata.namespace` on namespaced resources that lack one.
/// Unlike Fabrikate, cluster-scoped kinds are left alone (SPEC §3).
enum NamespaceInjection {
    /// Kinds of the Kubernetes API (and common add-ons) that are not namespaced. A custom
    /// kind hld cannot know about is treated as namespaced.
    public static let clusterScopedKinds: Set<String> = [
        "APIService", "CertificateSigningRequest", "ClusterIssuer", "ClusterRole", "ClusterRoleBinding",
        "ComponentStatus", "CSIDriver", "CSINode", "CustomResourceDefinition", "FlowSchema", "IngressClass",
        "MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding", "MutatingWebhookConfiguration", "Namespace",
        "Node", "PersistentVolume", "PodSecurityPolicy", "PriorityClass", "PriorityLevelConfiguration",
        "RuntimeClass", "SelfSubjectAccessReview", "SelfSubjectReview", "SelfSubjectRulesReview",
        "StorageClass", "StorageVersionMigration", "SubjectAccessReview", "TokenReview",
        "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding", "ValidatingWebhookConfiguration",
        "VolumeAttachment", "VolumeAttributesClass", "DeviceClass", "ResourceSlice",
    ]

    /// `document` with `metadata.namespace` set to `namespace` when it is a namespaced
    /// resource with metadata and no namespace of its own; otherwise unchanged.
    public static func apply(_ namespace: String, to document: Node) -> Node {
        guard case .mapping(var pairs) = document.content,
              let kind = document["kind"]?.scalarText, !clusterScopedKinds.contains(kind),
              let index = pairs.firstIndex(where: { $0.key.scalarText == "metadata" }),
              case .mapping(var metadata) = pairs[index].value.content else { return document }
        if let existing = metadata.first(where: { $0.key.scalarText == "namespace" }), !existing.value.isNull {
            return document
        }
        metadata.removeAll { $0.key.scalarText == "namespace" }
        let entry = Node.Pair(key: .plain("namespace"), value: .string(namespace))
        // Right after the name, where people write it.
        let position = metadata.firstIndex { $0.key.scalarText == "name" }.map { $0 + 1 } ?? metadata.count
        metadata.insert(entry, at: position)
        pairs[index].value = Node(.mapping(metadata), tag: pairs[index].value.tag, mark: pairs[index].value.mark)
        return Node(.mapping(pairs), tag: document.tag, mark: document.mark)
    }
}
