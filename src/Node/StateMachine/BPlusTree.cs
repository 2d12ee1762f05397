namespace KvActors.Node.StateMachine;

/// <summary>
/// An ordered map from byte-string keys to values: a B+tree whose leaves are chained in key order and whose
/// branches count the keys below each child, so that a point lookup, an insert, a removal, a seek and the
/// rank of a key (how many keys sort before it) are all O(log n), and a scan from a seek costs O(1) per key.
/// Keys compare as unsigned bytes, lexicographically (a prefix sorts first), like etcd and
/// <see cref="MemoryExtensions.SequenceCompareTo{T}(ReadOnlySpan{T}, ReadOnlySpan{T})"/>.
/// </summary>
/// <remarks>
/// <para>Chosen by measurement over <see cref="SortedDictionary{TKey,TValue}"/>, <see cref="SortedSet{T}"/>
/// and <see cref="SortedList{TKey,TValue}"/> at 1,000,000 keys (<c>src/Bench</c>, mode <c>ordered-map</c>):
/// lookups take a <see cref="ReadOnlySpan{T}"/> (no key copy per request), 64 keys per node keep the tree
/// four levels deep and cache-friendly, and the per-child counts answer a Range's total count without a scan.</para>
/// <para>The tree keeps the key arrays it is given: callers must never change a key after inserting it. Values
/// are stored inline in the leaves. Not thread-safe: one actor owns it. A <see cref="Cursor"/> is invalid
/// after any change to the tree.</para>
/// <para>Shape: every branch and leaf but the root holds at least half its capacity, except along the
/// right-most path, where appends in key order fill the left node completely and start a new right one (as
/// SQLite does), so a tree loaded in key order is nearly full. Removal borrows from or merges with a sibling.</para>
/// </remarks>
/// <typeparam name="TValue">The value stored with each key, inline in the leaf.</typeparam>
internal sealed partial class BPlusTree<TValue>
{
    /// <summary>Keys per leaf.</summary>
    internal const int LeafCapacity = 64;

    /// <summary>Children per branch.</summary>
    internal const int BranchCapacity = 64;

    private const int MinLeaf = LeafCapacity / 2;
    private const int MinBranch = BranchCapacity / 2;

    // Non-right-most nodes are at least half full, so 16 levels hold far more than int.MaxValue keys.
    private const int MaxDepth = 16;

    private Node _root = new Leaf();

    // The path of the current insert or removal: _path[d] is the branch at depth d (0 = root) and _slots[d]
    // the child taken there. Reused across calls, so a change allocates only the nodes it splits.
    private readonly Branch[] _path = new Branch[MaxDepth];
    private readonly int[] _slots = new int[MaxDepth];

    /// <summary>The number of keys in the tree.</summary>
    public int Count { get; private set; }

    /// <summary>Finds the value stored under <paramref name="key"/>.</summary>
    /// <returns>True and the value if the key is present; false and <c>default</c> otherwise.</returns>
    public bool TryGetValue(ReadOnlySpan<byte> key, out TValue value)
    {
        ulong prefix = KeySlot.PrefixOf(key);
        Node node = _root;
        while (node is Branch branch)
            node = branch.Children[ChildIndex(branch, prefix, key)]!;
        var leaf = (Leaf)node;
        int position = LowerBound(leaf, prefix, key, out bool found);
        value = found ? leaf.Values[position] : default!;
        return found;
    }

    /// <summary>The number of keys that sort strictly before <paramref name="key"/> (present or not).</summary>
    public int Rank(ReadOnlySpan<byte> key)
    {
        ulong prefix = KeySlot.PrefixOf(key);
        int rank = 0;
        Node node = _root;
        while (node is Branch branch)
        {
            int slot = ChildIndex(branch, prefix, key);
            for (int i = 0; i < slot; i++)
                rank += branch.Sizes[i];
            node = branch.Children[slot]!;
        }
        return rank + LowerBound((Leaf)node, prefix, key, out _);
    }

