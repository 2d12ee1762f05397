namespace KvActors.Node.StateMachine;

internal sealed partial class BPlusTree<TValue>
{
    // Scratch for a branch split: a full branch's children plus the one being inserted.
    private readonly KeySlot[] _splitKeys = new KeySlot[BranchCapacity];
    private readonly Node?[] _splitChildren = new Node[BranchCapacity + 1];
    private readonly int[] _splitSizes = new int[BranchCapacity + 1];

    /// <summary>
    /// Returns a reference to the value stored under <paramref name="key"/>, adding the key with a
    /// <c>default</c> value first if it is absent. One descent serves both the lookup and the insert.
    /// </summary>
    /// <param name="key">The key. If it is added, the tree keeps this array: the caller must not change it.</param>
    /// <param name="exists">True if the key was already present (then <paramref name="key"/> is not kept).</param>
    /// <returns>A reference into the tree, valid until the tree next changes.</returns>
    public ref TValue GetValueRefOrAddDefault(byte[] key, out bool exists)
    {
        var slotKey = new KeySlot(key);
        int depth = 0;
        bool rightMost = true;
        Node node = _root;
        while (node is Branch branch)
        {
            int slot = ChildIndex(branch, slotKey.Prefix, key);
            _path[depth] = branch;
            _slots[depth] = slot;
            depth++;
            rightMost &= slot == branch.Count - 1;
            node = branch.Children[slot]!;
        }
        var leaf = (Leaf)node;
        int position = LowerBound(leaf, slotKey.Prefix, key, out exists);
        if (exists) return ref leaf.Values[position];

        Count++;
        for (int d = 0; d < depth; d++)
            _path[d].Sizes[_slots[d]]++;
        if (leaf.Count < LeafCapacity)
        {
            InsertAt(leaf, position, slotKey);
            return ref leaf.Values[position];
        }

        Leaf right = SplitLeaf(leaf, position, slotKey, appending: rightMost && position == leaf.Count, out Leaf target, out int index);
        AddChild(depth, right.Keys[0], right, leaf.Count, right.Count, rightMost);
        return ref target.Values[index];
    }

    private static void InsertAt(Leaf leaf, int position, KeySlot key)
    {
        int after = leaf.Count - position;
        if (after > 0)
        {
            Array.Copy(leaf.Keys, position, leaf.Keys, position + 1, after);
            Array.Copy(leaf.Values, position, leaf.Values, position + 1, after);
        }
        leaf.Keys[position] = key;
        leaf.Values[position] = default!;
        leaf.Count++;
    }

    // Splits a full leaf while inserting key at position. An append at the right-most end leaves the left leaf
    // full and starts the right one with the new key alone; otherwise the keys are shared about evenly.
    private static Leaf SplitLeaf(Leaf leaf, int position, KeySlot key, bool appending, out Leaf target, out int index)
    {
        var right = new Leaf();
        int leftCount = appending ? LeafCapacity : (LeafCapacity + 1) / 2;
        if (position < leftCount)
        {
            int moved = LeafCapacity - (leftCount - 1);
            MoveTail(leaf, leftCount - 1, right, moved);
            InsertAt(leaf, position, key);
            target = leaf;
            index = position;
        }
        else
        {
            MoveTail(leaf, leftCount, right, LeafCapacity - leftCount);
            InsertAt(right, position - leftCount, key);
            target = right;
            index = position - leftCount;
        }
        right.Next = leaf.Next;
        leaf.Next = right;
        return right;
    }

    // Moves the last `moved` keys of a full leaf, from `from` on, to the start of an empty one.
    private static void MoveTail(Leaf leaf, int from, Leaf empty, int moved)
    {
        Array.Copy(leaf.Keys, from, empty.Keys, 0, moved);
        Array.Copy(leaf.Values, from, empty.Values, 0, moved);
        Array.Clear(leaf.Keys, from, moved);
        Array.Clear(leaf.Values, from, moved);
        leaf.Count = from;
        empty.Count = moved;
    }

