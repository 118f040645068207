namespace MedTransfer.Dicom.Deidentification;

/// <summary>
/// The action codes of PS3.15 Annex E §E.1.1 as they appear in Table E.1-1. Compound codes
/// ("X/Z", "Z/D", ...) let the standard pick by the attribute's Type in the IOD; this engine does not
/// know the IOD, so <see cref="Deidentifier"/> resolves each compound to the reading that is safe both
/// for privacy and for the IOD (see each member).
/// </summary>
internal enum ProfileAction
{
    /// <summary>K: keep (unless it needs cleaning for another reason).</summary>
    K,

    /// <summary>X: remove.</summary>
    X,

    /// <summary>Z: replace with a zero-length value (a sequence keeps no items).</summary>
    Z,

    /// <summary>D: replace with a non-zero-length dummy value consistent with the VR (a sequence gets one empty item).</summary>
    D,

    /// <summary>U: replace each UID with a non-zero-length UID that is consistent within the set of instances.</summary>
    U,

    /// <summary>C: clean (replace values of similar meaning known not to identify). Appears only in option columns.</summary>
    C,

    /// <summary>Z/D: Z unless D is required for IOD conformance. Applied as D: a dummy satisfies a Type 1 and a Type 2 attribute alike.</summary>
    ZD,

    /// <summary>X/Z: X unless Z is required. Applied as Z: the attribute stays present (Type 2 safe) and carries nothing.</summary>
    XZ,

    /// <summary>X/D: X unless D is required. Applied as D (Type 1 safe).</summary>
    XD,

    /// <summary>X/Z/D: X unless Z or D is required. Applied as D (Type 1 safe).</summary>
    XZD,

    /// <summary>
    /// X/Z/U*: X unless Z or replacing the UIDs inside the sequence is required. Applied as U*: the
    /// sequence is kept, its UIDs are remapped and every other attribute in its items goes through the
    /// profile, so references between instances survive de-identification.
    /// </summary>
    XZU,
}
