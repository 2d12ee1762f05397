namespace KvActors.Node.StateMachine;

internal sealed partial class BPlusTree<TValue>
{
    /// <summary>Removes <paramref name="key"/> and returns the value it had.</summary>
    /// <returns>True and the removed value if the key was present; false and <c>default</c> otherwise.</returns>
    public bool Remove(ReadOnlySpan<byte> key, out TValue value)
    {
        ulong prefix = KeySlot.PrefixOf(key);
        int depth = 0;
        Node node = _root;
        while (node is Branch branch)
        {
            int slot = ChildIndex(branch, prefix, key);
            _path[depth] = branch;
            _slots[depth] = slot;
            depth++;
            node = branch.Children[slot]!;
        }
        var leaf = (Leaf)node;
        int position = LowerBound(leaf, prefix, key, out bool found);
        if (!found)
        {
            value = default!;
            return false;
        }

        value = leaf.Values[position];
        RemoveAt(leaf, position);
        Count--;
        for (int d = 0; d < depth; d++)
            _path[d].Sizes[_slots[d]]--;
        if (depth > 0 && leaf.Count < MinLeaf)
            RebalanceLeaf(leaf, depth);
        return true;
    }

    private static void RemoveAt(Leaf leaf, int position)
    {
        int after = leaf.Count - position - 1;
        if (after > 0)
        {
            Array.Copy(leaf.Keys, position + 1, leaf.Keys, position, after);
            Array.Copy(leaf.Values, position + 1, leaf.Values, position, after);
        }
        leaf.Count--;
        leaf.Keys[leaf.Count] = default;
        leaf.Values[leaf.Count] = default!;
    }

    // A leaf below half full: borrow a key from a sibling that can spare one, else merge with a sibling.
    private void RebalanceLeaf(Leaf leaf, int depth)
    {
        Branch parent = _path[depth - 1];
        int slot = _slots[depth - 1];
        Leaf? left = slot > 0 ? (Leaf)parent.Children[slot - 1]! : null;
        Leaf? right = slot < parent.Count - 1 ? (Leaf)parent.Children[slot + 1]! : null;

        if (left is not null && left.Count > MinLeaf)
        {
            int last = left.Count - 1;
            InsertAt(leaf, 0, left.Keys[last]);
            leaf.Values[0] = left.Values[last];
            RemoveAt(left, last);
            parent.Keys[slot - 1] = leaf.Keys[0];
            parent.Sizes[slot - 1]--;
            parent.Sizes[slot]++;
            return;
        }
        if (right is not null && right.Count > MinLeaf)
        {
            InsertAt(leaf, leaf.Count, right.Keys[0]);
            leaf.Values[leaf.Count - 1] = right.Values[0];
            RemoveAt(right, 0);
            parent.Keys[slot] = right.Keys[0];
            parent.Sizes[slot]++;
            parent.Sizes[slot + 1]--;
            return;
        }

        // Neither sibling can spare a key, so each holds at most half: the two fit in one leaf.
        if (left is not null)
        {
            AppendLeaf(left, leaf);
            RemoveChild(parent, slot);
        }
        else if (right is not null)
        {
            AppendLeaf(leaf, right);
            RemoveChild(parent, slot + 1);
        }
        RebalanceBranch(depth - 1);
    }

    private static void AppendLeaf(Leaf into, Leaf from)
    {
        Array.Copy(from.Keys, 0, into.Keys, into.Count, from.Count);
        Array.Copy(from.Values, 0, into.Values, into.Count, from.Count);
        into.Count += from.Count;
        into.Next = from.Next;
    }

    // Child `at` (at least 1) was merged into child at - 1: drop it and the separator between them.
    private static void RemoveChild(Branch branch, int at)
    {
        branch.Sizes[at - 1] += branch.Sizes[at];
        int after = branch.Count - at - 1;
        if (after > 0)
        {
            Array.Copy(branch.Children, at + 1, branch.Children, at, after);
            Array.Copy(branch.Sizes, at + 1, branch.Sizes, at, after);
            Array.Copy(branch.Keys, at, branch.Keys, at - 1, after);
        }
        branch.Count--;
        branch.Children[branch.Count] = null;
        branch.Keys[branch.Count - 1] = default;
    }

