namespace TrustPool.Audit.Merkle;

/// <summary>
/// Where <see cref="MerkleTree"/> keeps the hashes of complete subtrees, keyed by (level, index). Nodes are
/// immutable once written. <see cref="MerkleTree.Append(ReadOnlySpan{byte})"/> writes the new leaf and every
/// node it completes in one <see cref="PutNodes"/> call, and a proof reads everything it needs in one
/// <see cref="TryGetNodes"/> call, so a database-backed store can do each as one statement inside the
/// caller's transaction (audit record row and its nodes commit together).
/// </summary>
public interface IMerkleNodeStore
{
    /// <summary>
    /// Copies the hashes of <paramref name="ids"/> into <paramref name="hashes"/>
    /// (<see cref="MerkleHash.Size"/> bytes each, in order). Returns false when any node is absent.
    /// </summary>
    bool TryGetNodes(ReadOnlySpan<MerkleNodeId> ids, Span<byte> hashes);

    /// <summary>
    /// Stores the hashes of <paramref name="ids"/> (<see cref="MerkleHash.Size"/> bytes each, in order). Nodes
    /// arrive in increasing index order per level; rewriting a node with a different hash is an error.
    /// </summary>
    void PutNodes(ReadOnlySpan<MerkleNodeId> ids, ReadOnlySpan<byte> hashes);
}
