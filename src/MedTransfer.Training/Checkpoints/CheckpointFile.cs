using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace MedTransfer.Training.Checkpoints;

/// <summary>Why a checkpoint could not be used (a damaged or mismatched checkpoint must stop a resume, never load half a model).</summary>
public enum CheckpointError
{
    /// <summary>No file at the path.</summary>
    NotFound,

    /// <summary>Not a MedTransfer checkpoint (wrong magic bytes).</summary>
    NotACheckpoint,

    /// <summary>The file is shorter than its header says (interrupted copy or write).</summary>
    Truncated,

    /// <summary>The content's SHA-256 differs from the recorded one (corruption or tampering).</summary>
    HashMismatch,

    /// <summary>The header is not valid.</summary>
    BadHeader,

    /// <summary>The model expects tensors the checkpoint lacks.</summary>
    MissingKeys,

    /// <summary>The checkpoint holds tensors the model does not have.</summary>
    UnexpectedKeys,

    /// <summary>A tensor's shape differs from the model's.</summary>
    ShapeMismatch,
}

/// <summary>A checkpoint could not be read or does not fit the model; <see cref="Reason"/> says why.</summary>
public sealed class CheckpointException : Exception
{
    /// <summary>Creates the exception.</summary>
    public CheckpointException(CheckpointError reason, string message, Exception? inner = null)
        : base(message, inner)
    {
        Reason = reason;
    }

    /// <summary>Why.</summary>
    public CheckpointError Reason { get; }
}

/// <summary>The content of a checkpoint file.</summary>
/// <param name="Step">Training steps completed.</param>
/// <param name="ConfigJson">The configuration of the run.</param>
/// <param name="Model">Model parameters and buffers by name.</param>
/// <param name="Optimizer">Optimizer state by name.</param>
/// <param name="Extra">Other run state (strings).</param>
/// <param name="Sha256">SHA-256 (hex) of the content.</param>
public sealed record Checkpoint(
    long Step,
    string ConfigJson,
    IReadOnlyDictionary<string, Tensor> Model,
    IReadOnlyDictionary<string, Tensor> Optimizer,
    IReadOnlyDictionary<string, string> Extra,
    string Sha256);

/// <summary>
/// Checkpoint files: "MTCKPT01", the SHA-256 of everything after it, a JSON header (step, config,
/// tensor table) and the raw little-endian tensor data. Written atomically (temporary file, flush to
/// disk, rename), so an interrupted write never leaves a file that looks complete; read strictly.
/// </summary>
public static class CheckpointFile
{
    private static readonly byte[] s_magic = "MTCKPT01"u8.ToArray();

    /// <summary>Writes a checkpoint atomically and returns its SHA-256 (hex).</summary>
    public static string Save(string path, long step, string configJson, IReadOnlyDictionary<string, Tensor> model, IReadOnlyDictionary<string, Tensor> optimizer, IReadOnlyDictionary<string, string>? extra = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        var table = new JsonArray();
        using var payload = new MemoryStream();
        void Add(string section, IReadOnlyDictionary<string, Tensor> tensors)
        {
            foreach ((string name, Tensor t) in tensors.OrderBy(k => k.Key, StringComparer.Ordinal))
            {
                using Tensor cpu = t.detach().cpu().contiguous();
                byte[] bytes = cpu.dtype switch
                {
                    ScalarType.Float32 => Floats(cpu),
                    ScalarType.Int64 => Longs(cpu),
                    _ => throw new ArgumentException($"Tensor '{name}' has dtype {cpu.dtype}; checkpoints hold float32 and int64."),
                };
                table.Add(new JsonObject
                {
                    ["section"] = section,
                    ["name"] = name,
                    ["dtype"] = cpu.dtype == ScalarType.Float32 ? "f32" : "i64",
                    ["shape"] = new JsonArray([.. cpu.shape.Select(d => (JsonNode)d)]),
                    ["offset"] = payload.Length,
                    ["length"] = bytes.Length,
                });
                payload.Write(bytes);
            }
        }

        Add("model", model);
        Add("optimizer", optimizer);
        var header = new JsonObject
        {
            ["format"] = 1,
            ["step"] = step,
            ["config"] = configJson,
            ["extra"] = new JsonObject([.. (extra ?? new Dictionary<string, string>()).OrderBy(k => k.Key, StringComparer.Ordinal).Select(k => KeyValuePair.Create(k.Key, (JsonNode?)k.Value))]),
            ["tensors"] = table,
        };
        byte[] headerBytes = Encoding.UTF8.GetBytes(header.ToJsonString());
        using var body = new MemoryStream();
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(length, headerBytes.Length);
        body.Write(length);
        body.Write(headerBytes);
        payload.Position = 0;
        payload.CopyTo(body);
        byte[] content = body.ToArray();
        byte[] hash = SHA256.HashData(content);

        string full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        string temp = full + $".tmp-{Environment.ProcessId}";
        using (var fs = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            fs.Write(s_magic);
            fs.Write(hash);
            fs.Write(content);
            fs.Flush(flushToDisk: true);
        }

        File.Move(temp, full, overwrite: true);
        return Convert.ToHexStringLower(hash);
    }

