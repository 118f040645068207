namespace MedTransfer.Dicom.Deidentification;

/// <summary>What happens to dates and times (PS3.15 Annex E: Basic Profile vs the Retain Longitudinal Temporal Information with Modified Dates Option, §E.3.6).</summary>
public enum DateHandling
{
    /// <summary>
    /// Basic Profile: dates and times are removed or emptied as Table E.1-1 says (dummies where an
    /// attribute may be required); every other DA, DT and TM element is emptied too.
    /// (0028,0303) Longitudinal Temporal Information Modified is set to "REMOVED".
    /// </summary>
    Remove,

    /// <summary>
    /// Retain Longitudinal Temporal Information with Modified Dates Option (code 113107): every DA value
    /// and the date part of every DT value is moved back by the same whole number of days for one patient
    /// (1 to 365 days, derived from the key and the original Patient ID), so intervals between a patient's
    /// studies are preserved; times of day are kept. (0028,0303) is set to "MODIFIED".
    /// </summary>
    ShiftConsistently,
}
