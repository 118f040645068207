namespace MedTransfer.Dicom;

/// <summary>Private data elements (PS3.5 §7.8.1): a creator reserves a block (gggg,00xx) and owns (gggg,xx00–xxFF).</summary>
public static class PrivateTags
{
    /// <summary>
    /// The tag of element <paramref name="element"/> in the block of <paramref name="group"/> that
    /// <paramref name="creator"/> reserved in <paramref name="dataset"/>, or null when no block has that creator.
    /// </summary>
    /// <param name="dataset">The data set (or sequence item) holding the private elements.</param>
    /// <param name="group">An odd group number.</param>
    /// <param name="creator">The Private Creator value, compared after trimming padding.</param>
    /// <param name="element">The element's low byte within the block.</param>
    public static DicomTag? Find(DicomDataset dataset, ushort group, string creator, byte element)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(creator);
        for (ushort block = 0x10; block <= 0xFF; block++)
        {
            var creatorTag = new DicomTag(group, block);
            if (!dataset.Contains(creatorTag))
            {
                continue;
            }

            string? value;
            try
            {
                value = dataset.GetString(creatorTag);
            }
            catch (DicomFormatException)
            {
                continue;
            }

            if (string.Equals(value?.Trim(), creator, StringComparison.Ordinal))
            {
                return new DicomTag(group, (ushort)((block << 8) | element));
            }
        }

        return null;
    }
}
