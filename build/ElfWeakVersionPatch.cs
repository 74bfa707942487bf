// Marks one symbol-version requirement of an ELF shared library as weak (VER_FLG_WEAK) so that the dynamic loader
// accepts the library on systems whose libstdc++ lacks that version. Used by the MSBuild task below on every
// libLibTorchSharp.so we ship: TorchSharp 0.107.0 asks for GLIBCXX_3.4.32 (GCC 13) only for the marker symbol
// std::ios_base_library_init, which nothing relocates against; Debian 12 stops at GLIBCXX_3.4.30.
// Compiled twice: by RoslynCodeTaskFactory (the task; netstandard2.0 APIs only) and into the tests (the patcher
// alone, NERFGMN_TESTS defined).
using System;
using System.IO;
using System.Text;

namespace NerfGmn.Build
{
    public enum ElfPatchResult { Patched, AlreadyWeak, VersionNotRequired }

    public static class ElfWeakVersionPatcher
    {
        const uint ShtGnuVerneed = 0x6ffffffe;
        const ushort VerFlgWeak = 0x2;

        /// <summary>Sets VER_FLG_WEAK on every Elf64_Vernaux entry named <paramref name="version"/>. Idempotent.</summary>
        public static ElfPatchResult Patch(string path, string version)
        {
            byte[] elf = File.ReadAllBytes(path);
            ElfPatchResult result = Apply(elf, version, path);
            if (result == ElfPatchResult.Patched)
            {
                // Write beside, then replace: a crash mid-write must not leave a torn library behind.
                string tmp = path + ".patching";
                File.WriteAllBytes(tmp, elf);
                File.Replace(tmp, path, null);
            }
            return result;
        }

        /// <summary>Reads the flags of the named requirement; null when the library does not require it.</summary>
        public static ushort? ReadFlags(string path, string version)
        {
            byte[] elf = File.ReadAllBytes(path);
            ushort? flags = null;
            Walk(elf, version, path, offset => flags = BitConverter.ToUInt16(elf, offset));
            return flags;
        }

        public static ElfPatchResult Apply(byte[] elf, string version, string nameForErrors)
        {
            bool found = false, changed = false;
            Walk(elf, version, nameForErrors, flagsOffset =>
            {
                found = true;
                ushort flags = BitConverter.ToUInt16(elf, flagsOffset);
                if ((flags & VerFlgWeak) == 0)
                {
                    ushort weak = (ushort)(flags | VerFlgWeak);
                    elf[flagsOffset] = (byte)(weak & 0xff);
                    elf[flagsOffset + 1] = (byte)(weak >> 8);
                    changed = true;
                }
            });
            return !found ? ElfPatchResult.VersionNotRequired : changed ? ElfPatchResult.Patched : ElfPatchResult.AlreadyWeak;
        }

        static void Walk(byte[] elf, string version, string name, Action<int> onFlagsOffset)
        {
            if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
                throw new InvalidDataException($"{name}: not an ELF file");
            if (elf[4] != 2 || elf[5] != 1)
                throw new InvalidDataException($"{name}: only 64-bit little-endian ELF is supported");
            long shoff = BitConverter.ToInt64(elf, 0x28);
            int shentsize = BitConverter.ToUInt16(elf, 0x3A);
            int shnum = BitConverter.ToUInt16(elf, 0x3C);
            for (int s = 0; s < shnum; s++)
            {
                int sh = checked((int)(shoff + (long)s * shentsize));
                if (BitConverter.ToUInt32(elf, sh + 4) != ShtGnuVerneed) continue;
                int secOff = checked((int)BitConverter.ToInt64(elf, sh + 0x18));
                int link = (int)BitConverter.ToUInt32(elf, sh + 0x28);
                int count = (int)BitConverter.ToUInt32(elf, sh + 0x2C);
                int strSh = checked((int)(shoff + (long)link * shentsize));
                int strOff = checked((int)BitConverter.ToInt64(elf, strSh + 0x18));

                int vn = secOff;
                for (int i = 0; i < count; i++)
                {
                    int cnt = BitConverter.ToUInt16(elf, vn + 2);
                    int aux = vn + (int)BitConverter.ToUInt32(elf, vn + 8);
                    for (int a = 0; a < cnt; a++)
                    {
                        int nameOff = strOff + (int)BitConverter.ToUInt32(elf, aux + 8);
                        if (ReadCString(elf, nameOff) == version) onFlagsOffset(aux + 4);
                        int next = (int)BitConverter.ToUInt32(elf, aux + 12);
                        if (next == 0) break;
                        aux += next;
                    }
                    int vnNext = (int)BitConverter.ToUInt32(elf, vn + 12);
                    if (vnNext == 0) break;
                    vn += vnNext;
                }
            }
        }

        static string ReadCString(byte[] b, int offset)
        {
            int end = Array.IndexOf(b, (byte)0, offset);
            return Encoding.ASCII.GetString(b, offset, end - offset);
        }
    }

#if !NERFGMN_TESTS
    public class PatchWeakElfVersion : Microsoft.Build.Utilities.Task
    {
        [Microsoft.Build.Framework.Required] public Microsoft.Build.Framework.ITaskItem[] Files { get; set; } = Array.Empty<Microsoft.Build.Framework.ITaskItem>();
        [Microsoft.Build.Framework.Required] public string Version { get; set; } = "";

        public override bool Execute()
        {
            foreach (var item in Files)
            {
                string path = item.ItemSpec;
                try
                {
                    var result = ElfWeakVersionPatcher.Patch(path, Version);
                    Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Low, $"{path}: {Version} {result}");
                    if (result == ElfPatchResult.Patched)
                        Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Normal, $"Marked {Version} weak in {path}");
                }
                catch (Exception e)
                {
                    Log.LogError($"Could not patch {path}: {e.Message}");
                }
            }
            return !Log.HasLoggedErrors;
        }
    }
#endif
}
