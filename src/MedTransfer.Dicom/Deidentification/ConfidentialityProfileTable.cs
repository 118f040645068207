// Generated style: one line per attribute of DICOM PS3.15 Annex E Table E.1-1, "Application Level
// Confidentiality Profile Attributes", transcribed from the innolitics/dicom-standard extraction of
// the standard (standard/confidentiality_profile_attributes.json, commit 0d01bf11dfc1d0b73b6df85bbf6e1764d3c558a3).
// The extraction does not record which edition of PS3.15 it was taken from; its rows include
// attributes added up to at least 2021 (e.g. Frame Origin Timestamp, Impedance Measurement DateTime).
// Every tag/name pair was checked against the project's data dictionary (edition 2022a).
// Only the table's facts are used: tag (or tag mask), Basic Profile action and the option columns this
// engine supports -- Retain Longitudinal Temporal Information with Modified Dates (Dates), Retain
// Device Identity (Device), Retain UIDs (Uids), Retain Patient Characteristics (PatientCharacteristics).
// Not carried: Retain Safe Private, Retain Institution Identity, Retain Longitudinal with Full Dates,
// Clean Descriptors, Clean Structured Content, Clean Graphics. The table's "Private attributes
// (gggg,eeee) where gggg is odd: X" row is applied as a rule in Deidentifier, not as a row here.
// Rows are sorted by tag; the trailing comment is the attribute's name in the table.
using static MedTransfer.Dicom.Deidentification.ProfileAction;

namespace MedTransfer.Dicom.Deidentification;

/// <summary>PS3.15 Table E.1-1 as data (see the file header for source and coverage).</summary>
internal static partial class ConfidentialityProfileTable
{
    /// <summary>Where the rows come from, for reports and the (0012,0063) method description.</summary>
    internal const string Source = "DICOM PS3.15 Table E.1-1 (innolitics/dicom-standard extraction, commit 0d01bf1)";

