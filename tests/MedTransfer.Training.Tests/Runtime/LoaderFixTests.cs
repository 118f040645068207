using MedTransfer.Build;

namespace MedTransfer.Training.Tests.Runtime;

/// <summary>The ELF edit behind the TorchSharp loader fix (build/TorchLoaderFix.cs).</summary>
public sealed class LoaderFixTests
{
    private static readonly string s_shippedLibrary = Path.Combine(
        Environment.GetEnvironmentVariable("NUGET_PACKAGES") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages"),
        "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");

    [SkippableFact]
    public void InspectNeed_ShippedLibrary_RequiresTheGcc13Version()
    {
        Skip.IfNot(File.Exists(s_shippedLibrary), "TorchSharp 0.107.0 is not in the NuGet package folder");

        Assert.Equal(VersionNeedState.Required, GnuVersionTables.InspectFile(s_shippedLibrary, GnuVersionTables.TorchSharpExtraVersion));
        Assert.Equal(VersionNeedState.NotNeeded, GnuVersionTables.InspectFile(s_shippedLibrary, "GLIBCXX_9.9.99"));
    }

    [SkippableFact]
    public void MarkNeedWeak_ShippedLibrary_ChangesExactlyOneByteAndIsIdempotent()
    {
        Skip.IfNot(File.Exists(s_shippedLibrary), "TorchSharp 0.107.0 is not in the NuGet package folder");
        byte[] original = File.ReadAllBytes(s_shippedLibrary);
        byte[] patched = (byte[])original.Clone();

        Assert.True(GnuVersionTables.MarkNeedWeak(patched, GnuVersionTables.TorchSharpExtraVersion));
        int changed = original.Zip(patched).Count(p => p.First != p.Second);
        byte[] twice = (byte[])patched.Clone();
        GnuVersionTables.MarkNeedWeak(twice, GnuVersionTables.TorchSharpExtraVersion);

        Assert.Equal(1, changed);
        Assert.Equal(VersionNeedState.Weak, GnuVersionTables.InspectNeed(patched, GnuVersionTables.TorchSharpExtraVersion));
        Assert.Equal(patched, twice);
    }

    [SkippableFact]
    public void Build_OutputCopy_IsFixedWhileNuGetCacheStaysAsShipped()
    {
        Skip.IfNot(File.Exists(s_shippedLibrary), "TorchSharp 0.107.0 is not in the NuGet package folder");
        string output = Path.Combine(AppContext.BaseDirectory, "libLibTorchSharp.so");
        string? host = GnuVersionTables.FindHostLibStdCxx();
        bool hostHasVersion = host is not null && GnuVersionTables.FileDefinesVersion(host, GnuVersionTables.TorchSharpExtraVersion);
        Skip.If(hostHasVersion, "this host's libstdc++ has GLIBCXX_3.4.32, so the build leaves the library alone");

        Assert.Equal(VersionNeedState.Weak, GnuVersionTables.InspectFile(output, GnuVersionTables.TorchSharpExtraVersion));
        Assert.Equal(VersionNeedState.Required, GnuVersionTables.InspectFile(s_shippedLibrary, GnuVersionTables.TorchSharpExtraVersion));
    }

    [SkippableFact]
    public void DefinesVersion_HostLibStdCxx_DefinesTheBaseVersionOnly()
    {
        string? host = GnuVersionTables.FindHostLibStdCxx();
        Skip.If(host is null, "no libstdc++.so.6 at the usual paths");

        Assert.True(GnuVersionTables.FileDefinesVersion(host!, "GLIBCXX_3.4"));
        Assert.False(GnuVersionTables.FileDefinesVersion(host!, "GLIBCXX_99.0"));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(16)]
    [InlineData(63)]
    public void InspectNeed_TooShortOrNotElf_ThrowsInvalidData(int length)
    {
        byte[] bytes = new byte[length];

        Assert.Throws<InvalidDataException>(() => GnuVersionTables.InspectNeed(bytes, "GLIBCXX_3.4.32"));
    }

    [Fact]
    public void InspectNeed_SectionTablePastEnd_ThrowsInvalidData()
    {
        byte[] bytes = new byte[64];
        bytes[0] = 0x7f;
        bytes[1] = (byte)'E';
        bytes[2] = (byte)'L';
        bytes[3] = (byte)'F';
        bytes[4] = 2;
        bytes[5] = 1;
        bytes[0x28] = 0xF0; // e_shoff far past the end
        bytes[0x3A] = 64;   // e_shentsize
        bytes[0x3C] = 3;    // e_shnum

        Assert.Throws<InvalidDataException>(() => GnuVersionTables.InspectNeed(bytes, "GLIBCXX_3.4.32"));
    }
}
