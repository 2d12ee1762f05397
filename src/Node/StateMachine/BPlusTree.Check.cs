namespace KvActors.Node.StateMachine;

internal sealed partial class BPlusTree<TValue>
{
    /// <summary>
    /// Walks the whole tree and describes the first broken invariant: keys strictly increasing along the
    /// leaf chain, separators bounding their children, per-child counts matching, all leaves at one depth,
    /// <see cref="Count"/> matching. O(n): for tests.
    /// </summary>
    /// <returns>Null if the tree is sound; else one line naming the problem.</returns>
    internal string? FindCorruption()
    {
        int leafDepth = -1;
        string? problem = null;
        int total = CountBelow(_root, null, null, 0, ref leafDepth, ref problem);
        if (problem is not null) return problem;
        if (total != Count) return $"Count is {Count} but the tree holds {total} keys";

        int chained = 0;
        byte[]? previous = null;
        for (Cursor cursor = Seek([]); cursor.IsValid; cursor.MoveNext())
        {
            if (previous is not null && previous.AsSpan().SequenceCompareTo(cursor.Key) >= 0)
                return $"leaf chain is out of order at key {Convert.ToHexString(cursor.Key)}";
            previous = cursor.Key;
            chained++;
        }
        return chained == Count ? null : $"leaf chain holds {chained} keys, Count is {Count}";
    }

    private static int CountBelow(Node node, byte[]? low, byte[]? high, int depth, ref int leafDepth, ref string? problem)
    {
        if (problem is not null) return 0;
        if (node is Leaf leaf)
        {
            if (leafDepth < 0) leafDepth = depth;
            else if (leafDepth != depth) problem = $"leaves at depths {leafDepth} and {depth}";
            for (int i = 0; i < leaf.Count; i++)
            {
                byte[] key = leaf.Keys[i].Key!;
                if (leaf.Keys[i].Prefix != KeySlot.PrefixOf(key)) problem = $"key {Convert.ToHexString(key)} has a stale prefix";
                if ((low is not null && key.AsSpan().SequenceCompareTo(low) < 0) || (high is not null && key.AsSpan().SequenceCompareTo(high) >= 0))
                    problem = $"key {Convert.ToHexString(key)} is outside its separators";
            }
            for (int i = leaf.Count; i < LeafCapacity; i++)
                if (leaf.Keys[i].Key is not null) problem = "a leaf keeps a key past its count";
            return leaf.Count;
        }
        var branch = (Branch)node;
        if (branch.Count < 2) problem = $"a branch has {branch.Count} children";
        for (int i = 0; i < branch.Count - 1; i++)
            if (branch.Keys[i].Key is not { } separator || branch.Keys[i].Prefix != KeySlot.PrefixOf(separator))
                problem = $"separator {i} of a branch is missing or has a stale prefix";
        int sum = 0;
        for (int i = 0; i < branch.Count; i++)
        {
            byte[]? childLow = i == 0 ? low : branch.Keys[i - 1].Key;
            byte[]? childHigh = i == branch.Count - 1 ? high : branch.Keys[i].Key;
            int below = CountBelow(branch.Children[i]!, childLow, childHigh, depth + 1, ref leafDepth, ref problem);
            if (below != branch.Sizes[i] && problem is null) problem = $"a branch counts {branch.Sizes[i]} keys below child {i}, which holds {below}";
            sum += below;
        }
        return sum;
    }
}
