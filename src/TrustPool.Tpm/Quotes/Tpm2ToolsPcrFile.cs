using System.Buffers.Binary;
using TrustPool.Tpm.Structures;
using TrustPool.Tpm.Wire;

namespace TrustPool.Tpm.Quotes;

/// <summary>
/// The PCR file tpm2_quote writes with <c>-o</c> (its default "serialized" format) and tpm2_checkquote reads with
/// <c>-f</c>: the little-endian in-memory TPML_PCR_SELECTION (u32 count, 16 slots of {u16 hash, u8 sizeofSelect,
/// u8 pcrSelect[4], pad}), a u32 count of TPML_DIGEST, then that many TPML_DIGEST (u32 count, 8 slots of
/// {u16 size, u8 buffer[64]}). Values follow the selection's order. Untrusted input: every count is bounded.
/// </summary>
public static class Tpm2ToolsPcrFile
{
    private const int SelectionSlots = TpmLimits.MaxPcrBanks;
    private const int SelectionSlotSize = 8;
    private const int SelectionSize = 4 + SelectionSlots * SelectionSlotSize;
    private const int DigestSlotSize = 2 + TpmLimits.MaxDigestSize;
    private const int DigestListSize = 4 + TpmLimits.MaxDigestsInList * DigestSlotSize;

    /// <summary>Bound on TPML_DIGEST blocks: 16 banks x 32 PCRs / 8 per block.</summary>
    private const int MaxDigestLists = SelectionSlots * TpmLimits.MaxPcrs / TpmLimits.MaxDigestsInList;

    public static (PcrSelection Selection, PcrValues Values) Read(ReadOnlySpan<byte> file)
    {
        if (file.Length < SelectionSize + 4)
        {
            throw new TpmFormatException("pcrs.selection", file.Length, $"file of {file.Length} bytes is shorter than the {SelectionSize + 4}-byte header");
        }

        var count = BinaryPrimitives.ReadUInt32LittleEndian(file);
        if (count > SelectionSlots)
        {
            throw new TpmFormatException("pcrs.selection.count", 0, $"{count} exceeds {SelectionSlots}");
        }

        var banks = new List<PcrBankSelection>((int)count);
        for (var i = 0; i < count; i++)
        {
            var at = 4 + i * SelectionSlotSize;
            var hash = (TpmAlgorithmId)BinaryPrimitives.ReadUInt16LittleEndian(file[at..]);
            var size = file[at + 2];
            if (size > TpmLimits.MaxPcrSelectBytes)
            {
                throw new TpmFormatException("pcrs.selection.sizeofSelect", at + 2, $"{size} exceeds {TpmLimits.MaxPcrSelectBytes}");
            }

            if (TpmHash.DigestSize(hash) == 0)
            {
                throw new TpmFormatException("pcrs.selection.hash", at, $"unknown bank 0x{(ushort)hash:x4}");
            }

            uint mask = 0;
            for (var b = 0; b < size; b++)
            {
                mask |= (uint)file[at + 3 + b] << (8 * b);
            }

            banks.Add(new PcrBankSelection(hash, mask, size));
        }

        var selection = new PcrSelection(banks);
        var listsAt = SelectionSize;
        var lists = BinaryPrimitives.ReadUInt32LittleEndian(file[listsAt..]);
        if (lists > MaxDigestLists)
        {
            throw new TpmFormatException("pcrs.digests.count", listsAt, $"{lists} exceeds {MaxDigestLists}");
        }

        var needed = (long)SelectionSize + 4 + lists * (long)DigestListSize;
        if (file.Length != needed)
        {
            throw new TpmFormatException("pcrs.digests", (int)Math.Min(file.Length, needed), $"{lists} digest lists need exactly {needed} bytes, file has {file.Length}");
        }

        // Bytes that carry no value (unused slots, padding, digest buffers past their size) must be zero, as
        // tpm2-tools writes them: a change anywhere in the file is then detected, never silently ignored.
        var meaningful = new bool[file.Length];
        meaningful.AsSpan(0, 4).Fill(true);
        meaningful.AsSpan(listsAt, 4).Fill(true);
        for (var i = 0; i < count; i++)
        {
            meaningful.AsSpan(4 + i * SelectionSlotSize, 3 + banks[i].SizeOfSelect).Fill(true);
        }

        var digests = new List<byte[]>();
        for (var l = 0; l < lists; l++)
        {
            var at = listsAt + 4 + l * DigestListSize;
            var n = BinaryPrimitives.ReadUInt32LittleEndian(file[at..]);
            meaningful.AsSpan(at, 4).Fill(true);
            if (n > TpmLimits.MaxDigestsInList)
            {
                throw new TpmFormatException("pcrs.digests.list.count", at, $"{n} exceeds {TpmLimits.MaxDigestsInList}");
            }

            for (var d = 0; d < n; d++)
            {
                var slot = at + 4 + d * DigestSlotSize;
                var size = BinaryPrimitives.ReadUInt16LittleEndian(file[slot..]);
                if (size > TpmLimits.MaxDigestSize)
                {
                    throw new TpmFormatException("pcrs.digests.size", slot, $"{size} exceeds {TpmLimits.MaxDigestSize}");
                }

                meaningful.AsSpan(slot, 2 + size).Fill(true);
                digests.Add(file.Slice(slot + 2, size).ToArray());
            }
        }

        for (var i = 0; i < file.Length; i++)
        {
            if (!meaningful[i] && file[i] != 0)
            {
                throw new TpmFormatException("pcrs", i, "a byte outside every selection and value is not zero");
            }
        }

        var values = new PcrValues();
        var k = 0;
        foreach (var bank in selection)
        {
            foreach (var i in bank.Indices)
            {
                if (k >= digests.Count)
                {
                    throw new TpmFormatException("pcrs.digests", listsAt, $"selection {selection} needs {selection.PcrCount} values, file has {digests.Count}");
                }

                var v = digests[k++];
                if (v.Length != TpmHash.DigestSize(bank.Hash))
                {
                    throw new TpmFormatException("pcrs.digests.size", listsAt, $"{TpmHash.Name(bank.Hash)} PCR {i} value has {v.Length} bytes");
                }

                values.Set(bank.Hash, i, v);
            }
        }

        if (k != digests.Count)
        {
            throw new TpmFormatException("pcrs.digests", listsAt, $"file has {digests.Count} values, selection {selection} covers {k}");
        }

        return (selection, values);
    }

