namespace MedTransfer.Testing;

/// <summary>Edits of fixture text (protocols, CSVs) that fail loudly when the text to replace is not there.</summary>
public static class TestText
{
    /// <summary>
    /// <paramref name="text"/> with every <paramref name="old"/> replaced by <paramref name="replacement"/>. A test that
    /// mutates a shipped protocol must not pass because the protocol changed under it and the edit silently did
    /// nothing, so a missing <paramref name="old"/> throws.
    /// </summary>
    /// <exception cref="InvalidOperationException"><paramref name="old"/> does not occur in <paramref name="text"/>.</exception>
    public static string Replace(string text, string old, string replacement)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentException.ThrowIfNullOrEmpty(old);
        return text.Contains(old, StringComparison.Ordinal)
            ? text.Replace(old, replacement, StringComparison.Ordinal)
            : throw new InvalidOperationException($"The fixture text does not contain '{old}': the edit would do nothing.");
    }
}
