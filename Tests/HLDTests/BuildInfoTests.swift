import Testing
@testable import HLD

@Suite struct BuildInfoTests {
    @Test func namesTheLibrariesLoadedAtRunTime() {
        let info = BuildInfo.current
        #expect(info.hld == BuildInfo.hldVersion)
        #expect(info.libyaml.hasPrefix("0.2."))
        #expect(info.libgit2.hasPrefix("1."))
        #expect(info.summary == "hld \(info.hld) (libyaml \(info.libyaml), libgit2 \(info.libgit2))")
    }
}
