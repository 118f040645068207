using System.Collections.Frozen;

namespace MedTransfer.Dicom.Deidentification;

internal static partial class ConfidentialityProfileTable
{
    private static readonly FrozenDictionary<uint, ProfileRow> _exact =
        Rows.Where(r => r.Mask == 0xFFFF_FFFF).ToFrozenDictionary(r => r.Tag);

    private static readonly ProfileRow[] _masked = [.. Rows.Where(r => r.Mask != 0xFFFF_FFFF)];

    /// <summary>The row for <paramref name="tag"/>: an exact row first, then a repeating-group row; false when the table does not list the tag.</summary>
    internal static bool TryGet(DicomTag tag, out ProfileRow row)
    {
        if (_exact.TryGetValue(tag.Value, out row))
        {
            return true;
        }

        foreach (ProfileRow r in _masked)
        {
            if (r.Matches(tag))
            {
                row = r;
                return true;
            }
        }

        row = default;
        return false;
    }
}
