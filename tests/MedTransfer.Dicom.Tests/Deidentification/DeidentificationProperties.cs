using FsCheck;
using FsCheck.Xunit;
using MedTransfer.Dicom.Deidentification;

namespace MedTransfer.Dicom.Tests.Deidentification;

/// <summary>Properties over arbitrary text: derived names and UIDs are always safe and valid.</summary>
public sealed class DeidentificationProperties
{
    private static readonly string _root = Path.Combine(Path.GetTempPath(), "deid-property-root");

    [Property(MaxTest = 500)]
    public bool PathInside_AnyValue_IsASafeNameDirectlyInsideTheRoot(string? value)
    {
        string path = OutputFileNames.PathInside(_root, value);
        string name = Path.GetFileName(path);
        return Path.GetDirectoryName(path) == Path.GetFullPath(_root)
            && name.Length <= OutputFileNames.MaxStemLength + 5
            && !name.StartsWith('.')
            && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_');
    }

    [Property(MaxTest = 300)]
    public bool Uid_AnyInput_IsAValidUidOfAtMost64Characters(NonNull<string> value, bool customRoot)
    {
        var derive = new KeyedDerivation(TestKeys.KeyA, customRoot ? "1.2.826.0.1.3680043.10.12345678." : null);
        string uid = derive.Uid(value.Get);
        return uid.Length <= 64
            && uid.Split('.').All(p => p.Length > 0 && p.All(char.IsAsciiDigit) && (p.Length == 1 || p[0] != '0'))
            && uid == derive.Uid(value.Get);
    }

    [Property(MaxTest = 300)]
    public bool DateShiftDays_AnyIdentity_IsInRange(NonNull<string> identity)
    {
        int days = new KeyedDerivation(TestKeys.KeyA, null).DateShiftDays(identity.Get);
        return days is >= -365 and <= -1;
    }
}