    public static byte[] Write(PcrSelection selection, PcrValues values)
    {
        var ordered = new List<byte[]>();
        foreach (var bank in selection)
        {
            foreach (var i in bank.Indices)
            {
                ordered.Add(values.Get(bank.Hash, i));
            }
        }

        var lists = (ordered.Count + TpmLimits.MaxDigestsInList - 1) / TpmLimits.MaxDigestsInList;
        var file = new byte[SelectionSize + 4 + lists * DigestListSize];
        BinaryPrimitives.WriteUInt32LittleEndian(file, (uint)selection.Count);
        for (var b = 0; b < selection.Count; b++)
        {
            var at = 4 + b * SelectionSlotSize;
            BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(at), (ushort)selection[b].Hash);
            file[at + 2] = selection[b].SizeOfSelect;
            for (var i = 0; i < selection[b].SizeOfSelect; i++)
            {
                file[at + 3 + i] = (byte)(selection[b].Mask >> (8 * i));
            }
        }

        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(SelectionSize), (uint)lists);
        for (var k = 0; k < ordered.Count; k++)
        {
            var listAt = SelectionSize + 4 + k / TpmLimits.MaxDigestsInList * DigestListSize;
            var inList = Math.Min(TpmLimits.MaxDigestsInList, ordered.Count - k / TpmLimits.MaxDigestsInList * TpmLimits.MaxDigestsInList);
            BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(listAt), (uint)inList);
            var slot = listAt + 4 + k % TpmLimits.MaxDigestsInList * DigestSlotSize;
            BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(slot), (ushort)ordered[k].Length);
            ordered[k].CopyTo(file, slot + 2);
        }

        return file;
    }
}
