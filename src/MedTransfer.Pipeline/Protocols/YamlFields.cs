using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace MedTransfer.Pipeline.Protocols;

/// <summary>
/// Collects <see cref="ProtocolError"/>s while the loader walks the YAML representation model. Every node carries its
/// start mark, so each error names the line, the column and the dotted field path.
/// </summary>
internal sealed class YamlErrors(string file)
{
    private readonly List<ProtocolError> _errors = [];

    /// <summary>Where each field read so far was written (dotted path → line, column of its value).</summary>
    public Dictionary<string, (int Line, int Column)> Locations { get; } = new(StringComparer.Ordinal);

    public string File => file;

    public IReadOnlyList<ProtocolError> All => [.. _errors.OrderBy(e => e.Line).ThenBy(e => e.Column)];

    public int Count => _errors.Count;

    public void Add(YamlNode? node, string field, string message) =>
        _errors.Add(new ProtocolError(file, node is null ? 0 : (int)node.Start.Line, node is null ? 0 : (int)node.Start.Column, field, message));

    /// <summary>An error at a field already read (its value's position, or its nearest written parent's).</summary>
    public void AddAt(string field, string message)
    {
        ProtocolError e = new ProtocolLocations(file, Locations).ErrorAt(field, message);
        _errors.Add(e);
    }

    public void Add(Mark mark, string field, string message) =>
        _errors.Add(new ProtocolError(file, (int)mark.Line, (int)mark.Column, field, message));
}

/// <summary>
/// A YAML mapping seen through the schema: the allowed keys are declared up front, and any other key (or a key given
/// twice) is an error at its own line. Typed getters report wrong types and out-of-range values and return the
/// default, so one pass finds every problem.
/// </summary>
internal sealed class YamlFields
{
    private readonly Dictionary<string, (YamlScalarNode Key, YamlNode Value)> _entries = new(StringComparer.Ordinal);
    private readonly YamlErrors _errors;

    private YamlFields(YamlNode node, string path, YamlErrors errors)
    {
        Node = node;
        Path = path;
        _errors = errors;
    }

    public YamlNode Node { get; }

    public string Path { get; }

    public static YamlFields? Of(YamlNode? node, string path, YamlErrors errors, params string[] allowed)
    {
        if (node is null || IsNull(node))
        {
            return null;
        }

        if (node is not YamlMappingNode mapping)
        {
            errors.Add(node, path, $"expected a mapping of {string.Join(", ", allowed)}");
            return null;
        }

        var fields = new YamlFields(node, path, errors);
        foreach ((YamlNode keyNode, YamlNode value) in mapping.Children)
        {
            if (keyNode is not YamlScalarNode { Value: { } key } scalarKey)
            {
                errors.Add(keyNode, path, "a key must be a plain name");
                continue;
            }

            string field = Join(path, key);
            if (!allowed.Contains(key, StringComparer.Ordinal))
            {
                errors.Add(keyNode, field, allowed.Length == 0
                    ? $"unknown key '{key}': {path} takes no settings"
                    : $"unknown key '{key}'{Suggest(key, allowed)}; allowed here: {string.Join(", ", allowed)}");
            }
            else if (!fields._entries.TryAdd(key, (scalarKey, value)))
            {
                errors.Add(keyNode, field, "the key is given twice");
            }
            else
            {
                errors.Locations[field] = ((int)value.Start.Line, (int)value.Start.Column);
            }
        }

        return fields;
    }

    public static bool IsNull(YamlNode node) =>
        node is YamlScalarNode { Style: ScalarStyle.Plain or ScalarStyle.Any } s && s.Value is null or "" or "~" or "null";

    public static string Join(string path, string key) => path.Length == 0 ? key : path + "." + key;

    public bool Has(string key) => _entries.TryGetValue(key, out var e) && !IsNull(e.Value);

    public YamlNode? Raw(string key) => _entries.TryGetValue(key, out var e) ? e.Value : null;

    public YamlNode KeyNodeOr(string key) => _entries.TryGetValue(key, out var e) ? e.Key : Node;

    public string Field(string key) => Join(Path, key);

    public void Error(string key, string message) => _errors.Add(Raw(key) ?? Node, Field(key), message);

    public string? String(string key, string? fallback = null, bool required = false)
    {
        YamlNode? node = Raw(key);
        if (node is null || IsNull(node))
        {
            if (required)
            {
                _errors.Add(node ?? Node, Field(key), "required");
            }

            return fallback;
        }

        if (node is YamlScalarNode { Value: { } text })
        {
            return text;
        }

        _errors.Add(node, Field(key), "expected a text value");
        return fallback;
    }

    public int Int(string key, int fallback, int min, int max) => IntAt(Raw(key), Field(key), fallback, min, max) ?? fallback;

    public int? OptionalInt(string key, int min, int max)
    {
        YamlNode? node = Raw(key);
        return node is null || IsNull(node) ? null : IntAt(node, Field(key), null, min, max);
    }