    /// <summary>Reads and verifies a checkpoint.</summary>
    /// <exception cref="CheckpointException">Missing, truncated, corrupted or not a checkpoint.</exception>
    public static Checkpoint Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new CheckpointException(CheckpointError.NotFound, $"Checkpoint not found: {path}");
        }

        byte[] all = File.ReadAllBytes(path);
        if (all.Length < 8 || !all.AsSpan(0, 8).SequenceEqual(s_magic))
        {
            throw new CheckpointException(CheckpointError.NotACheckpoint, $"'{Path.GetFileName(path)}' is not a MedTransfer checkpoint.");
        }

        if (all.Length < 44)
        {
            throw new CheckpointException(CheckpointError.Truncated, $"'{Path.GetFileName(path)}' is truncated ({all.Length} bytes).");
        }

        ReadOnlySpan<byte> content = all.AsSpan(40);
        int headerLength = BinaryPrimitives.ReadInt32LittleEndian(content);
        if (headerLength < 2 || headerLength > content.Length - 4)
        {
            throw new CheckpointException(CheckpointError.Truncated, $"'{Path.GetFileName(path)}' is truncated: its header says {headerLength} bytes, {content.Length - 4} remain.");
        }

        JsonObject header;
        try
        {
            header = JsonNode.Parse(content.Slice(4, headerLength))?.AsObject() ?? throw new JsonException("empty header");
        }
        catch (JsonException ex)
        {
            throw new CheckpointException(CheckpointError.BadHeader, $"'{Path.GetFileName(path)}' has an unreadable header.", ex);
        }

        var model = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var optimizer = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        ReadOnlySpan<byte> payload = content[(4 + headerLength)..];
        try
        {
            foreach (JsonNode? entry in header["tensors"]!.AsArray())
            {
                long offset = entry!["offset"]!.GetValue<long>();
                long length = entry["length"]!.GetValue<long>();
                if (offset < 0 || length < 0 || offset + length > payload.Length)
                {
                    throw new CheckpointException(CheckpointError.Truncated, $"'{Path.GetFileName(path)}' is truncated: tensor '{entry["name"]}' ends past the end of the file.");
                }

                long[] shape = [.. entry["shape"]!.AsArray().Select(d => d!.GetValue<long>())];
                ReadOnlySpan<byte> bytes = payload.Slice((int)offset, (int)length);
                string dtype = entry["dtype"]!.GetValue<string>();
                long count = shape.Aggregate(1L, (a, b) => a * b);
                if (count * (dtype == "f32" ? 4 : 8) != length)
                {
                    throw new CheckpointException(CheckpointError.BadHeader, $"Tensor '{entry["name"]}' has {length} bytes for shape [{string.Join(",", shape)}].");
                }

                Tensor t = dtype == "f32" ? tensor(ToFloats(bytes), shape) : tensor(ToLongs(bytes), shape);
                t.DetachFromDisposeScope();
                (entry["section"]!.GetValue<string>() == "model" ? model : optimizer)[entry["name"]!.GetValue<string>()] = t;
            }
        }
        catch (Exception ex) when (ex is InvalidOperationException or NullReferenceException or FormatException or JsonException)
        {
            throw new CheckpointException(CheckpointError.BadHeader, $"'{Path.GetFileName(path)}' has an invalid tensor table.", ex);
        }

        byte[] expected = all.AsSpan(8, 32).ToArray();
        byte[] actual = SHA256.HashData(content);
        if (!expected.AsSpan().SequenceEqual(actual))
        {
            throw new CheckpointException(CheckpointError.HashMismatch, $"'{Path.GetFileName(path)}' is corrupted: its SHA-256 does not match the recorded one.");
        }

        var extra = header["extra"]?.AsObject().ToDictionary(k => k.Key, k => k.Value?.GetValue<string>() ?? string.Empty, StringComparer.Ordinal)
            ?? new Dictionary<string, string>(StringComparer.Ordinal);
        return new Checkpoint(header["step"]!.GetValue<long>(), header["config"]!.GetValue<string>(), model, optimizer, extra, Convert.ToHexStringLower(actual));
    }

    /// <summary>
    /// Copies a state into a module strictly: every parameter and buffer of the module must be present
    /// with the same shape, and nothing else may be.
    /// </summary>
    /// <exception cref="CheckpointException">Missing or unexpected keys, or a shape mismatch (names listed).</exception>
    public static void LoadInto(nn.Module module, IReadOnlyDictionary<string, Tensor> state)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(state);
        Dictionary<string, Tensor> target = module.state_dict();
        string[] missing = [.. target.Keys.Where(k => !state.ContainsKey(k)).Order(StringComparer.Ordinal)];
        if (missing.Length > 0)
        {
            throw new CheckpointException(CheckpointError.MissingKeys, $"The checkpoint lacks {missing.Length} tensor(s) the model needs: {string.Join(", ", missing.Take(5))}{(missing.Length > 5 ? ", …" : string.Empty)}.");
        }

        string[] unexpected = [.. state.Keys.Where(k => !target.ContainsKey(k)).Order(StringComparer.Ordinal)];
        if (unexpected.Length > 0)
        {
            throw new CheckpointException(CheckpointError.UnexpectedKeys, $"The checkpoint holds {unexpected.Length} tensor(s) the model does not have: {string.Join(", ", unexpected.Take(5))}{(unexpected.Length > 5 ? ", …" : string.Empty)}.");
        }

        foreach ((string key, Tensor t) in target)
        {
            if (!t.shape.SequenceEqual(state[key].shape))
            {
                throw new CheckpointException(CheckpointError.ShapeMismatch, $"Tensor '{key}' has shape [{string.Join(",", state[key].shape)}] in the checkpoint and [{string.Join(",", t.shape)}] in the model.");
            }
        }

        using var guard = no_grad();
        foreach ((string key, Tensor t) in target)
        {
            using Tensor source = state[key].to(t.dtype, t.device);
            t.copy_(source);
        }
    }

    private static byte[] Floats(Tensor t)
    {
        ReadOnlySpan<float> v = t.data<float>().ToArray();
        var b = new byte[v.Length * 4];
        for (int i = 0; i < v.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(b.AsSpan(i * 4), v[i]);
        }

        return b;
    }

    private static byte[] Longs(Tensor t)
    {
        ReadOnlySpan<long> v = t.data<long>().ToArray();
        var b = new byte[v.Length * 8];
        for (int i = 0; i < v.Length; i++)
        {
            BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan(i * 8), v[i]);
        }

        return b;
    }

    private static float[] ToFloats(ReadOnlySpan<byte> b)
    {
        var v = new float[b.Length / 4];
        for (int i = 0; i < v.Length; i++)
        {
            v[i] = BinaryPrimitives.ReadSingleLittleEndian(b.Slice(i * 4));
        }

        return v;
    }

    private static long[] ToLongs(ReadOnlySpan<byte> b)
    {
        var v = new long[b.Length / 8];
        for (int i = 0; i < v.Length; i++)
        {
            v[i] = BinaryPrimitives.ReadInt64LittleEndian(b.Slice(i * 8));
        }

        return v;
    }
}
