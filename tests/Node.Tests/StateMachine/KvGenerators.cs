using FsCheck;
using FsCheck.Fluent;
using Google.Protobuf;
using KvActors.Protocol.Wire;

namespace KvActors.Node.Tests.StateMachine;

/// <summary>
/// FsCheck generators for state machine scripts, sized for <see cref="LogScript.Settings"/> (keys up to 8
/// bytes, values up to 16, 3 sessions, 3 ops per Txn branch, ranges of 5): a small key space so that commands
/// collide, values from a small set so that CAS and compares sometimes hold, and a few requests over each
/// limit. Register with <c>[Property(Arbitrary = [typeof(KvGenerators)])]</c>.
/// </summary>
public static class KvGenerators
{
    private static readonly string[] KeyPool = ["a", "b", "c", "ab", "b\0", "bb", "d", "zz"];
    private static readonly string[] ValuePool = ["", "x", "y", "zz"];
    private const int Clients = 4;

    private static Gen<ByteString> Key =>
        Gen.Frequency(
            (80, Gen.Elements(KeyPool).Select(Kv.Bytes)),
            (1, Gen.Constant(ByteString.Empty)),
            (1, Gen.Constant(Kv.Bytes(9))));

    private static Gen<ByteString> Value =>
        Gen.Frequency(
            (10, Gen.Elements(ValuePool).Select(Kv.Bytes)),
            (4, Gen.Choose(0, 14).Select(n => Kv.Bytes(n, (byte)'v'))),
            (1, Gen.Constant(Kv.Bytes(17, (byte)'v'))));

    private static Gen<bool> Bool => Gen.Elements(true, false);

    private static Gen<PutRequest> Put =>
        from key in Key
        from value in Value
        from prev in Bool
        select new PutRequest { Key = key, Value = value, PrevKv = prev };

    private static Gen<DeleteRequest> Delete =>
        from key in Key
        from prev in Bool
        select new DeleteRequest { Key = key, PrevKv = prev };

    private static Gen<GetRequest> Get => Key.Select(key => new GetRequest { Key = key });

    private static Gen<RangeRequest> Range =>
        from start in Gen.Frequency((6, Key), (1, Gen.Constant(ByteString.CopyFrom(0))))
        from end in Gen.Frequency((2, Gen.Constant(ByteString.Empty)), (3, Key))
        from limit in Gen.Frequency((3, Gen.Constant(0u)), (6, Gen.Choose(1, 5).Select(n => (uint)n)), (1, Gen.Constant(6u)))
        from keysOnly in Gen.Frequency((3, Gen.Constant(false)), (1, Gen.Constant(true)))
        from countOnly in Gen.Frequency((4, Gen.Constant(false)), (1, Gen.Constant(true)))
        select new RangeRequest { Start = start, End = end, Limit = limit, KeysOnly = keysOnly, CountOnly = countOnly };

    private static Gen<CompareAndSwapRequest> CompareAndSwap =>
        from key in Key
        from kind in Gen.Frequency((4, Gen.Constant(0)), (4, Gen.Constant(1)), (3, Gen.Constant(2)), (1, Gen.Constant(3)), (1, Gen.Constant(4)))
        from expected in Value
        from revision in Gen.Choose(0, 12)
        from value in Value
        select kind switch
        {
            0 => new CompareAndSwapRequest { Key = key, ExpectedValue = expected, NewValue = value },
            1 => new CompareAndSwapRequest { Key = key, ExpectedModRevision = (ulong)revision, NewValue = value },
            2 => new CompareAndSwapRequest { Key = key, ExpectAbsent = true, NewValue = value },
            3 => new CompareAndSwapRequest { Key = key, ExpectAbsent = false, NewValue = value },
            _ => new CompareAndSwapRequest { Key = key, NewValue = value },
        };

    private static Gen<Compare> Compare =>
        from key in Key
        from target in Gen.Frequency((60, Gen.Choose(1, 4)), (1, Gen.Constant(0)))
        from result in Gen.Frequency((60, Gen.Choose(1, 4)), (1, Gen.Constant(0)))
        from operand in Gen.Frequency((60, Gen.Constant(-1)), (1, Gen.Choose(1, 4)))
        from value in Value
        from number in Gen.Choose(0, 8)
        select MakeCompare(key, target, result, operand < 0 ? Math.Max(target, 1) : operand, value, (ulong)number);

