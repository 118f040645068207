using System.Security.Cryptography;
using MedTransfer.Imaging.Files;
using MedTransfer.Imaging.Index;
using MedTransfer.Imaging.Tests.Index;
using MedTransfer.Testing;

namespace MedTransfer.Imaging.Tests.Files;

/// <summary>
/// Input folders holding what a batch job must survive: a named pipe (opening it blocked ingest forever), a
/// directory symbolic link looping back to the root, and a file name that is not UTF-8 (a valid study that failed
/// as "not found").
/// </summary>
public sealed class InputFolderTests : IDisposable
{
    private static readonly byte[] s_latin1Name = [(byte)'c', (byte)'a', (byte)'f', 0xE9, (byte)'.', (byte)'d', (byte)'c', (byte)'m'];

    private readonly string _dir = TestPaths.NewTempDirectory("medtransfer-input-folder");
    private readonly string _root;
    private readonly List<TestDatasets.Written> _images;

    public InputFolderTests()
    {
        _root = Path.Combine(_dir, "data");
        _images = TestDatasets.TwoSites(_root, patientsPerSite: 1, imagesPerPatient: 1);
    }

    public void Dispose() => UnixFixtures.RemoveTree(_dir);

    [Fact]
    public async Task Index_FolderWithANamedPipe_FinishesAndReportsThePipe()
    {
        UnixFixtures.MakeFifo(Path.Combine(_root, "pipe.dcm"));

        DatasetIndex index = await new DatasetIndexer().IndexAsync([_root]).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(_images.Count, index.Manifest.Rows.Count);
        IndexFailure pipe = Assert.Single(index.Failures);
        Assert.Equal(("pipe.dcm", IndexFailureReason.NotARegularFile), (pipe.Path, pipe.Reason));
        Assert.Contains("named pipe", pipe.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenRead_NamedPipe_RefusesAtOnceInsteadOfWaitingForAWriter()
    {
        string fifo = Path.Combine(_root, "pipe.dcm");
        UnixFixtures.MakeFifo(fifo);
        InputEntry entry = InputFolder.List(_root, skipHidden: false).Entries.Single(e => e.Relative == "pipe.dcm");

        // A blocked open would hang this task: the wait turns that into a TimeoutException.
        await Task.Run(() => Assert.Throws<IOException>(entry.OpenRead)).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(InputEntryKind.NotRegular, entry.Kind);
    }

    [Fact]
    public async Task Index_DirectoryLinkLoop_IsNotFollowed_EachFileOnce()
    {
        string inner = Path.GetDirectoryName(_images[0].Path)!;
        Directory.CreateSymbolicLink(Path.Combine(inner, "loop"), _root);

        InputListing listing = InputFolder.List(_root, skipHidden: false);
        DatasetIndex index = await new DatasetIndexer().IndexAsync([_root]);

        Assert.Equal(1, listing.SkippedLinks);
        Assert.Equal(_images.Count, listing.Entries.Count);
        Assert.Equal(_images.Count, index.Manifest.Rows.Count);
        Assert.Empty(index.Failures);
    }

    [Fact]
    public async Task Index_NameThatIsNotUtf8_IsIndexedUnderAnEscapedName()
    {
        UnixFixtures.CopyToRawName(_images[0].Path, _root, s_latin1Name);

        DatasetIndex index = await new DatasetIndexer().IndexAsync([_root]);

        Assert.Empty(index.Failures);
        ManifestRow row = Assert.Single(index.Manifest.Rows, r => r.Path == "caf\\xE9.dcm");
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(_images[0].Path))), row.Sha256);
        Assert.Equal(_images[0].Patient, row.Patient);
        Assert.Equal(_images.Count + 1, index.Manifest.Rows.Count);
    }

    [Theory]
    [InlineData(new byte[] { 0x61, 0x62 }, "ab")]
    [InlineData(new byte[] { 0x63, 0x61, 0x66, 0xC3, 0xA9 }, "café")]
    [InlineData(new byte[] { 0x63, 0xE9, 0x64 }, "c\\xE9d")]
    [InlineData(new byte[] { 0xC3 }, "\\xC3")]
    [InlineData(new byte[] { 0xFF, 0xFE, 0x41 }, "\\xFF\\xFEA")]
    public void SafeName_KeepsValidUtf8AndEscapesEveryOtherByte(byte[] name, string shown)
    {
        Assert.Equal(shown, InputFolder.SafeName(name));
    }
}
