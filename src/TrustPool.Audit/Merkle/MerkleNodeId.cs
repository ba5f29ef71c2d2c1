namespace TrustPool.Audit.Merkle;

/// <summary>
/// A complete (perfect) subtree of the log: the node at <paramref name="Level"/> (0 = leaf) and
/// <paramref name="Index"/> covers leaves [Index * 2^Level, (Index + 1) * 2^Level). Once all its leaves exist
/// its hash never changes, which is what lets a store keep it forever (the Trillian / transparency-dev layout).
/// </summary>
public readonly record struct MerkleNodeId(int Level, ulong Index)
{
    /// <summary>First leaf index the node covers.</summary>
    public ulong FirstLeaf => Index << Level;

    /// <inheritdoc/>
    public override string ToString() => $"({Level}, {Index})";
}