    // The node at `depth` on the current path split into itself (leftSize keys) and `right` (rightSize keys,
    // all >= separator): hang `right` next to it in its parent, splitting parents as far up as needed.
    private void AddChild(int depth, KeySlot separator, Node right, int leftSize, int rightSize, bool appending)
    {
        while (depth > 0)
        {
            Branch parent = _path[depth - 1];
            int slot = _slots[depth - 1];
            parent.Sizes[slot] = leftSize;
            if (parent.Count < BranchCapacity)
            {
                InsertChild(parent, slot + 1, separator, right, rightSize);
                return;
            }
            right = SplitBranch(parent, slot + 1, ref separator, right, rightSize, appending, out leftSize, out rightSize);
            depth--;
        }

        // The root split: the tree grows one level.
        var root = new Branch { Count = 2 };
        root.Children[0] = _root;
        root.Children[1] = right;
        root.Keys[0] = separator;
        root.Sizes[0] = leftSize;
        root.Sizes[1] = rightSize;
        _root = root;
    }

    private static void InsertChild(Branch branch, int at, KeySlot separator, Node child, int size)
    {
        int after = branch.Count - at;
        if (after > 0)
        {
            Array.Copy(branch.Children, at, branch.Children, at + 1, after);
            Array.Copy(branch.Sizes, at, branch.Sizes, at + 1, after);
            Array.Copy(branch.Keys, at - 1, branch.Keys, at, after);
        }
        branch.Keys[at - 1] = separator;
        branch.Children[at] = child;
        branch.Sizes[at] = size;
        branch.Count++;
    }

    // Splits a full branch while inserting (separator, child) at child index `at`. Returns the new right
    // branch; `separator` becomes the key pushed up to the parent.
    private Branch SplitBranch(Branch branch, int at, ref KeySlot separator, Node child, int size, bool appending,
        out int leftSize, out int rightSize)
    {
        // Lay out all BranchCapacity + 1 children (and their separators) in the scratch arrays.
        int count = branch.Count;
        Array.Copy(branch.Children, 0, _splitChildren, 0, at);
        Array.Copy(branch.Sizes, 0, _splitSizes, 0, at);
        Array.Copy(branch.Keys, 0, _splitKeys, 0, at - 1);
        _splitChildren[at] = child;
        _splitSizes[at] = size;
        _splitKeys[at - 1] = separator;
        Array.Copy(branch.Children, at, _splitChildren, at + 1, count - at);
        Array.Copy(branch.Sizes, at, _splitSizes, at + 1, count - at);
        Array.Copy(branch.Keys, at - 1, _splitKeys, at, count - at);

        int total = count + 1;
        int leftCount = appending ? count : total / 2;
        var right = new Branch { Count = total - leftCount };

        Array.Clear(branch.Children);
        Array.Clear(branch.Keys);
        Array.Copy(_splitChildren, 0, branch.Children, 0, leftCount);
        Array.Copy(_splitSizes, 0, branch.Sizes, 0, leftCount);
        Array.Copy(_splitKeys, 0, branch.Keys, 0, leftCount - 1);
        branch.Count = leftCount;
        separator = _splitKeys[leftCount - 1];
        Array.Copy(_splitChildren, leftCount, right.Children, 0, right.Count);
        Array.Copy(_splitSizes, leftCount, right.Sizes, 0, right.Count);
        Array.Copy(_splitKeys, leftCount, right.Keys, 0, right.Count - 1);

        Array.Clear(_splitChildren);
        Array.Clear(_splitKeys);
        leftSize = Sum(branch.Sizes, leftCount);
        rightSize = Sum(right.Sizes, right.Count);
        return right;
    }

    private static int Sum(int[] sizes, int count)
    {
        int sum = 0;
        for (int i = 0; i < count; i++)
            sum += sizes[i];
        return sum;
    }
}
