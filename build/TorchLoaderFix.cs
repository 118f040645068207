// The TorchSharp loader fix, shared by two compilations:
//  * the MSBuild inline task in build/TorchLoaderFix.targets (RoslynCodeTaskFactory compiles this
//    whole file, task class included), which patches libLibTorchSharp.so in build output folders;
//  * MedTransfer.Training (compiled with MEDTRANSFER_RUNTIME), where `medtransfer doctor` and the
//    torch availability check read the same ELF facts without patching anything.
//
// Why: TorchSharp 0.107.0's libLibTorchSharp.so lists GLIBCXX_3.4.32 (GCC 13) among the versions
// it needs from libstdc++.so.6, for a single symbol (_ZSt21ios_base_library_initv) that nothing
// calls. Debian 12's libstdc++ stops at GLIBCXX_3.4.30, so the dynamic loader refuses the library.
// Marking that one version-need entry VER_FLG_WEAK (0x2 in vna_flags of the .gnu.version_r
// section, ELF gABI "Symbol Versioning") turns the hard failure into a tolerated absence.
// The change is one byte; it is applied to copies in output folders, never to the NuGet cache.
#nullable enable
using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace MedTransfer.Build
{
    /// <summary>What an ELF file's version-need table says about one version name.</summary>
    internal enum VersionNeedState
    {
        /// <summary>The file does not need the version at all.</summary>
        NotNeeded,

        /// <summary>The version is needed and the loader will refuse the file without it.</summary>
        Required,

        /// <summary>The version is needed but marked weak (VER_FLG_WEAK): the fix is applied.</summary>
        Weak,
    }

    /// <summary>
    /// Reads and edits the GNU symbol-versioning sections of a 64-bit little-endian ELF file
    /// (.gnu.version_r = SHT_GNU_verneed, .gnu.version_d = SHT_GNU_verdef).
    /// Every offset read from the file is bounds-checked; a malformed file gives an
    /// <see cref="InvalidDataException"/>, never an out-of-range access.
    /// </summary>
    internal static class GnuVersionTables
    {
        /// <summary>The version TorchSharp 0.107.0's native library needs and Debian 12 lacks.</summary>
        public const string TorchSharpExtraVersion = "GLIBCXX_3.4.32";

        private const uint ShtGnuVerdef = 0x6ffffffd;
        private const uint ShtGnuVerneed = 0x6ffffffe;
        private const ushort VerFlgWeak = 0x2;

        /// <summary>How <paramref name="elf"/> needs <paramref name="versionName"/>.</summary>
        public static VersionNeedState InspectNeed(byte[] elf, string versionName)
        {
            int flagsOffset = FindVernauxFlagsOffset(elf, versionName);
            if (flagsOffset < 0)
            {
                return VersionNeedState.NotNeeded;
            }

            return (ReadU16(elf, flagsOffset) & VerFlgWeak) != 0 ? VersionNeedState.Weak : VersionNeedState.Required;
        }

        /// <summary>
        /// Sets VER_FLG_WEAK on the need entry for <paramref name="versionName"/>.
        /// Returns false when the file does not need that version (nothing to do).
        /// Idempotent: an already weak entry stays as it is.
        /// </summary>
        public static bool MarkNeedWeak(byte[] elf, string versionName)
        {
            int flagsOffset = FindVernauxFlagsOffset(elf, versionName);
            if (flagsOffset < 0)
            {
                return false;
            }

            ushort flags = ReadU16(elf, flagsOffset);
            flags |= VerFlgWeak;
            elf[flagsOffset] = (byte)(flags & 0xff);
            elf[flagsOffset + 1] = (byte)(flags >> 8);
            return true;
        }

        /// <summary>True when the shared library <paramref name="elf"/> defines <paramref name="versionName"/>.</summary>
        public static bool DefinesVersion(byte[] elf, string versionName)
        {
            foreach (Section section in ReadSections(elf))
            {
                if (section.Type != ShtGnuVerdef)
                {
                    continue;
                }

                Section strtab = SectionAt(elf, section.Link);
                long entry = section.Offset;
                for (uint i = 0; i < section.Info; i++)
                {
                    Check(elf, entry, 20);
                    uint auxOffset = ReadU32(elf, (int)entry + 12);
                    uint next = ReadU32(elf, (int)entry + 16);
                    long aux = entry + auxOffset;
                    Check(elf, aux, 8);
                    if (ReadString(elf, strtab, ReadU32(elf, (int)aux)) == versionName)
                    {
                        return true;
                    }

                    if (next == 0)
                    {
                        break;
                    }

                    entry += next;
                }
            }

            return false;
        }

        /// <summary>Reads a whole file, then <see cref="DefinesVersion(byte[], string)"/>.</summary>
        public static bool FileDefinesVersion(string path, string versionName) =>
            DefinesVersion(File.ReadAllBytes(path), versionName);

        /// <summary>Reads a whole file, then <see cref="InspectNeed(byte[], string)"/>.</summary>
        public static VersionNeedState InspectFile(string path, string versionName) =>
            InspectNeed(File.ReadAllBytes(path), versionName);

        /// <summary>The libstdc++ the dynamic loader would pick on common Linux layouts, or null.</summary>
        public static string? FindHostLibStdCxx()
        {
            string[] candidates =
            {
                "/usr/lib/x86_64-linux-gnu/libstdc++.so.6",
                "/lib/x86_64-linux-gnu/libstdc++.so.6",
                "/usr/lib/aarch64-linux-gnu/libstdc++.so.6",
                "/usr/lib64/libstdc++.so.6",
                "/lib64/libstdc++.so.6",
                "/usr/lib/libstdc++.so.6",
            };
            foreach (string candidate in candidates)
            {
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }

            return null;
        }

        private static int FindVernauxFlagsOffset(byte[] elf, string versionName)
        {
            foreach (Section section in ReadSections(elf))
            {
                if (section.Type != ShtGnuVerneed)
                {
                    continue;
                }

                Section strtab = SectionAt(elf, section.Link);
                long need = section.Offset;
                for (uint i = 0; i < section.Info; i++)
                {
                    // Elf64_Verneed: vn_version u16, vn_cnt u16, vn_file u32, vn_aux u32, vn_next u32.
                    Check(elf, need, 16);
                    ushort count = ReadU16(elf, (int)need + 2);
                    uint auxOffset = ReadU32(elf, (int)need + 8);
                    uint next = ReadU32(elf, (int)need + 12);
                    long aux = need + auxOffset;
                    for (int j = 0; j < count; j++)
                    {
                        // Elf64_Vernaux: vna_hash u32, vna_flags u16, vna_other u16, vna_name u32, vna_next u32.
                        Check(elf, aux, 16);
                        if (ReadString(elf, strtab, ReadU32(elf, (int)aux + 8)) == versionName)
                        {
                            return (int)aux + 4;
                        }

                        uint auxNext = ReadU32(elf, (int)aux + 12);
                        if (auxNext == 0)
                        {
                            break;
                        }

                        aux += auxNext;
                    }

                    if (next == 0)
                    {
                        break;
                    }

                    need += next;
                }
            }

            return -1;
        }

        private readonly struct Section
        {
            public Section(uint type, long offset, long size, uint link, uint info)
            {
                Type = type;
                Offset = offset;
                Size = size;
                Link = link;
                Info = info;
            }

            public uint Type { get; }

            public long Offset { get; }

            public long Size { get; }

            public uint Link { get; }

            public uint Info { get; }
        }

        private static IEnumerable<Section> ReadSections(byte[] elf)
        {
            ValidateHeader(elf);
            ushort count = ReadU16(elf, 0x3C);
            for (uint i = 0; i < count; i++)
            {
                yield return SectionAt(elf, i);
            }
        }

        private static void ValidateHeader(byte[] elf)
        {
            if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
            {
                throw new InvalidDataException("not an ELF file");
            }

            if (elf[4] != 2 || elf[5] != 1)
            {
                throw new InvalidDataException("only 64-bit little-endian ELF files are supported");
            }
        }

        private static Section SectionAt(byte[] elf, uint index)
        {
            ValidateHeader(elf);
            long tableOffset = (long)ReadU64(elf, 0x28);
            ushort entrySize = ReadU16(elf, 0x3A);
            ushort count = ReadU16(elf, 0x3C);
            if (index >= count || entrySize < 64)
            {
                throw new InvalidDataException("section index out of range");
            }

            long header = tableOffset + (index * (long)entrySize);
            Check(elf, header, 64);
            int h = (int)header;
            long offset = (long)ReadU64(elf, h + 24);
            long size = (long)ReadU64(elf, h + 32);

            // No bounds check on the section body here: SHT_NOBITS sections (.bss) have a size
            // but no bytes in the file. Each reader checks the bytes it actually touches.
            return new Section(ReadU32(elf, h + 4), offset, size, ReadU32(elf, h + 40), ReadU32(elf, h + 44));
        }

        private static string ReadString(byte[] elf, Section strtab, uint nameOffset)
        {
            Check(elf, strtab.Offset, strtab.Size);
            if (nameOffset >= strtab.Size)
            {
                throw new InvalidDataException("string offset outside its table");
            }

            int start = (int)(strtab.Offset + nameOffset);
            int end = start;
            int limit = (int)(strtab.Offset + strtab.Size);
            while (end < limit && elf[end] != 0)
            {
                end++;
            }

            return Encoding.ASCII.GetString(elf, start, end - start);
        }

        private static void Check(byte[] elf, long offset, long length)
        {
            if (offset < 0 || length < 0 || offset > elf.Length || length > elf.Length - offset)
            {
                throw new InvalidDataException("ELF structure points outside the file");
            }
        }

        private static ushort ReadU16(byte[] b, int o)
        {
            Check(b, o, 2);
            return (ushort)(b[o] | (b[o + 1] << 8));
        }

        private static uint ReadU32(byte[] b, int o)
        {
            Check(b, o, 4);
            return (uint)(b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24));
        }

        private static ulong ReadU64(byte[] b, int o) => ReadU32(b, o) | ((ulong)ReadU32(b, o + 4) << 32);
    }

