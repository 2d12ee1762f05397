using System.Buffers.Binary;
using KvActors.Node.StateMachine;

namespace KvActors.Node.Tests.StateMachine;

public sealed class BPlusTreeTests
{
    private sealed class ByteOrder : IComparer<byte[]>
    {
        public static readonly ByteOrder Instance = new();
        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }

    [Theory]
    [InlineData(1, 300)]       // one or two leaves
    [InlineData(2, 5_000)]     // two levels of branches
    [InlineData(3, 300_000)]   // three: splits and merges of branches too
    public void Random_inserts_and_removals_agree_with_a_sorted_dictionary_and_keep_the_tree_sound(int seed, int keySpace)
    {
        var random = new Random(seed);
        var tree = new BPlusTree<int>();
        var reference = new SortedDictionary<byte[], int>(ByteOrder.Instance);
        int operations = Math.Min(keySpace * 3, 200_000);

        for (int op = 0; op < operations; op++)
        {
            byte[] key = KeyFor(random.Next(keySpace));
            // Grow for the first half, shrink in the second, so that merges run through every level.
            bool insert = random.NextDouble() < (op < operations / 2 ? 0.75 : 0.25);
            if (insert)
            {
                tree.GetValueRefOrAddDefault(key, out bool existed) = op;
                existed.Should().Be(reference.ContainsKey(key));
                reference[key] = op;
            }
            else
            {
                bool removed = tree.Remove(key, out int value);
                removed.Should().Be(reference.Remove(key, out int expected));
                if (removed) value.Should().Be(expected);
            }
            if (op % 5_000 == 0) tree.FindCorruption().Should().BeNull();
        }

        tree.FindCorruption().Should().BeNull();
        tree.Count.Should().Be(reference.Count);
        AllPairs(tree).Should().Equal(reference.Select(p => (Convert.ToHexString(p.Key), p.Value)));

        // Then empty it in random order: borrows and merges at every level, down to a lone root leaf.
        byte[][] remaining = [.. reference.Keys];
        random.Shuffle(remaining);
        for (int i = 0; i < remaining.Length; i++)
        {
            tree.Remove(remaining[i], out _).Should().BeTrue();
            if (i % 5_000 == 0) tree.FindCorruption().Should().BeNull();
        }
        tree.Count.Should().Be(0);
        tree.FindCorruption().Should().BeNull();
    }

    [Fact]
    public void Rank_counts_the_keys_before_any_key_present_or_not()
    {
        var tree = new BPlusTree<int>();
        var keys = new List<byte[]>();
        for (int i = 0; i < 20_000; i += 2)
        {
            byte[] key = Big(i);
            tree.GetValueRefOrAddDefault(key, out _) = i;
            keys.Add(key);
        }

        tree.Rank(Big(0)).Should().Be(0);
        tree.Rank(Big(1)).Should().Be(1);
        tree.Rank(Big(10_000)).Should().Be(5_000);
        tree.Rank(Big(10_001)).Should().Be(5_001);
        tree.Rank(Big(1_000_000)).Should().Be(10_000);
        tree.Rank([]).Should().Be(0);
    }

    [Fact]
    public void Seek_lands_on_the_first_key_at_or_after_the_probe_and_walks_in_order()
    {
        var tree = new BPlusTree<int>();
        for (int i = 0; i < 1_000; i += 10)
            tree.GetValueRefOrAddDefault(Big(i), out _) = i;

        BPlusTree<int>.Cursor cursor = tree.Seek(Big(55));
        var seen = new List<int>();
        for (; cursor.IsValid && seen.Count < 3; cursor.MoveNext())
            seen.Add(cursor.Value);

        seen.Should().Equal(60, 70, 80);
        tree.Seek(Big(991)).IsValid.Should().BeFalse();
        new BPlusTree<int>().Seek([]).IsValid.Should().BeFalse();
    }

    [Fact]
    public void Keys_that_share_an_eight_byte_prefix_or_are_prefixes_of_each_other_sort_as_bytes()
    {
        string[] keys = ["user/0001", "user/0001/a", "user/000", "user/00", "user/0002", "user/0001\0", "u", "user/000\0"];
        var tree = new BPlusTree<int>();
        foreach (string key in keys)
            tree.GetValueRefOrAddDefault(Kv.Bytes(key).ToByteArray(), out _) = 0;

        var inOrder = new List<string>();
        for (BPlusTree<int>.Cursor cursor = tree.Seek([]); cursor.IsValid; cursor.MoveNext())
            inOrder.Add(Kv.Text(Google.Protobuf.ByteString.CopyFrom(cursor.Key)));

        inOrder.Should().Equal(keys.OrderBy(k => k, StringComparer.Ordinal));
        tree.TryGetValue(Kv.Bytes("user/000").Span, out _).Should().BeTrue();
        tree.TryGetValue(Kv.Bytes("user/0003").Span, out _).Should().BeFalse();
    }

    [Fact]
    public void Keys_loaded_in_order_fill_leaves_and_can_all_be_removed_again()
    {
        var tree = new BPlusTree<int>();
        const int count = 50_000;
        for (int i = 0; i < count; i++)
            tree.GetValueRefOrAddDefault(Big(i), out _) = i;
        tree.FindCorruption().Should().BeNull();

        for (int i = 0; i < count; i++)
            tree.Remove(Big(i), out int value).Should().BeTrue("key {0} is present", i);

        tree.Count.Should().Be(0);
        tree.FindCorruption().Should().BeNull();
        tree.Seek([]).IsValid.Should().BeFalse();
    }

    private static byte[] KeyFor(int n)
    {
        // Mostly 4-byte big-endian numbers (shared prefixes); some longer keys that extend them.
        byte[] key = Big(n);
        return n % 7 == 0 ? [.. key, (byte)(n % 3)] : key;
    }

    private static byte[] Big(int n)
    {
        byte[] key = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(key, n);
        return key;
    }

    private static List<(string, int)> AllPairs(BPlusTree<int> tree)
    {
        var pairs = new List<(string, int)>();
        for (BPlusTree<int>.Cursor cursor = tree.Seek([]); cursor.IsValid; cursor.MoveNext())
            pairs.Add((Convert.ToHexString(cursor.Key), cursor.Value));
        return pairs;
    }
}