    /// <summary>A cursor on the first key at or after <paramref name="key"/>; an empty key seeks to the first key.
    /// The cursor is not <see cref="Cursor.IsValid"/> if there is no such key.</summary>
    public Cursor Seek(ReadOnlySpan<byte> key)
    {
        ulong prefix = KeySlot.PrefixOf(key);
        Node node = _root;
        while (node is Branch branch)
            node = branch.Children[ChildIndex(branch, prefix, key)]!;
        var leaf = (Leaf)node;
        return new Cursor(leaf, LowerBound(leaf, prefix, key, out _));
    }

    /// <summary>Removes every key.</summary>
    public void Clear()
    {
        _root = new Leaf();
        Count = 0;
    }

    /// <summary>A position in the tree's key order, moving forward only. Invalid after any change to the tree.</summary>
    public struct Cursor
    {
        private Leaf? _leaf;
        private int _index;

        internal Cursor(Leaf leaf, int index)
        {
            _leaf = leaf;
            _index = index;
            SkipPastEnd();
        }

        /// <summary>True while the cursor is on a key; false once it has passed the last one.</summary>
        public readonly bool IsValid => _leaf is not null;

        /// <summary>The key under the cursor. Owned by the tree: do not change it.</summary>
        public readonly byte[] Key => _leaf!.Keys[_index].Key!;

        /// <summary>The value under the cursor.</summary>
        public readonly ref readonly TValue Value => ref _leaf!.Values[_index];

        /// <summary>Moves to the next key in order.</summary>
        public void MoveNext()
        {
            _index++;
            SkipPastEnd();
        }

        // Leaves other than an empty root are never empty, but a seek past a leaf's last key lands on its end.
        private void SkipPastEnd()
        {
            while (_leaf is not null && _index >= _leaf.Count)
            {
                _leaf = _leaf.Next;
                _index = 0;
            }
        }
    }

    internal abstract class Node
    {
        /// <summary>Keys in a leaf; children in a branch.</summary>
        public int Count;
    }

    internal sealed class Leaf : Node
    {
        public readonly KeySlot[] Keys = new KeySlot[LeafCapacity];
        public readonly TValue[] Values = new TValue[LeafCapacity];
        public Leaf? Next;
    }

    // Keys[i] separates Children[i] and Children[i + 1]: every key below Children[i] < Keys[i] <= every key
    // below Children[i + 1]. Sizes[i] = number of keys below Children[i].
    internal sealed class Branch : Node
    {
        public readonly KeySlot[] Keys = new KeySlot[BranchCapacity - 1];
        public readonly Node?[] Children = new Node[BranchCapacity];
        public readonly int[] Sizes = new int[BranchCapacity];
    }

    // The index of the first key >= key in the leaf (its Count if none); found = that key equals key.
    private static int LowerBound(Leaf leaf, ulong prefix, ReadOnlySpan<byte> key, out bool found)
    {
        KeySlot[] keys = leaf.Keys;
        int low = 0, high = leaf.Count - 1;
        while (low <= high)
        {
            int middle = (int)((uint)(low + high) >> 1);
            int order = keys[middle].CompareTo(prefix, key);
            if (order == 0)
            {
                found = true;
                return middle;
            }
            if (order < 0) low = middle + 1;
            else high = middle - 1;
        }
        found = false;
        return low;
    }

    // The child whose keys may include key: the number of separators <= key.
    private static int ChildIndex(Branch branch, ulong prefix, ReadOnlySpan<byte> key)
    {
        KeySlot[] keys = branch.Keys;
        int low = 0, high = branch.Count - 2;
        while (low <= high)
        {
            int middle = (int)((uint)(low + high) >> 1);
            if (keys[middle].CompareTo(prefix, key) <= 0) low = middle + 1;
            else high = middle - 1;
        }
        return low;
    }
}
