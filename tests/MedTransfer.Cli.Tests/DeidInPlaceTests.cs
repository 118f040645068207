using System.Security.Cryptography;
using MedTransfer.Bench.Ingest;
using MedTransfer.Testing;

namespace MedTransfer.Cli.Tests;

/// <summary>
/// `dicom deid IN OUT` with OUT naming IN (the same file or folder, however spelled) would replace the identifiable
/// original: a usage error (exit 2) before anything is written, the input left byte for byte as it was.
/// </summary>
public sealed class DeidInPlaceTests : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDirectory("medtransfer-cli-deid-inplace");
    private readonly string _input;
    private readonly string _file;
    private readonly string _keyFile;

    public DeidInPlaceTests()
    {
        _input = Path.Combine(_dir, "in");
        _file = IngestCorpus.Generate(_input, count: 2, size: 16, seed: 3)[0];
        _keyFile = Path.Combine(_dir, "key.bin");
        File.WriteAllBytes(_keyFile, [.. Enumerable.Range(0, 32).Select(i => (byte)i)]);
        Directory.CreateSymbolicLink(Path.Combine(_dir, "in-link"), _input);
        File.CreateSymbolicLink(Path.Combine(_dir, "file-link.dcm"), _file);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static TheoryData<string> FileSpellings => new()
    {
        "same",
        "dot",
        "dotdot",
        "folder-link",
        "file-link",
    };

    [Theory]
    [MemberData(nameof(FileSpellings))]
    public void Deid_FileOntoItself_IsAUsageErrorAndTheOriginalIsUntouched(string spelling)
    {
        string name = Path.GetFileName(_file);
        string output = spelling switch
        {
            "same" => _file,
            "dot" => Path.Combine(_input, ".", name),
            "dotdot" => Path.Combine(_input, "..", "in", name),
            "folder-link" => Path.Combine(_dir, "in-link", name),
            _ => Path.Combine(_dir, "file-link.dcm"),
        };
        byte[] before = SHA256.HashData(File.ReadAllBytes(_file));

        (int code, _, string error) = CliRunner.Run("dicom", "deid", _file, output, "--key-file", _keyFile);

        Assert.Equal(CliApp.ExitCodes.Usage, code);
        Assert.StartsWith("error: OUT is IN", error, StringComparison.Ordinal);
        Assert.Equal(before, SHA256.HashData(File.ReadAllBytes(_file)));
        Assert.Equal(2, Directory.GetFiles(_input).Length);
    }

    [Theory]
    [InlineData("same")]
    [InlineData("trailing-slash")]
    [InlineData("folder-link")]
    public void Deid_FolderOntoItself_IsAUsageError(string spelling)
    {
        string output = spelling switch
        {
            "same" => _input,
            "trailing-slash" => _input + Path.DirectorySeparatorChar + "." + Path.DirectorySeparatorChar,
            _ => Path.Combine(_dir, "in-link"),
        };

        (int code, _, string error) = CliRunner.Run("dicom", "deid", _input, output, "--key-file", _keyFile);

        Assert.Equal(CliApp.ExitCodes.Usage, code);
        Assert.StartsWith("error: OUT is IN", error, StringComparison.Ordinal);
        Assert.Equal(2, Directory.GetFiles(_input).Length);
    }

    [Fact]
    public void Deid_FileToAnotherName_StillWorks()
    {
        string output = Path.Combine(_dir, "clean.dcm");

        (int code, _, string error) = CliRunner.Run("dicom", "deid", _file, output, "--key-file", _keyFile);

        Assert.True(code == 0, error);
        Assert.True(File.Exists(output));
    }
}