    public int? IntAt(YamlNode? node, string field, int? fallback, int min, int max)
    {
        if (node is null || IsNull(node))
        {
            return fallback;
        }

        if (node is not YamlScalarNode { Style: ScalarStyle.Plain, Value: { } text }
            || !long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value))
        {
            _errors.Add(node, field, "expected a whole number");
            return fallback;
        }

        if (value < min || value > max)
        {
            _errors.Add(node, field, FormattableString.Invariant($"{value} is out of range: expected {min} to {max}"));
            return fallback;
        }

        return (int)value;
    }

    /// <summary>A number in the range; <paramref name="minExclusive"/>/<paramref name="maxExclusive"/> make a bound open.</summary>
    public double Double(string key, double fallback, double min, double max, bool minExclusive = false, bool maxExclusive = false) =>
        DoubleAt(Raw(key), Field(key), fallback, min, max, minExclusive, maxExclusive);

    public double DoubleAt(YamlNode? node, string field, double fallback, double min, double max, bool minExclusive = false, bool maxExclusive = false)
    {
        if (node is null || IsNull(node))
        {
            return fallback;
        }

        if (node is not YamlScalarNode { Style: ScalarStyle.Plain, Value: { } text }
            || !double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value)
            || !double.IsFinite(value))
        {
            _errors.Add(node, field, "expected a finite number");
            return fallback;
        }

        bool below = minExclusive ? value <= min : value < min;
        bool above = maxExclusive ? value >= max : value > max;
        if (below || above)
        {
            string range = FormattableString.Invariant($"{(minExclusive ? "(" : "[")}{min}, {max}{(maxExclusive ? ")" : "]")}");
            _errors.Add(node, field, FormattableString.Invariant($"{value} is out of range: expected a value in {range}"));
            return fallback;
        }

        return value;
    }

    public bool Bool(string key, bool fallback)
    {
        YamlNode? node = Raw(key);
        if (node is null || IsNull(node))
        {
            return fallback;
        }

        if (node is YamlScalarNode { Style: ScalarStyle.Plain, Value: "true" or "false" } s)
        {
            return s.Value == "true";
        }

        _errors.Add(node, Field(key), "expected true or false");
        return fallback;
    }

    public T Enum<T>(string key, T fallback)
        where T : struct, System.Enum => EnumAt(Raw(key), Field(key), fallback);

    public T EnumAt<T>(YamlNode? node, string field, T fallback)
        where T : struct, System.Enum
    {
        if (node is null || IsNull(node))
        {
            return fallback;
        }

        if (node is YamlScalarNode { Value: { } text } && ProtocolNames.TryParse(text, out T value))
        {
            return value;
        }

        string given = node is YamlScalarNode { Value: { } t } ? $"'{t}' is not known" : "expected a name";
        _errors.Add(node, field, $"{given}; expected one of: {string.Join(", ", ProtocolNames.All<T>())}");
        return fallback;
    }

    /// <summary>The items of a sequence (a single scalar counts as a one-item list when <paramref name="scalarAsList"/>).</summary>
    public IReadOnlyList<YamlNode>? List(string key, bool scalarAsList = false)
    {
        YamlNode? node = Raw(key);
        if (node is null || IsNull(node))
        {
            return null;
        }

        if (node is YamlSequenceNode seq)
        {
            return [.. seq.Children];
        }

        if (scalarAsList && node is YamlScalarNode)
        {
            return [node];
        }

        _errors.Add(node, Field(key), "expected a list, e.g. [a, b]");
        return null;
    }

    public IReadOnlyList<string>? StringList(string key, bool scalarAsList = false)
    {
        IReadOnlyList<YamlNode>? items = List(key, scalarAsList);
        if (items is null)
        {
            return null;
        }

        var values = new List<string>();
        for (int i = 0; i < items.Count; i++)
        {
            if (items[i] is YamlScalarNode { Value: { Length: > 0 } text } && !IsNull(items[i]))
            {
                values.Add(text);
            }
            else
            {
                _errors.Add(items[i], Item(key, i), "expected a non-empty text value");
            }
        }

        return values;
    }

    public string Item(string key, int index) => FormattableString.Invariant($"{Field(key)}[{index}]");

    private static string Suggest(string key, string[] allowed)
    {
        string? best = allowed.Select(a => (a, d: Distance(a, key))).Where(x => x.d <= Math.Max(1, key.Length / 3)).OrderBy(x => x.d).Select(x => x.a).FirstOrDefault();
        return best is null ? string.Empty : $" (did you mean '{best}'?)";
    }

    private static int Distance(string a, string b)
    {
        int[] previous = [.. Enumerable.Range(0, b.Length + 1)];
        for (int i = 1; i <= a.Length; i++)
        {
            int[] current = new int[b.Length + 1];
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }

            previous = current;
        }

        return previous[b.Length];
    }
}