    // The branch at `depth` lost a child: a root with one child gives way to it; another branch below half
    // full borrows a child from a sibling that can spare one, else merges with a sibling, and so up the path.
    private void RebalanceBranch(int depth)
    {
        Branch branch = _path[depth];
        if (depth == 0)
        {
            if (branch.Count == 1) _root = branch.Children[0]!;
            return;
        }
        if (branch.Count >= MinBranch) return;

        Branch parent = _path[depth - 1];
        int slot = _slots[depth - 1];
        Branch? left = slot > 0 ? (Branch)parent.Children[slot - 1]! : null;
        Branch? right = slot < parent.Count - 1 ? (Branch)parent.Children[slot + 1]! : null;

        if (left is not null && left.Count > MinBranch)
        {
            BorrowFromLeft(parent, slot, left, branch);
            return;
        }
        if (right is not null && right.Count > MinBranch)
        {
            BorrowFromRight(parent, slot, branch, right);
            return;
        }
        if (left is not null)
        {
            AppendBranch(left, parent.Keys[slot - 1], branch);
            RemoveChild(parent, slot);
        }
        else if (right is not null)
        {
            AppendBranch(branch, parent.Keys[slot], right);
            RemoveChild(parent, slot + 1);
        }
        RebalanceBranch(depth - 1);
    }

    // Moves left's last child to the front of branch, rotating the separator through the parent.
    private static void BorrowFromLeft(Branch parent, int slot, Branch left, Branch branch)
    {
        int last = left.Count - 1;
        Array.Copy(branch.Children, 0, branch.Children, 1, branch.Count);
        Array.Copy(branch.Sizes, 0, branch.Sizes, 1, branch.Count);
        Array.Copy(branch.Keys, 0, branch.Keys, 1, branch.Count - 1);
        branch.Children[0] = left.Children[last];
        branch.Sizes[0] = left.Sizes[last];
        branch.Keys[0] = parent.Keys[slot - 1];
        branch.Count++;
        parent.Keys[slot - 1] = left.Keys[last - 1];
        int moved = left.Sizes[last];
        left.Children[last] = null;
        left.Keys[last - 1] = default;
        left.Count--;
        parent.Sizes[slot - 1] -= moved;
        parent.Sizes[slot] += moved;
    }

    // Moves right's first child to the end of branch, rotating the separator through the parent.
    private static void BorrowFromRight(Branch parent, int slot, Branch branch, Branch right)
    {
        branch.Keys[branch.Count - 1] = parent.Keys[slot];
        branch.Children[branch.Count] = right.Children[0];
        int moved = right.Sizes[0];
        branch.Sizes[branch.Count] = moved;
        branch.Count++;
        parent.Keys[slot] = right.Keys[0];
        Array.Copy(right.Children, 1, right.Children, 0, right.Count - 1);
        Array.Copy(right.Sizes, 1, right.Sizes, 0, right.Count - 1);
        Array.Copy(right.Keys, 1, right.Keys, 0, right.Count - 2);
        right.Count--;
        right.Children[right.Count] = null;
        right.Keys[right.Count - 1] = default;
        parent.Sizes[slot] += moved;
        parent.Sizes[slot + 1] -= moved;
    }

    private static void AppendBranch(Branch into, KeySlot separator, Branch from)
    {
        into.Keys[into.Count - 1] = separator;
        Array.Copy(from.Keys, 0, into.Keys, into.Count, from.Count - 1);
        Array.Copy(from.Children, 0, into.Children, into.Count, from.Count);
        Array.Copy(from.Sizes, 0, into.Sizes, into.Count, from.Count);
        into.Count += from.Count;
    }
}