    private static Compare MakeCompare(ByteString key, int target, int result, int operand, ByteString value, ulong number)
    {
        var compare = new Compare { Key = key, Target = (Compare.Types.Target)target, Result = (Compare.Types.Result)result };
        switch (operand)
        {
            case 1: compare.Value = value; break;
            case 2: compare.Version = number; break;
            case 3: compare.CreateRevision = number; break;
            default: compare.ModRevision = number; break;
        }
        return compare;
    }

    private static Gen<Op> Op =>
        Gen.Frequency(
            (4, Put.Select(p => new Op { Put = p })),
            (2, Delete.Select(d => new Op { Delete = d })),
            (2, Get.Select(g => new Op { Get = g })),
            (1, Range.Select(r => new Op { Range = r })),
            (1, Gen.Frequency((1, Gen.Constant(new Op())), (3, Get.Select(g => new Op { Get = g })))));

    private static Gen<List<T>> Between<T>(Gen<T> gen, int low, int high) =>
        Gen.Choose(low, high).SelectMany(n => gen.ListOf(n).Select(list => list.ToList()));

    private static Gen<TxnRequest> Txn =>
        from compares in Between(Compare, 0, 3)
        from success in Between(Op, 0, 3)
        from failure in Gen.Frequency((10, Between(Op, 0, 3)), (1, Between(Op, 4, 4)))
        select MakeTxn(compares, success, failure);

    private static TxnRequest MakeTxn(List<Compare> compares, List<Op> success, List<Op> failure)
    {
        var txn = new TxnRequest();
        txn.Compares.AddRange(compares);
        txn.Success.AddRange(success);
        txn.Failure.AddRange(failure);
        return txn;
    }

    private static Gen<KvRequest> Request =>
        Gen.Frequency(
            (8, Put.Select(p => new KvRequest { Put = p })),
            (3, Delete.Select(d => new KvRequest { Delete = d })),
            (3, Get.Select(g => new KvRequest { Get = g })),
            (3, Range.Select(r => new KvRequest { Range = r })),
            (4, CompareAndSwap.Select(c => new KvRequest { CompareAndSwap = c })),
            (4, Txn.Select(t => new KvRequest { Txn = t })),
            (1, Gen.Constant(new KvRequest())));

    private static Gen<Step> Step =>
        Gen.Frequency(
            (6, from request in Request select (Step)new CommandStep(-1, SequenceChoice.Next, request)),
            (8, from client in Gen.Choose(0, Clients - 1)
                from sequence in Gen.Frequency(
                    (10, Gen.Constant(SequenceChoice.Next)), (3, Gen.Constant(SequenceChoice.Retry)),
                    (1, Gen.Constant(SequenceChoice.Older)), (1, Gen.Constant(SequenceChoice.Jump)), (1, Gen.Constant(SequenceChoice.One)))
                from request in Request
                select (Step)new CommandStep(client, sequence, request)),
            (1, Gen.Constant((Step)new NoOpStep())),
            (1, Gen.Choose(0, 12).SelectMany(n => Gen.Choose(0, 255).Select(b => (byte)b).ArrayOf(n)).Select(bytes => (Step)new GarbageStep(bytes))),
            (2, from request in Gen.Frequency((3, Get.Select(g => new KvRequest { Get = g })), (3, Range.Select(r => new KvRequest { Range = r })), (1, Request))
                select (Step)new ReadStep(request)));

    /// <summary>Scripts of 0..~150 steps (scaled by FsCheck's size); shrinks by dropping steps.</summary>
    public static Arbitrary<Step[]> Steps() =>
        Arb.From(Gen.Sized(size => Gen.Choose(0, size * 3 / 2).SelectMany(n => Step.ArrayOf(n))), Shrink);

    private static IEnumerable<Step[]> Shrink(Step[] steps)
    {
        for (int chunk = steps.Length / 2; chunk >= 1; chunk /= 2)
            for (int start = 0; start + chunk <= steps.Length; start += chunk)
                yield return [.. steps[..start], .. steps[(start + chunk)..]];
    }
}
