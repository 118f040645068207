using MedTransfer.Reporting.Provenance;

namespace MedTransfer.Reporting.Tests.Provenance;

public sealed class CodeVersionTests
{
    [Fact]
    public void Parse_VersionWithCommit_SplitsBoth()
    {
        CodeVersion v = CodeVersion.Parse("0.1.0+5966668abcdef0123456789abcdef012345678");

        Assert.Equal("0.1.0", v.Version);
        Assert.Equal("5966668abcdef0123456789abcdef012345678", v.Commit);
        Assert.Equal("0.1.0 (commit 5966668abcde)", v.ToString());
    }

    [Fact]
    public void Parse_BuildMetadataThatIsNotACommit_KeepsNoCommit()
    {
        CodeVersion v = CodeVersion.Parse("0.1.0+local");

        Assert.Null(v.Commit);
        Assert.Equal("0.1.0 (no commit recorded)", v.ToString());
    }

    [Fact]
    public void Of_ReportingAssembly_CarriesTheProjectVersion()
    {
        CodeVersion v = CodeVersion.Of(typeof(CodeVersion));

        Assert.Equal("0.1.0", v.Version);
    }
}