    /// <summary>The table's rows, sorted by tag; masked rows (50xx,xxxx) and (60xx,eeee) carry a <see cref="ProfileRow.Mask"/>.</summary>
    internal static readonly ProfileRow[] Rows =
    [
        new(0x0000_1000, X, Uids: K), // (0000,1000) Affected SOP Instance UID
        new(0x0000_1001, U, Uids: K), // (0000,1001) Requested SOP Instance UID
        new(0x0002_0003, U, Uids: K), // (0002,0003) Media Storage SOP Instance UID
        new(0x0004_1511, U, Uids: K), // (0004,1511) Referenced SOP Instance UID in File
        new(0x0008_0014, U, Uids: K), // (0008,0014) Instance Creator UID
        new(0x0008_0015, X, Dates: C), // (0008,0015) Instance Coercion DateTime
        new(0x0008_0018, U, Uids: K), // (0008,0018) SOP Instance UID
        new(0x0008_0020, Z, Dates: C), // (0008,0020) Study Date
        new(0x0008_0021, XD, Dates: C), // (0008,0021) Series Date
        new(0x0008_0022, XZ, Dates: C), // (0008,0022) Acquisition Date
        new(0x0008_0023, ZD, Dates: C), // (0008,0023) Content Date
        new(0x0008_0024, X, Dates: C), // (0008,0024) Overlay Date
        new(0x0008_0025, X, Dates: C), // (0008,0025) Curve Date
        new(0x0008_002A, XZD, Dates: C), // (0008,002A) Acquisition DateTime
        new(0x0008_0030, Z, Dates: C), // (0008,0030) Study Time
        new(0x0008_0031, XD, Dates: C), // (0008,0031) Series Time
        new(0x0008_0032, XZ, Dates: C), // (0008,0032) Acquisition Time
        new(0x0008_0033, ZD, Dates: C), // (0008,0033) Content Time
        new(0x0008_0034, X, Dates: C), // (0008,0034) Overlay Time
        new(0x0008_0035, X, Dates: C), // (0008,0035) Curve Time
        new(0x0008_0050, Z), // (0008,0050) Accession Number
        new(0x0008_0058, U, Uids: K), // (0008,0058) Failed SOP Instance UID List
        new(0x0008_0080, XZD), // (0008,0080) Institution Name
        new(0x0008_0081, X), // (0008,0081) Institution Address
        new(0x0008_0082, XZD), // (0008,0082) Institution Code Sequence
        new(0x0008_0090, Z), // (0008,0090) Referring Physician's Name
        new(0x0008_0092, X), // (0008,0092) Referring Physician's Address
        new(0x0008_0094, X), // (0008,0094) Referring Physician's Telephone Numbers
        new(0x0008_0096, X), // (0008,0096) Referring Physician Identification Sequence
        new(0x0008_009C, Z), // (0008,009C) Consulting Physician's Name
        new(0x0008_009D, X), // (0008,009D) Consulting Physician Identification Sequence
        new(0x0008_0201, X, Dates: C), // (0008,0201) Timezone Offset From UTC
        new(0x0008_1010, XZD, Device: K), // (0008,1010) Station Name
        new(0x0008_1030, X), // (0008,1030) Study Description
        new(0x0008_103E, X), // (0008,103E) Series Description
        new(0x0008_1040, X), // (0008,1040) Institutional Department Name
        new(0x0008_1041, X), // (0008,1041) Institutional Department Type Code Sequence
        new(0x0008_1048, X), // (0008,1048) Physician(s) of Record
        new(0x0008_1049, X), // (0008,1049) Physician(s) of Record Identification Sequence
        new(0x0008_1050, X), // (0008,1050) Performing Physician's Name
        new(0x0008_1052, X), // (0008,1052) Performing Physician Identification Sequence
        new(0x0008_1060, X), // (0008,1060) Name of Physician(s) Reading Study
        new(0x0008_1062, X), // (0008,1062) Physician(s) Reading Study Identification Sequence
        new(0x0008_1070, XZD), // (0008,1070) Operators' Name
        new(0x0008_1072, XD), // (0008,1072) Operator Identification Sequence
        new(0x0008_1080, X), // (0008,1080) Admitting Diagnoses Description
        new(0x0008_1084, X), // (0008,1084) Admitting Diagnoses Code Sequence
        new(0x0008_1110, XZ, Uids: K), // (0008,1110) Referenced Study Sequence
        new(0x0008_1111, XZD, Uids: K), // (0008,1111) Referenced Performed Procedure Step Sequence
        new(0x0008_1120, X, Uids: X), // (0008,1120) Referenced Patient Sequence
        new(0x0008_1140, XZU, Uids: K), // (0008,1140) Referenced Image Sequence
        new(0x0008_1155, U, Uids: K), // (0008,1155) Referenced SOP Instance UID
        new(0x0008_1195, U, Uids: K), // (0008,1195) Transaction UID
        new(0x0008_2111, X), // (0008,2111) Derivation Description
        new(0x0008_2112, XZU, Uids: K), // (0008,2112) Source Image Sequence
        new(0x0008_3010, U, Uids: K), // (0008,3010) Irradiation Event UID
        new(0x0008_4000, X), // (0008,4000) Identifying Comments
        new(0x0010_0010, Z), // (0010,0010) Patient's Name
        new(0x0010_0020, Z), // (0010,0020) Patient ID
        new(0x0010_0021, X), // (0010,0021) Issuer of Patient ID
        new(0x0010_0030, Z), // (0010,0030) Patient's Birth Date
        new(0x0010_0032, X), // (0010,0032) Patient's Birth Time
        new(0x0010_0040, Z, PatientCharacteristics: K), // (0010,0040) Patient's Sex
        new(0x0010_0050, X), // (0010,0050) Patient's Insurance Plan Code Sequence
        new(0x0010_0101, X), // (0010,0101) Patient's Primary Language Code Sequence
        new(0x0010_0102, X), // (0010,0102) Patient's Primary Language Modifier Code Sequence
        new(0x0010_1000, X), // (0010,1000) Other Patient IDs
        new(0x0010_1001, X), // (0010,1001) Other Patient Names
        new(0x0010_1002, X), // (0010,1002) Other Patient IDs Sequence
        new(0x0010_1005, X), // (0010,1005) Patient's Birth Name
        new(0x0010_1010, X, PatientCharacteristics: K), // (0010,1010) Patient's Age
        new(0x0010_1020, X, PatientCharacteristics: K), // (0010,1020) Patient's Size
        new(0x0010_1030, X, PatientCharacteristics: K), // (0010,1030) Patient's Weight
        new(0x0010_1040, X), // (0010,1040) Patient's Address
        new(0x0010_1050, X), // (0010,1050) Insurance Plan Identification
        new(0x0010_1060, X), // (0010,1060) Patient's Mother's Birth Name
        new(0x0010_1080, X), // (0010,1080) Military Rank
        new(0x0010_1081, X), // (0010,1081) Branch of Service
        new(0x0010_1090, X), // (0010,1090) Medical Record Locator
        new(0x0010_1100, X), // (0010,1100) Referenced Patient Photo Sequence
        new(0x0010_2000, X), // (0010,2000) Medical Alerts
        new(0x0010_2110, X, PatientCharacteristics: C), // (0010,2110) Allergies
        new(0x0010_2150, X), // (0010,2150) Country of Residence
        new(0x0010_2152, X), // (0010,2152) Region of Residence
        new(0x0010_2154, X), // (0010,2154) Patient's Telephone Numbers
        new(0x0010_2155, X), // (0010,2155) Patient's Telecom Information
        new(0x0010_2160, X, PatientCharacteristics: K), // (0010,2160) Ethnic Group
        new(0x0010_2180, X), // (0010,2180) Occupation
        new(0x0010_21A0, X, PatientCharacteristics: K), // (0010,21A0) Smoking Status
        new(0x0010_21B0, X), // (0010,21B0) Additional Patient History
        new(0x0010_21C0, X, PatientCharacteristics: K), // (0010,21C0) Pregnancy Status
        new(0x0010_21D0, X, Dates: C), // (0010,21D0) Last Menstrual Date
        new(0x0010_21F0, X), // (0010,21F0) Patient's Religious Preference
        new(0x0010_2203, XZ, PatientCharacteristics: K), // (0010,2203) Patient's Sex Neutered
        new(0x0010_2297, X), // (0010,2297) Responsible Person
        new(0x0010_2299, X), // (0010,2299) Responsible Organization
        new(0x0010_4000, X), // (0010,4000) Patient Comments
        new(0x0012_0010, D), // (0012,0010) Clinical Trial Sponsor Name
        new(0x0012_0020, D), // (0012,0020) Clinical Trial Protocol ID
        new(0x0012_0021, Z), // (0012,0021) Clinical Trial Protocol Name
        new(0x0012_0030, Z), // (0012,0030) Clinical Trial Site ID
        new(0x0012_0031, Z), // (0012,0031) Clinical Trial Site Name
        new(0x0012_0040, D), // (0012,0040) Clinical Trial Subject ID
        new(0x0012_0042, D), // (0012,0042) Clinical Trial Subject Reading ID
        new(0x0012_0050, Z), // (0012,0050) Clinical Trial Time Point ID
        new(0x0012_0051, X), // (0012,0051) Clinical Trial Time Point Description
        new(0x0012_0060, Z), // (0012,0060) Clinical Trial Coordinating Center Name
        new(0x0012_0071, X), // (0012,0071) Clinical Trial Series ID
        new(0x0012_0072, X), // (0012,0072) Clinical Trial Series Description
        new(0x0012_0081, D), // (0012,0081) Clinical Trial Protocol Ethics Committee Name
        new(0x0012_0082, X), // (0012,0082) Clinical Trial Protocol Ethics Committee Approval Number
        new(0x0016_002B, X), // (0016,002B) Maker Note
        new(0x0016_004B, X), // (0016,004B) Device Setting Description
        new(0x0016_004D, X), // (0016,004D) Camera Owner Name
        new(0x0016_004E, X, Device: K), // (0016,004E) Lens Specification
        new(0x0016_004F, X, Device: K), // (0016,004F) Lens Make
        new(0x0016_0050, X, Device: K), // (0016,0050) Lens Model
        new(0x0016_0051, X, Device: K), // (0016,0051) Lens Serial Number
        new(0x0016_0070, X), // (0016,0070) GPS Version ID
        new(0x0016_0071, X), // (0016,0071) GPS Latitude Ref
        new(0x0016_0072, X), // (0016,0072) GPS Latitude
        new(0x0016_0073, X), // (0016,0073) GPS Longitude Ref
        new(0x0016_0074, X), // (0016,0074) GPS Longitude
        new(0x0016_0075, X), // (0016,0075) GPS Altitude Ref
        new(0x0016_0076, X), // (0016,0076) GPS Altitude
        new(0x0016_0077, X), // (0016,0077) GPS Time Stamp
        new(0x0016_0078, X), // (0016,0078) GPS Satellites
        new(0x0016_0079, X), // (0016,0079) GPS Status
        new(0x0016_007A, X), // (0016,007A) GPS Measure Mode
        new(0x0016_007B, X), // (0016,007B) GPS DOP
        new(0x0016_007C, X), // (0016,007C) GPS Speed Ref
        new(0x0016_007D, X), // (0016,007D) GPS Speed
        new(0x0016_007E, X), // (0016,007E) GPS Track Ref
        new(0x0016_007F, X), // (0016,007F) GPS Track
        new(0x0016_0080, X), // (0016,0080) GPS Img Direction Ref
        new(0x0016_0081, X), // (0016,0081) GPS Img Direction
        new(0x0016_0082, X), // (0016,0082) GPS Map Datum
        new(0x0016_0083, X), // (0016,0083) GPS Dest Latitude Ref
        new(0x0016_0084, X), // (0016,0084) GPS Dest Latitude
        new(0x0016_0085, X), // (0016,0085) GPS Dest Longitude Ref
        new(0x0016_0086, X), // (0016,0086) GPS Dest Longitude
        new(0x0016_0087, X), // (0016,0087) GPS Dest Bearing Ref
        new(0x0016_0088, X), // (0016,0088) GPS Dest Bearing
        new(0x0016_0089, X), // (0016,0089) GPS Dest Distance Ref
        new(0x0016_008A, X), // (0016,008A) GPS Dest Distance
        new(0x0016_008B, X), // (0016,008B) GPS Processing Method
        new(0x0016_008C, X), // (0016,008C) GPS Area Information
        new(0x0016_008D, X, Dates: C), // (0016,008D) GPS Date Stamp
        new(0x0016_008E, X), // (0016,008E) GPS Differential
        new(0x0018_0010, ZD), // (0018,0010) Contrast/Bolus Agent
        new(0x0018_1000, XZD, Device: K), // (0018,1000) Device Serial Number
        new(0x0018_1002, U, Device: K, Uids: K), // (0018,1002) Device UID
        new(0x0018_1004, X, Device: K), // (0018,1004) Plate ID
        new(0x0018_1005, X, Device: K), // (0018,1005) Generator ID
        new(0x0018_1007, X, Device: K), // (0018,1007) Cassette ID
        new(0x0018_1008, X, Device: K), // (0018,1008) Gantry ID
        new(0x0018_1009, X, Device: K), // (0018,1009) Unique Device Identifier
        new(0x0018_100A, X, Device: K), // (0018,100A) UDI Sequence
        new(0x0018_100B, U, Device: K, Uids: K), // (0018,100B) Manufacturer's Device Class UID
        new(0x0018_1030, XD), // (0018,1030) Protocol Name
        new(0x0018_11BB, D), // (0018,11BB) Acquisition Field Of View Label
        new(0x0018_1400, XD), // (0018,1400) Acquisition Device Processing Description
        new(0x0018_2042, U, Uids: K), // (0018,2042) Target UID
        new(0x0018_4000, X), // (0018,4000) Acquisition Comments
        new(0x0018_5011, X, Device: K), // (0018,5011) Transducer Identification Sequence
        new(0x0018_700A, XD, Device: K), // (0018,700A) Detector ID
        new(0x0018_9185, X), // (0018,9185) Respiratory Motion Compensation Technique Description
        new(0x0018_9367, D, Device: K), // (0018,9367) X-Ray Source ID
        new(0x0018_9369, D, Dates: C), // (0018,9369) Source Start DateTime
        new(0x0018_936A, D, Dates: C), // (0018,936A) Source End DateTime
        new(0x0018_9371, D, Device: K), // (0018,9371) X-Ray Detector ID
        new(0x0018_9373, X, Device: K), // (0018,9373) X-Ray Detector Label
        new(0x0018_937B, X), // (0018,937B) Multi-energy Acquisition Description
        new(0x0018_937F, X), // (0018,937F) Decomposition Description
        new(0x0018_9424, X), // (0018,9424) Acquisition Protocol Description
        new(0x0018_9516, XD, Dates: C), // (0018,9516) Start Acquisition DateTime
        new(0x0018_9517, XD, Dates: C), // (0018,9517) End Acquisition DateTime
        new(0x0018_9937, X), // (0018,9937) Requested Series Description
        new(0x0018_A003, X), // (0018,A003) Contribution Description
        new(0x0020_000D, U, Uids: K), // (0020,000D) Study Instance UID
        new(0x0020_000E, U, Uids: K), // (0020,000E) Series Instance UID
        new(0x0020_0010, Z), // (0020,0010) Study ID
        new(0x0020_0052, U, Uids: K), // (0020,0052) Frame of Reference UID
        new(0x0020_0200, U, Uids: K), // (0020,0200) Synchronization Frame of Reference UID
        new(0x0020_3401, X), // (0020,3401) Modifying Device ID
        new(0x0020_3406, X), // (0020,3406) Modified Image Description
        new(0x0020_4000, X), // (0020,4000) Image Comments
        new(0x0020_9158, X), // (0020,9158) Frame Comments
        new(0x0020_9161, U, Uids: K), // (0020,9161) Concatenation UID
        new(0x0020_9164, U, Uids: K), // (0020,9164) Dimension Organization UID
        new(0x0028_1199, U, Uids: K), // (0028,1199) Palette Color Lookup Table UID
        new(0x0028_1214, U, Uids: K), // (0028,1214) Large Palette Color Lookup Table UID
        new(0x0028_4000, X), // (0028,4000) Image Presentation Comments
        new(0x0032_0012, X), // (0032,0012) Study ID Issuer
        new(0x0032_1020, X, Device: K), // (0032,1020) Scheduled Study Location
        new(0x0032_1021, X, Device: K), // (0032,1021) Scheduled Study Location AE Title
        new(0x0032_1030, X), // (0032,1030) Reason for Study
        new(0x0032_1032, X), // (0032,1032) Requesting Physician
        new(0x0032_1033, X), // (0032,1033) Requesting Service
        new(0x0032_1060, XZ), // (0032,1060) Requested Procedure Description
        new(0x0032_1066, X), // (0032,1066) Reason for Visit
        new(0x0032_1067, X), // (0032,1067) Reason for Visit Code Sequence
        new(0x0032_1070, X), // (0032,1070) Requested Contrast Agent
        new(0x0032_4000, X), // (0032,4000) Study Comments
        new(0x0034_0001, D), // (0034,0001) Flow Identifier Sequence
        new(0x0034_0002, D), // (0034,0002) Flow Identifier
        new(0x0034_0005, D), // (0034,0005) Source Identifier
        new(0x0034_0007, D, Dates: C), // (0034,0007) Frame Origin Timestamp
        new(0x0038_0004, X), // (0038,0004) Referenced Patient Alias Sequence
        new(0x0038_0010, X), // (0038,0010) Admission ID
        new(0x0038_0011, X), // (0038,0011) Issuer of Admission ID
        new(0x0038_0014, X), // (0038,0014) Issuer of Admission ID Sequence
        new(0x0038_001E, X), // (0038,001E) Scheduled Patient Institution Residence
        new(0x0038_0020, X, Dates: C), // (0038,0020) Admitting Date
        new(0x0038_0021, X, Dates: C), // (0038,0021) Admitting Time
        new(0x0038_0040, X), // (0038,0040) Discharge Diagnosis Description
        new(0x0038_0050, X, PatientCharacteristics: C), // (0038,0050) Special Needs
        new(0x0038_0060, X), // (0038,0060) Service Episode ID
        new(0x0038_0061, X), // (0038,0061) Issuer of Service Episode ID
        new(0x0038_0062, X), // (0038,0062) Service Episode Description
        new(0x0038_0064, X), // (0038,0064) Issuer of Service Episode ID Sequence
        new(0x0038_0300, X), // (0038,0300) Current Patient Location
        new(0x0038_0400, X), // (0038,0400) Patient's Institution Residence
        new(0x0038_0500, X, PatientCharacteristics: C), // (0038,0500) Patient State
        new(0x0038_4000, X), // (0038,4000) Visit Comments
        new(0x003A_0310, U, Uids: K), // (003A,0310) Multiplex Group UID
        new(0x003A_0314, D, Dates: C), // (003A,0314) Impedance Measurement DateTime
        new(0x0040_0001, X, Device: K), // (0040,0001) Scheduled Station AE Title
        new(0x0040_0002, X, Dates: C), // (0040,0002) Scheduled Procedure Step Start Date
        new(0x0040_0003, X, Dates: C), // (0040,0003) Scheduled Procedure Step Start Time
        new(0x0040_0004, X, Dates: C), // (0040,0004) Scheduled Procedure Step End Date
        new(0x0040_0005, X, Dates: C), // (0040,0005) Scheduled Procedure Step End Time
        new(0x0040_0006, X), // (0040,0006) Scheduled Performing Physician's Name
        new(0x0040_0007, X), // (0040,0007) Scheduled Procedure Step Description
        new(0x0040_0009, X), // (0040,0009) Scheduled Procedure Step ID
        new(0x0040_000B, X), // (0040,000B) Scheduled Performing Physician Identification Sequence
        new(0x0040_0010, X, Device: K), // (0040,0010) Scheduled Station Name
        new(0x0040_0011, X, Device: K), // (0040,0011) Scheduled Procedure Step Location
        new(0x0040_0012, X, PatientCharacteristics: C), // (0040,0012) Pre-Medication
        new(0x0040_0241, X, Device: K), // (0040,0241) Performed Station AE Title
        new(0x0040_0242, X, Device: K), // (0040,0242) Performed Station Name
        new(0x0040_0243, X), // (0040,0243) Performed Location
        new(0x0040_0244, X, Dates: C), // (0040,0244) Performed Procedure Step Start Date
        new(0x0040_0245, X, Dates: C), // (0040,0245) Performed Procedure Step Start Time
        new(0x0040_0250, X, Dates: C), // (0040,0250) Performed Procedure Step End Date
        new(0x0040_0251, X, Dates: C), // (0040,0251) Performed Procedure Step End Time
        new(0x0040_0253, X), // (0040,0253) Performed Procedure Step ID
        new(0x0040_0254, X), // (0040,0254) Performed Procedure Step Description
        new(0x0040_0275, X), // (0040,0275) Request Attributes Sequence
        new(0x0040_0280, X), // (0040,0280) Comments on the Performed Procedure Step
        new(0x0040_0310, X), // (0040,0310) Comments on Radiation Dose
        new(0x0040_050A, X), // (0040,050A) Specimen Accession Number
        new(0x0040_0512, D), // (0040,0512) Container Identifier
        new(0x0040_0513, Z), // (0040,0513) Issuer of the Container Identifier Sequence
        new(0x0040_051A, X), // (0040,051A) Container Description
        new(0x0040_0551, D), // (0040,0551) Specimen Identifier
        new(0x0040_0554, U, Uids: K), // (0040,0554) Specimen UID
        new(0x0040_0555, XZ), // (0040,0555) Acquisition Context Sequence
        new(0x0040_0562, Z), // (0040,0562) Issuer of the Specimen Identifier Sequence
        new(0x0040_0600, X), // (0040,0600) Specimen Short Description
        new(0x0040_0602, X), // (0040,0602) Specimen Detailed Description
        new(0x0040_0610, Z), // (0040,0610) Specimen Preparation Sequence
        new(0x0040_06FA, X), // (0040,06FA) Slide Identifier
        new(0x0040_1001, X), // (0040,1001) Requested Procedure ID
        new(0x0040_1002, X), // (0040,1002) Reason for the Requested Procedure
        new(0x0040_1004, X), // (0040,1004) Patient Transport Arrangements
        new(0x0040_1005, X), // (0040,1005) Requested Procedure Location
        new(0x0040_100A, X), // (0040,100A) Reason for Requested Procedure Code Sequence
        new(0x0040_1010, X), // (0040,1010) Names of Intended Recipients of Results
        new(0x0040_1011, X), // (0040,1011) Intended Recipients of Results Identification Sequence
        new(0x0040_1101, D), // (0040,1101) Person Identification Code Sequence
        new(0x0040_1102, X), // (0040,1102) Person's Address
        new(0x0040_1103, X), // (0040,1103) Person's Telephone Numbers
        new(0x0040_1104, X), // (0040,1104) Person's Telecom Information
        new(0x0040_1400, X), // (0040,1400) Requested Procedure Comments
        new(0x0040_2001, X), // (0040,2001) Reason for the Imaging Service Request
        new(0x0040_2008, X), // (0040,2008) Order Entered By
        new(0x0040_2009, X), // (0040,2009) Order Enterer's Location
        new(0x0040_2010, X), // (0040,2010) Order Callback Phone Number
        new(0x0040_2011, X), // (0040,2011) Order Callback Telecom Information
        new(0x0040_2016, Z), // (0040,2016) Placer Order Number / Imaging Service Request
        new(0x0040_2017, Z), // (0040,2017) Filler Order Number / Imaging Service Request
        new(0x0040_2400, X), // (0040,2400) Imaging Service Request Comments
        new(0x0040_3001, X), // (0040,3001) Confidentiality Constraint on Patient Data Description
        new(0x0040_4005, X, Dates: C), // (0040,4005) Scheduled Procedure Step Start DateTime
        new(0x0040_4008, X, Dates: C), // (0040,4008) Scheduled Procedure Step Expiration DateTime
        new(0x0040_4010, X, Dates: C), // (0040,4010) Scheduled Procedure Step Modification DateTime
        new(0x0040_4011, X, Dates: C), // (0040,4011) Expected Completion DateTime
        new(0x0040_4023, U, Uids: K), // (0040,4023) Referenced General Purpose Scheduled Procedure Step Transaction UID
        new(0x0040_4025, X, Device: K), // (0040,4025) Scheduled Station Name Code Sequence
        new(0x0040_4027, X, Device: K), // (0040,4027) Scheduled Station Geographic Location Code Sequence
        new(0x0040_4028, X, Device: K), // (0040,4028) Performed Station Name Code Sequence
        new(0x0040_4030, X, Device: K), // (0040,4030) Performed Station Geographic Location Code Sequence
        new(0x0040_4034, X), // (0040,4034) Scheduled Human Performers Sequence
        new(0x0040_4035, X), // (0040,4035) Actual Human Performers Sequence
        new(0x0040_4036, X), // (0040,4036) Human Performer's Organization
        new(0x0040_4037, X), // (0040,4037) Human Performer's Name
        new(0x0040_4050, X, Dates: C), // (0040,4050) Performed Procedure Step Start DateTime
        new(0x0040_4051, X, Dates: C), // (0040,4051) Performed Procedure Step End DateTime
        new(0x0040_4052, X, Dates: C), // (0040,4052) Procedure Step Cancellation DateTime
        new(0x0040_A027, D), // (0040,A027) Verifying Organization
        new(0x0040_A073, D), // (0040,A073) Verifying Observer Sequence
        new(0x0040_A075, D), // (0040,A075) Verifying Observer Name
        new(0x0040_A078, X), // (0040,A078) Author Observer Sequence
        new(0x0040_A07A, X), // (0040,A07A) Participant Sequence
        new(0x0040_A07C, X), // (0040,A07C) Custodial Organization Sequence
        new(0x0040_A088, Z), // (0040,A088) Verifying Observer Identification Code Sequence
        new(0x0040_A123, D), // (0040,A123) Person Name
        new(0x0040_A124, U), // (0040,A124) UID
        new(0x0040_A171, U, Uids: K), // (0040,A171) Observation UID
        new(0x0040_A172, U, Uids: K), // (0040,A172) Referenced Observation UID (Trial)
        new(0x0040_A192, X, Dates: C), // (0040,A192) Observation Date (Trial)
        new(0x0040_A193, X, Dates: C), // (0040,A193) Observation Time (Trial)
        new(0x0040_A307, X), // (0040,A307) Current Observer (Trial)
        new(0x0040_A352, X), // (0040,A352) Verbal Source (Trial)
        new(0x0040_A353, X), // (0040,A353) Address (Trial)
        new(0x0040_A354, X), // (0040,A354) Telephone Number (Trial)
        new(0x0040_A358, X), // (0040,A358) Verbal Source Identifier Code Sequence (Trial)
        new(0x0040_A402, U, Uids: K), // (0040,A402) Observation Subject UID (Trial)
        new(0x0040_A730, D), // (0040,A730) Content Sequence
        new(0x0040_DB0C, U, Uids: K), // (0040,DB0C) Template Extension Organization UID
        new(0x0040_DB0D, U, Uids: K), // (0040,DB0D) Template Extension Creator UID
        new(0x0050_001B, X), // (0050,001B) Container Component ID
        new(0x0050_0020, X, Device: K), // (0050,0020) Device Description
        new(0x0050_0021, X), // (0050,0021) Long Device Description
        new(0x0062_0021, U, Uids: K), // (0062,0021) Tracking UID
        new(0x0070_0001, D), // (0070,0001) Graphic Annotation Sequence
        new(0x0070_0084, ZD), // (0070,0084) Content Creator's Name
        new(0x0070_0086, X), // (0070,0086) Content Creator's Identification Code Sequence
        new(0x0070_031A, U, Uids: K), // (0070,031A) Fiducial UID
        new(0x0070_1101, U, Uids: K), // (0070,1101) Presentation Display Collection UID
        new(0x0070_1102, U, Uids: K), // (0070,1102) Presentation Sequence Collection UID
        new(0x0088_0140, U, Uids: K), // (0088,0140) Storage Media File-set UID
        new(0x0088_0200, X), // (0088,0200) Icon Image Sequence
        new(0x0088_0904, X), // (0088,0904) Topic Title
        new(0x0088_0906, X), // (0088,0906) Topic Subject
        new(0x0088_0910, X), // (0088,0910) Topic Author
        new(0x0088_0912, X), // (0088,0912) Topic Keywords
        new(0x0400_0100, U), // (0400,0100) Digital Signature UID
        new(0x0400_0402, X), // (0400,0402) Referenced Digital Signature Sequence
        new(0x0400_0403, X), // (0400,0403) Referenced SOP Instance MAC Sequence
        new(0x0400_0404, X), // (0400,0404) MAC
        new(0x0400_0550, X), // (0400,0550) Modified Attributes Sequence
        new(0x0400_0551, X), // (0400,0551) Nonconforming Modified Attributes Sequence
        new(0x0400_0552, X), // (0400,0552) Nonconforming Data Element Value
        new(0x0400_0561, X), // (0400,0561) Original Attributes Sequence
        new(0x0400_0600, X), // (0400,0600) Instance Origin Status
        new(0x2030_0020, X), // (2030,0020) Text String
        new(0x2200_0002, XZ), // (2200,0002) Label Text
        new(0x2200_0005, XZ), // (2200,0005) Barcode Value
        new(0x3006_0002, D), // (3006,0002) Structure Set Label
        new(0x3006_0004, X), // (3006,0004) Structure Set Name
        new(0x3006_0006, X), // (3006,0006) Structure Set Description
        new(0x3006_0008, Z, Dates: C), // (3006,0008) Structure Set Date
        new(0x3006_0009, XD, Dates: C), // (3006,0009) Structure Set Time
        new(0x3006_0024, U, Uids: K), // (3006,0024) Referenced Frame of Reference UID
        new(0x3006_0026, Z), // (3006,0026) ROI Name
        new(0x3006_0028, X), // (3006,0028) ROI Description
        new(0x3006_0038, X), // (3006,0038) ROI Generation Description
        new(0x3006_0085, X), // (3006,0085) ROI Observation Label
        new(0x3006_0088, X), // (3006,0088) ROI Observation Description
        new(0x3006_00A6, Z), // (3006,00A6) ROI Interpreter
        new(0x3006_00C2, U, Uids: K), // (3006,00C2) Related Frame of Reference UID
        new(0x3008_0054, XD, Dates: C), // (3008,0054) First Treatment Date
        new(0x3008_0056, XD, Dates: C), // (3008,0056) Most Recent Treatment Date
        new(0x3008_0105, XZ, Device: K), // (3008,0105) Source Serial Number
        new(0x3008_0250, XD, Dates: C), // (3008,0250) Treatment Date
        new(0x3008_0251, XD, Dates: C), // (3008,0251) Treatment Time
        new(0x300A_0002, D), // (300A,0002) RT Plan Label
        new(0x300A_0003, X), // (300A,0003) RT Plan Name
        new(0x300A_0004, X), // (300A,0004) RT Plan Description
        new(0x300A_0006, XD, Dates: C), // (300A,0006) RT Plan Date
        new(0x300A_0007, XD, Dates: C), // (300A,0007) RT Plan Time
        new(0x300A_000E, X), // (300A,000E) Prescription Description
        new(0x300A_0013, U, Uids: K), // (300A,0013) Dose Reference UID
        new(0x300A_0016, X), // (300A,0016) Dose Reference Description
        new(0x300A_0072, X), // (300A,0072) Fraction Group Description
        new(0x300A_0083, U, Uids: K), // (300A,0083) Referenced Dose Reference UID
        new(0x300A_00B2, X, Device: K), // (300A,00B2) Treatment Machine Name
        new(0x300A_00C3, X), // (300A,00C3) Beam Description
        new(0x300A_00DD, X), // (300A,00DD) Bolus Description
        new(0x300A_0196, X), // (300A,0196) Fixation Device Description
        new(0x300A_01A6, X), // (300A,01A6) Shielding Device Description
        new(0x300A_01B2, X), // (300A,01B2) Setup Technique Description
        new(0x300A_0216, X, Device: K), // (300A,0216) Source Manufacturer
        new(0x300A_02EB, X), // (300A,02EB) Compensator Description
        new(0x300A_0608, D), // (300A,0608) Treatment Position Group Label
        new(0x300A_0609, U, Uids: K), // (300A,0609) Treatment Position Group UID
        new(0x300A_0611, Z), // (300A,0611) RT Accessory Holder Slot ID
        new(0x300A_0615, Z), // (300A,0615) RT Accessory Device Slot ID
        new(0x300A_0619, D), // (300A,0619) Radiation Dose Identification Label
        new(0x300A_0623, D), // (300A,0623) Radiation Dose In-Vivo Measurement Label
        new(0x300A_062A, D), // (300A,062A) RT Tolerance Set Label
        new(0x300A_0650, U, Uids: K), // (300A,0650) Patient Setup UID
        new(0x300A_0676, X), // (300A,0676) Equipment Frame of Reference Description
        new(0x300A_067C, D), // (300A,067C) Radiation Generation Mode Label
        new(0x300A_067D, Z), // (300A,067D) Radiation Generation Mode Description
        new(0x300A_0700, U, Uids: K), // (300A,0700) Treatment Session UID
        new(0x300A_0734, D), // (300A,0734) Treatment Tolerance Violation Description
        new(0x300A_0736, D, Dates: C), // (300A,0736) Treatment Tolerance Violation DateTime
        new(0x300A_073A, D, Dates: C), // (300A,073A) Recorded RT Control Point DateTime
        new(0x300A_0741, D, Dates: C), // (300A,0741) Interlock DateTime
        new(0x300A_0742, D), // (300A,0742) Interlock Description
        new(0x300A_0760, D, Dates: C), // (300A,0760) Override DateTime
        new(0x300A_0783, D), // (300A,0783) Interlock Origin Description
        new(0x300C_0113, X), // (300C,0113) Reason for Omission Description
        new(0x300E_0008, XZ), // (300E,0008) Reviewer Name
        new(0x3010_0006, U, Uids: K), // (3010,0006) Conceptual Volume UID
        new(0x3010_000B, U, Uids: K), // (3010,000B) Referenced Conceptual Volume UID
        new(0x3010_000F, Z), // (3010,000F) Conceptual Volume Combination Description
        new(0x3010_0013, U, Uids: K), // (3010,0013) Constituent Conceptual Volume UID
        new(0x3010_0015, U, Uids: K), // (3010,0015) Source Conceptual Volume UID
        new(0x3010_0017, Z), // (3010,0017) Conceptual Volume Description
        new(0x3010_001B, Z), // (3010,001B) Device Alternate Identifier
        new(0x3010_002D, D, Device: K), // (3010,002D) Device Label
        new(0x3010_0031, U, Uids: K), // (3010,0031) Referenced Fiducials UID
        new(0x3010_0033, D), // (3010,0033) User Content Label
        new(0x3010_0034, D), // (3010,0034) User Content Long Label
        new(0x3010_0035, D), // (3010,0035) Entity Label
        new(0x3010_0036, X), // (3010,0036) Entity Name
        new(0x3010_0037, X), // (3010,0037) Entity Description
        new(0x3010_0038, D), // (3010,0038) Entity Long Label
        new(0x3010_003B, U, Uids: K), // (3010,003B) RT Treatment Phase UID
        new(0x3010_0043, Z, Device: K), // (3010,0043) Manufacturer's Device Identifier
        new(0x3010_004C, XD, Dates: C), // (3010,004C) Intended Phase Start Date
        new(0x3010_004D, XD, Dates: C), // (3010,004D) Intended Phase End Date
        new(0x3010_0054, D), // (3010,0054) RT Prescription Label
        new(0x3010_0056, XD), // (3010,0056) RT Treatment Approach Label
        new(0x3010_005A, Z), // (3010,005A) RT Physician Intent Narrative
        new(0x3010_005C, Z), // (3010,005C) Reason for Superseding
        new(0x3010_0061, X), // (3010,0061) Prior Treatment Dose Description
        new(0x3010_006E, U, Uids: K), // (3010,006E) Dosimetric Objective UID
        new(0x3010_006F, U, Uids: K), // (3010,006F) Referenced Dosimetric Objective UID
        new(0x3010_0077, D), // (3010,0077) Treatment Site
        new(0x3010_007A, Z), // (3010,007A) Treatment Technique Notes
        new(0x3010_007B, Z), // (3010,007B) Prescription Notes
        new(0x3010_007F, Z), // (3010,007F) Fractionation Notes
        new(0x3010_0081, Z), // (3010,0081) Prescription Notes Sequence
        new(0x4000_0010, X), // (4000,0010) Arbitrary
        new(0x4000_4000, X), // (4000,4000) Text Comments
        new(0x4008_0042, X), // (4008,0042) Results ID Issuer
        new(0x4008_0102, X), // (4008,0102) Interpretation Recorder
        new(0x4008_010A, X), // (4008,010A) Interpretation Transcriber
        new(0x4008_010B, X), // (4008,010B) Interpretation Text
        new(0x4008_010C, X), // (4008,010C) Interpretation Author
        new(0x4008_0111, X), // (4008,0111) Interpretation Approver Sequence
        new(0x4008_0114, X), // (4008,0114) Physician Approving Interpretation
        new(0x4008_0115, X), // (4008,0115) Interpretation Diagnosis Description
        new(0x4008_0118, X), // (4008,0118) Results Distribution List Sequence
        new(0x4008_0119, X), // (4008,0119) Distribution Name
        new(0x4008_011A, X), // (4008,011A) Distribution Address
        new(0x4008_0202, X), // (4008,0202) Interpretation ID Issuer
        new(0x4008_0300, X), // (4008,0300) Impressions
        new(0x4008_4000, X), // (4008,4000) Results Comments
        new(0x5000_0000, X, Mask: 0xFF00_0000), // (50XX,XXXX) Curve Data
        new(0x6000_3000, X, Mask: 0xFF00_FFFF), // (60XX,3000) Overlay Data
        new(0x6000_4000, X, Mask: 0xFF00_FFFF), // (60XX,4000) Overlay Comments
        new(0xFFFA_FFFA, X), // (FFFA,FFFA) Digital Signatures Sequence
        new(0xFFFC_FFFC, X), // (FFFC,FFFC) Data Set Trailing Padding
    ];
}