#if !MEDTRANSFER_RUNTIME
    /// <summary>
    /// MSBuild task: applies the loader fix to libLibTorchSharp.so in one output folder.
    /// Mode: auto (only when the host libstdc++ lacks the version), always, off.
    /// </summary>
    public sealed class ApplyTorchLoaderFix : Microsoft.Build.Utilities.Task
    {
        /// <summary>The output folder that may hold libLibTorchSharp.so.</summary>
        [Microsoft.Build.Framework.Required]
        public string Directory { get; set; } = string.Empty;

        /// <summary>auto | always | off.</summary>
        public string Mode { get; set; } = "auto";

        /// <summary>Overrides the host libstdc++ path (for unusual layouts).</summary>
        public string HostLibStdCxx { get; set; } = string.Empty;

        /// <inheritdoc />
        public override bool Execute()
        {
            string target = Path.GetFullPath(Path.Combine(Directory, "libLibTorchSharp.so"));
            if (!File.Exists(target))
            {
                return true;
            }

            string mode = string.IsNullOrWhiteSpace(Mode) ? "auto" : Mode.Trim().ToLowerInvariant();
            if (mode == "off")
            {
                Log.LogMessage(Microsoft.Build.Framework.MessageImportance.High,
                    "MedTransfer loader fix: off (MedTransferLoaderFix=off); " + target + " left as shipped.");
                return true;
            }

            if (mode != "auto" && mode != "always")
            {
                Log.LogError("MedTransferLoaderFix must be auto, always or off, not '" + Mode + "'.");
                return false;
            }

            try
            {
                byte[] bytes = File.ReadAllBytes(target);
                VersionNeedState state = GnuVersionTables.InspectNeed(bytes, GnuVersionTables.TorchSharpExtraVersion);
                if (state == VersionNeedState.NotNeeded)
                {
                    Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Normal,
                        "MedTransfer loader fix: not needed, " + target + " does not require " + GnuVersionTables.TorchSharpExtraVersion + ".");
                    return true;
                }

                if (state == VersionNeedState.Weak)
                {
                    Log.LogMessage(Microsoft.Build.Framework.MessageImportance.High,
                        "MedTransfer loader fix: already applied to " + target + ".");
                    return true;
                }

                if (mode == "auto")
                {
                    string? host = string.IsNullOrWhiteSpace(HostLibStdCxx) ? GnuVersionTables.FindHostLibStdCxx() : HostLibStdCxx;
                    if (host != null && GnuVersionTables.FileDefinesVersion(host, GnuVersionTables.TorchSharpExtraVersion))
                    {
                        Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Normal,
                            "MedTransfer loader fix: not needed, " + host + " defines " + GnuVersionTables.TorchSharpExtraVersion + ".");
                        return true;
                    }
                }

                GnuVersionTables.MarkNeedWeak(bytes, GnuVersionTables.TorchSharpExtraVersion);

                // Write a sibling temp file and rename it over the copy: a hard link into the
                // NuGet cache (CreateHardLinksForCopyLocalIfPossible) is replaced, never written through.
                string temp = target + ".loaderfix.tmp";
                File.WriteAllBytes(temp, bytes);
                File.Delete(target);
                File.Move(temp, target);
                Log.LogMessage(Microsoft.Build.Framework.MessageImportance.High,
                    "MedTransfer loader fix: marked " + GnuVersionTables.TorchSharpExtraVersion + " weak in " + target + " (host libstdc++ lacks it).");
                return true;
            }
            catch (Exception ex) when (ex is IOException || ex is InvalidDataException || ex is UnauthorizedAccessException)
            {
                Log.LogError("MedTransfer loader fix failed on " + target + ": " + ex.Message);
                return false;
            }
        }
    }
#endif
}
